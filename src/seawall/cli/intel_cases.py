"""``seawall intel case``: cross-border incident cases, their timelines, status and the
nation's own work on them (assignee and tasks)."""

from __future__ import annotations

import click

from seawall.catalogs import counted
from seawall.cli.context import CliState, pass_state
from seawall.cli.output import emit_json, emit_or_table, emit_table, fmt_time, json_option, say
from seawall.core.paging import PageRequest, parse_limit
from seawall.errors import InvalidInput
from seawall.intel import cases as casework
from seawall.intel.cases import (
    Case,
    CaseQuery,
    Determination,
    Entry,
    Severity,
    Sort,
    Status,
    TaskState,
)
from seawall.intel.errors import AmbiguousMatch

TLP_OPTION = click.option(
    "--tlp", default=None, help="A marking stricter than the collection's default."
)
SEVERITY = click.Choice([s.value for s in Severity])


@click.group()
def case() -> None:
    """Incident cases shared across borders: open, link, note, assign, tasks, close."""


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
    who = f"assigned to {found.assignee.name}" if found.assignee else "unassigned"
    click.echo(
        f"{found.title} [{found.short}] {found.status.value}, {found.determination.value}, "
        f"severity {found.severity.value}, {found.tlp.label}, {who}, opened by {found.nation} "
        f"{fmt_time(found.opened)} in {found.collection}; nations: {', '.join(found.nations)}"
    )
    if found.description:
        click.echo(found.description)
    if found.tasks:
        emit_table(
            "Tasks",
            ["#", "Task", "State", "Assignee"],
            [
                (t.number, t.title, t.state.value, t.assignee.name if t.assignee else "")
                for t in found.tasks
            ],
        )
    if found.timeline:
        emit_table(
            "Timeline",
            ["When", "Nation", "Who", "What", "TLP"],
            [(fmt_time(e.at), e.nation, e.who, _what(e), e.tlp.label) for e in found.timeline],
        )


@case.command("open")
@click.argument("title")
@click.option("--collection", "collection_ref", required=True, help="Where the case is shared.")
@click.option("--description", default="", help="What happened, in a few sentences.")
@click.option("--type", "types", multiple=True, help="An incident type (repeat for more).")
@click.option("--severity", type=SEVERITY, default="medium", show_default=True)
@TLP_OPTION
@json_option
@pass_state
def case_open(
    state: CliState,
    title: str,
    collection_ref: str,
    description: str,
    types: tuple[str, ...],
    severity: str,
    tlp: str | None,
    as_json: bool,
) -> None:
    """Open a case in a collection; its audience is who the case reaches."""
    with state.operator_unit() as ctx:
        opened = casework.open_case(
            ctx, collection_ref, title, description, types, tlp, Severity(severity)
        )
    _show(opened, as_json, f"Opened case {opened.id}")


@case.command("list")
@click.option("--status", type=click.Choice([s.value for s in Status]), default=None)
@click.option("--severity", type=SEVERITY, default=None)
@click.option("--assignee", default=None, help="Only the cases assigned to this user.")
@click.option("--tlp", default=None, help="Only the cases marked so.")
@click.option("--nation", default=None, help="Only the cases this nation opened.")
@click.option("--opened-from", default="", help="Opened on or after (2026-11-01).")
@click.option("--opened-until", default="", help="Opened on or before (2026-11-30).")
@click.option(
    "--sort", type=click.Choice([s.value for s in Sort]), default="updated", show_default=True
)
@click.option("--limit", default="50", show_default=True, help="Cases a page holds (up to 500).")
@click.option("--cursor", default=None, help="The next page's cursor, as the last page said.")
@json_option
@pass_state
def case_list(
    state: CliState,
    status: str | None,
    severity: str | None,
    assignee: str | None,
    tlp: str | None,
    nation: str | None,
    opened_from: str,
    opened_until: str,
    sort: str,
    limit: str,
    cursor: str | None,
    as_json: bool,
) -> None:
    """The cases you may see, filtered and sorted, one page at a time."""
    query = CaseQuery.parse(
        status or "",
        severity or "",
        assignee or "",
        False,
        tlp or "",
        nation or "",
        opened_from,
        opened_until,
        sort,
    )
    with state.operator_unit() as ctx:
        page = casework.find_cases(ctx, query, PageRequest(parse_limit(limit), cursor))
    found = page.items
    emit_or_table(
        as_json,
        [c.as_json() for c in found],
        "Cases",
        ["Case", "Title", "Status", "Severity", "Assignee", "Tasks", "Updated"],
        (
            (
                c.short,
                c.title,
                c.status.value,
                c.severity.value,
                c.assignee.name if c.assignee else "",
                f"{c.open_tasks}/{len(c.tasks)}" if c.tasks else "",
                fmt_time(c.updated),
            )
            for c in found
        ),
    )
    more = f"; next page: --cursor {page.next}" if page.next else ""
    say(f"{len(found)} of {counted(page.total, 'case')}{more}")


