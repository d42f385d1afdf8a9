"""``seawall coop cirt``: the national CIRT directory and the region's figures.

The directory shows each CIRT's latest SIM3 self-assessment (``assess``) and whether its
nation shares intelligence (``intel``), composed once for the CLI and the web pages by
:func:`seawall.web.coop_signals.gather_signals` and handed to ``seawall.coop.cirts``, which
imports neither pillar.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from seawall.cli.context import CliState, pass_state
from seawall.cli.coop.laws import acting, as_option, import_file_or_starter, write_out
from seawall.cli.output import (
    emit_json,
    emit_or_say,
    emit_or_table,
    emit_table,
    json_option,
    say,
)
from seawall.coop import cirts
from seawall.web.coop_signals import gather_signals

AS_USER = "seawall.coop.cirt.as"


@click.group("cirt")
@as_option
@click.pass_context
def cirt(ctx: click.Context, as_user: str | None) -> None:
    """The national CIRT directory: mandate, services, contacts, FIRST and TI listings."""
    ctx.meta[AS_USER] = as_user


@cirt.command("add")
@click.argument("nation")
@click.option("--name", required=True)
@click.option("--status", required=True, help="planned, establishing or established.")
@click.option("--established", default="", help="YYYY, YYYY-MM or YYYY-MM-DD.")
@click.option("--mandate", default="")
@click.option("--constituency", default="")
@click.option("--service", "services", multiple=True, help="A service offered (repeatable).")
@click.option("--email", default="")
@click.option("--phone", default="")
@click.option("--website", default="")
@click.option("--pgp", "pgp_fingerprint", default="", help="The team key's fingerprint.")
@click.option("--first-url", default="", help="The CIRT's page in FIRST's member directory.")
@click.option("--ti-url", default="", help="The CIRT's Trusted Introducer listing.")
@click.option("--ti-status", default="", help="listed, accredited or certified.")
@click.option("--source", required=True, help="Where the entry's facts can be checked.")
@click.option("--note", default="")
@click.option("--sample", is_flag=True, help="Mark it as sample data.")
@json_option
@pass_state
def cirt_add(state: CliState, /, as_json: bool, services: tuple[str, ...], **values: Any) -> None:
    """Add a nation's CIRT to the directory, or replace its entry."""
    with acting(state, AS_USER) as ctx:
        row, outcome = cirts.save_cirt(
            ctx, settings=state.node().settings, services=list(services), **values
        )
        record = cirts.cirt_record(row)
    emit_or_say(as_json, record, f"{outcome} {record['nation']}: {record['name']}")


@cirt.command("list")
@click.option("--group", default="CARICOM", show_default=True, help="A region group.")
@json_option
@pass_state
def cirt_list(state: CliState, group: str, as_json: bool) -> None:
    """The directory of a region group, with its figures: established CIRTs, nations
    sharing intelligence, median SIM3 level per category."""
    with acting(state, AS_USER) as ctx:
        signals = gather_signals(ctx, group)
        records = [cirts.cirt_record(r, signals) for r in cirts.list_cirts(ctx, group)]
        figures = cirts.directory_figures(ctx, group, signals)
    if as_json:
        emit_json(
            {"figures": figures.as_dict(), "cirts": records, "unavailable": signals.unavailable}
        )
        return
    emit_table(
        f"National CIRTs ({figures.group})",
        ["Nation", "CIRT", "Status", "FIRST", "TI", "SIM3 (O/H/T/P)", "Shares intel"],
        (
            (
                r["nation"],
                r["name"],
                r["status"],
                "yes" if r["first_url"] else "",
                r["ti_status"],
                "/".join(f"{r['sim3'].get(c, '-')}" for c in cirts.SIM3_CATEGORIES)
                if r["sim3"]
                else "",
                "yes" if r["shares_intel"] else "no",
            )
            for r in records
        ),
    )
    medians = ", ".join(f"{k} {v}" for k, v in figures.sim3_median.items()) or "none assessed"
    emit_table(
        "Regional figures",
        ["Figure", "Value"],
        [
            (
                "Nations with an established CIRT",
                f"{len(figures.established)} of {len(figures.members)}",
            ),
            ("Nations sharing intelligence", f"{len(figures.sharing)} of {len(figures.members)}"),
            ("Median SIM3 level per category", medians),
        ],
    )


@cirt.command("show")
@click.argument("ref", metavar="NATION")
@json_option
@pass_state
def cirt_show(state: CliState, ref: str, as_json: bool) -> None:
    """Show a nation's CIRT entry."""
    with acting(state, AS_USER) as ctx:
        record = cirts.cirt_record(cirts.get_cirt(ctx, ref))
    emit_or_table(as_json, record, record["name"], ["Field", "Value"], record.items())


@cirt.command("import")
@click.argument(
    "path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False
)
@click.option("--starter", is_flag=True, help="Import the shipped, sourced starter entries.")
@json_option
@pass_state
def cirt_import(state: CliState, path: Path | None, starter: bool, as_json: bool) -> None:
    """Add or replace the entries of a CSV or JSON file (all, or none on a fault)."""
    counts, skipped = import_file_or_starter(
        state, AS_USER, path, starter, cirts.import_cirts, cirts.import_starter
    )
    if skipped:
        say(f"left out {', '.join(skipped)}: not this node's to write")
    emit_or_say(
        as_json,
        {**counts, "skipped": skipped},
        f"{path.name if path else cirts.STARTER}: {counts['added']} added, "
        f"{counts['updated']} updated, {counts['unchanged']} unchanged",
    )


@cirt.command("export")
@click.option("--format", "fmt", type=click.Choice(cirts.FORMATS), default="csv", show_default=True)
@click.option("--group", default=None)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@json_option
@pass_state
def cirt_export(
    state: CliState, fmt: str, group: str | None, output: Path | None, as_json: bool
) -> None:
    """Write the directory as CSV or JSON (the import's columns)."""
    with acting(state, AS_USER) as ctx:
        data = cirts.export_cirts(ctx, "json" if as_json else fmt, group)
    write_out(data, output)
