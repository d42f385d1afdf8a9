"""Restore: rebuild each needed pack once, verify every chunk, write files in place.

Nothing below the target is reached through a symbolic link (see :mod:`.confinement`):
links a snapshot holds are restored as links, and never followed by a later write.
"""

from __future__ import annotations

import base64
import functools
import grp
import os
import pwd
import shutil
import threading
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from seawall.catalogs import counted
from seawall.embassy.confinement import TargetDir, shown
from seawall.embassy.erasure import SplitPack
from seawall.embassy.errors import (
    IntegrityError,
    RestoreThroughLink,
    RestoreWouldOverwrite,
    SnapshotMissing,
)
from seawall.embassy.index import Index
from seawall.embassy.packs import PackEntry, open_chunk
from seawall.embassy.progress import Progress, ProgressFn, ignore_progress
from seawall.embassy.snapshots import Node, is_under
from seawall.errors import InvalidInput

if TYPE_CHECKING:
    from seawall.embassy.store import RepositoryStore


@dataclass(frozen=True)
class RestoreReport:
    """What a restore wrote."""

    files: int
    dirs: int
    symlinks: int
    bytes: int
    # Extended attributes the target refused (no support, or not allowed to this user).
    xattrs_refused: int = 0
    # Entries whose recorded owner the target refused (root squashed, ids it cannot hold).
    owners_refused: int = 0

    def refusals(self) -> str:
        """One sentence on the metadata the target would not take, or "" when it took all."""
        parts = []
        if self.owners_refused:
            parts.append(f"{self.owners_refused} owners")
        if self.xattrs_refused:
            parts.append(f"{self.xattrs_refused} extended attributes")
        if not parts:
            return ""
        return (
            f"{' and '.join(parts)} were not set: the target does not support them or this "
            "user may not set them (restore as root onto a local disk to keep them all)"
        )


# Files kept open at once while packs are written out in pack order.
MAX_OPEN_FILES = 256
# Chunks opened ahead of the writer, per worker thread: bounds memory to a few MiB each.
OPEN_AHEAD = 3


def target_inside(root: Path, typed: str) -> Path:
    """The directory ``typed`` names inside ``root``, where a restore may write, or one line
    saying why not: outside it, ``..`` out of it, a link out of it, or no name at all.

    The web UI restores only there: a custodian may restore onto the node, but not write
    wherever the server process can.
    """
    name = typed.strip()
    base = root.resolve()
    chosen = (base / name).resolve() if name and "\0" not in name else base
    if chosen == base or not chosen.is_relative_to(base):
        raise InvalidInput(
            f"restore into a directory inside {base} (the node's restore directory, "
            "SEAWALL_RESTORE_DIR): give a name such as drill-2026-12"
        )
    return chosen


def restore_snapshot(
    repo: RepositoryStore,
    ref: str,
    target: str | os.PathLike[str],
    *,
    include: str | None = None,
    overwrite: bool = False,
    progress: ProgressFn | None = None,
    within: Path | None = None,
) -> RestoreReport:
    """Restore a snapshot under ``target``; every chunk is verified before it is written.

    With ``within`` (the web's restore directory), ``target`` must lie inside it, and the
    way there is walked without following links too.
    """
    # A shared lock: prune cannot delete packs while they are being read.
    with repo.lock(exclusive=False):
        snap = repo.find_snapshot(ref)
        inc = (include or "").strip("/")
        nodes = [n for n in repo.tree(snap) if is_under(n.path, inc)]
        if inc and not nodes:
            raise SnapshotMissing(f"{include} is not in snapshot {snap.short_id}")
        index = repo.load_index()
        _check_nodes(index, snap.short_id, nodes)
        with TargetDir(Path(target), within=within) as root:
            return _restore(repo, index, nodes, root, overwrite, progress or ignore_progress)


def _check_nodes(index: Index, snapshot: str, nodes: list[Node]) -> None:
    """Refuse a snapshot's unsafe paths, missing chunks, and entries below its own links."""
    kinds = {n.path: n.type for n in nodes}
    for node in nodes:
        parts = node.path.split("/")
        if node.path.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise IntegrityError(f"snapshot {snapshot} names an unsafe path {node.path!r}")
        for cid in node.chunks:
            if bytes.fromhex(cid) not in index:
                raise IntegrityError(
                    f"{node.path} needs chunk {cid[:16]} that no index lists; run check"
                )
        for depth in range(1, len(parts)):
            above = "/".join(parts[:depth])
            kind = kinds.get(above, "dir")
            if kind == "symlink":
                # Two backed-up paths, a link and one through it (backup /a/link /a/link/f),
                # make such a snapshot; restoring both would write through the link.
                raise RestoreThroughLink(
                    f"refused to restore {shown(node.path)}: it lies below {shown(above)}, a "
                    "symbolic link this snapshot also holds, which a restore never follows; "
                    "restore it alone (include it) into another directory",
                    shown(node.path),
                )
            if kind != "dir":
                raise IntegrityError(
                    f"snapshot {snapshot} names {node.path!r} below the file {above!r}"
                )


