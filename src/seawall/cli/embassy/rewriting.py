"""``seawall embassy rewrite``: remove paths from existing snapshots."""

from __future__ import annotations

from dataclasses import asdict

import click

from seawall.cli.context import CliState, pass_state
from seawall.cli.embassy.access import access_to, dry_run_option, progress_bar, repo_option
from seawall.cli.output import emit_json, json_option, say
from seawall.embassy.rewriting import RewriteReport
from seawall.embassy.service.rewriting import rewrite as rewrite_snapshots


@click.command()
@repo_option
@click.option(
    "--exclude",
    "excludes",
    multiple=True,
    required=True,
    help="Path or glob to remove (a directory with everything under it); repeat.",
)
@click.option("--snapshot", "snapshots", multiple=True, help="Only this snapshot; repeat.")
@click.option("--forget", is_flag=True, help="Delete each old snapshot once its new one is saved.")
@dry_run_option
@json_option
@pass_state
def rewrite(
    state: CliState,
    repo_ref: str,
    excludes: tuple[str, ...],
    snapshots: tuple[str, ...],
    forget: bool,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Write snapshots again without some paths (restic's rewrite); prune then frees the data."""
    with progress_bar(not as_json) as progress:
        report = rewrite_snapshots(
            access_to(state, repo_ref),
            excludes,
            snapshots=snapshots,
            forget=forget,
            dry_run=dry_run,
            progress=progress,
        )
    if as_json:
        emit_json(
            {
                "rewritten": [
                    {**asdict(r), "removed": ["/" + p for p in r.removed]} for r in report.rewritten
                ],
                "unchanged": list(report.unchanged),
                "forgotten": list(report.forgotten),
                "dry_run": report.dry_run,
            }
        )
        return
    _say_report(report, repo_ref, forget)


def _say_report(report: RewriteReport, repo_ref: str, forget: bool) -> None:
    """Each snapshot rewritten and the entries it lost, then what was left alone."""
    for done in report.rewritten:
        count = f"{len(done.removed)} {'entry' if len(done.removed) == 1 else 'entries'}"
        if report.dry_run:
            say(
                f"would remove {count} from {done.original[:8]}"
                + (" (and forget it)" if forget else "")
            )
        else:
            again = " (written by an earlier run)" if done.reused else ""
            say(f"removed {count} from {done.original[:8]}: now {(done.new or '')[:8]}{again}")
        for path in done.removed:
            say(f"  - /{path}")
    unchanged = len(report.unchanged)
    say(
        f"{len(report.rewritten)} snapshot{'' if len(report.rewritten) == 1 else 's'} "
        f"{'to rewrite' if report.dry_run else 'rewritten'}, "
        f"{unchanged} snapshot{'' if unchanged == 1 else 's'} unchanged"
        + (" (dry run: nothing changed)" if report.dry_run else "")
    )
    if report.forgotten:
        say(
            f"Forgot {len(report.forgotten)} old snapshots; their data goes with "
            f"`seawall embassy prune --repo {repo_ref} --max-unused 0%`"
        )
