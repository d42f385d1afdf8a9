"""Backup: walk sources, chunk, dedup, seal on worker threads, pack, erasure-code, publish.

Publishing order is packs, then index files, then the tree, then the snapshot, so an
interrupted backup leaves a consistent repository. A rerun reuses the indexed packs, and
adopts the packs no index names yet that are complete on k + 1 sites (see :mod:`.orphans`).
Memory stays bounded: chunks stream from files, a few are sealed at a time, and one pack
uploads while the next fills.
"""

from __future__ import annotations

import base64
import fnmatch
import functools
import grp
import os
import pwd
import socket
import stat
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, BinaryIO, TypedDict

from seawall.embassy.chunking import Chunker, chunk_id
from seawall.embassy.errors import SourceMissing, TooFewSites
from seawall.embassy.index import Index, PackInfo
from seawall.embassy.orphans import Adopted, adopt_orphans
from seawall.embassy.packs import PackBuilder
from seawall.embassy.progress import Progress, ProgressFn, ignore_progress
from seawall.embassy.sealing import Compression, seal_buffer
from seawall.embassy.snapshots import Node, Snapshot, dump_tree
from seawall.errors import InvalidInput

if TYPE_CHECKING:
    from seawall.embassy.store import RepositoryStore, SentPack


@dataclass(frozen=True)
class BackupReport:
    """What a backup stored."""

    snapshot: Snapshot
    packs_written: int
    stored_bytes: int
    skipped: tuple[str, ...] = ()
    # Packs an interrupted run left in no index, whose chunks this snapshot uses.
    packs_reused: int = 0


def _walk(root: str, excludes: Sequence[str]) -> Iterator[tuple[str, os.stat_result | OSError]]:
    """Absolute paths below ``root`` (itself first), depth-first in name order.

    An entry that vanished since its directory was listed, or a directory that cannot be
    listed, comes with the error instead of (or after) its status, so the caller can say
    what it left out and go on.
    """
    try:
        st = os.lstat(root)
    except OSError as exc:
        yield root, exc
        return
    yield root, st
    if not stat.S_ISDIR(st.st_mode):
        return
    try:
        names = sorted(os.listdir(root))
    except OSError as exc:
        yield root, exc
        return
    for name in names:
        child = os.path.join(root, name)
        if _excluded(child, excludes):
            continue
        yield from _walk(child, excludes)


def _excluded(path: str, excludes: Sequence[str]) -> bool:
    base = os.path.basename(path)
    return any(fnmatch.fnmatch(path, g) or fnmatch.fnmatch(base, g) for g in excludes)


def _node_path(abspath: str) -> str:
    return abspath.lstrip("/")


# Packs sent and not yet settled: one being written while the next is encoded.
MAX_UPLOADS = 2

# A prepared chunk: keyed id, sealed blob (None when the repository has it), plaintext length.
Prepared = tuple[bytes, bytearray | None, int]
# What a worker made of one file (or one chunk of a stream): its chunks, or why not.
Outcome = list[Prepared] | OSError
# Small files go to a worker together, up to this many or this many bytes, so the walk
# hands over work (and waits for it) once per batch rather than once per file.
BATCH_FILES = 32
# Counts bytes read and reports progress on the file named (called from the walk or cutter).
Advance = Callable[[int, str], None]
BATCH_BYTES = 1024 * 1024


@dataclass(frozen=True)
class _Sealing:
    """What a worker needs to seal a new chunk: the data key and the zstd level (or None)."""

    data_key: bytes
    level: int | None


def _prepare(view: memoryview, id_key: bytes, sealing: _Sealing, index: Index) -> Prepared:
    """A chunk's keyed id, and its sealed blob unless the repository already holds it.

    Runs on a worker thread: BLAKE3, zstd and AES-GCM release the GIL, so both cores work.
    """
    cid = chunk_id(view, id_key)
    if cid in index:
        return cid, None, len(view)
    return cid, seal_buffer(sealing.data_key, view, cid, level=sealing.level), len(view)


def _prepare_chunk(
    view: memoryview, id_key: bytes, sealing: _Sealing, index: Index
) -> list[Outcome]:
    """One chunk of a stream, as the one outcome of its unit."""
    return [[_prepare(view, id_key, sealing, index)]]


