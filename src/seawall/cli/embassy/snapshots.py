"""``seawall embassy`` commands that make, list, restore and forget snapshots."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from seawall.catalogs import counted
from seawall.cli.context import CliState, pass_state
from seawall.cli.embassy.access import (
    access_to,
    ask_passphrase,
    opened,
    parse_shares,
    progress_bar,
    repo_option,
)
from seawall.cli.embassy.limits import limit_options, limited
from seawall.cli.output import emit_json, emit_or_say, emit_or_table, json_option, say
from seawall.embassy import registry, service
from seawall.embassy.sealing import Compression
from seawall.embassy.sites import open_site, redact_url
from seawall.embassy.snapshots import Node as TreeNode
from seawall.errors import InvalidInput

# Files a backup left out (vanished or unreadable) named on the terminal; --json lists all.
SHOW_SKIPPED = 10


@click.command()
@click.option("--name", required=True, help="Short name to register the repository under.")
@click.option(
    "--site", "sites", multiple=True, required=True, help="Site URL; repeat, one per share."
)
@click.option("--shares", default="3-of-5", show_default=True, help="K-of-N erasure coding.")
@json_option
@pass_state
def init(state: CliState, name: str, sites: tuple[str, ...], shares: str, as_json: bool) -> None:
    """Create a repository across sites (file://, sftp://, s3://)."""
    k, n = parse_shares(shares)
    if len(sites) != n:
        raise InvalidInput(f"--shares {shares} needs {counted(n, 'site')}, {len(sites)} given")
    repo_id = service.create(
        state.operator_unit,
        name,
        [open_site(url) for url in sites],
        lambda: ask_passphrase(confirm=True),
        k=k,
        clock=state.node().clock,
    )
    emit_or_say(
        as_json,
        {"name": name, "id": repo_id, "k": k, "n": n, "sites": [redact_url(u) for u in sites]},
        f"Repository {name} ({k}-of-{n}) created on {counted(n, 'site')}",
    )


@click.command()
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
@limit_options
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
    limit_upload: int | None,
    limit_download: int | None,
    as_json: bool,
) -> None:
    """Back up PATHS (and/or stdin) as a new snapshot."""
    with limited(state, limit_upload, limit_download), progress_bar(not as_json) as progress:
        report = service.backup(
            access_to(state, repo_ref),
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
            state_note += (
                f"; {counted(report.packs_reused, 'pack')} of an interrupted backup reused"
            )
        for reason in report.skipped[:SHOW_SKIPPED]:
            say(f"[yellow]left out[/] {escape(reason)}", markup=True)
        if len(report.skipped) > SHOW_SKIPPED:
            say(
                f"[yellow]left out[/] {len(report.skipped) - SHOW_SKIPPED} more (see --json)",
                markup=True,
            )
        say(
            f"Snapshot {snap.short_id} saved: {counted(snap.files, 'file')}, "
            f"{counted(snap.size, 'byte', grouped=True)}, "
            f"{counted(report.stored_bytes, 'byte', grouped=True)} stored{state_note}",
            markup=True,
        )


@click.command()
@repo_option
@json_option
@pass_state
def snapshots(state: CliState, repo_ref: str, as_json: bool) -> None:
    """List snapshots."""
    with opened(state, repo_ref) as o:
        snaps = o.repo.snapshots()
    emit_or_table(
        as_json,
        [{**asdict(s), "time": s.time.isoformat()} for s in snaps],
        "Snapshots",
        ["Id", "Time (UTC)", "Host", "Paths", "Tags", "Files", "Size", "State"],
        (
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
        ),
    )


@click.command("ls")
@repo_option
@click.argument("snapshot", default="latest")
@click.option("--prefix", default="", help="Only paths under this one.")
@json_option
@pass_state
def ls_cmd(state: CliState, repo_ref: str, snapshot: str, prefix: str, as_json: bool) -> None:
    """List the files of a snapshot."""
    with opened(state, repo_ref) as o:
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


@click.command()
@repo_option
@click.argument("old")
@click.argument("new")
@json_option
@pass_state
def diff(state: CliState, repo_ref: str, old: str, new: str, as_json: bool) -> None:
    """Show files added (+), removed (-) and modified (M) between two snapshots."""
    with opened(state, repo_ref) as o:
        entries = o.repo.diff(old, new)
    if as_json:
        emit_json([{"change": e.change, "path": "/" + e.path} for e in entries])
        return
    for entry in entries:
        click.echo(f"{entry.change} /{entry.path}")


@click.command()
@repo_option
@click.argument("snapshot", default="latest")
@click.option("--target", required=True, type=click.Path(path_type=Path), help="Where to restore.")
@click.option("--include", default=None, help="Only this path (file or directory).")
@click.option("--overwrite", is_flag=True, help="Replace files that already exist.")
@limit_options
@json_option
@pass_state
def restore(
    state: CliState,
    repo_ref: str,
    snapshot: str,
    target: Path,
    include: str | None,
    overwrite: bool,
    limit_upload: int | None,
    limit_download: int | None,
    as_json: bool,
) -> None:
    """Restore a snapshot (or part of it); every piece is verified first."""
    with limited(state, limit_upload, limit_download), progress_bar(not as_json) as progress:
        done = service.restore(
            access_to(state, repo_ref),
            snapshot,
            target,
            include=include,
            overwrite=overwrite,
            progress=progress,
        )
    report = done.report
    if as_json:
        emit_json(asdict(report))
    else:
        say(
            f"Restored {counted(report.files, 'file')}, "
            f"{counted(report.dirs, 'directory', 'directories')}, "
            f"{counted(report.symlinks, 'link')} "
            f"({counted(report.bytes, 'byte', grouped=True)}) to {done.target}"
        )
        if refusals := report.refusals():
            say(f"[yellow]{escape(refusals)}[/]", markup=True)


@click.command("list")
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
    emit_or_table(
        as_json,
        rows,
        "Embassy repositories",
        ["Name", "Shares", "State", "Last backup", "Last check"],
        (
            (
                r["name"],
                f"{r['k']}-of-{r['n']}",
                "degraded" if r["degraded"] else "ok",
                r["last_backup"].strftime("%Y-%m-%d %H:%M") if r["last_backup"] else "never",
                r["last_check"] or "never",
            )
            for r in rows
        ),
    )
