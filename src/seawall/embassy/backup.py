"""Backup: walk sources, chunk, dedup, seal on worker threads, pack, erasure-code, publish.

Publishing order is packs, then index files, then the tree, then the snapshot, so an
interrupted backup leaves a consistent repository. A rerun reuses the indexed packs, and
adopts the packs no index names yet that are complete on k + 1 sites (see :mod:`.orphans`).
Memory stays bounded: chunks stream from files, a few are sealed at a time, and one pack
uploads while the next fills.
"""

from __future__ import annotations

import os
import socket
import stat
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, BinaryIO

from seawall.embassy.chunking import Chunker
from seawall.embassy.errors import SourceMissing
from seawall.embassy.index import Index
from seawall.embassy.orphans import adopt_orphans
from seawall.embassy.pipeline import Contents, Pipeline, Target
from seawall.embassy.progress import Progress, ProgressFn, ignore_progress
from seawall.embassy.resuming import resuming
from seawall.embassy.scanning import file_node, node_path, owner_of, read_xattrs, walk
from seawall.embassy.sealing import Compression
from seawall.embassy.snapshots import Node, Snapshot, dump_tree
from seawall.errors import InvalidInput

if TYPE_CHECKING:
    from seawall.embassy.store import RepositoryStore


@dataclass(frozen=True)
class BackupReport:
    """What a backup stored."""

    snapshot: Snapshot
    packs_written: int
    stored_bytes: int
    skipped: tuple[str, ...] = ()
    # Packs an interrupted run left in no index, whose chunks this snapshot uses.
    packs_reused: int = 0


# Small files go to a worker together, up to this many or this many bytes, so the walk
# hands over work (and waits for it) once per batch rather than once per file.
BATCH_FILES = 32
BATCH_BYTES = 1024 * 1024