def _prepare_files(
    batch: Sequence[tuple[str, int]], chunker: Chunker, sealing: _Sealing, index: Index
) -> list[Outcome]:
    """Open, read, cut and prepare whole small files (path, size) on a worker thread."""
    outcomes: list[Outcome] = []
    for path, size in batch:
        # Opening runs here too: on some filesystems an open costs as much as reading the file.
        try:
            with open(path, "rb") as stream:
                views = chunker.pieces(stream, size)
                outcomes.append([_prepare(v, chunker.id_key, sealing, index) for v in views])
        except OSError as exc:
            outcomes.append(exc)
    return outcomes


@dataclass
class _Contents:
    """A file's chunk ids and size, filled in order as the pipeline drains."""

    ids: list[str] = field(default_factory=list)
    size: int = 0


@dataclass(frozen=True)
class _Target:
    """Where an outcome goes: a file's contents, and its tree node (position, path).

    A chunk of a stream has no node of its own (position -1): failing to read it fails the
    backup, while a whole file that cannot be read is left out.
    """

    contents: _Contents
    position: int = -1
    path: str = ""


@dataclass
class _Unit:
    """Work queued in order: one outcome per target, in the same order."""

    job: Future[list[Outcome]]
    targets: list[_Target]


class _Pipeline:
    """Hashes and seals chunks on worker threads, fills packs in order and uploads them.

    The walk (small files, streams) and two cutters (large files, read and cut) feed it, so
    the walk's small files keep both cores busy while a large file is cut. Each feeder
    queues its own file's chunks in order, under one lock.
    """

    def __init__(
        self,
        repo: RepositoryStore,
        index: Index,
        *,
        targets: list[int],
        degraded: bool,
        compression: Compression,
    ):
        self.repo = repo
        self.index = index
        self.sealing = _Sealing(repo.master.data_key, compression.level)
        self.targets = targets
        self.degraded = degraded
        workers = max(2, os.cpu_count() or 2)
        self.sealers = ThreadPoolExecutor(workers, thread_name_prefix="embassy-seal")
        # One encoder: a second pack in flight is only ever being written, which bounds memory.
        self.uploaders = ThreadPoolExecutor(1, thread_name_prefix="embassy-pack")
        # Two cutters: the largest file is cut while the next ones are, not before them.
        self.cutter = ThreadPoolExecutor(2, thread_name_prefix="embassy-cut")
        self.cuts: deque[Future[None]] = deque()
        self.lock = threading.Lock()
        self.closing = False
        self.pending: deque[_Unit] = deque()
        # Two units per worker: enough to keep both busy; with three per worker a 1 GiB full
        # backup took 0.4 s longer (more buffers in flight, same work).
        self.max_pending = workers * 2
        self.uploads: deque[Future[SentPack]] = deque()
        self.queued: set[bytes] = set()
        self.builder = PackBuilder()
        self.unflushed: list[PackInfo] = []
        # Orphan packs adopted at the start, until a chunk of theirs is used (then indexed).
        self.adopted: dict[bytes, Adopted] = {}
        self.packs_reused = 0
        self.packs_written = 0
        self.stored_bytes = 0
        self.new_bytes = 0
        self.missing_shares = False
        # Whole-file units whose read failed: (tree node position, reason).
        self.failed: list[tuple[int, str]] = []

    def add(self, view: memoryview, contents: _Contents) -> None:
        """Queue a chunk of a file whose contents are recorded as the pipeline drains."""
        job = self.sealers.submit(
            _prepare_chunk, view, self.repo.master.id_key, self.sealing, self.index
        )
        self._queue(_Unit(job, [_Target(contents)]))

    def add_files(self, batch: list[tuple[_Target, int]], chunker: Chunker) -> None:
        """Queue whole small files (each with its size), read together on a worker."""
        self._raise_cut_error()
        paths = [(target.path, size) for target, size in batch]
        job = self.sealers.submit(_prepare_files, paths, chunker, self.sealing, self.index)
        self._queue(_Unit(job, [target for target, _ in batch]))

    def add_large(self, file: _Target, chunker: Chunker, advance: Advance) -> None:
        """Queue a large file (its contents and tree node), read and cut on the cutter."""
        self._raise_cut_error()
        self.cuts.append(self.cutter.submit(self._cut, file, chunker, advance))

    def _cut(self, file: _Target, chunker: Chunker, advance: Advance) -> None:
        try:
            with open(file.path, "rb") as stream:
                self.add_stream(stream, file, chunker, advance)
        except OSError as exc:
            # Chunks already queued are stored (and reused later); the file is left out.
            with self.lock:
                self.failed.append((file.position, f"{file.path}: {exc.strerror}"))

    def add_stream(
        self, stream: BinaryIO, file: _Target, chunker: Chunker, advance: Advance
    ) -> None:
        """Cut a stream into chunks queued in order for ``file``; stops when closing."""
        for view in chunker.pieces(stream):
            if self.closing:
                return
            self.add(view, file.contents)
            advance(len(view), file.path)

    def _raise_cut_error(self) -> None:
        """Stop the walk early when the cutter failed (a site error, say)."""
        while self.cuts and self.cuts[0].done():
            self.cuts.popleft().result()

    def _queue(self, unit: _Unit) -> None:
        """Queue a unit; while too many are pending, take the oldest in order.

        Each feeder queues its own file's units in order, and units are taken only from the
        head, under the lock, so every file's chunk ids are recorded in order. The wait for
        the head's result is outside the lock, so the other feeder is not held up by it.
        """
        with self.lock:
            self.pending.append(unit)
        while True:
            with self.lock:
                if len(self.pending) <= self.max_pending:
                    return
                head = self.pending[0]
            wait([head.job])
            with self.lock:
                if self.pending and self.pending[0] is head:
                    self._drain_one()

    def _drain_one(self) -> None:
        unit = self.pending.popleft()
        for target, outcome in zip(unit.targets, unit.job.result(), strict=True):
            if isinstance(outcome, OSError):
                if target.position < 0:
                    raise outcome
                self.failed.append((target.position, f"{target.path}: {outcome.strerror}"))
                continue
            for cid, blob, raw in outcome:
                target.contents.ids.append(cid.hex())
                target.contents.size += raw
                # A chunk seen twice in this run is sealed twice (rarely) but stored once.
                if blob is None or cid in self.index or cid in self.queued:
                    if self.adopted:
                        self._use_adopted(cid)
                    continue
                self.queued.add(cid)
                self.new_bytes += raw
                self.builder.add(cid, blob, raw)
                if self.builder.size >= self.repo.config.pack_size:
                    self._ship()

    def adopt(self, orphans: list[Adopted]) -> None:
        """Treat the chunks of adopted orphan packs as stored (indexed packs take precedence)."""
        for orphan in orphans:
            self.adopted[orphan.info.id] = orphan
            self.index.add(orphan.info)

    def _use_adopted(self, cid: bytes) -> None:
        """A chunk is stored: if it lies in an adopted pack, the next index file names it."""
        where = self.index.chunks.get(cid)
        orphan = self.adopted.pop(where.pack, None) if where is not None else None
        if orphan is None:
            return
        self.packs_reused += 1
        self.missing_shares |= not orphan.complete
        self.unflushed.append(orphan.info)
        if len(self.unflushed) >= self.repo.index_every:
            self.flush_index()

    def _ship(self) -> None:
        if not len(self.builder):
            return
        builder, self.builder = self.builder, PackBuilder()
        # Bounded uploads in flight while the next pack fills, which bounds memory.
        while len(self.uploads) >= MAX_UPLOADS:
            self._collect_one()
        self.uploads.append(self.uploaders.submit(self.repo.send_pack, builder, self.targets))

    def _collect_one(self) -> None:
        sent = self.uploads.popleft().result()
        info, failed = sent.info, self.repo.settle(sent)
        k, n = self.repo.config.k, self.repo.config.n
        stored = len(self.targets) - len(failed)
        if failed and not self.degraded:
            first = next(iter(failed.values()))
            raise type(first)(f"{first.message}; the backup stopped and wrote no snapshot")
        if stored < min(n, k + 1):
            raise TooFewSites(
                f"only {stored} shares of pack {info.id.hex()[:16]} were stored; "
                f"degraded mode needs {k + 1}; no snapshot was written"
            )
        if stored < n:
            self.missing_shares = True
        self.index.add(info)
        self.unflushed.append(info)
        self.packs_written += 1
        self.stored_bytes += info.length
        if len(self.unflushed) >= self.repo.index_every:
            self.flush_index()

    def flush_index(self) -> None:
        """Publish an index file for the packs uploaded since the last one."""
        if self.unflushed:
            self.repo.write_index_file(self.unflushed, degraded=self.degraded)
            self.unflushed = []

    def finish(self) -> None:
        """Seal, pack, upload and index everything queued."""
        while self.cuts:
            self.cuts.popleft().result()
        with self.lock:
            while self.pending:
                self._drain_one()
            self._ship()
            while self.uploads:
                self._collect_one()
            self.flush_index()

    def close(self) -> None:
        """Stop the worker threads (after finish, or on failure)."""
        self.closing = True
        self.cutter.shutdown(wait=True, cancel_futures=True)
        for unit in self.pending:
            unit.job.cancel()
        self.sealers.shutdown(wait=True, cancel_futures=True)
        self.uploaders.shutdown(wait=True, cancel_futures=True)
        # No share write may outlive the backup's lock: wait for those still in flight.
        for upload in self.uploads:
            if not upload.cancelled() and upload.exception() is None:
                self.repo.settle(upload.result())
        self.uploads.clear()


