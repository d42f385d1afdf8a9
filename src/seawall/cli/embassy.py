"""``seawall embassy``: encrypted, erasure-coded snapshots across sites."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from seawall.cli.context import CliState, pass_state
from seawall.cli.output import (
    ask_secret,
    emit_json,
    emit_table,
    err_console,
    json_option,
    read_text_input,
    say,
)
from seawall.embassy import registry, service
from seawall.embassy.custody import CustodianShare, combine_shares
from seawall.embassy.errors import (
    BadSiteUrl,
    PacksLost,
)
from seawall.embassy.exposure import DEFAULT_STORM_RADIUS_KM, Place
from seawall.embassy.keys import KeyChange, plan_removal
from seawall.embassy.locks import Lock
from seawall.embassy.progress import Progress as EngineProgress
from seawall.embassy.pruning import DEFAULT_MAX_UNUSED, ForgetGroup, PruneReport
from seawall.embassy.sealing import Compression
from seawall.embassy.sites import open_site, redact_url
from seawall.embassy.snapshots import DEFAULT_GROUP_BY, KeepPolicy, parse_group_by
from seawall.embassy.snapshots import Node as TreeNode
from seawall.errors import InvalidInput

PASSPHRASE_ENV = "SEAWALL_EMBASSY_PASSPHRASE"  # noqa: S105 - a variable name
NEW_PASSPHRASE_ENV = "SEAWALL_EMBASSY_NEW_PASSPHRASE"  # noqa: S105 - a variable name
# Files a backup left out (vanished or unreadable) named on the terminal; --json lists all.
SHOW_SKIPPED = 10
T = TypeVar("T")


def _passphrase(confirm: bool = False) -> str:
    return os.environ.get(PASSPHRASE_ENV) or ask_secret(
        "Repository passphrase", PASSPHRASE_ENV, confirm
    )


def _parse_shares(value: str) -> tuple[int, int]:
    try:
        k_text, n_text = value.lower().split("-of-")
        return int(k_text), int(n_text)
    except ValueError:
        raise InvalidInput(f"--shares {value!r} is not K-of-N, e.g. 3-of-5") from None


@contextmanager
def _bar(enabled: bool) -> Iterator[Callable[[EngineProgress], None]]:
    """Rich progress (bytes, files, rate, ETA) on stderr; silent for --json or pipes."""
    if not enabled or not err_console.is_terminal:
        yield lambda _p: None
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TextColumn("{task.fields[files]} files"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def update(p: EngineProgress) -> None:
            if p.phase not in tasks:
                tasks[p.phase] = bar.add_task(p.phase, total=p.total_bytes, files=0)
            bar.update(tasks[p.phase], completed=p.bytes, total=p.total_bytes, files=p.files)

        yield update


def _warn(warning: str) -> None:
    """A warning that did not stop the command, on stderr."""
    err_console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)


def _access(
    state: CliState, ref: str, recovery_shares: list[CustodianShare] | None = None
) -> service.Access:
    """The node's operator reaching ``ref`` (a registered name, or a site URL to adopt)."""
    return service.Access(
        state.operator_unit,
        ref,
        state.node().clock,
        passphrase=_passphrase,
        recovery_key=combine_shares(recovery_shares) if recovery_shares else None,
        adopt=True,
        warn=_warn,
    )


def _opened(
    state: CliState, ref: str, recovery_shares: list[CustodianShare] | None = None
) -> AbstractContextManager[service.Opened]:
    return service.opened(_access(state, ref, recovery_shares))


repo_option = click.option(
    "--repo", "repo_ref", required=True, help="Registered name, or any one site URL."
)
dry_run_option = click.option(
    "--dry-run", is_flag=True, help="Say what would be removed; change nothing."
)
max_unused_option = click.option(
    "--max-unused",
    default=f"{DEFAULT_MAX_UNUSED:.0%}",
    show_default=True,
    help="Repack partly used packs until at most this share of the used data lies unused.",
)


@click.group()
def embassy() -> None:
    """Encrypted, deduplicated, erasure-coded snapshots across sites."""