@case.command("show")
@click.argument("case_ref", metavar="CASE")
@json_option
@pass_state
def case_show(state: CliState, case_ref: str, as_json: bool) -> None:
    """One case, its tasks and its timeline (CASE is its id or the first characters of it)."""
    with state.operator_unit() as ctx:
        found = casework.show_case(ctx, case_ref)
    _show(found, as_json)


@case.command("link")
@click.argument("case_ref", metavar="CASE")
@click.argument("object_ids", nargs=-1, metavar="[OBJECT_ID]...")
@click.option("--search", "text", default=None, help="Find what to link by value, name or id.")
@click.option("--pick", "picks", type=int, multiple=True, help="Link the search hit numbered N.")
@click.option("--why", default="", help="Why they belong to the case.")
@json_option
@pass_state
def case_link(
    state: CliState,
    case_ref: str,
    object_ids: tuple[str, ...],
    text: str | None,
    picks: tuple[int, ...],
    why: str,
    as_json: bool,
) -> None:
    """Link objects you may read to a case: found with --search (its only hit, or the hits
    chosen with --pick), or by id."""
    if bool(text) == bool(object_ids):
        raise InvalidInput("name what to link: --search VALUE, or the objects' ids")
    if text is None:
        with state.operator_unit() as ctx:
            found = casework.link_objects(ctx, case_ref, list(object_ids), why)
        _show(found, as_json, f"Linked {counted(len(object_ids), 'object')}")
        return
    try:
        with state.operator_unit() as ctx:
            found = casework.link_by_search(ctx, case_ref, text, picks, why)
    except AmbiguousMatch:
        with state.operator_unit() as ctx:
            hits = casework.search_linkable(ctx, case_ref, text)
        emit_table(
            f"Objects matching {text!r}",
            ["#", "Type", "Name", "Collection", "TLP", "Linked"],
            [
                (
                    c.number,
                    c.hit.type,
                    c.hit.summary,
                    c.hit.collection,
                    c.hit.tlp.label,
                    "yes" if c.linked else "",
                )
                for c in hits
            ],
        )
        raise
    _show(found, as_json, f"Linked what {text!r} found")


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
@click.option("--severity", type=SEVERITY, default=None)
@json_option
@pass_state
def case_status(
    state: CliState,
    case_ref: str,
    status: str | None,
    determination: str | None,
    severity: str | None,
    as_json: bool,
) -> None:
    """Change a case's status, determination or severity (only the nation that opened it)."""
    with state.operator_unit() as ctx:
        found = casework.set_status(
            ctx,
            case_ref,
            Status(status) if status else None,
            Determination(determination) if determination else None,
            Severity(severity) if severity else None,
        )
    _show(
        found,
        as_json,
        f"Case is {found.status.value}, {found.determination.value}, {found.severity.value}",
    )