@dataclass
class _Session:
    """One backup run's walk: turns files and streams into tree nodes through the pipeline."""

    repo: RepositoryStore
    pipeline: _Pipeline
    chunker: Chunker
    previous: dict[str, Node]
    report: ProgressFn
    total_files: int
    total_bytes: int
    nodes: list[Node] = field(default_factory=list)
    # (position in nodes, contents) of files whose chunk ids the pipeline is still computing.
    deferred: list[tuple[int, _Contents]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    files: int = 0
    done: int = 0
    counting: threading.Lock = field(default_factory=threading.Lock)
    # Small files walked but not yet handed to a worker, with their sizes.
    batch: list[tuple[_Target, int]] = field(default_factory=list)
    batch_bytes: int = 0
    # Files with more than one hard link, by (device, inode): the first path and its contents.
    linked: dict[tuple[int, int], tuple[str, _Contents]] = field(default_factory=dict)

    def add_entry(self, abspath: str, st: os.stat_result | OSError) -> None:
        """Record one walked entry (file contents go through the pipeline)."""
        if isinstance(st, OSError):
            self.skipped.append(f"{abspath}: {st.strerror}")
            return
        path = _node_path(abspath)
        if not path:
            return  # "/" itself: its children are recorded, the root is the restore target
        mode = stat.S_IMODE(st.st_mode)
        owner = _owner(st)
        if stat.S_ISDIR(st.st_mode):
            node = Node(path, "dir", mode, st.st_mtime_ns, xattrs=_xattrs(abspath), **owner)
            self.nodes.append(node)
        elif stat.S_ISLNK(st.st_mode):
            target = os.readlink(abspath)
            self.nodes.append(Node(path, "symlink", mode, st.st_mtime_ns, target=target, **owner))
        elif stat.S_ISREG(st.st_mode):
            old = self.previous.get(path)
            first = self.linked.get((st.st_dev, st.st_ino)) if st.st_nlink > 1 else None
            if first is not None:
                # Another name of a file already walked: one read, one set of chunks.
                self.defer(_file_node(path, abspath, st, owner, link_of=first[0]), first[1])
                self.advance(st.st_size)
            elif old is not None and _unchanged(old, st, self.pipeline.index):
                self.nodes.append(replace(old, mode=mode, **owner))
                self.advance(st.st_size)
            else:
                node = _file_node(path, abspath, st, owner)
                contents = _Contents()
                if st.st_nlink > 1:
                    self.linked[(st.st_dev, st.st_ino)] = (path, contents)
                file = _Target(contents, len(self.nodes), abspath)
                # A file of at most one largest chunk is opened, read, cut, hashed and sealed
                # whole on a worker thread, with others in a batch; larger ones stream through
                # the cutter thread in pieces, which bounds memory.
                if st.st_size <= self.chunker.params.max_size:
                    self.batch.append((file, st.st_size))
                    self.batch_bytes += st.st_size
                    if len(self.batch) >= BATCH_FILES or self.batch_bytes >= BATCH_BYTES:
                        self.flush()
                else:
                    self.pipeline.add_large(file, self.chunker, self.advance)
                self.defer(node, contents)
        else:
            self.skipped.append(f"{abspath}: not a file, directory or symlink")
            return
        self.files += 1
        self.tick(abspath)

    def add_stream(self, stream: BinaryIO, label: str, contents: _Contents) -> None:
        """Chunk a stream into the pipeline; ``contents`` is filled as the chunks drain."""
        self.pipeline.add_stream(stream, _Target(contents, path=label), self.chunker, self.advance)

    def advance(self, size: int, label: str | None = None) -> None:
        """Count bytes read (from the walk or the cutter), and report progress if labelled."""
        with self.counting:
            self.done += size
        if label is not None:
            self.tick(label)

    def flush(self) -> None:
        """Hand the small files walked so far to a worker."""
        if self.batch:
            self.pipeline.add_files(self.batch, self.chunker)
            self.advance(self.batch_bytes)
            self.batch, self.batch_bytes = [], 0

    def defer(self, node: Node, contents: _Contents) -> None:
        """Record a file node whose chunk ids are known once the pipeline has drained."""
        self.deferred.append((len(self.nodes), contents))
        self.nodes.append(node)

    def resolve(self) -> None:
        """Complete the deferred file nodes (after the pipeline finished); drop unreadable ones."""
        for position, contents in self.deferred:
            node = self.nodes[position]
            self.nodes[position] = replace(node, chunks=tuple(contents.ids), size=contents.size)
        failed = {position for position, _ in self.pipeline.failed}
        self.skipped.extend(reason for _, reason in self.pipeline.failed)
        # The other names of a file that could not be read share its (incomplete) contents.
        unread = {id(contents) for position, contents in self.deferred if position in failed}
        for position, contents in self.deferred:
            if id(contents) in unread and position not in failed:
                failed.add(position)
                path = self.nodes[position].path
                self.skipped.append(f"/{path}: a hard link of a file that could not be read")
        self.nodes = [n for i, n in enumerate(self.nodes) if i not in failed]
        self.deferred.clear()

    def tick(self, current: str) -> None:
        """Report progress."""
        self.report(
            Progress("backup", self.files, self.done, self.total_files, self.total_bytes, current)
        )


def _check_stdin_name(name: str) -> None:
    """The name a stream is stored under must be one a restore writes: a relative path with
    no empty, ``.`` or ``..`` part (a restore refuses any other, and the snapshot with it)."""
    parts = name.strip("/").split("/")
    if not name.strip("/") or any(p in ("", ".", "..") for p in parts) or "\0" in name:
        raise InvalidInput(
            f"--stdin-name {name!r} is not a safe relative file name: give e.g. db-dump.sql"
        )


def back_up(
    repo: RepositoryStore,
    paths: Sequence[str | os.PathLike[str]] = (),
    *,
    excludes: Sequence[str] = (),
    tags: Sequence[str] = (),
    stdin: BinaryIO | None = None,
    stdin_name: str = "stdin",
    degraded: bool = False,
    progress: ProgressFn | None = None,
    hostname: str | None = None,
    compression: Compression = Compression.AUTO,
) -> BackupReport:
    """Back up paths (and/or a stream) as a new snapshot; dedup against the repository.

    ``compression`` applies to the chunks this backup stores; chunks already stored stay
    as they were (a chunk is stored once, however it was compressed).
    """
    if stdin is not None:
        _check_stdin_name(stdin_name)
    roots = [os.path.abspath(os.fspath(p)) for p in paths]
    for root in roots:
        if not os.path.lexists(root):
            raise SourceMissing(f"{root} does not exist; nothing was backed up")
    if not roots and stdin is None:
        raise SourceMissing("nothing to back up: give paths or a stream")
    total_files, total_bytes = 0, 0
    # Files too large to cut on a worker in one piece, cut first and largest first: a large
    # file is cut on one thread from start to end, and one met last would end the backup
    # alone on one core.
    large: list[tuple[str, os.stat_result]] = []
    for root in roots:
        for abspath, st in _walk(root, excludes):
            if isinstance(st, os.stat_result):
                total_files += 1
                if stat.S_ISREG(st.st_mode):
                    total_bytes += st.st_size
                    if st.st_size > repo.config.chunker.max_size:
                        large.append((abspath, st))
    large.sort(key=lambda entry: entry[1].st_size, reverse=True)
    targets = repo.require_sites(degraded=degraded, what="backup")
    with repo.lock(exclusive=False):
        index = repo.load_index()
        parent = _parent(repo, roots) if roots else None
        orphans = adopt_orphans(repo, index, targets)
        pipeline = _Pipeline(
            repo, index, targets=targets, degraded=degraded, compression=compression
        )
        pipeline.adopt(orphans)
        session = _Session(
            repo,
            pipeline,
            Chunker(repo.config.chunker, repo.master.id_key),
            {n.path: n for n in repo.tree(parent)} if parent else {},
            progress or ignore_progress,
            total_files,
            total_bytes,
        )
        try:
            for abspath, st in large:
                session.add_entry(abspath, st)
            early = {abspath for abspath, _ in large}
            for root in roots:
                for abspath, st in _walk(root, excludes):
                    if abspath not in early:
                        session.add_entry(abspath, st)
            session.flush()
            if stdin is not None:
                contents = _Contents()
                session.add_stream(stdin, stdin_name, contents)
                now_ns = int(repo.clock.now().timestamp() * 1e9)
                name = stdin_name.strip("/") or "stdin"
                session.defer(Node(name, "file", 0o600, now_ns), contents)
            pipeline.finish()
        finally:
            pipeline.close()
        session.resolve()
        nodes = sorted(session.nodes, key=lambda n: n.path)
        snap = Snapshot(
            id=os.urandom(16).hex(),
            time=repo.clock.now(),
            hostname=hostname or socket.gethostname(),
            paths=tuple(roots) + ((f"stdin:{stdin_name}",) if stdin is not None else ()),
            tags=tuple(tags),
            excludes=tuple(excludes),
            degraded=pipeline.missing_shares or len(targets) < repo.config.n,
            files=sum(1 for n in nodes if n.type == "file"),
            size=sum(n.size for n in nodes if n.type == "file"),
            new_bytes=pipeline.new_bytes,
            parent=parent.id if parent else None,
        )
        # Publishing needs a live lock: one that was lost may have let a prune delete the packs
        # this snapshot names (refreshed here, so a lock another process removed is seen).
        repo.confirm_lock()
        # The tree before the snapshot that names it: a reader never meets a dangling snapshot.
        tree_name = f"trees/{snap.id}"
        repo.put_everywhere(
            tree_name, repo.seal_meta(tree_name, dump_tree(nodes)), degraded=degraded
        )
        snap_name = f"snapshots/{snap.id}"
        repo.put_everywhere(snap_name, repo.seal_meta(snap_name, snap.to_json()), degraded=degraded)
    report = BackupReport(
        snap, pipeline.packs_written, pipeline.stored_bytes, packs_reused=pipeline.packs_reused
    )
    return replace(report, skipped=tuple(session.skipped))


class _Owner(TypedDict):
    uid: int
    gid: int
    user: str
    group: str


def _file_node(
    path: str, abspath: str, st: os.stat_result, owner: _Owner, *, link_of: str = ""
) -> Node:
    """A file's node before its contents are read (chunks and size are filled in after)."""
    return Node(
        path,
        "file",
        stat.S_IMODE(st.st_mode),
        st.st_mtime_ns,
        inode=st.st_ino,
        ctime_ns=st.st_ctime_ns,
        link_of=link_of,
        xattrs=_xattrs(abspath),
        **owner,
    )


def _xattrs(path: str) -> tuple[tuple[str, str], ...]:
    """An entry's extended attributes, base64-encoded; none where the filesystem has none."""
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return ()  # no xattr support here, or the entry is gone (its read will say so)
    found = []
    for name in sorted(names):
        try:
            value = os.getxattr(path, name, follow_symlinks=False)
        except OSError:
            continue
        found.append((name, base64.b64encode(value).decode()))
    return tuple(found)


def _owner(st: os.stat_result) -> _Owner:
    """Who owns an entry, by number and by name."""
    return {
        "uid": st.st_uid,
        "gid": st.st_gid,
        "user": _user_name(st.st_uid),
        "group": _group_name(st.st_gid),
    }


@functools.lru_cache(maxsize=1024)
def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return ""  # an id with no name here: only the number is kept


@functools.lru_cache(maxsize=1024)
def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return ""


def _parent(repo: RepositoryStore, roots: Sequence[str]) -> Snapshot | None:
    """The latest snapshot of the same paths, whose unchanged files are reused unread."""
    wanted = tuple(roots)
    for snap in reversed(repo.snapshots()):
        if snap.paths == wanted:
            return snap
    return None


def _unchanged(old: Node, st: os.stat_result, index: Index) -> bool:
    """True when a file matches its parent-snapshot node and all its chunks are indexed."""
    same = (
        old.type == "file"
        and old.size == st.st_size
        and old.mtime_ns == st.st_mtime_ns
        and old.inode == st.st_ino
        and old.ctime_ns == st.st_ctime_ns
    )
    return same and all(bytes.fromhex(c) in index for c in old.chunks)
