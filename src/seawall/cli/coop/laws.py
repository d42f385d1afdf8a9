"""``seawall coop law``: legal instruments and the harmonisation matrix.

Every command acts as the node operator, or with ``seawall coop law --as USER`` as one of
this node's users, so that the core's role and nation checks apply as on the web.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from seawall.catalogs import counted
from seawall.cli.context import CliState, pass_state
from seawall.cli.output import emit_json, emit_or_say, emit_or_table, json_option, say
from seawall.coop import laws
from seawall.coop.matrix import KIND_NAMES, KINDS, STATUS_NAMES
from seawall.coop.matrix_export import FORMATS, matrix_csv, matrix_html, matrix_pdf
from seawall.core import users
from seawall.core.context import Ctx
from seawall.errors import InvalidInput
from seawall.settings import Settings

AS_USER = "seawall.coop.law.as"
T = TypeVar("T")
as_option = click.option(
    "--as",
    "as_user",
    default=None,
    metavar="USER",
    help="Act as this node user (their role and nation apply); default: the node operator.",
)


@contextmanager
def acting(state: CliState, key: str) -> Iterator[Ctx]:
    """A unit of work as the operator, or as the user named with ``--as``."""
    as_user = click.get_current_context().meta.get(key)
    with state.operator_unit() as ctx:
        if as_user:
            ctx.who = users.act_as(ctx, as_user, source="cli")
        yield ctx


def import_file_or_starter(
    state: CliState,
    key: str,
    path: Path | None,
    starter: bool,
    from_file: Callable[[Ctx, bytes, str, Settings], T],
    from_starter: Callable[[Ctx, Settings], tuple[T, list[str]]],
) -> tuple[T, list[str]]:
    """An import of FILE or of the shipped starter rows (one of the two); what was done, and
    the nations the starter left out."""
    if (path is None) == (not starter):
        raise InvalidInput("give a FILE to import, or --starter (not both)")
    with acting(state, key) as ctx:
        if path is None:
            return from_starter(ctx, state.node().settings)
        return from_file(ctx, path.read_bytes(), path.name, state.node().settings), []


def write_out(data: bytes, output: Path | None) -> None:
    """Bytes to a file (and a line saying so), or to stdout."""
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    output.write_bytes(data)
    say(f"wrote {output} ({counted(len(data), 'byte')})")


@click.group("law")
@as_option
@click.pass_context
def law(ctx: click.Context, as_user: str | None) -> None:
    """Legal instruments: laws, bills, strategies and treaty acts, and the matrix."""
    ctx.meta[AS_USER] = as_user


def _line(record: dict[str, Any]) -> str:
    return (
        f"{record['nation']} {record['kind']}: {record['title']} "
        f"({STATUS_NAMES[record['status']]}{', ' + record['date'] if record['date'] else ''})"
    )


@law.command("add")
@click.argument("nation")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("title")
@click.option("--status", required=True, help="none, draft, enacted or in_force.")
@click.option("--date", default="", help="YYYY, YYYY-MM or YYYY-MM-DD, as the source gives it.")
@click.option("--source", required=True, help="The URL where the status can be checked.")
@click.option("--note", default="")
@click.option("--sample", is_flag=True, help="Mark it as sample data.")
@json_option
@pass_state
def law_add(state: CliState, /, as_json: bool, **values: Any) -> None:
    """Record a nation's instrument of one kind, with its status, date and source."""
    with acting(state, AS_USER) as ctx:
        record = laws.instrument_record(
            laws.add_instrument(ctx, settings=state.node().settings, **values)
        )
    emit_or_say(as_json, record, f"added {record['id']}: {_line(record)}")


@law.command("update")
@click.argument("instrument_id", metavar="ID")
@click.option("--title", default=None)
@click.option("--status", default=None)
@click.option("--date", default=None)
@click.option("--source", default=None)
@click.option("--note", default=None)
@json_option
@pass_state
def law_update(state: CliState, /, instrument_id: str, as_json: bool, **changes: Any) -> None:
    """Change an instrument's title, status, date, source or note."""
    with acting(state, AS_USER) as ctx:
        record = laws.instrument_record(
            laws.update_instrument(ctx, instrument_id, settings=state.node().settings, **changes)
        )
    emit_or_say(as_json, record, f"updated {record['id']}: {_line(record)}")


