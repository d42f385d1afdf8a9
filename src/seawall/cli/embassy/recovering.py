"""``seawall embassy recover``: restore for real after a disaster, and record how long it took."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import click

from seawall.catalogs import counted
from seawall.cli.context import CliState, pass_state
from seawall.cli.embassy.access import access_to, repo_option
from seawall.cli.output import emit_json, json_option, say
from seawall.core.audit import initialised_at
from seawall.core.clock import as_utc
from seawall.embassy.schedules import format_duration, parse_duration
from seawall.embassy.service.drills import recover as recover_snapshot
from seawall.errors import InvalidInput


def _since(state: CliState, given: str | None) -> datetime:
    """When recovery began: as given (ISO 8601, UTC unless it says), else the node's setup."""
    if given:
        try:
            return as_utc(datetime.fromisoformat(given), "--since")
        except ValueError:
            raise InvalidInput(
                f"--since {given!r} is not a date and time like 2026-12-06T09:30"
            ) from None
    with state.operator_unit() as ctx:
        began = initialised_at(ctx.db)
    if began is None:
        raise InvalidInput("this node has no record of when it was set up: give --since")
    return began


@click.command()
@repo_option
@click.argument("snapshot", default="latest")
@click.option("--target", required=True, type=click.Path(path_type=Path), help="Where to restore.")
@click.option(
    "--since",
    default=None,
    help="When recovery began (ISO 8601, UTC); default: when this node was set up.",
)
@click.option("--rto", default=None, help="The recovery time objective, e.g. 4h or 90m.")
@json_option
@pass_state
def recover(
    state: CliState,
    repo_ref: str,
    snapshot: str,
    target: Path,
    since: str | None,
    rto: str | None,
    as_json: bool,
) -> None:
    """Restore a snapshot after a disaster, verify it, and record the recovery time (from
    --since to the last byte) as drill evidence against --rto."""
    began = _since(state, since)
    rto_seconds = parse_duration(rto, "--rto").total_seconds() if rto else None
    done = recover_snapshot(
        access_to(state, repo_ref), target, since=began, snapshot=snapshot, rto_seconds=rto_seconds
    )
    if as_json:
        emit_json({**asdict(done), "passed": done.passed, "target": str(target)})
        return
    against = ""
    if rto_seconds is not None:
        verdict = "within" if done.seconds <= rto_seconds else "NOT within"
        against = f", {verdict} its RTO of {format_duration(rto_seconds)}"
    problems = (
        f"; {counted(len(done.problems), 'problem')}: {done.problems[0]}" if done.problems else ""
    )
    say(
        f"Recovered {counted(done.files, 'file')} ({counted(done.bytes, 'byte', grouped=True)}) of "
        f"snapshot {done.snapshot[:8]} to "
        f"{target} in {format_duration(done.seconds)} since {began:%Y-%m-%d %H:%M} UTC"
        f"{against}{problems}"
    )