@case.command("assign")
@click.argument("case_ref", metavar="CASE")
@click.argument("username", required=False)
@click.option("--nobody", is_flag=True, help="Leave the case unassigned.")
@json_option
@pass_state
def case_assign(
    state: CliState, case_ref: str, username: str | None, nobody: bool, as_json: bool
) -> None:
    """Assign the case, for this nation, to one of its analysts (kept on this node)."""
    if bool(username) == nobody:
        raise InvalidInput("give a username, or --nobody to leave the case unassigned")
    with state.operator_unit() as ctx:
        found = casework.assign(ctx, case_ref, None if nobody else username)
    who = found.assignee.name if found.assignee else "nobody"
    _show(found, as_json, f"Assigned to {who}")


@case.group("task")
def task() -> None:
    """This nation's tasks on a case (kept on this node): add, done, reopen, move, delete."""


@task.command("add")
@click.argument("case_ref", metavar="CASE")
@click.argument("title")
@click.option("--assignee", default=None, help="The user who does it.")
@json_option
@pass_state
def task_add(
    state: CliState, case_ref: str, title: str, assignee: str | None, as_json: bool
) -> None:
    """Add a task at the end of the case's list."""
    with state.operator_unit() as ctx:
        found = casework.add_task(ctx, case_ref, title, assignee)
    _show(found, as_json, f"Task {len(found.tasks)} added")


def _task_state(state: CliState, case_ref: str, number: str, to: TaskState, as_json: bool) -> None:
    with state.operator_unit() as ctx:
        found = casework.set_task_state(ctx, case_ref, number, to)
    _show(found, as_json, f"Task {number} is {to.value}")


@task.command("done")
@click.argument("case_ref", metavar="CASE")
@click.argument("number", metavar="N")
@json_option
@pass_state
def task_done(state: CliState, case_ref: str, number: str, as_json: bool) -> None:
    """Mark task N (its number, or its id) done."""
    _task_state(state, case_ref, number, TaskState.DONE, as_json)


@task.command("reopen")
@click.argument("case_ref", metavar="CASE")
@click.argument("number", metavar="N")
@json_option
@pass_state
def task_reopen(state: CliState, case_ref: str, number: str, as_json: bool) -> None:
    """Open task N again."""
    _task_state(state, case_ref, number, TaskState.OPEN, as_json)


@task.command("assign")
@click.argument("case_ref", metavar="CASE")
@click.argument("number", metavar="N")
@click.argument("username", required=False)
@click.option("--nobody", is_flag=True, help="Give the task to nobody.")
@json_option
@pass_state
def task_assign(
    state: CliState,
    case_ref: str,
    number: str,
    username: str | None,
    nobody: bool,
    as_json: bool,
) -> None:
    """Give task N to a user, or to nobody."""
    if bool(username) == nobody:
        raise InvalidInput("give a username, or --nobody")
    with state.operator_unit() as ctx:
        found = casework.assign_task(ctx, case_ref, number, None if nobody else username)
    _show(found, as_json, f"Task {number} reassigned")


@task.command("move")
@click.argument("case_ref", metavar="CASE")
@click.argument("number", metavar="N")
@click.option("--to", "place", type=int, required=True, help="Its new place, from 1.")
@json_option
@pass_state
def task_move(state: CliState, case_ref: str, number: str, place: int, as_json: bool) -> None:
    """Move task N to another place in the list."""
    with state.operator_unit() as ctx:
        found = casework.move_task(ctx, case_ref, number, place)
    _show(found, as_json, f"Task moved to {place}")


@task.command("delete")
@click.argument("case_ref", metavar="CASE")
@click.argument("number", metavar="N")
@json_option
@pass_state
def task_delete(state: CliState, case_ref: str, number: str, as_json: bool) -> None:
    """Delete task N (the audit log keeps its title)."""
    with state.operator_unit() as ctx:
        found = casework.delete_task(ctx, case_ref, number)
    _show(found, as_json, f"Task {number} deleted")