def _restore(
    repo: RepositoryStore,
    index: Index,
    nodes: list[Node],
    root: TargetDir,
    overwrite: bool,
    report: ProgressFn,
) -> RestoreReport:
    """Write checked ``nodes`` under ``root``: folders, file contents, links, then metadata."""
    _refuse_clashes(nodes, root, overwrite)
    files, hard_links = _split_hard_links(nodes)
    for folder in sorted({n.path if n.type == "dir" else os.path.dirname(n.path) for n in nodes}):
        root.folder(folder, entry=folder)
    # What the target refused to take: owners and extended attributes, counted.
    refused: Counter[str] = Counter()
    writer = _FileWriter(repo, root, files, refused, report)
    writer.write(index, overwrite)
    for node in hard_links:
        _link(root, node, overwrite, refused)
    links = _restore_symlinks(root, nodes, overwrite, refused)
    dirs = _finish_dirs(root, nodes, refused)
    return RestoreReport(
        len(files) + len(hard_links),
        dirs,
        links,
        writer.written,
        xattrs_refused=refused["xattrs"],
        owners_refused=refused["owners"],
    )


def _refuse_clashes(nodes: list[Node], root: TargetDir, overwrite: bool) -> None:
    """Before anything is written: a link (or file) in the target in the way of a directory,
    and, unless ``overwrite``, a file already where one would be restored."""
    present: dict[str, bool] = {}
    for node in nodes:
        folder = node.path if node.type == "dir" else os.path.dirname(node.path)
        if folder not in present:
            present[folder] = root.check_folder(folder, entry=node.path)
    if overwrite:
        return
    clashes = [
        n.path
        for n in nodes
        if n.type != "dir" and present[os.path.dirname(n.path)] and root.lookup(n.path)
    ]
    if clashes:
        raise RestoreWouldOverwrite(
            f"{counted(len(clashes), 'file')} already {'exists' if len(clashes) == 1 else 'exist'} "
            f"under {root.root} (first: {clashes[0]}); "
            "restore elsewhere or allow overwrite"
        )


def _split_hard_links(nodes: list[Node]) -> tuple[list[Node], list[Node]]:
    """The files whose contents are written, and the hard links made to them afterwards.

    A hard link whose other name is restored too becomes a link again; alone, it is a file.
    """
    files = [n for n in nodes if n.type == "file"]
    originals = {n.path for n in files if not n.link_of}
    hard_links = [n for n in files if n.link_of in originals]
    return [n for n in files if n.link_of not in originals], hard_links


