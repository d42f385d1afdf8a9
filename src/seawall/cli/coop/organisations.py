"""``seawall coop org``: the development partners, regional bodies, training providers and
CIRTs this nation works with."""

from __future__ import annotations

from pathlib import Path

import click

from seawall.cli.context import CliState, pass_state
from seawall.cli.coop.programmes import (
    acting,
    as_option,
    file_format,
    format_option,
    remember_as,
    write_out,
)
from seawall.cli.output import emit_or_say, emit_or_table, json_option, read_input
from seawall.coop import exchange, organisations
from seawall.coop.fields import OrganisationDraft, OrgKind, organisation_doc


@click.group("org")
@as_option
@click.pass_context
def org(ctx: click.Context, as_user: str | None) -> None:
    """Partner organisations: development partners, regional bodies, trainers, CIRTs."""
    remember_as(ctx, as_user)


@org.command("add")
@click.option("--name", required=True)
@click.option("--kind", required=True, help=", ".join(k.value for k in OrgKind))
@click.option("--acronym", default="")
@click.option("--country", default="", help="Where it is based, for a national body.")
@click.option("--website", default="")
@click.option("--contact", default="", help="A contact address or desk.")
@click.option("--note", default="")
@click.option("--shareable/--private", default=False, help="Send it to the hub (default: no).")
@json_option
@pass_state
def org_add(
    state: CliState,
    name: str,
    kind: str,
    acronym: str,
    country: str,
    website: str,
    contact: str,
    note: str,
    shareable: bool,
    as_json: bool,
) -> None:
    """Record a partner organisation of this nation."""
    draft = OrganisationDraft(name, kind, acronym, country, website, contact, note, shareable)
    with acting(state) as ctx:
        row, _ = organisations.save_organisation(ctx, state.node().settings, draft)
        doc = organisation_doc(row)
    emit_or_say(as_json, doc, f"Added partner organisation {doc['name']} ({doc['id']})")


@org.command("list")
@click.option("--kind", default=None)
@json_option
@pass_state
def org_list(state: CliState, kind: str | None, as_json: bool) -> None:
    """List the partner organisations visible here."""
    with acting(state) as ctx:
        docs = [organisation_doc(r) for r in organisations.list_organisations(ctx, kind)]
    emit_or_table(
        as_json,
        docs,
        "Partner organisations",
        ["Nation", "Name", "Acronym", "Kind", "Country", "Shared"],
        (
            (d["nation"], d["name"], d["acronym"], d["kind"], d["country"],
             "yes" if d["shareable"] else "no")
            for d in docs
        ),
    )  # fmt: skip


@org.command("show")
@click.argument("ref")
@json_option
@pass_state
def org_show(state: CliState, ref: str, as_json: bool) -> None:
    """Show one partner organisation, by name, acronym or id."""
    with acting(state) as ctx:
        doc = organisation_doc(organisations.get_organisation(ctx, ref))
    lines = [f"{doc['name']} ({doc['acronym'] or '-'}): {doc['kind']}, {doc['nation']}'s record"]
    lines += [f"  {k}: {doc[k]}" for k in ("country", "website", "contact", "note") if doc[k]]
    emit_or_say(as_json, doc, "\n".join(lines))


@org.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@format_option
@json_option
@pass_state
def org_import(state: CliState, path: Path, fmt: str | None, as_json: bool) -> None:
    """Add or update this nation's partner organisations from a CSV or JSON file."""
    data = read_input(path)
    with acting(state) as ctx:
        done = exchange.import_organisations(
            ctx, state.node().settings, data, file_format(path, fmt)
        )
    emit_or_say(
        as_json,
        done.as_dict(),
        f"Imported {path}: {len(done.added)} added, {len(done.updated)} updated, "
        f"{len(done.unchanged)} unchanged",
    )


@org.command("export")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@format_option
@click.option("--kind", default=None)
@json_option
@pass_state
def org_export(
    state: CliState, output: Path | None, fmt: str | None, kind: str | None, as_json: bool
) -> None:
    """Write the partner organisations visible here as CSV or JSON (``--json``: JSON)."""
    chosen = "json" if as_json else file_format(output, fmt)
    with acting(state) as ctx:
        text = exchange.export_organisations(organisations.list_organisations(ctx, kind), chosen)
    write_out(text, output)


@org.command("share")
@click.argument("ref")
@click.option("--off", is_flag=True, help="Make it private again (its withdrawal is sent).")
@json_option
@pass_state
def org_share(state: CliState, ref: str, off: bool, as_json: bool) -> None:
    """Send a partner organisation to the nation's hubs, or (``--off``) withdraw it."""
    with acting(state) as ctx:
        doc = organisation_doc(
            organisations.set_shareable(ctx, state.node().settings, ref, not off)
        )
    state_word = "private; the hubs drop it" if off else "shared with the nation's hubs"
    emit_or_say(as_json, doc, f"{doc['name']} is {state_word}")


COMMANDS = (org,)
