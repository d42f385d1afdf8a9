"""Restore: rebuild each needed pack once, verify every chunk, write files in place."""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from seawall.embassy.errors import (
    IntegrityError,
    RestoreWouldOverwrite,
    SnapshotMissing,
)
from seawall.embassy.packs import PackEntry, open_chunk
from seawall.embassy.progress import Progress, ProgressFn, ignore_progress
from seawall.embassy.snapshots import Node, is_under

if TYPE_CHECKING:
    from seawall.embassy.repository import Repository


@dataclass(frozen=True)
class RestoreReport:
    """What a restore wrote."""

    files: int
    dirs: int
    symlinks: int
    bytes: int


# Files kept open at once while packs are written out in pack order.
MAX_OPEN_FILES = 256


def restore_snapshot(
    repo: Repository,
    ref: str,
    target: str | os.PathLike[str],
    *,
    include: str | None = None,
    overwrite: bool = False,
    progress: ProgressFn | None = None,
) -> RestoreReport:
    """Restore a snapshot under ``target``; every chunk is verified before it is written."""
    # A shared lock: prune cannot delete packs while they are being read.
    with repo.lock(exclusive=False):
        return _restore(repo, ref, Path(target), include, overwrite, progress or ignore_progress)


def _restore(
    repo: Repository,
    ref: str,
    root: Path,
    include: str | None,
    overwrite: bool,
    report: ProgressFn,
) -> RestoreReport:
    snap = repo.find_snapshot(ref)
    inc = (include or "").strip("/")
    nodes = [n for n in repo.tree(snap) if is_under(n.path, inc)]
    if inc and not nodes:
        raise SnapshotMissing(f"{include} is not in snapshot {snap.short_id}")
    index = repo.load_index()
    for node in nodes:
        parts = node.path.split("/")
        if node.path.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise IntegrityError(f"snapshot {snap.short_id} names an unsafe path {node.path!r}")
        for cid in node.chunks:
            if bytes.fromhex(cid) not in index:
                raise IntegrityError(
                    f"{node.path} needs chunk {cid[:16]} that no index lists; run check"
                )
    if not overwrite:
        clashes = [n.path for n in nodes if n.type != "dir" and os.path.lexists(root / n.path)]
        if clashes:
            raise RestoreWouldOverwrite(
                f"{len(clashes)} files already exist under {root} (first: {clashes[0]}); "
                "restore elsewhere or allow overwrite"
            )
    root.mkdir(parents=True, exist_ok=True)
    files = [n for n in nodes if n.type == "file"]
    for node in nodes:
        path = root / node.path
        if node.type == "dir":
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
    # Plan: for each pack, which chunk goes to which (file, offset); each pack is read once.
    plan: dict[bytes, list[tuple[PackEntry, int, int]]] = {}
    remaining: list[int] = []
    for number, node in enumerate(files):
        path = root / node.path
        if overwrite and (path.is_symlink() or path.exists()):
            path.unlink()
        with open(path, "xb") as handle:
            handle.truncate(node.size)
        offset = 0
        for cid in node.chunks:
            location = index.chunks[bytes.fromhex(cid)]
            plan.setdefault(location.pack, []).append((location.entry, number, offset))
            offset += location.entry.raw_length
        remaining.append(len(node.chunks))
        if not node.chunks:
            _apply_meta(path, node)
    total = sum(n.size for n in files)
    finished = sum(1 for r in remaining if not r)
    written = 0
    handles: dict[int, int] = {}
    order = list(plan)
    fetches: deque[Future[bytes]] = deque()
    # One pack is rebuilt ahead while the current one is written: enough to overlap I/O.
    ahead = 1
    try:
        with ThreadPoolExecutor(2, thread_name_prefix="embassy-fetch") as fetcher:
            for pid in order[:ahead]:
                fetches.append(fetcher.submit(repo.fetch_pack, index.packs[pid]))
            for position, pid in enumerate(order):
                pack = fetches.popleft().result()
                if position + ahead < len(order):
                    nxt = index.packs[order[position + ahead]]
                    fetches.append(fetcher.submit(repo.fetch_pack, nxt))
                last_id, data = b"", b""
                # Sorted by offset, so a chunk used at several places is unsealed once.
                for entry, number, offset in sorted(plan.pop(pid), key=lambda t: t[0].offset):
                    if entry.id != last_id:
                        data = open_chunk(pack, entry, repo.master.data_key, repo.master.id_key)
                        last_id = entry.id
                    fd = handles.get(number)
                    if fd is None:
                        if len(handles) >= MAX_OPEN_FILES:
                            os.close(handles.pop(next(iter(handles))))
                        fd = os.open(root / files[number].path, os.O_WRONLY)
                        handles[number] = fd
                    os.pwrite(fd, data, offset)
                    written += len(data)
                    remaining[number] -= 1
                    if remaining[number] == 0:
                        os.close(handles.pop(number))
                        _apply_meta(root / files[number].path, files[number])
                        finished += 1
                    report(
                        Progress(
                            "restore",
                            files=finished,
                            bytes=written,
                            total_files=len(files),
                            total_bytes=total,
                            current=files[number].path,
                        )
                    )
                del pack, data
    finally:
        for fd in handles.values():
            os.close(fd)
    links = 0
    for node in nodes:
        if node.type == "symlink":
            path = root / node.path
            if overwrite and os.path.lexists(path):
                path.unlink()
            os.symlink(node.target, path)
            with suppress(NotImplementedError, OSError):
                os.utime(path, ns=(node.mtime_ns, node.mtime_ns), follow_symlinks=False)
            links += 1
    dirs = [n for n in nodes if n.type == "dir"]
    for node in sorted(dirs, key=lambda n: n.path.count("/"), reverse=True):
        _apply_meta(root / node.path, node)
    return RestoreReport(len(files), len(dirs), links, written)


def _apply_meta(path: Path, node: Node) -> None:
    os.chmod(path, node.mode)
    os.utime(path, ns=(node.mtime_ns, node.mtime_ns))
