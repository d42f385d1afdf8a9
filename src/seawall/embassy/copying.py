"""Copy: snapshots of one repository into another, opened and sealed again on this node.

Neither repository's sites see plaintext. Each chunk the copied snapshots use is read from
the source (its pack rebuilt from any k shares, the chunk authenticated and checked against
its keyed id), opened in memory and handed to the target's backup pipeline
(:mod:`.pipeline`), which gives it the target's keyed id, skips it when the target holds it
already, and seals, packs and erasure-codes it onto the target's sites. Chunk boundaries
stay those of the source; the trees are written again with the target's ids.

Each snapshot is published as a backup publishes one: packs, index files, tree, snapshot.
A copy records the id of the snapshot it copies as ``original`` (that snapshot's own
original when it was a copy too), so a copy run again, or after it was killed, skips the
snapshots copied already, and adopts the packs a killed run left complete (see
:mod:`.orphans`).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from seawall.embassy.backup import publish_snapshot
from seawall.embassy.erasure import SplitPack
from seawall.embassy.errors import IntegrityError, SameRepository, SnapshotMissing
from seawall.embassy.index import Index
from seawall.embassy.orphans import adopt_orphans
from seawall.embassy.packs import PackEntry, open_chunk
from seawall.embassy.pipeline import Contents, Pipeline
from seawall.embassy.progress import Progress, ProgressFn, ignore_progress
from seawall.embassy.sealing import Compression
from seawall.embassy.snapshots import Node, Snapshot

if TYPE_CHECKING:
    from seawall.embassy.store import RepositoryStore

# Source packs rebuilt ahead of the one whose chunks are being opened.
FETCH_AHEAD = 2


@dataclass(frozen=True)
class CopiedSnapshot:
    """One snapshot copied: its id in the source, its copy's id, and what the copy stored."""

    source: str
    snapshot: str
    bytes: int
    new_bytes: int


@dataclass(frozen=True)
class CopyReport:
    """What a copy did: the snapshots copied, those the target held already (source ids)."""

    copied: tuple[CopiedSnapshot, ...]
    skipped: tuple[str, ...]
    packs_written: int = 0
    packs_reused: int = 0
    stored_bytes: int = 0
    new_bytes: int = 0


def copy_snapshots(
    source: RepositoryStore,
    target: RepositoryStore,
    refs: Sequence[str] = (),
    *,
    progress: ProgressFn | None = None,
) -> CopyReport:
    """Copy the snapshots ``refs`` names (all when none) from ``source`` into ``target``,
    skipping those ``target`` holds a copy of; chunks ``target`` holds are not sent again."""
    if source.config.id == target.config.id:
        raise SameRepository(
            f"{source.config.name} is both the repository to copy from and the one to copy "
            "into; give another repository to copy into"
        )
    targets = target.require_sites(degraded=False, what="copy")
    # Shared locks on both: a prune may not delete the packs being read, or those reused.
    with source.lock(exclusive=False), target.lock(exclusive=False):
        everything = source.snapshots()
        chosen = _choose(source, everything, refs)
        held = {snap.origin: snap.id for snap in target.snapshots()}
        todo = [snap for snap in chosen if snap.origin not in held]
        skipped = tuple(snap.id for snap in chosen if snap.origin in held)
        if not todo:
            return CopyReport((), skipped)
        source_index = source.load_index()
        trees = {snap.id: source.tree(snap) for snap in todo}
        total = _check_chunks(source_index, todo, trees)
        index = target.load_index()
        orphans = adopt_orphans(target, index, targets)
        pipeline = Pipeline(
            target, index, targets=targets, degraded=False, compression=Compression.AUTO
        )
        pipeline.adopt(orphans)
        copier = _Copier(source, source_index, pipeline, progress or ignore_progress, total)
        origins = {snap.id: snap.origin for snap in everything}
        copied: list[CopiedSnapshot] = []
        try:
            for snap in todo:
                before = pipeline.new_bytes
                nodes = copier.copy_tree(trees.pop(snap.id))
                parent = held.get(origins.get(snap.parent, snap.parent)) if snap.parent else None
                copy = replace(
                    snap,
                    id=os.urandom(16).hex(),
                    original=snap.origin,
                    parent=parent,
                    degraded=pipeline.missing_shares,
                    new_bytes=pipeline.new_bytes - before,
                )
                publish_snapshot(target, copy, nodes)
                held[copy.origin] = copy.id
                copied.append(CopiedSnapshot(snap.id, copy.id, snap.size, copy.new_bytes))
                copier.files += snap.files
        finally:
            pipeline.close()
    return CopyReport(
        tuple(copied),
        skipped,
        packs_written=pipeline.packs_written,
        packs_reused=pipeline.packs_reused,
        stored_bytes=pipeline.stored_bytes,
        new_bytes=pipeline.new_bytes,
    )