@law.command("list")
@click.option("--nation", default=None)
@click.option("--kind", default=None, type=click.Choice(KINDS))
@click.option("--group", default=None, help="Only the members of a region group (OECS, ...).")
@json_option
@pass_state
def law_list(
    state: CliState, nation: str | None, kind: str | None, group: str | None, as_json: bool
) -> None:
    """List instruments by nation and kind."""
    with acting(state, AS_USER) as ctx:
        records = [
            laws.instrument_record(r) for r in laws.list_instruments(ctx, nation, kind, group)
        ]
    emit_or_table(
        as_json,
        records,
        "Legal instruments",
        ["Id", "Nation", "Kind", "Title", "Status", "Date", "Source"],
        (
            (
                r["id"],
                r["nation"],
                KIND_NAMES[r["kind"]],
                r["title"],
                STATUS_NAMES[r["status"]],
                r["date"],
                r["source"],
            )
            for r in records
        ),
    )


@law.command("show")
@click.argument("instrument_id", metavar="ID")
@json_option
@pass_state
def law_show(state: CliState, instrument_id: str, as_json: bool) -> None:
    """Show one instrument."""
    with acting(state, AS_USER) as ctx:
        record = laws.instrument_record(laws.get_instrument(ctx, instrument_id))
    emit_or_table(as_json, record, _line(record), ["Field", "Value"], record.items())


@law.command("import")
@click.argument(
    "path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False
)
@click.option("--starter", is_flag=True, help="Import the shipped, sourced starter dataset.")
@json_option
@pass_state
def law_import(state: CliState, path: Path | None, starter: bool, as_json: bool) -> None:
    """Add or update the instruments of a CSV or JSON file (all, or none on a fault)."""
    done, skipped = import_file_or_starter(
        state, AS_USER, path, starter, laws.import_instruments, laws.import_starter
    )
    name = path.name if path else laws.STARTER
    if skipped:
        say(f"left out {', '.join(skipped)}: not this node's to write (see `seawall coop law`)")
    record = {
        "added": done.added,
        "updated": done.updated,
        "unchanged": done.unchanged,
        "evidence": done.evidence,
        "skipped": skipped,
    }
    emit_or_say(
        as_json,
        record,
        f"{name}: {done.added} added, {done.updated} updated, {done.unchanged} unchanged; "
        f"{done.evidence} matrix cells changed (recorded as CMM evidence)",
    )


@law.command("export")
@click.option("--format", "fmt", type=click.Choice(laws.FORMATS), default="csv", show_default=True)
@click.option("--group", default=None)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@json_option
@pass_state
def law_export(
    state: CliState, fmt: str, group: str | None, output: Path | None, as_json: bool
) -> None:
    """Write the instruments as CSV or JSON (the import's columns)."""
    with acting(state, AS_USER) as ctx:
        data = laws.export_instruments(ctx, "json" if as_json else fmt, group)
    write_out(data, output)


@law.command("matrix")
@click.option("--group", default=None, help="Rows: a region group's members (OECS, CARICOM).")
@click.option(
    "--format", "fmt", type=click.Choice(("text", *FORMATS)), default="text", show_default=True
)
@click.option("--language", default="en", show_default=True, help="For html and pdf.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@json_option
@pass_state
def law_matrix(
    state: CliState,
    group: str | None,
    fmt: str,
    language: str,
    output: Path | None,
    as_json: bool,
) -> None:
    """The harmonisation matrix: nations against kinds, each cell's status, date and source."""
    with acting(state, AS_USER) as ctx:
        matrix = laws.harmonisation_matrix(ctx, group)
        now = ctx.now()
    if as_json:
        emit_json(
            {
                "group": group,
                "kinds": list(matrix.kinds),
                "sample": matrix.sample,
                "rows": [
                    {
                        "nation": n,
                        "cells": {
                            c.kind: {
                                "status": c.status,
                                "date": c.best.date if c.best else "",
                                "title": c.best.title if c.best else "",
                                "source": c.best.source if c.best else "",
                                "sample": bool(c.best and c.best.sample),
                                "received": bool(c.best and c.best.received),
                            }
                            for c in matrix.row(n)
                        },
                    }
                    for n in matrix.nations
                ],
            }
        )
        return
    if fmt == "text":
        emit_or_table(
            False,
            None,
            "Harmonisation matrix"
            + (f" ({group.upper()})" if group else "")
            + (" (* sample data)" if matrix.sample else ""),
            ["Nation", *(KIND_NAMES[k] for k in matrix.kinds)],
            (
                [
                    n,
                    *(
                        STATUS_NAMES[c.status]
                        + (f" {c.best.date}" if c.best and c.best.date else "")
                        + (" *" if c.best and c.best.sample else "")
                        for c in matrix.row(n)
                    ),
                ]
                for n in matrix.nations
            ),
        )
        return
    if fmt == "csv":
        data = matrix_csv(matrix)
    else:
        html = matrix_html(matrix, now, group.upper() if group else None, language)
        data = html.encode() if fmt == "html" else matrix_pdf(html)
    write_out(data, output)
