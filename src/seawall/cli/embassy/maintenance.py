"""``seawall embassy`` commands that verify, heal and tidy a repository."""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

import click
from click.decorators import FC
from rich.markup import escape

from seawall.catalogs import counted
from seawall.cli.context import CliState, pass_state
from seawall.cli.embassy.access import (
    access_to,
    dry_run_option,
    fraction,
    max_unused_option,
    opened,
    progress_bar,
    repo_option,
)
from seawall.cli.embassy.limits import limit_options, limited
from seawall.cli.output import emit_json, emit_or_say, emit_table, err_console, json_option, say
from seawall.embassy import service
from seawall.embassy.errors import PacksLost
from seawall.embassy.health import gather_stats
from seawall.embassy.locks import Lock
from seawall.embassy.pruning import ForgetGroup, PruneReport
from seawall.embassy.sites import redact_url
from seawall.embassy.snapshots import DEFAULT_GROUP_BY, KeepPolicy, parse_group_by


@click.command()
@repo_option
@click.option("--read-data", is_flag=True, help="Read and authenticate every share.")
@click.option("--read-data-subset", default=None, help="Read this share of the packs, e.g. 10%.")
@limit_options
@json_option
@pass_state
def check(
    state: CliState,
    repo_ref: str,
    read_data: bool,
    read_data_subset: str | None,
    limit_upload: int | None,
    limit_download: int | None,
    as_json: bool,
) -> None:
    """Verify the repository; name every missing or corrupt share (exit 1 if any)."""
    mode: bool | float = read_data
    if read_data_subset is not None:
        mode = fraction(read_data_subset, "--read-data-subset")
    with limited(state, limit_upload, limit_download), progress_bar(not as_json) as progress:
        report = service.check(access_to(state, repo_ref), mode, progress=progress)
    if as_json:
        emit_json(
            {
                "ok": report.ok,
                "snapshots": report.snapshots,
                "packs": report.packs,
                "packs_read": report.packs_read,
                "shares_read": report.shares_read,
                "problems": [asdict(p) for p in report.problems],
                "lost_packs": [loss.to_doc() for loss in report.lost_packs],
            }
        )
    else:
        for problem in report.problems:
            colour = "red" if problem.severity == "error" else "yellow"
            err_console.print(
                f"[{colour}]{problem.severity}:[/] {escape(problem.message)}",
                highlight=False,
                soft_wrap=True,  # one problem, one line, however long its URL
            )
        if report.ok:
            say(
                f"No errors: {counted(report.snapshots, 'snapshot')}, "
                f"{counted(report.packs, 'pack')}, {counted(report.shares_read, 'share')} read"
            )
    if not report.ok:
        raise click.exceptions.Exit(1)


@click.command()
@repo_option
@click.option(
    "--index",
    "reindex",
    is_flag=True,
    help="First index every pack again from its trailer (an index file that is damaged or lost).",
)
@limit_options
@json_option
@pass_state
def repair(
    state: CliState,
    repo_ref: str,
    reindex: bool,
    limit_upload: int | None,
    limit_download: int | None,
    as_json: bool,
) -> None:
    """Rebuild missing or corrupt shares and restore full redundancy."""
    with limited(state, limit_upload, limit_download), progress_bar(not as_json) as progress:
        try:
            report = service.repair(access_to(state, repo_ref), index=reindex, progress=progress)
        except PacksLost as exc:
            if as_json:
                emit_json(exc.detail)  # what was healed, and every file each lost pack held
            raise
    if as_json:
        emit_json(report.to_doc())
    else:
        if report.rebuilt is not None:
            done = report.rebuilt
            say(
                f"Indexed {counted(done.packs_indexed, 'pack')} ({done.packs_read} read from their "
                f"trailers), retired {counted(len(done.retired), 'index file')} "
                f"({len(done.damaged)} damaged)"
                + (
                    f"; {counted(len(done.unreadable), 'pack')} with fewer than k good shares left "
                    f"out"
                    if done.unreadable
                    else ""
                )
            )
        say(
            f"Rebuilt {counted(report.shares_rebuilt, 'share')}, copied "
            f"{counted(report.objects_copied, 'object')}, "
            f"cleared {report.snapshots_cleared} degraded snapshots"
        )