@dataclass
class _Session:
    """One backup run's walk: turns files and streams into tree nodes through the pipeline."""

    repo: RepositoryStore
    pipeline: Pipeline
    chunker: Chunker
    previous: dict[str, Node]
    report: ProgressFn
    total_files: int
    total_bytes: int
    nodes: list[Node] = field(default_factory=list)
    # (position in nodes, contents) of files whose chunk ids the pipeline is still computing.
    deferred: list[tuple[int, Contents]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    files: int = 0
    done: int = 0
    counting: threading.Lock = field(default_factory=threading.Lock)
    # Small files walked but not yet handed to a worker, with their sizes.
    batch: list[tuple[Target, int]] = field(default_factory=list)
    batch_bytes: int = 0
    # Files with more than one hard link, by (device, inode): the first path and its contents.
    linked: dict[tuple[int, int], tuple[str, Contents]] = field(default_factory=dict)

    def add_entry(self, abspath: str, st: os.stat_result | OSError) -> None:
        """Record one walked entry (file contents go through the pipeline)."""
        if isinstance(st, OSError):
            self.skipped.append(f"{abspath}: {st.strerror}")
            return
        path = node_path(abspath)
        if not path:
            return  # "/" itself: its children are recorded, the root is the restore target
        mode = stat.S_IMODE(st.st_mode)
        owner = owner_of(st)
        if stat.S_ISDIR(st.st_mode):
            node = Node(path, "dir", mode, st.st_mtime_ns, xattrs=read_xattrs(abspath), **owner)
            self.nodes.append(node)
        elif stat.S_ISLNK(st.st_mode):
            target = os.readlink(abspath)
            self.nodes.append(Node(path, "symlink", mode, st.st_mtime_ns, target=target, **owner))
        elif stat.S_ISREG(st.st_mode):
            old = self.previous.get(path)
            first = self.linked.get((st.st_dev, st.st_ino)) if st.st_nlink > 1 else None
            if first is not None:
                # Another name of a file already walked: one read, one set of chunks.
                self.defer(file_node(path, abspath, st, owner, link_of=first[0]), first[1])
                self.advance(st.st_size)
            elif old is not None and _unchanged(old, st, self.pipeline.index):
                self.nodes.append(replace(old, mode=mode, **owner))
                self.advance(st.st_size)
            else:
                node = file_node(path, abspath, st, owner)
                contents = Contents()
                if st.st_nlink > 1:
                    self.linked[(st.st_dev, st.st_ino)] = (path, contents)
                file = Target(contents, len(self.nodes), abspath)
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
        if stat.S_ISREG(st.st_mode):  # files, as the snapshot counts them
            self.files += 1
        self.tick(abspath)

    def add_stream(self, stream: BinaryIO, label: str, contents: Contents) -> None:
        """Chunk a stream into the pipeline; ``contents`` is filled as the chunks drain."""
        self.pipeline.add_stream(stream, Target(contents, path=label), self.chunker, self.advance)

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

    def defer(self, node: Node, contents: Contents) -> None:
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
    roots = _sources(paths, stdin, stdin_name)
    survey = _survey(roots, excludes, repo.config.chunker.max_size)
    targets = repo.require_sites(degraded=degraded, what="backup")
    # Partner sites resume after a dropped link for the whole run (see .resuming).
    with repo.lock(exclusive=False), resuming(repo):
        index = repo.load_index()
        parent = _parent(repo, roots) if roots else None
        pipeline = _open_pipeline(repo, index, targets, degraded, compression)
        session = _Session(
            repo,
            pipeline,
            Chunker(repo.config.chunker, repo.master.id_key),
            {n.path: n for n in repo.tree(parent)} if parent else {},
            progress or ignore_progress,
            survey.files,
            survey.bytes,
        )
        try:
            _walk_into(session, roots, excludes, survey.large)
            if stdin is not None:
                _stream_into(session, stdin, stdin_name)
            pipeline.finish()
        finally:
            pipeline.close()
        session.resolve()
        nodes = sorted(session.nodes, key=lambda n: n.path)
        snap = _new_snapshot(
            repo,
            nodes,
            parent,
            paths=tuple(roots) + ((f"stdin:{stdin_name}",) if stdin is not None else ()),
            tags=tags,
            excludes=excludes,
            hostname=hostname,
            degraded=pipeline.missing_shares or len(targets) < repo.config.n,
            new_bytes=pipeline.new_bytes,
        )
        publish_snapshot(repo, snap, nodes, degraded=degraded)
    report = BackupReport(
        snap, pipeline.packs_written, pipeline.stored_bytes, packs_reused=pipeline.packs_reused
    )
    return replace(report, skipped=tuple(session.skipped))


def _open_pipeline(
    repo: RepositoryStore,
    index: Index,
    targets: list[int],
    degraded: bool,
    compression: Compression,
) -> Pipeline:
    """The pipeline that stores this run's chunks, reusing the packs an interrupted run left
    in no index that are complete on k + 1 sites (see :mod:`.orphans`)."""
    orphans = adopt_orphans(repo, index, targets)
    pipeline = Pipeline(repo, index, targets=targets, degraded=degraded, compression=compression)
    pipeline.adopt(orphans)
    return pipeline


def _sources(
    paths: Sequence[str | os.PathLike[str]], stdin: BinaryIO | None, stdin_name: str
) -> list[str]:
    """The absolute roots to back up; SourceMissing (or InvalidInput for a stream's name)
    before anything is read."""
    if stdin is not None:
        _check_stdin_name(stdin_name)
    roots = [os.path.abspath(os.fspath(p)) for p in paths]
    for root in roots:
        if not os.path.lexists(root):
            raise SourceMissing(f"{root} does not exist; nothing was backed up")
    if not roots and stdin is None:
        raise SourceMissing("nothing to back up: give paths or a stream")
    return roots


@dataclass(frozen=True)
class _Survey:
    """A first walk of the roots: the totals progress counts against, and the large files."""

    files: int
    bytes: int
    # Files larger than ``max_size``, largest first.
    large: list[tuple[str, os.stat_result]]


def _survey(roots: Sequence[str], excludes: Sequence[str], max_size: int) -> _Survey:
    """Count the files (not the directories or links) and bytes under ``roots``, and list the
    files too large to cut on a worker in one piece.

    Those are cut first and largest first: a large file is cut on one thread from start to
    end, and one met last would end the backup alone on one core.
    """
    files, size = 0, 0
    large: list[tuple[str, os.stat_result]] = []
    for root in roots:
        for abspath, st in walk(root, excludes):
            if isinstance(st, os.stat_result) and stat.S_ISREG(st.st_mode):
                files += 1
                size += st.st_size
                if st.st_size > max_size:
                    large.append((abspath, st))
    large.sort(key=lambda entry: entry[1].st_size, reverse=True)
    return _Survey(files, size, large)


def _walk_into(
    session: _Session,
    roots: Sequence[str],
    excludes: Sequence[str],
    large: Sequence[tuple[str, os.stat_result]],
) -> None:
    """Hand every entry under ``roots`` to the session, the large files first."""
    for abspath, big in large:
        session.add_entry(abspath, big)
    early = {abspath for abspath, _ in large}
    for root in roots:
        for abspath, st in walk(root, excludes):
            if abspath not in early:
                session.add_entry(abspath, st)
    session.flush()


def _stream_into(session: _Session, stdin: BinaryIO, stdin_name: str) -> None:
    """Hand a stream to the session as the file ``stdin_name``, stamped now."""
    contents = Contents()
    session.add_stream(stdin, stdin_name, contents)
    now_ns = int(session.repo.clock.now().timestamp() * 1e9)
    name = stdin_name.strip("/") or "stdin"
    session.defer(Node(name, "file", 0o600, now_ns), contents)


def _new_snapshot(
    repo: RepositoryStore,
    nodes: Sequence[Node],
    parent: Snapshot | None,
    *,
    paths: tuple[str, ...],
    tags: Sequence[str],
    excludes: Sequence[str],
    hostname: str | None,
    degraded: bool,
    new_bytes: int,
) -> Snapshot:
    """The snapshot of ``nodes``, taken now (not yet published)."""
    return Snapshot(
        id=os.urandom(16).hex(),
        time=repo.clock.now(),
        hostname=hostname or socket.gethostname(),
        paths=paths,
        tags=tuple(tags),
        excludes=tuple(excludes),
        degraded=degraded,
        files=sum(1 for n in nodes if n.type == "file"),
        size=sum(n.size for n in nodes if n.type == "file"),
        new_bytes=new_bytes,
        parent=parent.id if parent else None,
    )


def publish_snapshot(
    repo: RepositoryStore, snap: Snapshot, nodes: Sequence[Node], *, degraded: bool = False
) -> None:
    """Write the tree, then the snapshot that names it, under a confirmed lock (a backup's,
    a copy's and a rewrite's snapshots alike)."""
    # Publishing needs a live lock: one that was lost may have let a prune delete the packs
    # this snapshot names (refreshed here, so a lock another process removed is seen).
    repo.confirm_lock()
    # The tree before the snapshot that names it: a reader never meets a dangling snapshot.
    tree_name = f"trees/{snap.id}"
    repo.put_everywhere(tree_name, repo.seal_meta(tree_name, dump_tree(nodes)), degraded=degraded)
    snap_name = f"snapshots/{snap.id}"
    repo.put_everywhere(snap_name, repo.seal_meta(snap_name, snap.to_json()), degraded=degraded)


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