@embassy.command()
@click.option("--name", required=True, help="Short name to register the repository under.")
@click.option(
    "--site", "sites", multiple=True, required=True, help="Site URL; repeat, one per share."
)
@click.option("--shares", default="3-of-5", show_default=True, help="K-of-N erasure coding.")
@json_option
@pass_state
def init(state: CliState, name: str, sites: tuple[str, ...], shares: str, as_json: bool) -> None:
    """Create a repository across sites (file://, sftp://, s3://)."""
    k, n = _parse_shares(shares)
    if len(sites) != n:
        raise InvalidInput(f"--shares {shares} needs {n} sites, {len(sites)} given")
    repo_id = service.create(
        state.operator_unit,
        name,
        [open_site(url) for url in sites],
        lambda: _passphrase(confirm=True),
        k=k,
        clock=state.node().clock,
    )
    if as_json:
        emit_json(
            {
                "name": name,
                "id": repo_id,
                "k": k,
                "n": n,
                "sites": [redact_url(u) for u in sites],
            }
        )
    else:
        say(f"Repository {name} ({k}-of-{n}) created on {n} sites")


@embassy.command()
@repo_option
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--exclude", "excludes", multiple=True, help="Glob to skip; repeat.")
@click.option("--tag", "tags", multiple=True, help="Tag the snapshot; repeat.")
@click.option("--stdin", "use_stdin", is_flag=True, help="Back up standard input as one file.")
@click.option("--stdin-name", default="stdin", show_default=True, help="File name for --stdin.")
@click.option(
    "--degraded",
    is_flag=True,
    help="Finish with a site down (needs k+1 shares per pack); repair later.",
)
@click.option(
    "--compression",
    type=click.Choice([c.value for c in Compression]),
    default=Compression.AUTO.value,
    show_default=True,
    help="zstd level 3 (auto), level 11 (max), or none (off) for new chunks.",
)
@json_option
@pass_state
def backup(
    state: CliState,
    repo_ref: str,
    paths: tuple[Path, ...],
    excludes: tuple[str, ...],
    tags: tuple[str, ...],
    use_stdin: bool,
    stdin_name: str,
    degraded: bool,
    compression: str,
    as_json: bool,
) -> None:
    """Back up PATHS (and/or stdin) as a new snapshot."""
    with _bar(not as_json) as progress:
        report = service.backup(
            _access(state, repo_ref),
            [str(p) for p in paths],
            excludes=excludes,
            tags=tags,
            stdin=sys.stdin.buffer if use_stdin else None,
            stdin_name=stdin_name,
            degraded=degraded,
            progress=progress,
            compression=Compression(compression),
        )
    snap = report.snapshot
    if as_json:
        emit_json(
            {
                "snapshot": snap.id,
                "files": snap.files,
                "bytes": snap.size,
                "new_bytes": snap.new_bytes,
                "packs_written": report.packs_written,
                "packs_reused": report.packs_reused,
                "stored_bytes": report.stored_bytes,
                "degraded": snap.degraded,
                "skipped": list(report.skipped),
            }
        )
    else:
        state_note = " [yellow](degraded: run repair)[/]" if snap.degraded else ""
        if report.packs_reused:
            state_note += f"; {report.packs_reused} packs of an interrupted backup reused"
        for reason in report.skipped[:SHOW_SKIPPED]:
            say(f"[yellow]left out[/] {escape(reason)}", markup=True)
        if len(report.skipped) > SHOW_SKIPPED:
            say(
                f"[yellow]left out[/] {len(report.skipped) - SHOW_SKIPPED} more (see --json)",
                markup=True,
            )
        say(
            f"Snapshot {snap.short_id} saved: {snap.files} files, {snap.size:,} bytes, "
            f"{report.stored_bytes:,} bytes stored{state_note}"
        )


@embassy.command()
@repo_option
@json_option
@pass_state
def snapshots(state: CliState, repo_ref: str, as_json: bool) -> None:
    """List snapshots."""
    with _opened(state, repo_ref) as o:
        snaps = o.repo.snapshots()
    if as_json:
        emit_json([{**asdict(s), "time": s.time.isoformat()} for s in snaps])
        return
    emit_table(
        "Snapshots",
        ["Id", "Time (UTC)", "Host", "Paths", "Tags", "Files", "Size", "State"],
        [
            (
                s.short_id,
                s.time.strftime("%Y-%m-%d %H:%M:%S"),
                s.hostname,
                ", ".join(s.paths),
                ", ".join(s.tags),
                s.files,
                f"{s.size:,}",
                "degraded" if s.degraded else "ok",
            )
            for s in snaps
        ],
    )