@click.command()
@repo_option
@max_unused_option
@dry_run_option
@limit_options
@json_option
@pass_state
def prune(
    state: CliState,
    repo_ref: str,
    max_unused: str,
    dry_run: bool,
    limit_upload: int | None,
    limit_download: int | None,
    as_json: bool,
) -> None:
    """Delete data no snapshot uses; repack partly used packs (exclusive lock)."""
    unused = fraction(max_unused, "--max-unused", zero=True)
    with limited(state, limit_upload, limit_download), progress_bar(not as_json) as progress:
        report = service.prune(
            access_to(state, repo_ref), max_unused=unused, dry_run=dry_run, progress=progress
        )
    emit_or_say(as_json, asdict(report), _pruned_line(report))


def _pruned_line(report: PruneReport) -> str:
    orphans = counted(report.orphans_deleted, "orphan share")
    temporary = counted(report.temp_files_deleted, "temporary file")
    leftovers = (
        f"{orphans} ({counted(report.orphan_bytes, 'byte', grouped=True)}) and "
        f"{temporary} ({counted(report.temp_bytes, 'byte', grouped=True)})"
    )
    unused, freed = (
        counted(report.packs_deleted, "unused pack"),
        counted(report.bytes_freed, "byte", grouped=True),
    )
    kept = counted(report.unused_bytes_kept, "unused byte", grouped=True)
    if report.dry_run:
        return (
            f"Would delete {unused}, {leftovers}, repack {report.packs_repacked} into "
            f"{report.packs_written}, and free {freed} on the sites; {kept} would stay "
            "(dry run: nothing changed)"
        )
    return (
        f"Pruned {unused} and {leftovers}, repacked {report.packs_repacked} into "
        f"{report.packs_written}, freed {freed} on the sites; {kept} left in place"
    )


@click.command()
@repo_option
@click.option(
    "--remove-all", is_flag=True, help="Remove every lock, live ones too, not only stale ones."
)
@json_option
@pass_state
def unlock(state: CliState, repo_ref: str, remove_all: bool, as_json: bool) -> None:
    """Remove stale locks (restic's unlock); --remove-all removes every lock."""
    with opened(state, repo_ref) as o, o.changing("unlock", remove_all=remove_all):
        report = o.repo.unlock(remove_all=remove_all)
        o.event(
            "unlock",
            remove_all=remove_all,
            removed=[_lock_doc(lock) for lock in report.removed],
            kept=len(report.kept),
            unreadable=report.unreadable,
        )
    if as_json:
        emit_json(
            {
                "remove_all": remove_all,
                "removed": [_lock_doc(lock) for lock in report.removed],
                "kept": [_lock_doc(lock) for lock in report.kept],
                "unreadable": report.unreadable,
            }
        )
        return
    count = len(report.removed)
    say(
        f"Removed {count} lock{'' if count == 1 else 's'}"
        + (": " + "; ".join(lock.describe() for lock in report.removed) if count else "")
    )
    if report.unreadable:
        say(f"Removed {report.unreadable} lock objects that do not open")
    if report.kept:
        say(
            f"Left {len(report.kept)} live: "
            + "; ".join(lock.describe() for lock in report.kept)
            + " (--remove-all removes them)"
        )


def _lock_doc(lock: Lock) -> dict[str, Any]:
    """A lock as JSON: whose it is and when it was last refreshed."""
    return {
        "id": lock.id,
        "exclusive": lock.exclusive,
        "hostname": lock.hostname,
        "pid": lock.pid,
        "time": lock.time.isoformat(),
        "refreshed": lock.refreshed.isoformat(),
    }


@click.command()
@repo_option
@json_option
@pass_state
def stats(state: CliState, repo_ref: str, as_json: bool) -> None:
    """Sizes, deduplication and site health."""
    with opened(state, repo_ref) as o:
        figures = gather_stats(o.repo)
    if as_json:
        emit_json(asdict(figures))
        return
    ratio = figures.raw_bytes / figures.stored_bytes if figures.stored_bytes else 0.0
    emit_table(
        "Repository",
        ["Measure", "Value"],
        [
            ("snapshots", figures.snapshots),
            ("packs", figures.packs),
            ("chunks", figures.chunks),
            ("data (deduplicated, before compression)", f"{figures.raw_bytes:,}"),
            ("stored (one copy)", f"{figures.stored_bytes:,}"),
            ("compression ratio", f"{ratio:.2f}x"),
            (f"per site ({figures.k}-of-{figures.n})", f"{figures.bytes_per_site:,}"),
        ],
    )
    emit_table(
        "Sites",
        ["#", "URL", "State"],
        [(s.index + 1, redact_url(s.url), "up" if s.up else "DOWN") for s in figures.sites],
    )


