"""The backup pipeline: hash and seal chunks on worker threads, fill packs, upload them.

Chunks are taken in the order they were queued, so each file's chunk ids are recorded in
order; a pack uploads while the next fills, and an index file is published every
``index_every`` packs (see :mod:`.backup` for the publishing order).
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

from seawall.embassy.chunking import Chunker, chunk_id
from seawall.embassy.errors import TooFewSites
from seawall.embassy.index import Index, PackInfo
from seawall.embassy.orphans import Adopted
from seawall.embassy.packs import PackBuilder
from seawall.embassy.sealing import Compression, seal_buffer

if TYPE_CHECKING:
    from seawall.embassy.store import RepositoryStore, SentPack


# Packs sent and not yet settled: one being written while the next is encoded.
MAX_UPLOADS = 2

# A prepared chunk: keyed id, sealed blob (None when the repository has it), plaintext length.
Prepared = tuple[bytes, bytearray | None, int]
# What a worker made of one file (or one chunk of a stream): its chunks, or why not.
Outcome = list[Prepared] | OSError
# Counts bytes read and reports progress on the file named (called from the walk or cutter).
Advance = Callable[[int, str], None]


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
class Contents:
    """A file's chunk ids and size, filled in order as the pipeline drains."""

    ids: list[str] = field(default_factory=list)
    size: int = 0


@dataclass(frozen=True)
class Target:
    """Where an outcome goes: a file's contents, and its tree node (position, path).

    A chunk of a stream has no node of its own (position -1): failing to read it fails the
    backup, while a whole file that cannot be read is left out.
    """

    contents: Contents
    position: int = -1
    path: str = ""


@dataclass
class _Unit:
    """Work queued in order: one outcome per target, in the same order."""

    job: Future[list[Outcome]]
    targets: list[Target]


class Pipeline:
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

    def add(self, view: memoryview, contents: Contents) -> None:
        """Queue a chunk of a file whose contents are recorded as the pipeline drains."""
        job = self.sealers.submit(
            _prepare_chunk, view, self.repo.master.id_key, self.sealing, self.index
        )
        self._queue(_Unit(job, [Target(contents)]))

    def add_files(self, batch: list[tuple[Target, int]], chunker: Chunker) -> None:
        """Queue whole small files (each with its size), read together on a worker."""
        self._raise_cut_error()
        paths = [(target.path, size) for target, size in batch]
        job = self.sealers.submit(_prepare_files, paths, chunker, self.sealing, self.index)
        self._queue(_Unit(job, [target for target, _ in batch]))

    def add_large(self, file: Target, chunker: Chunker, advance: Advance) -> None:
        """Queue a large file (its contents and tree node), read and cut on the cutter."""
        self._raise_cut_error()
        self.cuts.append(self.cutter.submit(self._cut, file, chunker, advance))

    def _cut(self, file: Target, chunker: Chunker, advance: Advance) -> None:
        try:
            with open(file.path, "rb") as stream:
                self.add_stream(stream, file, chunker, advance)
        except OSError as exc:
            # Chunks already queued are stored (and reused later); the file is left out.
            with self.lock:
                self.failed.append((file.position, f"{file.path}: {exc.strerror}"))

    def add_stream(
        self, stream: BinaryIO, file: Target, chunker: Chunker, advance: Advance
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
