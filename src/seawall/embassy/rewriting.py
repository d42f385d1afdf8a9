"""``rewrite``: snapshots written again without some paths, as restic's ``rewrite``.

For data backed up by mistake (personal data under a data-protection order, a key file): each
snapshot holding an excluded entry gets a new snapshot with the same time, host, paths and
tags, whose tree lacks every entry an exclude covers (a directory with everything under it).
The new snapshot is published before the old one is deleted (``forget``), so a run stopped
at any point loses no snapshot; a rerun finds the snapshots it wrote and finishes. Once the
old snapshots are gone, ``prune`` deletes the data only they used.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from seawall.embassy.backup import publish_snapshot
from seawall.embassy.finding import select_snapshots
from seawall.embassy.patterns import PathPattern
from seawall.embassy.progress import Progress, ProgressFn, ignore_progress
from seawall.embassy.snapshots import Node, Snapshot

if TYPE_CHECKING:
    from seawall.embassy.store import RepositoryStore

REWRITTEN = "rewritten"
"""The key of a rewritten snapshot's ``extra``: what it was written from, when and how."""


@dataclass(frozen=True)
class RewrittenSnapshot:
    """One snapshot that held excluded entries, and the one written in its place."""

    original: str
    new: str | None
    removed: tuple[str, ...]
    reused: bool = False
    """The new snapshot is one an earlier run with the same excludes wrote, and was reused."""


@dataclass(frozen=True)
class RewriteReport:
    """What ``rewrite`` wrote, left alone and (with ``forget``) deleted."""

    rewritten: tuple[RewrittenSnapshot, ...]
    unchanged: tuple[str, ...]
    forgotten: tuple[str, ...] = ()
    dry_run: bool = False


def filter_tree(
    nodes: Sequence[Node], excludes: Sequence[PathPattern]
) -> tuple[list[Node], list[Node]]:
    """The nodes no exclude covers, and those it does, each in the order given.

    A file left whose ``link_of`` names a removed file keeps its own chunks; the first such
    name becomes the file and the others link to it, so a restore links them again.
    """
    kept: list[Node] = []
    removed: list[Node] = []
    for node in nodes:
        (removed if any(x.covers(node.path) for x in excludes) else kept).append(node)
    gone = {n.path for n in removed}
    heirs: dict[str, str] = {}
    for number, node in enumerate(kept):
        if node.link_of in gone:
            heir = heirs.setdefault(node.link_of, node.path)
            kept[number] = replace(node, link_of="" if heir == node.path else heir)
    return kept, removed


def rewrite_snapshots(
    repo: RepositoryStore,
    excludes: Sequence[PathPattern],
    *,
    snapshots: Sequence[str] = (),
    forget: bool = False,
    dry_run: bool = False,
    progress: ProgressFn | None = None,
) -> RewriteReport:
    """Write each snapshot (all, or those ``snapshots`` names) that holds an entry an exclude
    covers again without those entries; with ``forget``, delete the old one after.

    With ``dry_run`` nothing is written: the report says what would be removed from which
    snapshot. A snapshot an earlier run with the same excludes already rewrote (one stopped
    before its ``forget``) is not written again: that run's snapshot stands in for it.
    """
    report = progress or ignore_progress
    if not dry_run:
        # Every site must see the new snapshot and the deletion, or repair would copy the
        # old snapshot back from a site that was down.
        repo.require_sites(degraded=False, what="rewrite")
    texts = [x.text for x in excludes]
    rewritten: list[RewrittenSnapshot] = []
    unchanged: list[str] = []
    forgotten: list[str] = []
    with repo.lock(exclusive=not dry_run):
        every = repo.snapshots()
        chosen = select_snapshots(repo, snapshots) if snapshots else every
        done_before = {
            s.extra[REWRITTEN]["from"]: s
            for s in every
            if isinstance(s.extra.get(REWRITTEN), dict)
            and s.extra[REWRITTEN].get("excludes") == texts
        }
        total, done = sum(s.size for s in chosen), 0
        for snap in chosen:
            kept, removed = filter_tree(repo.tree(snap), excludes)
            if not removed:
                unchanged.append(snap.id)
            else:
                paths = tuple(n.path for n in removed)
                earlier = done_before.get(snap.id)
                if dry_run:
                    new_id = None
                elif earlier is not None:
                    new_id = earlier.id
                else:
                    replacement = _rewritten(repo, snap, kept, texts, len(removed))
                    publish_snapshot(repo, replacement, kept)
                    new_id = replacement.id
                rewritten.append(RewrittenSnapshot(snap.id, new_id, paths, earlier is not None))
                if forget and not dry_run:
                    # Snapshot first: a tree without a snapshot is harmless, the reverse is not.
                    repo.delete_everywhere(f"snapshots/{snap.id}")
                    repo.delete_everywhere(f"trees/{snap.id}")
                    forgotten.append(snap.id)
            done += snap.size
            report(Progress("rewrite", files=len(rewritten), bytes=done, total_bytes=total))
    return RewriteReport(tuple(rewritten), tuple(unchanged), tuple(forgotten), dry_run=dry_run)


def _rewritten(
    repo: RepositoryStore, snap: Snapshot, kept: list[Node], excludes: list[str], removed: int
) -> Snapshot:
    """The snapshot that replaces ``snap``: its time, host, paths and tags, the tree ``kept``."""
    before = snap.extra.get(REWRITTEN)
    original = before.get("original", snap.id) if isinstance(before, dict) else snap.id
    note: dict[str, Any] = {
        "from": snap.id,
        "original": original,
        "time": repo.clock.now().isoformat(),
        "excludes": excludes,
        "removed": removed,
    }
    files = [n for n in kept if n.type == "file"]
    return replace(
        snap,
        id=os.urandom(16).hex(),
        files=len(files),
        size=sum(n.size for n in files),
        new_bytes=0,  # a rewrite stores no data
        extra={**snap.extra, REWRITTEN: note},
    )
