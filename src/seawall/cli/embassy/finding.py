"""``seawall embassy find``: search the snapshots for entries by name or path."""

from __future__ import annotations

from typing import Any

import click

from seawall.cli.context import CliState, pass_state
from seawall.cli.embassy.access import access_to, progress_bar, repo_option
from seawall.cli.output import emit_json, json_option, say
from seawall.embassy.finding import Match, parse_when
from seawall.embassy.service.finding import find as find_entries


@click.command()
@repo_option
@click.argument("patterns", nargs=-1, required=True)
@click.option("-i", "--ignore-case", is_flag=True, help="Match either case.")
@click.option("--snapshot", "snapshots", multiple=True, help="Only this snapshot; repeat.")
@click.option("--path", "prefix", default="", help="Only entries at or under this path.")
@click.option("--newest", default=None, help="Only entries modified at or before this date/time.")
@click.option("--oldest", default=None, help="Only entries modified at or after this date/time.")
@json_option
@pass_state
def find(
    state: CliState,
    repo_ref: str,
    patterns: tuple[str, ...],
    ignore_case: bool,
    snapshots: tuple[str, ...],
    prefix: str,
    newest: str | None,
    oldest: str | None,
    as_json: bool,
) -> None:
    """Find files, directories and links by name (or by path, for a pattern with a /)."""
    until = parse_when(newest, "--newest") if newest is not None else None
    since = parse_when(oldest, "--oldest") if oldest is not None else None
    with progress_bar(not as_json) as progress:
        matches = find_entries(
            access_to(state, repo_ref),
            patterns,
            ignore_case=ignore_case,
            snapshots=snapshots,
            prefix=prefix,
            newest=until,
            oldest=since,
            progress=progress,
        )
    if as_json:
        emit_json([_doc(m) for m in matches])
        return
    if not matches:
        say("nothing found")
    for match in matches:
        node = match.node
        click.echo(
            f"{match.snapshot.short_id} {match.snapshot.time:%Y-%m-%d %H:%M:%S} {node.type} "
            f"{node.size:,} {match.mtime:%Y-%m-%d %H:%M:%S} /{node.path}"
        )


def _doc(match: Match) -> dict[str, Any]:
    """A match as ``find --json`` gives it."""
    return {
        "snapshot": match.snapshot.id,
        "time": match.snapshot.time.isoformat(),
        "path": "/" + match.node.path,
        "type": match.node.type,
        "size": match.node.size,
        "mtime": match.mtime.isoformat(),
    }