@embassy.command("ls")
@repo_option
@click.argument("snapshot", default="latest")
@click.option("--prefix", default="", help="Only paths under this one.")
@json_option
@pass_state
def ls_cmd(state: CliState, repo_ref: str, snapshot: str, prefix: str, as_json: bool) -> None:
    """List the files of a snapshot."""
    with _opened(state, repo_ref) as o:
        nodes = o.repo.ls(snapshot, prefix.lstrip("/"))
    if as_json:
        emit_json([_listed(n) for n in nodes])
        return
    for node_ in nodes:
        owner = f"{node_.user or node_.uid}:{node_.group or node_.gid}" if node_.uid >= 0 else "?"
        click.echo(
            f"{node_.type[0]} {node_.mode & 0o7777:04o} {owner:<17} {node_.size:>12,} /{node_.path}"
        )


def _listed(node: TreeNode) -> dict[str, Any]:
    """A snapshot entry as ``ls --json`` shows it (owner fields only where recorded)."""
    listed: dict[str, Any] = {
        "path": "/" + node.path,
        "type": node.type,
        "mode": node.mode,
        "size": node.size,
    }
    if node.uid >= 0:
        listed.update(uid=node.uid, gid=node.gid, user=node.user, group=node.group)
    if node.link_of:
        listed["hard_link_of"] = "/" + node.link_of
    return listed


@embassy.command()
@repo_option
@click.argument("old")
@click.argument("new")
@json_option
@pass_state
def diff(state: CliState, repo_ref: str, old: str, new: str, as_json: bool) -> None:
    """Show files added (+), removed (-) and modified (M) between two snapshots."""
    with _opened(state, repo_ref) as o:
        entries = o.repo.diff(old, new)
    if as_json:
        emit_json([{"change": e.change, "path": "/" + e.path} for e in entries])
        return
    for entry in entries:
        click.echo(f"{entry.change} /{entry.path}")


@embassy.command()
@repo_option
@click.argument("snapshot", default="latest")
@click.option("--target", required=True, type=click.Path(path_type=Path), help="Where to restore.")
@click.option("--include", default=None, help="Only this path (file or directory).")
@click.option("--overwrite", is_flag=True, help="Replace files that already exist.")
@json_option
@pass_state
def restore(
    state: CliState,
    repo_ref: str,
    snapshot: str,
    target: Path,
    include: str | None,
    overwrite: bool,
    as_json: bool,
) -> None:
    """Restore a snapshot (or part of it); every piece is verified first."""
    with _bar(not as_json) as progress:
        report = service.restore(
            _access(state, repo_ref),
            snapshot,
            target,
            include=include,
            overwrite=overwrite,
            progress=progress,
        )
    if as_json:
        emit_json(asdict(report))
    else:
        say(
            f"Restored {report.files} files, {report.dirs} directories, {report.symlinks} links "
            f"({report.bytes:,} bytes) to {target}"
        )
        if refusals := report.refusals():
            say(f"[yellow]{escape(refusals)}[/]", markup=True)


def _fraction(text: str, option: str, *, zero: bool = False) -> float:
    """A percentage (``10%``) or fraction (``0.1``) given to ``option``, as a fraction."""
    plain = text.strip()
    try:
        value = float(plain.rstrip("%")) / (100 if plain.endswith("%") else 1)
    except ValueError:
        raise InvalidInput(f"{option} {text!r} is not a percentage like 10%") from None
    if not (0 <= value <= 1 if zero else 0 < value <= 1):
        low = "from 0%" if zero else "above 0%"
        raise InvalidInput(f"{option} must be {low} up to 100%; {text!r} is not")
    return value


@embassy.command()
@repo_option
@click.option("--read-data", is_flag=True, help="Read and authenticate every share.")
@click.option("--read-data-subset", default=None, help="Read this share of the packs, e.g. 10%.")
@json_option
@pass_state
def check(
    state: CliState, repo_ref: str, read_data: bool, read_data_subset: str | None, as_json: bool
) -> None:
    """Verify the repository; name every missing or corrupt share (exit 1 if any)."""
    mode: bool | float = read_data
    if read_data_subset is not None:
        mode = _fraction(read_data_subset, "--read-data-subset")
    with _bar(not as_json) as progress:
        report = service.check(_access(state, repo_ref), mode, progress=progress)
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
                f"No errors: {report.snapshots} snapshots, {report.packs} packs, "
                f"{report.shares_read} shares read"
            )
    if not report.ok:
        raise click.exceptions.Exit(1)