class _FileWriter:
    """Writes the files' contents: each pack is rebuilt once, and every chunk is verified and
    written wherever the snapshot has it, then each completed file gets its metadata."""

    def __init__(
        self,
        repo: RepositoryStore,
        root: TargetDir,
        files: list[Node],
        refused: Counter[str],
        report: ProgressFn,
    ) -> None:
        self.repo = repo
        self.root = root
        self.files = files
        self.refused = refused
        self.report = report
        self.keys = (repo.master.data_key, repo.master.id_key)
        self.total = sum(n.size for n in files)
        self.remaining = [len(n.chunks) for n in files]
        self.finished = sum(1 for r in self.remaining if not r)
        self.written = 0
        self.handles: dict[int, int] = {}
        # One writer per file at a time: the kernel takes a file's inode lock for each write,
        # and two threads writing one file spun on it (a tenth of a restore's CPU went to
        # spinning).
        self.guards = [threading.Lock() for _ in files]
        # Writes submitted but not yet accounted, per file: such a file's descriptor stays open.
        self.inflight: Counter[int] = Counter()
        self.opened: deque[tuple[Future[int], list[tuple[int, int]]]] = deque()

    def plan(self, index: Index) -> dict[bytes, list[tuple[PackEntry, int, int]]]:
        """For each pack, which chunk goes to which (file, offset); each pack is read once."""
        plan: dict[bytes, list[tuple[PackEntry, int, int]]] = {}
        for number, node in enumerate(self.files):
            offset = 0
            for cid in node.chunks:
                location = index.chunks[bytes.fromhex(cid)]
                plan.setdefault(location.pack, []).append((location.entry, number, offset))
                offset += location.entry.raw_length
        return plan

    def write(self, index: Index, overwrite: bool) -> None:
        """Create every file, then write the chunks of every pack in the plan into them."""
        plan = self.plan(index)
        order = list(plan)
        fetches: deque[Future[SplitPack]] = deque()
        # Two packs are rebuilt ahead while chunks of the current one are opened (decrypted,
        # decompressed, verified) and written by worker threads; this one keeps the books.
        ahead = 2
        workers = max(2, os.cpu_count() or 2)
        try:
            # Leaving this block waits for every worker, so no write outlives its descriptor.
            with (
                ThreadPoolExecutor(2, thread_name_prefix="embassy-fetch") as fetcher,
                ThreadPoolExecutor(workers, thread_name_prefix="embassy-open") as openers,
            ):
                for pid in order[:ahead]:
                    fetches.append(fetcher.submit(self.repo.fetch_pack, index.packs[pid]))
                # The files are created while the first packs arrive, on this one thread:
                # creating files on several threads made them spin on their directory's lock
                # in the kernel (a third of a restore's kernel time).
                for node in self.files:
                    _create(self.root, node, overwrite, self.refused)
                for position, pid in enumerate(order):
                    pack = fetches.popleft().result()
                    if position + ahead < len(order):
                        nxt = index.packs[order[position + ahead]]
                        fetches.append(fetcher.submit(self.repo.fetch_pack, nxt))
                    for entry, targets in _by_chunk(plan.pop(pid)):
                        writes = []
                        for number, offset in targets:
                            # Counted before the next file opens, so it cannot close this one.
                            writes.append((number, self.descriptor(number), offset))
                            self.inflight[number] += 1
                        job = openers.submit(self.place, pack, entry, writes)
                        self.opened.append((job, targets))
                        while len(self.opened) > OPEN_AHEAD * workers:
                            self.account_one()
                    del pack
                while self.opened:
                    self.account_one()
        finally:
            for job, _ in self.opened:
                job.cancel()
            for fd in self.handles.values():
                os.close(fd)

    def descriptor(self, number: int) -> int:
        """An open descriptor of file ``number``, closing an idle one past MAX_OPEN_FILES."""
        fd = self.handles.get(number)
        if fd is None:
            if len(self.handles) >= MAX_OPEN_FILES:
                idle = next((n for n in self.handles if not self.inflight[n]), None)
                if idle is not None:
                    os.close(self.handles.pop(idle))
            fd = self.root.open_file(self.files[number].path)
            self.handles[number] = fd
        return fd

    def place(self, pack: SplitPack, entry: PackEntry, writes: list[tuple[int, int, int]]) -> int:
        """On a worker: verify and decode the chunk, then write it wherever the snapshot has
        it."""
        data = open_chunk(pack, entry, *self.keys)
        for number, fd, offset in writes:
            with self.guards[number]:
                os.pwrite(fd, data, offset)
        return len(data)

    def account_one(self) -> None:
        """Wait for the oldest chunk placed; close and finish each file it completed."""
        job, targets = self.opened.popleft()
        size = job.result()
        for number, _ in targets:
            self.inflight[number] -= 1
            self.written += size
            self.remaining[number] -= 1
            if self.remaining[number] == 0:
                fd = self.handles.pop(number)
                try:
                    _apply_meta(fd, self.files[number], self.refused)
                finally:
                    os.close(fd)
                self.finished += 1
            self.report(
                Progress(
                    "restore",
                    files=self.finished,
                    bytes=self.written,
                    total_files=len(self.files),
                    total_bytes=self.total,
                    current=self.files[number].path,
                )
            )


def _restore_symlinks(
    root: TargetDir, nodes: list[Node], overwrite: bool, refused: Counter[str]
) -> int:
    """Make the snapshot's symbolic links; how many."""
    links = 0
    for node in nodes:
        if node.type == "symlink":
            if overwrite:
                root.remove(node.path)
            # Made last, after every write below the target: no later entry meets it.
            fd, name = root.parent(node.path)
            os.symlink(node.target, name, dir_fd=fd)
            _chown_at(fd, name, node, refused)
            with suppress(NotImplementedError, OSError):
                os.utime(name, ns=(node.mtime_ns, node.mtime_ns), dir_fd=fd, follow_symlinks=False)
            links += 1
    return links


def _finish_dirs(root: TargetDir, nodes: list[Node], refused: Counter[str]) -> int:
    """Give the directories their metadata, deepest first (after every entry in them is
    written, so their times stay); how many."""
    dirs = [n for n in nodes if n.type == "dir"]
    for node in sorted(dirs, key=lambda n: n.path.count("/"), reverse=True):
        _apply_meta(root.folder(node.path, entry=node.path, create=False), node, refused)
    return len(dirs)


