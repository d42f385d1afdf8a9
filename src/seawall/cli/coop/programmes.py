"""``seawall coop programme``: programmes, who funds and implements them, what they address.

Every command acts as the node operator, or with ``--as USER`` (on the group) as one of this
node's users, so that the core's role and nation checks apply as on the web.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import click

from seawall.catalogs import counted
from seawall.cli.context import CliState, pass_state
from seawall.cli.output import emit_json, emit_or_say, emit_or_table, json_option, read_input, say
from seawall.coop import exchange, programmes
from seawall.coop.fields import ProgrammeDraft, parse_budget, parse_date, programme_doc
from seawall.core import users
from seawall.core.context import Ctx
from seawall.web.gap_feed import catalogue, fund_roadmap_items

AS_USER = "seawall.coop.as"
as_option = click.option(
    "--as",
    "as_user",
    default=None,
    metavar="USER",
    help="Act as this node user (their role and nation apply); default: the node operator.",
)
format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json"]),
    default=None,
    help="File format (default: from the file's extension, else csv).",
)


@contextmanager
def acting(state: CliState) -> Iterator[Ctx]:
    """A unit of work as the operator, or as the user named with the group's ``--as``."""
    as_user = click.get_current_context().find_root().meta.get(AS_USER)
    with state.operator_unit() as ctx:
        if as_user:
            ctx.who = users.act_as(ctx, as_user, source="cli")
        yield ctx


def remember_as(ctx: click.Context, as_user: str | None) -> None:
    """Keep the group's ``--as`` for its commands."""
    if as_user:
        ctx.find_root().meta[AS_USER] = as_user


def file_format(path: Path | None, fmt: str | None) -> str:
    """The format asked for, or the one the file's extension names."""
    if fmt:
        return fmt
    return "json" if path is not None and path.suffix.lower() == ".json" else "csv"


def write_out(text: str, output: Path | None) -> None:
    """Text to a file (and a line saying so), or to stdout."""
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    output.write_text(text, encoding="utf-8")
    say(f"wrote {output} ({counted(len(text.encode()), 'byte')})")


@click.group("programme")
@as_option
@click.pass_context
def programme(ctx: click.Context, as_user: str | None) -> None:
    """Programmes: funders, implementers, beneficiary nations and the factors addressed."""
    remember_as(ctx, as_user)


def _date(value: str | None, what: str) -> date | None:
    return parse_date(value or "", what)


@programme.command("add")
@click.option("--ref", required=True, help="The nation's short reference, e.g. JM-CIRT-2025.")
@click.option("--name", required=True)
@click.option("--description", default="")
@click.option("--funder", "funders", multiple=True, help="A funder (repeat for several).")
@click.option("--implementer", "implementers", multiple=True, help="An implementer (repeat).")
@click.option("--beneficiary", "beneficiaries", multiple=True, help="A beneficiary nation.")
@click.option(
    "--factor",
    "addresses",
    multiple=True,
    help="A framework item it addresses: cmm:D1.2, sim3:O-1, gci:legal (repeat).",
)
@click.option("--start", default=None, help="Start date, YYYY-MM-DD (or YYYY-MM, YYYY).")
@click.option("--end", default=None, help="End date.")
@click.option("--budget", default=None, help="Budget amount, e.g. 1500000.")
@click.option("--currency", default="", help="ISO 4217 code of the budget, e.g. USD.")
@click.option("--status", default="planned", show_default=True,
              help="planned, ongoing, completed or cancelled.")  # fmt: skip
@click.option("--outputs", default="", help="What it delivered or will deliver.")
@click.option("--source", "sources", multiple=True, help="A URL or document (repeat).")
@click.option("--note", default="")
@click.option("--shareable/--private", default=False, help="Send it to the hub (default: no).")
@json_option
@pass_state
def programme_add(state: CliState, /, as_json: bool, **values: Any) -> None:
    """Record a programme of this nation."""
    draft = ProgrammeDraft(
        ref=values["ref"],
        name=values["name"],
        description=values["description"],
        funders=values["funders"],
        implementers=values["implementers"],
        beneficiaries=values["beneficiaries"],
        addresses=values["addresses"],
        start=_date(values["start"], "start"),
        end=_date(values["end"], "end"),
        budget=parse_budget(values["budget"] or ""),
        currency=values["currency"],
        status=values["status"],
        outputs=values["outputs"],
        sources=values["sources"],
        note=values["note"],
        shareable=values["shareable"],
    )
    with acting(state) as ctx:
        row, _ = programmes.save_programme(ctx, state.node().settings, draft, catalogue(ctx))
        doc = programme_doc(row)
    emit_or_say(as_json, doc, f"Added programme {doc['ref']} ({doc['id']})")