@embassy.command()
@repo_option
@click.option(
    "--index",
    "reindex",
    is_flag=True,
    help="First index every pack again from its trailer (an index file that is damaged or lost).",
)
@json_option
@pass_state
def repair(state: CliState, repo_ref: str, reindex: bool, as_json: bool) -> None:
    """Rebuild missing or corrupt shares and restore full redundancy."""
    with _bar(not as_json) as progress:
        try:
            report = service.repair(_access(state, repo_ref), index=reindex, progress=progress)
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
                f"Indexed {done.packs_indexed} packs ({done.packs_read} read from their "
                f"trailers), retired {len(done.retired)} index files "
                f"({len(done.damaged)} damaged)"
                + (
                    f"; {len(done.unreadable)} packs with fewer than k good shares left out"
                    if done.unreadable
                    else ""
                )
            )
        say(
            f"Rebuilt {report.shares_rebuilt} shares, copied {report.objects_copied} objects, "
            f"cleared {report.snapshots_cleared} degraded snapshots"
        )


@embassy.group()
def site() -> None:
    """Manage a repository's sites."""


@site.command("replace")
@repo_option
@click.argument("old")
@click.argument("new")
@pass_state
def site_replace(state: CliState, repo_ref: str, old: str, new: str) -> None:
    """Swap site OLD (URL or index) for the empty site NEW and rebuild its shares."""
    with _opened(state, repo_ref) as o, _bar(True) as progress:
        which: int | str = int(old) if old.isascii() and old.isdigit() else old
        if isinstance(which, str) and which not in o.repo.config.sites:
            raise BadSiteUrl(f"{redact_url(old)} is not one of this repository's sites")
        with o.changing("site.replaced", old=redact_url(old), new=redact_url(new)):
            o.repo.replace_site(which, open_site(new), progress=progress)
        with o.units() as ctx:
            registry.update_sites(ctx, ctx.db.merge(o.row), list(o.repo.config.sites))
    say(f"Site replaced: {redact_url(old)} -> {redact_url(new)}")


@site.command("locate")
@repo_option
@click.argument("site_ref", metavar="SITE")
@click.option("--place", required=True, help="A name people know, e.g. 'Belize City'.")
@click.option("--lat", type=float, required=True, help="Latitude in degrees (north positive).")
@click.option("--lon", type=float, required=True, help="Longitude in degrees (east positive).")
@pass_state
def site_locate(
    state: CliState, repo_ref: str, site_ref: str, place: str, lat: float, lon: float
) -> None:
    """Record where SITE (URL or index from 0) is, for the site map and storm exposure."""
    where = Place(place, lat, lon)
    with state.operator_unit() as ctx:
        url = registry.locate_site(ctx, registry.get_repo(ctx, repo_ref), site_ref, where)
    say(f"Site {redact_url(url)} is at {where.name} ({where.lat:.4f}, {where.lon:.4f})")


