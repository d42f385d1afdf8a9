"""Forget snapshots by a keep policy, and prune the packs no snapshot uses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from seawall.embassy.errors import BadRepositoryConfig
from seawall.embassy.index import PackInfo
from seawall.embassy.packs import share_name
from seawall.embassy.progress import Progress, ProgressFn, ignore_progress
from seawall.embassy.snapshots import KeepPolicy, select_kept

if TYPE_CHECKING:
    from seawall.embassy.repository import Repository


@dataclass(frozen=True)
class PruneReport:
    """What ``prune`` removed."""

    packs_deleted: int
    bytes_freed: int
    orphans_deleted: int
    unused_bytes_kept: int


@dataclass(frozen=True)
class ForgetReport:
    """Snapshots kept and removed by ``forget``."""

    kept: tuple[str, ...]
    removed: tuple[str, ...]
    pruned: PruneReport | None = None


def forget_snapshots(
    repo: Repository, policy: KeepPolicy, *, tags: Sequence[str] = (), prune: bool = False
) -> ForgetReport:
    """Remove snapshots outside ``policy`` (only those carrying all ``tags``)."""
    if policy.empty:
        raise BadRepositoryConfig("a keep policy is required; forget would remove everything")
    # Every site must see the deletion, or repair would copy the snapshot back from a site
    # that was down.
    repo.require_sites(degraded=False, what="forget")
    with repo.lock(exclusive=True):
        snaps = [s for s in repo.snapshots() if set(tags) <= set(s.tags)]
        keep = select_kept(snaps, policy)
        removed = [s for s in snaps if s.id not in keep]
        for snap in removed:
            # Snapshot first: a tree without a snapshot is harmless, the reverse is not.
            repo.delete_everywhere(f"snapshots/{snap.id}")
            repo.delete_everywhere(f"trees/{snap.id}")
    pruned = prune_packs(repo) if prune else None
    kept = tuple(s.id for s in snaps if s.id in keep)
    return ForgetReport(kept, tuple(s.id for s in removed), pruned)


def prune_packs(repo: Repository, *, progress: ProgressFn | None = None) -> PruneReport:
    """Delete packs no snapshot uses, and orphans of interrupted backups."""
    report = progress or ignore_progress
    repo.require_sites(degraded=False, what="prune")
    with repo.lock(exclusive=True):
        index = repo.load_index()
        used: set[bytes] = set()
        for snap in repo.snapshots():
            for node in repo.tree(snap):
                used.update(bytes.fromhex(c) for c in node.chunks)
        keep: list[PackInfo] = []
        drop: list[PackInfo] = []
        for pack in index.packs.values():
            (keep if any(e.id in used for e in pack.entries) else drop).append(pack)
        unused = sum(e.length for p in keep for e in p.entries if e.id not in used)
        if drop or len(index.files) > 1:
            # New (consolidated) index first, then retire the old files, then delete data.
            new_name = repo.write_index_file(keep) if keep else None
            for name in sorted(index.files):
                if name != new_name:
                    repo.delete_everywhere(name)
        known = {share_name(p.id) for p in keep}
        doomed: set[str] = {share_name(p.id) for p in drop}
        for name in repo.names("data/"):
            if name not in known:
                doomed.add(name)
        orphans = len(doomed) - len(drop)
        for number, name in enumerate(sorted(doomed)):
            repo.delete_everywhere(name)
            report(Progress("prune", files=number + 1, total_files=len(doomed)))
    return PruneReport(len(drop), sum(p.length for p in drop), orphans, unused)
