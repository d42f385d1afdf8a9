"""``seawall intel case``: cross-border incident cases, their timelines and status."""

from __future__ import annotations

import click

from seawall.cli.context import CliState, pass_state
from seawall.cli.output import emit_json, emit_or_table, emit_table, fmt_time, json_option, say
from seawall.intel import cases as casework
from seawall.intel.cases import Case, Determination, Entry, Status

TLP_OPTION = click.option(
    "--tlp", default=None, help="A marking stricter than the collection's default."
)


@click.group()
def case() -> None:
    """Incident cases shared across borders: open, link, note, close."""


def _what(entry: Entry) -> str:
    """A timeline entry in words: a link names its target only if the reader may read it."""
    if entry.kind != "link":
        return entry.text
    target = f"{entry.target_name} ({entry.target_id})" if entry.target_name else entry.target_id
    return f"linked {target}: {entry.text}" if entry.text else f"linked {target}"


def _show(found: Case, as_json: bool, said: str = "") -> None:
    if as_json:
        emit_json(found.as_json())
        return
    if said:
        say(said)
    short = found.id.removeprefix("incident--")[:8]
    click.echo(
        f"{found.title} [{short}] {found.status.value}, {found.determination.value}, "
        f"{found.tlp.label}, opened by {found.nation} {fmt_time(found.opened)} "
        f"in {found.collection}; nations: {', '.join(found.nations)}"
    )
    if found.description:
        click.echo(found.description)
    if found.timeline:
        emit_table(
            "Timeline",
            ["When", "Nation", "Who", "What", "TLP"],
            [
                (
                    fmt_time(e.at),
                    e.nation,
                    e.author,
                    _what(e),
                    e.tlp.label,
                )
                for e in found.timeline
            ],
        )


@case.command("open")
@click.argument("title")
@click.option("--collection", "collection_ref", required=True, help="Where the case is shared.")
@click.option("--description", default="", help="What happened, in a few sentences.")
@click.option("--type", "types", multiple=True, help="An incident type (repeat for more).")
@TLP_OPTION
@json_option
@pass_state
def case_open(
    state: CliState,
    title: str,
    collection_ref: str,
    description: str,
    types: tuple[str, ...],
    tlp: str | None,
    as_json: bool,
) -> None:
    """Open a case in a collection; its audience is who the case reaches."""
    with state.operator_unit() as ctx:
        opened = casework.open_case(ctx, collection_ref, title, description, types, tlp)
    _show(opened, as_json, f"Opened case {opened.id}")


@case.command("list")
@json_option
@pass_state
def case_list(state: CliState, as_json: bool) -> None:
    """The cases you may see, the most recently active first."""
    with state.operator_unit() as ctx:
        found = casework.list_cases(ctx)
    emit_or_table(
        as_json,
        [c.as_json() for c in found],
        "Cases",
        ["Case", "Title", "Status", "TLP", "Nations", "Updated"],
        (
            (
                c.id.removeprefix("incident--")[:8],
                c.title,
                c.status.value,
                c.tlp.label,
                ", ".join(c.nations),
                fmt_time(c.updated),
            )
            for c in found
        ),
    )


@case.command("show")
@click.argument("case_ref", metavar="CASE")
@json_option
@pass_state
def case_show(state: CliState, case_ref: str, as_json: bool) -> None:
    """One case and its timeline (CASE is its id or the first characters of it)."""
    with state.operator_unit() as ctx:
        found = casework.show_case(ctx, case_ref)
    _show(found, as_json)


@case.command("link")
@click.argument("case_ref", metavar="CASE")
@click.argument("object_ids", nargs=-1, required=True, metavar="OBJECT_ID...")
@click.option("--why", default="", help="Why they belong to the case.")
@json_option
@pass_state
def case_link(
    state: CliState, case_ref: str, object_ids: tuple[str, ...], why: str, as_json: bool
) -> None:
    """Link indicators, sightings or any objects you may read to a case."""
    with state.operator_unit() as ctx:
        found = casework.link_objects(ctx, case_ref, list(object_ids), why)
    _show(found, as_json, f"Linked {len(object_ids)} objects")


@case.command("note")
@click.argument("case_ref", metavar="CASE")
@click.argument("text")
@TLP_OPTION
@json_option
@pass_state
def case_note(state: CliState, case_ref: str, text: str, tlp: str | None, as_json: bool) -> None:
    """Add a note to a case's timeline."""
    with state.operator_unit() as ctx:
        found = casework.add_note(ctx, case_ref, text, tlp)
    _show(found, as_json, "Noted")


@case.command("status")
@click.argument("case_ref", metavar="CASE")
@click.option("--status", "status", type=click.Choice([s.value for s in Status]), default=None)
@click.option(
    "--determination",
    type=click.Choice([d.value for d in Determination]),
    default=None,
)
@json_option
@pass_state
def case_status(
    state: CliState,
    case_ref: str,
    status: str | None,
    determination: str | None,
    as_json: bool,
) -> None:
    """Change a case's status or determination (only the nation that opened it)."""
    with state.operator_unit() as ctx:
        found = casework.set_status(
            ctx,
            case_ref,
            Status(status) if status else None,
            Determination(determination) if determination else None,
        )
    _show(found, as_json, f"Case is {found.status.value}, {found.determination.value}")