@embassy.command()
@repo_option
@click.option(
    "--radius-km",
    type=float,
    default=DEFAULT_STORM_RADIUS_KM,
    show_default=True,
    help="Radius of one storm's footprint.",
)
@json_option
@pass_state
def exposure(state: CliState, repo_ref: str, radius_km: float, as_json: bool) -> None:
    """Could one storm take out more sites than the repository can lose? (exit 1 if so)"""
    with state.operator_unit() as ctx:
        row = registry.get_repo(ctx, repo_ref)
        found = registry.exposure_of(ctx, row, radius_km)
        hit = [redact_url(row.sites[i]) for i in found.sites]
        if found.sites:
            # On record, like a check: the maturity pillar cites it as risk assessment.
            registry.record_run(
                ctx,
                row,
                "exposure",
                "partial" if found.at_risk else "success",
                f"one {found.radius_km:g} km storm footprint covers {len(hit)} of {row.n} sites"
                + (f"; more than the {found.tolerable} it can lose" if found.at_risk else ""),
                ctx.now(),
                {"sites": hit, "radius_km": found.radius_km, "at_risk": found.at_risk},
            )
    if as_json:
        emit_json(
            {
                "radius_km": found.radius_km,
                "tolerable": found.tolerable,
                "at_risk": found.at_risk,
                "sites": hit,
                "center": list(found.center) if found.center else None,
                "unlocated": [redact_url(row.sites[i]) for i in found.unlocated],
            }
        )
    else:
        emit_table(
            f"Sites of {row.name} ({row.k}-of-{row.n})",
            ["#", "Site", "Place", "In the worst footprint"],
            [
                [
                    str(i),
                    redact_url(url),
                    getattr(found.places[i], "name", "(not located)"),
                    "yes" if i in found.sites else "",
                ]
                for i, url in enumerate(row.sites)
            ],
        )
        if found.unlocated:
            say(
                f"[yellow]{len(found.unlocated)} sites are not located[/]; "
                f"record them with `seawall embassy site locate --repo {row.name} ...`"
            )
        if not found.sites:
            return
        worst = f"Worst {found.radius_km:g} km footprint covers {len(hit)} of {row.n} sites"
        if found.at_risk:
            say(
                f"{worst}; [red]at risk[/]: a restore needs {row.k} sites, and one storm could "
                f"take {len(hit)} of them"
            )
        else:
            say(
                f"{worst}; [green]spread enough[/]: one storm takes at most {len(hit)} sites; "
                f"{row.k} of the rest rebuild every snapshot"
            )
    if found.at_risk:
        raise click.exceptions.Exit(1)


@embassy.command()
@repo_option
@click.option("--keep-last", default=0, type=click.IntRange(0))
@click.option("--keep-hourly", default=0, type=click.IntRange(0))
@click.option("--keep-daily", default=0, type=click.IntRange(0))
@click.option("--keep-weekly", default=0, type=click.IntRange(0))
@click.option("--keep-monthly", default=0, type=click.IntRange(0))
@click.option("--keep-yearly", default=0, type=click.IntRange(0))
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
    repo_ref: str,
    keep_last: int,
    keep_hourly: int,
    keep_daily: int,
    keep_weekly: int,
    keep_monthly: int,
    keep_yearly: int,
    tags: tuple[str, ...],
    group_by: str,
    do_prune: bool,
    max_unused: str,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Remove snapshots outside a keep policy (restic's rules), optionally pruning data."""
    policy = KeepPolicy(
        last=keep_last,
        hourly=keep_hourly,
        daily=keep_daily,
        weekly=keep_weekly,
        monthly=keep_monthly,
        yearly=keep_yearly,
    )
    fields = parse_group_by(group_by)
    unused = _fraction(max_unused, "--max-unused", zero=True)
    forgotten = service.forget(
        _access(state, repo_ref),
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
            f"Would keep {len(report.kept)} snapshots and remove {len(report.removed)}: "
            + (", ".join(r[:8] for r in report.removed) or "none")
            + " (dry run: nothing changed)"
        )
    else:
        say(f"Kept {len(report.kept)} snapshots, removed {len(report.removed)}")
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


@embassy.command()
@repo_option
@max_unused_option
@dry_run_option
@json_option
@pass_state
def prune(state: CliState, repo_ref: str, max_unused: str, dry_run: bool, as_json: bool) -> None:
    """Delete data no snapshot uses; repack partly used packs (exclusive lock)."""
    unused = _fraction(max_unused, "--max-unused", zero=True)
    with _bar(not as_json) as progress:
        report = service.prune(
            _access(state, repo_ref), max_unused=unused, dry_run=dry_run, progress=progress
        )
    if as_json:
        emit_json(asdict(report))
    else:
        say(_pruned_line(report))


def _pruned_line(report: PruneReport) -> str:
    leftovers = (
        f"{report.orphans_deleted} orphan shares ({report.orphan_bytes:,} bytes) and "
        f"{report.temp_files_deleted} temporary files ({report.temp_bytes:,} bytes)"
    )
    if report.dry_run:
        return (
            f"Would delete {report.packs_deleted} unused packs, {leftovers}, repack "
            f"{report.packs_repacked} into {report.packs_written}, and free "
            f"{report.bytes_freed:,} bytes on the sites; {report.unused_bytes_kept:,} unused "
            "bytes would stay (dry run: nothing changed)"
        )
    return (
        f"Pruned {report.packs_deleted} unused packs and {leftovers}, repacked "
        f"{report.packs_repacked} into {report.packs_written}, freed {report.bytes_freed:,} "
        f"bytes on the sites; {report.unused_bytes_kept:,} unused bytes left in place"
    )


@embassy.command()
@repo_option
@click.option(
    "--remove-all", is_flag=True, help="Remove every lock, live ones too, not only stale ones."
)
@json_option
@pass_state
def unlock(state: CliState, repo_ref: str, remove_all: bool, as_json: bool) -> None:
    """Remove stale locks (restic's unlock); --remove-all removes every lock."""
    with _opened(state, repo_ref) as o, o.changing("unlock", remove_all=remove_all):
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


@embassy.command()
@repo_option
@json_option
@pass_state
def stats(state: CliState, repo_ref: str, as_json: bool) -> None:
    """Sizes, deduplication and site health."""
    with _opened(state, repo_ref) as o:
        figures = o.repo.stats()
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
        [(s.index, redact_url(s.url), "up" if s.up else "DOWN") for s in figures.sites],
    )