def _by_chunk(
    uses: list[tuple[PackEntry, int, int]],
) -> Iterator[tuple[PackEntry, list[tuple[int, int]]]]:
    """Group a pack's chunk uses by chunk, in pack order, so each chunk is opened once."""
    group: list[tuple[int, int]] = []
    last: PackEntry | None = None
    for entry, number, offset in sorted(uses, key=lambda t: t[0].offset):
        if last is not None and entry.id != last.id:
            yield last, group
            group = []
        last = entry
        group.append((number, offset))
    if last is not None:
        yield last, group


def _create(root: TargetDir, node: Node, overwrite: bool, refused: Counter[str]) -> None:
    """Create a file node at its full size (its chunks are written into it later).

    A file without chunks is complete at once, and gets its metadata here.
    """
    if overwrite:
        root.remove(node.path)
    # A bare descriptor (not a buffered file object): thousands of files open fast.
    fd = root.create(node.path)
    try:
        os.ftruncate(fd, node.size)
        if not node.chunks:
            _apply_meta(fd, node, refused)
    finally:
        os.close(fd)


def _link(root: TargetDir, node: Node, overwrite: bool, refused: Counter[str]) -> None:
    """Restore another name of a file restored already: a hard link, or else a copy."""
    if overwrite:
        root.remove(node.path)
    fd, name = root.parent(node.link_of)
    source_dir = os.dup(fd)  # the next lookup may close ``fd``
    try:
        fd, new = root.parent(node.path)
        try:
            os.link(name, new, src_dir_fd=source_dir, dst_dir_fd=fd, follow_symlinks=False)
        except OSError:
            # The two names fall on different filesystems under the target (a mount point),
            # or on one without hard links: each name gets the verified content instead.
            _copy(root, source_dir, name, node, refused)
    finally:
        os.close(source_dir)


def _copy(root: TargetDir, source_dir: int, name: str, node: Node, refused: Counter[str]) -> None:
    """Write ``node`` as a copy of the restored file ``name`` in ``source_dir``."""
    source = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=source_dir)
    try:
        copy = root.create(node.path)
        try:
            with (
                open(source, "rb", closefd=False) as reader,
                open(copy, "wb", closefd=False) as out,
            ):
                shutil.copyfileobj(reader, out)
            _apply_meta(copy, node, refused)
        finally:
            os.close(copy)
    finally:
        os.close(source)


def _apply_meta(fd: int, node: Node, refused: Counter[str]) -> None:
    """Owner, extended attributes, mode and times of the open entry ``fd``; what the target
    refuses is counted."""
    _chown_fd(fd, node, refused)  # before chmod: a change of owner clears the set-id bits
    # Before chmod: setting a user attribute needs write permission on the file.
    for name, value in node.xattrs:
        try:
            os.setxattr(fd, name, base64.b64decode(value))
        except OSError:
            refused["xattrs"] += 1
    os.chmod(fd, node.mode)
    os.utime(fd, ns=(node.mtime_ns, node.mtime_ns))


def _chown_fd(fd: int, node: Node, refused: Counter[str]) -> None:
    """Give an open entry its recorded owner, when restoring as root (as restic and Borg do).

    The owner's name is used where it exists on this system, its number otherwise: a
    government server rebuilt from scratch gives its service accounts new numbers.
    """
    if node.uid < 0 or not _AS_ROOT:
        return
    try:
        os.chown(fd, _uid(node.user, node.uid), _gid(node.group, node.gid))
    except OSError:
        refused["owners"] += 1  # an NFS export that squashes root, a namespace without the ids


def _chown_at(dir_fd: int, name: str, node: Node, refused: Counter[str]) -> None:
    """Give a restored link (not what it points to) its recorded owner, as root."""
    if node.uid < 0 or not _AS_ROOT:
        return
    uid, gid = _uid(node.user, node.uid), _gid(node.group, node.gid)
    try:
        os.chown(name, uid, gid, dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        refused["owners"] += 1


_AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@functools.lru_cache(maxsize=1024)
def _uid(user: str, recorded: int) -> int:
    """The id ``user`` has here, or the recorded one when it has none (or no name was kept)."""
    try:
        return pwd.getpwnam(user).pw_uid if user else recorded
    except KeyError:
        return recorded


@functools.lru_cache(maxsize=1024)
def _gid(group: str, recorded: int) -> int:
    """The id ``group`` has here, or the recorded one."""
    try:
        return grp.getgrnam(group).gr_gid if group else recorded
    except KeyError:
        return recorded