def keep_options(command: FC) -> FC:
    """``--keep-last`` to ``--keep-yearly``: one option per period of the keep policy."""
    for period in reversed([f.name for f in fields(KeepPolicy)]):
        option = click.option(f"--keep-{period}", period, default=0, type=click.IntRange(0))
        command = option(command)
    return command


@click.command()
@repo_option
@keep_options
@click.option("--tag", "tags", multiple=True, help="Only snapshots with these tags.")
@click.option(
    "--group-by",
    default=",".join(DEFAULT_GROUP_BY),
    show_default=True,
    help="Apply the policy within groups by these fields (host, paths, tags); '' for one group.",
)
@click.option("--prune", "do_prune", is_flag=True, help="Also delete data no snapshot uses.")
@max_unused_option
@dry_run_option
@json_option
@pass_state
def forget(
    state: CliState,
    /,
    repo_ref: str,
    tags: tuple[str, ...],
    group_by: str,
    do_prune: bool,
    max_unused: str,
    dry_run: bool,
    as_json: bool,
    **keep: int,
) -> None:
    """Remove snapshots outside a keep policy (restic's rules), optionally pruning data."""
    policy = KeepPolicy(**keep)
    fields = parse_group_by(group_by)
    unused = fraction(max_unused, "--max-unused", zero=True)
    forgotten = service.forget(
        access_to(state, repo_ref),
        policy,
        tags=tags,
        group_by=fields,
        prune=do_prune,
        max_unused=unused,
        dry_run=dry_run,
    )
    report, times = forgotten.report, forgotten.times
    if as_json:
        emit_json(
            {
                "kept": list(report.kept),
                "removed": list(report.removed),
                "group_by": list(report.group_by),
                "groups": [_group_doc(g, times) for g in report.groups],
                "pruned": asdict(report.pruned) if report.pruned else None,
                "dry_run": dry_run,
            }
        )
        return
    for group in report.groups:
        _say_group(group, times)
    if dry_run:
        say(
            f"Would keep {counted(len(report.kept), 'snapshot')} and remove {len(report.removed)}: "
            + (", ".join(r[:8] for r in report.removed) or "none")
            + " (dry run: nothing changed)"
        )
    else:
        say(f"Kept {counted(len(report.kept), 'snapshot')}, removed {len(report.removed)}")
        if report.pruned:
            say(_pruned_line(report.pruned))


def _group_doc(group: ForgetGroup, times: dict[str, datetime]) -> dict[str, Any]:
    """A forget group as JSON: its key, what is kept (and why), what is removed."""

    def when(sid: str) -> str | None:
        return times[sid].isoformat() if sid in times else None

    return {
        "key": {name: list(v) if isinstance(v, tuple) else v for name, v in group.key.items()},
        "keep": [{"id": k.id, "time": when(k.id), "reasons": list(k.reasons)} for k in group.kept],
        "remove": [{"id": sid, "time": when(sid)} for sid in group.removed],
    }


def _say_group(group: ForgetGroup, times: dict[str, datetime]) -> None:
    """A group's key, then one line per snapshot: kept (by which rules) or removed."""
    key = " ".join(
        f"{name}={','.join(v) if isinstance(v, tuple) else v}" for name, v in group.key.items()
    )
    say(f"{key or 'all snapshots'}: keep {len(group.kept)}, remove {len(group.removed)}")

    def when(sid: str) -> str:
        return f"{times[sid]:%Y-%m-%d %H:%M}" if sid in times else ""

    for kept in group.kept:
        say(f"  keep   {kept.id[:8]} {when(kept.id)} ({', '.join(kept.reasons)})")
    for sid in group.removed:
        say(f"  remove {sid[:8]} {when(sid)}")