@programme.command("list")
@click.option("--nation", default=None, help="Only programmes benefiting this nation.")
@click.option("--partner", default=None, help="Only those this partner funds or implements.")
@click.option("--factor", default=None, help="Only those addressing this item (cmm-2021:D1.2).")
@click.option("--status", default=None)
@json_option
@pass_state
def programme_list(
    state: CliState,
    nation: str | None,
    partner: str | None,
    factor: str | None,
    status: str | None,
    as_json: bool,
) -> None:
    """List the programmes visible here (this nation's, and those shared with this hub)."""
    with acting(state) as ctx:
        rows = programmes.list_programmes(
            ctx, nation=nation, partner=partner, factor=factor, status=status
        )
        docs = [programme_doc(r) for r in rows]
    emit_or_table(
        as_json,
        docs,
        "Programmes",
        ["Nation", "Ref", "Name", "Funders", "Beneficiaries", "Addresses", "Status"],
        (
            (d["nation"], d["ref"], d["name"], ", ".join(d["funders"]),
             " ".join(d["beneficiaries"]), " ".join(d["addresses"]), d["status"])
            for d in docs
        ),
    )  # fmt: skip


@programme.command("show")
@click.argument("ref")
@json_option
@pass_state
def programme_show(state: CliState, ref: str, as_json: bool) -> None:
    """Show one programme, by reference or id."""
    with acting(state) as ctx:
        row = programmes.get_programme(ctx, ref)
        doc = {**programme_doc(row), "funds_items": list(row.funds_items)}
    if as_json:
        emit_json(doc)
        return
    budget = f"{doc['budget']} {doc['currency']}" if doc["budget"] else "-"
    lines = [
        f"{doc['ref']}: {doc['name']} ({doc['nation']}, {doc['status']})",
        f"  funders: {', '.join(doc['funders']) or '-'}",
        f"  implementers: {', '.join(doc['implementers']) or '-'}",
        f"  beneficiaries: {' '.join(doc['beneficiaries'])}",
        f"  addresses: {' '.join(doc['addresses']) or '-'}",
        f"  dates: {doc['start'] or '?'} to {doc['end'] or '?'}; budget: {budget}",
        f"  shareable: {'yes' if doc['shareable'] else 'no'}"
        + (" (received from its nation's node)" if doc["received"] else ""),
    ]
    lines += [f"  {k}: {doc[k]}" for k in ("description", "outputs", "note") if doc[k]]
    lines += [f"  source: {s}" for s in doc["sources"]]
    lines += [f"  funds roadmap item: {i}" for i in doc["funds_items"]]
    say("\n".join(lines))


@programme.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@format_option
@json_option
@pass_state
def programme_import(state: CliState, path: Path, fmt: str | None, as_json: bool) -> None:
    """Add or update this nation's programmes from a CSV or JSON file (docs/coop.md)."""
    data = read_input(path)
    with acting(state) as ctx:
        done = exchange.import_programmes(
            ctx, state.node().settings, data, file_format(path, fmt), catalogue(ctx)
        )
    emit_or_say(
        as_json,
        done.as_dict(),
        f"Imported {path}: {len(done.added)} added, {len(done.updated)} updated, "
        f"{len(done.unchanged)} unchanged",
    )


@programme.command("export")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@format_option
@click.option("--nation", default=None, help="Only programmes benefiting this nation.")
@click.option("--partner", default=None)
@click.option("--factor", default=None)
@json_option
@pass_state
def programme_export(
    state: CliState,
    output: Path | None,
    fmt: str | None,
    nation: str | None,
    partner: str | None,
    factor: str | None,
    as_json: bool,
) -> None:
    """Write the programmes visible here as CSV or JSON (``--json``: JSON)."""
    chosen = "json" if as_json else file_format(output, fmt)
    with acting(state) as ctx:
        rows = programmes.list_programmes(ctx, nation=nation, partner=partner, factor=factor)
        text = exchange.export_programmes(rows, chosen)
    write_out(text, output)


@programme.command("share")
@click.argument("ref")
@json_option
@pass_state
def programme_share(state: CliState, ref: str, as_json: bool) -> None:
    """Mark a programme shareable: it goes to the hub of each of the nation's groups."""
    _set_shareable(state, ref, True, as_json, "is shared with the nation's hubs")


@programme.command("unshare")
@click.argument("ref")
@json_option
@pass_state
def programme_unshare(state: CliState, ref: str, as_json: bool) -> None:
    """Make a programme private again: its withdrawal goes to the hubs."""
    _set_shareable(state, ref, False, as_json, "is private; the hubs drop it")


def _set_shareable(state: CliState, ref: str, shareable: bool, as_json: bool, said: str) -> None:
    with acting(state) as ctx:
        row = programmes.set_shareable(ctx, state.node().settings, ref, shareable)
        doc = programme_doc(row)
    emit_or_say(as_json, doc, f"Programme {doc['ref']} {said}")


@programme.command("fund")
@click.argument("ref")
@click.option("--item", "items", multiple=True, required=True, help="A roadmap item id (repeat).")
@json_option
@pass_state
def programme_fund(state: CliState, ref: str, items: tuple[str, ...], as_json: bool) -> None:
    """Name the roadmap items this programme funds."""
    with acting(state) as ctx:
        row = fund_roadmap_items(ctx, ref, list(items))
        doc = {**programme_doc(row), "funds_items": list(row.funds_items)}
    emit_or_say(as_json, doc, f"Programme {doc['ref']} funds {', '.join(doc['funds_items'])}")


COMMANDS = (programme,)