def _choose(
    source: RepositoryStore, everything: list[Snapshot], refs: Sequence[str]
) -> list[Snapshot]:
    """The snapshots ``refs`` names, oldest first (all when none); SnapshotMissing names the
    source for a ref that matches none."""
    if not refs:
        return everything
    chosen: dict[str, Snapshot] = {}
    for ref in refs:
        try:
            snap = source.find_snapshot(ref)
        except SnapshotMissing as exc:
            raise SnapshotMissing(
                exc.message.replace(
                    "no snapshot;", f"no snapshot of the source {source.config.name};"
                )
            ) from None
        chosen[snap.id] = snap
    return sorted(chosen.values(), key=lambda s: (s.time, s.id))


def _check_chunks(index: Index, todo: list[Snapshot], trees: dict[str, list[Node]]) -> int:
    """Before anything is written: every chunk the copies need is indexed in the source. The
    bytes of the distinct chunks to read."""
    seen: set[bytes] = set()
    total = 0
    for snap in todo:
        for node in trees[snap.id]:
            for cid in node.chunks:
                raw = bytes.fromhex(cid)
                if raw in seen:
                    continue
                where = index.chunks.get(raw)
                if where is None:
                    raise IntegrityError(
                        f"snapshot {snap.short_id} needs chunk {cid[:16]} that no index of "
                        "the source lists; run check on it"
                    )
                seen.add(raw)
                total += where.entry.raw_length
    return total


class _Copier:
    """Reads each chunk once from the source, in pack order, into the target's pipeline, and
    keeps each source chunk id's target id."""

    def __init__(
        self,
        source: RepositoryStore,
        index: Index,
        pipeline: Pipeline,
        report: ProgressFn,
        total: int,
    ) -> None:
        self.source = source
        self.index = index
        self.pipeline = pipeline
        self.report = report
        self.total = total
        self.keys = (source.master.data_key, source.master.id_key)
        # Source chunk id (hex) -> target chunk id (hex), for the chunks copied in this run.
        self.ids: dict[str, str] = {}
        self.read = 0
        self.files = 0

    def copy_tree(self, nodes: list[Node]) -> list[Node]:
        """The tree with every chunk copied (or found held) and named by its target id."""
        needed: dict[bytes, Contents] = {}
        for node in nodes:
            for cid in node.chunks:
                if cid not in self.ids:
                    needed.setdefault(bytes.fromhex(cid), Contents())
        plan: dict[bytes, list[PackEntry]] = {}
        for raw in needed:
            where = self.index.chunks[raw]
            plan.setdefault(where.pack, []).append(where.entry)
        self._read(plan, needed)
        self.pipeline.finish()
        for raw, contents in needed.items():
            [self.ids[raw.hex()]] = contents.ids
        return [
            replace(n, chunks=tuple(self.ids[c] for c in n.chunks)) if n.chunks else n
            for n in nodes
        ]

    def _read(self, plan: dict[bytes, list[PackEntry]], needed: dict[bytes, Contents]) -> None:
        """Rebuild each source pack once (a few ahead) and queue its chunks, verified."""
        order = list(plan)
        fetches: deque[Future[SplitPack]] = deque()
        with ThreadPoolExecutor(FETCH_AHEAD, thread_name_prefix="embassy-copy") as fetcher:
            try:
                for pid in order[:FETCH_AHEAD]:
                    fetches.append(fetcher.submit(self.source.fetch_pack, self.index.packs[pid]))
                for position, pid in enumerate(order):
                    pack = fetches.popleft().result()
                    if position + FETCH_AHEAD < len(order):
                        ahead = self.index.packs[order[position + FETCH_AHEAD]]
                        fetches.append(fetcher.submit(self.source.fetch_pack, ahead))
                    self.source.check_lock()
                    for entry in sorted(plan[pid], key=lambda e: e.offset):
                        data = open_chunk(pack, entry, *self.keys)
                        self.pipeline.add(memoryview(data), needed[entry.id])
                        self.read += len(data)
                        self.report(
                            Progress(
                                "copy",
                                files=self.files,
                                bytes=self.read,
                                total_bytes=self.total,
                            )
                        )
                    del pack
            finally:
                for fetch in fetches:
                    fetch.cancel()