@embassy.group()
def key() -> None:
    """Key slots and custodian recovery shares."""


@key.command("list")
@repo_option
@json_option
@pass_state
def key_list(state: CliState, repo_ref: str, as_json: bool) -> None:
    """List key slots (passphrases and recovery keys)."""
    with _opened(state, repo_ref) as o:
        slots = o.repo.key_slots()
        current = o.repo.opened_with.id
    rows = [
        {
            "id": s.id,
            "kind": s.kind,
            "label": s.label,
            "created": s.created,
            "current": s.id == current,
        }
        for s in slots
    ]
    if as_json:
        emit_json(rows)
        return
    emit_table(
        "Key slots",
        ["Id", "Kind", "Label", "Created", ""],
        [
            (r["id"], r["kind"], r["label"], r["created"], "← this session" if r["current"] else "")
            for r in rows
        ],
    )


@key.command("add")
@repo_option
@click.option("--label", default="", help="Whose passphrase this is.")
@click.option(
    "--new-passphrase",
    envvar="SEAWALL_EMBASSY_NEW_PASSPHRASE",
    default=None,
    help="Or SEAWALL_EMBASSY_NEW_PASSPHRASE; prompted if absent.",
)
@pass_state
def key_add(state: CliState, repo_ref: str, label: str, new_passphrase: str | None) -> None:
    """Add another passphrase (no data is re-uploaded)."""
    secret = new_passphrase or ask_secret("New passphrase", NEW_PASSPHRASE_ENV)
    with _opened(state, repo_ref) as o:
        change = o.repo.plan_passphrase(secret, label=label)
        assert change.adds is not None
        o.change_keys("key.added", change, slot=change.adds.id, label=label)
    say(f"Added key slot {change.adds.id}")


@key.command("remove")
@repo_option
@click.argument("slot_id")
@pass_state
def key_remove(state: CliState, repo_ref: str, slot_id: str) -> None:
    """Remove a key slot (never the last passphrase)."""
    with _opened(state, repo_ref) as o:
        o.change_keys("key.removed", plan_removal(o.repo.key_slots(), slot_id), slot=slot_id)
    say(f"Removed key slot {slot_id}")


@key.command("passwd")
@repo_option
@click.option(
    "--new-passphrase",
    envvar="SEAWALL_EMBASSY_NEW_PASSPHRASE",
    default=None,
    help="Or SEAWALL_EMBASSY_NEW_PASSPHRASE; prompted if absent.",
)
@pass_state
def key_passwd(state: CliState, repo_ref: str, new_passphrase: str | None) -> None:
    """Change this session's passphrase: re-wraps the key, never re-uploads data."""
    secret = new_passphrase or ask_secret("New passphrase", NEW_PASSPHRASE_ENV)
    with _opened(state, repo_ref) as o:
        change = o.repo.plan_passphrase_change(secret)
        assert change.adds is not None and change.retires is not None
        o.change_keys("key.changed", change, old_slot=change.retires.id, new_slot=change.adds.id)
    say(f"Passphrase changed (slot {change.adds.id})")


@key.command("split")
@repo_option
@click.option("--custodians", type=click.IntRange(2, 255), required=True)
@click.option("--threshold", type=click.IntRange(2, 255), required=True)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write one share file per custodian here (mode 0600).",
)
@json_option
@pass_state
def key_split(
    state: CliState,
    repo_ref: str,
    custodians: int,
    threshold: int,
    out_dir: Path | None,
    as_json: bool,
) -> None:
    """Create a recovery key and split it among custodians (Shamir)."""
    if threshold > custodians:
        raise InvalidInput("--threshold cannot exceed --custodians")

    def hand_out(change: KeyChange) -> None:
        """Write or print the shares, before any site holds the slot they open."""
        texts = [s.to_text() for s in change.shares]
        if out_dir:
            out_dir.mkdir(parents=True, exist_ok=True)
            for share, text in zip(change.shares, texts, strict=True):
                path = out_dir / f"custodian-{share.index}.txt"
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as handle:
                    handle.write(text + "\n")
        elif as_json:
            emit_json({"threshold": threshold, "shares": texts})
        else:
            for text in texts:
                click.echo(text)

    with _opened(state, repo_ref) as o:
        change = o.repo.plan_recovery_key(custodians=custodians, threshold=threshold)
        assert change.adds is not None
        o.change_keys(
            "key.split",
            change,
            hand_out,
            slot=change.adds.id,
            custodians=custodians,
            threshold=threshold,
        )
    if out_dir:
        say(f"Wrote {custodians} custodian shares to {out_dir}; any {threshold} recover access")
    elif not as_json:
        say(f"Give one line to each of {custodians} custodians; any {threshold} recover access")


@key.command("recover")
@repo_option
@click.option("--share", "share_texts", multiple=True, help="A custodian share; repeat.")
@click.option(
    "--share-file",
    "share_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file holding one custodian share; repeat.",
)
@click.option(
    "--new-passphrase",
    envvar="SEAWALL_EMBASSY_NEW_PASSPHRASE",
    default=None,
    help="Or SEAWALL_EMBASSY_NEW_PASSPHRASE; prompted if absent.",
)
@pass_state
def key_recover(
    state: CliState,
    repo_ref: str,
    share_texts: tuple[str, ...],
    share_files: tuple[Path, ...],
    new_passphrase: str | None,
) -> None:
    """Open with custodian shares and set a new passphrase."""
    texts = [
        *share_texts,
        *(read_text_input(p, "a custodian's share as text").strip() for p in share_files),
    ]
    shares = [CustodianShare.from_text(t) for t in texts]
    secret = new_passphrase or ask_secret("New passphrase", NEW_PASSPHRASE_ENV)
    with _opened(state, repo_ref, recovery_shares=shares) as o:
        change = o.repo.plan_passphrase(secret, label="recovered")
        assert change.adds is not None
        o.change_keys("key.recovered", change, shares=len(shares), new_slot=change.adds.id)
    say(
        f"Access recovered with {len(shares)} custodian shares; "
        f"new passphrase slot {change.adds.id}"
    )


@embassy.command("list")
@json_option
@pass_state
def list_repos(state: CliState, as_json: bool) -> None:
    """Repositories registered on this node, with their last backup and check."""
    with state.operator_unit() as ctx:
        rows: list[dict[str, Any]] = []
        for row in registry.list_repos(ctx):
            backup_run = registry.last_run(ctx, row, "backup")
            check_run = registry.last_run(ctx, row, "check")
            rows.append(
                {
                    "name": row.name,
                    "k": row.k,
                    "n": row.n,
                    "degraded": row.degraded,
                    "sites": [redact_url(s) for s in row.sites],
                    "last_backup": backup_run.finished_at if backup_run else None,
                    "last_check": check_run.outcome if check_run else None,
                }
            )
    if as_json:
        emit_json(rows)
        return
    emit_table(
        "Embassy repositories",
        ["Name", "Shares", "State", "Last backup", "Last check"],
        [
            (
                r["name"],
                f"{r['k']}-of-{r['n']}",
                "degraded" if r["degraded"] else "ok",
                r["last_backup"].strftime("%Y-%m-%d %H:%M") if r["last_backup"] else "never",
                r["last_check"] or "never",
            )
            for r in rows
        ],
    )
