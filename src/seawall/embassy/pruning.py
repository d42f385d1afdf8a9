"""Forget snapshots by a keep policy, and prune: delete unused packs, repack partly used ones.

A pack mixes chunks of many files, so after ``forget`` most packs hold some chunks that no
snapshot uses. Deleting only the wholly unused packs would keep that space for ever, so
prune copies the used chunks of the emptiest packs into new packs until at most
``max_unused`` of the used bytes lie unused (restic's ``--max-unused``). Sealed chunks move
as they are: their authentication binds them to their chunk id, not to a pack.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from seawall.embassy.erasure import share_size
from seawall.embassy.errors import BadRepositoryConfig, IndexDamaged
from seawall.embassy.index import Index, PackInfo
from seawall.embassy.locks import STALE_AFTER
from seawall.embassy.packs import MAGIC, PackBuilder, open_chunk, packs_overhead, share_name
from seawall.embassy.progress import Progress, ProgressFn, ignore_progress
from seawall.embassy.sites.base import HoldsTemporaries, Site, TempInfo
from seawall.embassy.snapshots import (
    DEFAULT_GROUP_BY,
    GroupKey,
    KeepPolicy,
    SnapshotGroup,
    group_snapshots,
    keep_reasons,
)

if TYPE_CHECKING:
    from seawall.embassy.store import RepositoryStore

# Unused bytes that prune leaves in place, as a fraction of the used bytes (restic's default).
DEFAULT_MAX_UNUSED = 0.05
# Temporary files (an interrupted write's) older than this are deleted. A writer that went
# this long without writing has lost its lock (locks.GIVE_UP_AFTER) and others take it as
# stale, so no live run still means to rename the file into place.
TEMP_AFTER = STALE_AFTER


@dataclass(frozen=True)
class PruneReport:
    """What ``prune`` removed and rewrote."""

    packs_deleted: int
    bytes_freed: int
    orphans_deleted: int
    unused_bytes_kept: int
    packs_repacked: int = 0
    packs_written: int = 0
    bytes_repacked: int = 0
    dry_run: bool = False
    orphan_bytes: int = 0
    temp_files_deleted: int = 0
    temp_bytes: int = 0


@dataclass(frozen=True)
class KeptSnapshot:
    """A snapshot ``forget`` keeps, and the rules that keep it."""

    id: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class ForgetGroup:
    """One group of snapshots (by ``group_by``): what the policy kept and removed in it."""

    key: GroupKey
    kept: tuple[KeptSnapshot, ...]
    removed: tuple[str, ...]


@dataclass(frozen=True)
class ForgetReport:
    """Snapshots kept and removed by ``forget``, in all and per group (oldest first)."""

    kept: tuple[str, ...]
    removed: tuple[str, ...]
    pruned: PruneReport | None = None
    dry_run: bool = False
    groups: tuple[ForgetGroup, ...] = ()
    group_by: tuple[str, ...] = DEFAULT_GROUP_BY


def forget_snapshots(
    repo: RepositoryStore,
    policy: KeepPolicy,
    *,
    tags: Sequence[str] = (),
    group_by: Sequence[str] = DEFAULT_GROUP_BY,
    prune: bool = False,
    max_unused: float = DEFAULT_MAX_UNUSED,
    dry_run: bool = False,
) -> ForgetReport:
    """Remove snapshots outside ``policy`` (only those carrying all ``tags``).

    The policy applies within each group of snapshots with the same ``group_by`` fields
    (host and paths by default, as restic), so a dump from stdin never displaces the
    directory backed up beside it. With ``dry_run`` nothing is removed: the report says
    what would be (and no prune runs).
    """
    if policy.empty:
        raise BadRepositoryConfig("a keep policy is required; forget would remove everything")
    _check_max_unused(max_unused)
    if not dry_run:
        # Every site must see the deletion, or repair would copy the snapshot back from a
        # site that was down.
        repo.require_sites(degraded=False, what="forget")
    with repo.lock(exclusive=not dry_run):
        snaps = [s for s in repo.snapshots() if set(tags) <= set(s.tags)]
        groups = [_forget_group(group, policy) for group in group_snapshots(snaps, group_by)]
        gone = {sid for group in groups for sid in group.removed}
        removed = [s for s in snaps if s.id in gone]
        for snap in [] if dry_run else removed:
            # Snapshot first: a tree without a snapshot is harmless, the reverse is not.
            repo.delete_everywhere(f"snapshots/{snap.id}")
            repo.delete_everywhere(f"trees/{snap.id}")
    pruned = prune_packs(repo, max_unused=max_unused) if prune and not dry_run else None
    kept = tuple(s.id for s in snaps if s.id not in gone)
    return ForgetReport(
        kept,
        tuple(s.id for s in removed),
        pruned,
        dry_run=dry_run,
        groups=tuple(groups),
        group_by=tuple(group_by),
    )


def _forget_group(group: SnapshotGroup, policy: KeepPolicy) -> ForgetGroup:
    reasons = keep_reasons(group.snapshots, policy)
    return ForgetGroup(
        group.key,
        tuple(KeptSnapshot(s.id, tuple(reasons[s.id])) for s in group.snapshots if s.id in reasons),
        tuple(s.id for s in group.snapshots if s.id not in reasons),
    )


def prune_packs(
    repo: RepositoryStore,
    *,
    max_unused: float = DEFAULT_MAX_UNUSED,
    progress: ProgressFn | None = None,
) -> PruneReport:
    """Delete unused packs and what interrupted runs left; repack partly used packs.

    The order keeps every snapshot readable whenever it stops: new packs first, then the
    consolidated index, then the old index files, then the old packs' shares, the orphan
    shares and the old temporary files.
    """
    _check_max_unused(max_unused)
    report = progress or ignore_progress
    repo.require_sites(degraded=False, what="prune")
    with repo.lock(exclusive=True):
        plan = _plan(repo, max_unused)
        index, drop = plan.index, plan.drop
        left = find_leftovers(repo, {share_name(pid) for pid in index.packs})
        rewritten = [pack for pack, _ in plan.repack]
        written = _repack(repo, rewritten, plan.live, report)
        gone = {p.id for p in (*drop, *rewritten)}
        keep = [p for p in index.packs.values() if p.id not in gone] + written
        # The first change others can see: only under a live exclusive lock.
        repo.confirm_lock()
        if gone or len(index.files) > 1:
            # New (consolidated) index first, then retire the old files, then delete data.
            new_name = repo.write_index_file(keep) if keep else None
            for name in sorted(index.files):
                if name != new_name:
                    repo.delete_everywhere(name)
        doomed = sorted({share_name(pid) for pid in gone} | {o.name for o in left.orphans})
        total = len(doomed) + len(left.temps)
        for number, name in enumerate(doomed):
            repo.delete_everywhere(name)
            report(Progress("prune", files=number + 1, total_files=total))
        for number, temp in enumerate(left.temps, start=len(doomed)):
            repo.check_lock()
            site = repo.sites[temp.site]
            if site is not None:
                site.delete(temp.name)
            report(Progress("prune", files=number + 1, total_files=total))
    deleted = [*drop, *rewritten]
    return PruneReport(
        packs_deleted=len(drop),
        bytes_freed=_site_bytes(deleted, left.holders) - _site_bytes(written) + left.bytes,
        orphans_deleted=len(left.orphans),
        unused_bytes_kept=plan.unused_kept,
        packs_repacked=len(rewritten),
        packs_written=len(written),
        bytes_repacked=sum(e.length for p in written for e in p.entries),
        orphan_bytes=sum(o.size for o in left.orphans),
        temp_files_deleted=len(left.temps),
        temp_bytes=sum(t.size for t in left.temps),
    )


def plan_prune(repo: RepositoryStore, *, max_unused: float = DEFAULT_MAX_UNUSED) -> PruneReport:
    """What ``prune`` would do, changing nothing (``prune --dry-run``).

    The packs the repacked chunks fill are laid out as prune would fill them, so the
    figures are those of a prune run now.
    """
    _check_max_unused(max_unused)
    with repo.lock(exclusive=False):
        plan = _plan(repo, max_unused)
        left = find_leftovers(repo, {share_name(pid) for pid in plan.index.packs})
    moved = [e for pack, _ in plan.repack for e in pack.entries if plan.live.get(e.id) == pack.id]
    lengths = _repacked_lengths([e.length for e in moved], repo.config.pack_size)
    k, n = repo.config.k, repo.config.n
    deleted = [*plan.drop, *(p for p, _ in plan.repack)]
    new_bytes = sum(share_size(length, k) * n for length in lengths)
    return PruneReport(
        packs_deleted=len(plan.drop),
        bytes_freed=_site_bytes(deleted, left.holders) - new_bytes + left.bytes,
        orphans_deleted=len(left.orphans),
        unused_bytes_kept=plan.unused_kept,
        packs_repacked=len(plan.repack),
        packs_written=len(lengths),
        bytes_repacked=sum(e.length for e in moved),
        dry_run=True,
        orphan_bytes=sum(o.size for o in left.orphans),
        temp_files_deleted=len(left.temps),
        temp_bytes=sum(t.size for t in left.temps),
    )


@dataclass(frozen=True)
class Leftover:
    """An object on one site that prune deletes: an orphan share, or an old temporary file."""

    site: int
    name: str
    size: int


@dataclass(frozen=True)
class Leftovers:
    """What interrupted runs left on the sites, and which shares each site holds."""

    orphans: list[Leftover]
    temps: list[Leftover]
    holders: dict[str, int]

    @property
    def bytes(self) -> int:
        """Bytes of the orphans and temporary files, all sites together."""
        return sum(o.size for o in (*self.orphans, *self.temps))


def find_leftovers(repo: RepositoryStore, known: set[str]) -> Leftovers:
    """Shares no index lists (``known`` are those it does) and stale temporary files, per site."""
    orphans: list[Leftover] = []
    temps: list[Leftover] = []
    holders: dict[str, int] = {}
    for i, site in repo.reachable(fresh=True):
        for name in sorted(site.list("data/")):
            holders[name] = holders.get(name, 0) + 1
            if name not in known:
                info = site.stat(name)
                if info is not None:
                    orphans.append(Leftover(i, name, info.size))
        temps.extend(Leftover(i, t.name, t.size) for t in stale_temporaries(repo, site))
    return Leftovers(orphans, temps, holders)


def stale_temporaries(repo: RepositoryStore, site: Site) -> list[TempInfo]:
    """Temporary files on ``site`` older than :data:`TEMP_AFTER`: no live run writes them."""
    if not isinstance(site, HoldsTemporaries):
        return []  # its puts are single requests (S3): they leave no temporary objects
    now = repo.clock.now()
    return sorted(
        (t for t in site.temporaries() if now - t.modified > TEMP_AFTER), key=lambda t: t.name
    )


def _site_bytes(packs: Sequence[PackInfo], holders: dict[str, int] | None = None) -> int:
    """Bytes the shares of ``packs`` take on the sites holding them (all n by default)."""
    return sum(
        share_size(p.length, p.k) * (p.n if holders is None else holders.get(share_name(p.id), 0))
        for p in packs
    )


def _repacked_lengths(blobs: Sequence[int], pack_size: int) -> list[int]:
    """The lengths of the packs that blobs of these lengths fill, as :func:`_repack` fills them."""
    lengths: list[int] = []
    size, count = len(MAGIC), 0
    for blob in blobs:
        size, count = size + blob, count + 1
        if size >= pack_size:
            lengths.append(size - len(MAGIC) + packs_overhead(1, count))
            size, count = len(MAGIC), 0
    if count:
        lengths.append(size - len(MAGIC) + packs_overhead(1, count))
    return lengths


@dataclass(frozen=True)
class _Plan:
    """Which packs prune deletes and which it repacks."""

    index: Index
    live: dict[bytes, bytes]
    drop: list[PackInfo]
    repack: list[tuple[PackInfo, int]]
    unused_kept: int


def _plan(repo: RepositoryStore, max_unused: float) -> _Plan:
    index = repo.load_index()
    if index.damaged:
        # The packs a damaged index lists look unused: deleting them would lose data.
        names = ", ".join(sorted(index.damaged))
        raise IndexDamaged(
            f"{names} unreadable on every site: its packs would look unused; "
            "run seawall embassy repair --index first"
        )
    used: set[bytes] = set()
    for snap in repo.snapshots():
        for node in repo.tree(snap):
            used.update(bytes.fromhex(c) for c in node.chunks)
    # A used chunk lives where the index finds it; any other copy of it is unused.
    live = {cid: loc.pack for cid, loc in index.chunks.items() if cid in used}
    drop: list[PackInfo] = []
    partial: list[tuple[PackInfo, int]] = []
    used_bytes = 0
    for pack in index.packs.values():
        in_use = sum(e.length for e in pack.entries if live.get(e.id) == pack.id)
        waste = sum(e.length for e in pack.entries) - in_use
        if not in_use:
            drop.append(pack)
        elif waste:
            partial.append((pack, waste))
        used_bytes += in_use
    repack = _choose_repack(partial, allowed=int(max_unused * used_bytes))
    kept = sum(waste for _, waste in partial) - sum(waste for _, waste in repack)
    return _Plan(index, live, drop, repack, kept)


def _check_max_unused(max_unused: float) -> None:
    if not 0 <= max_unused <= 1:
        raise BadRepositoryConfig(
            f"max unused {max_unused:g} is not a fraction from 0 to 1; give e.g. 5% or 0.05"
        )


def _choose_repack(
    partial: list[tuple[PackInfo, int]], *, allowed: int
) -> list[tuple[PackInfo, int]]:
    """The emptiest partly used packs, until at most ``allowed`` unused bytes are left."""
    unused = sum(waste for _, waste in partial)
    chosen: list[tuple[PackInfo, int]] = []
    for pack, waste in sorted(partial, key=lambda pw: pw[1] / pw[0].length, reverse=True):
        if unused <= allowed:
            break
        chosen.append((pack, waste))
        unused -= waste
    return chosen


def _repack(
    repo: RepositoryStore, packs: list[PackInfo], live: dict[bytes, bytes], report: ProgressFn
) -> list[PackInfo]:
    """Copy the used chunks of ``packs`` into new packs stored on every site."""
    keys = (repo.master.data_key, repo.master.id_key)
    written: list[PackInfo] = []
    builder = PackBuilder()
    total = sum(p.length for p in packs)
    done = 0
    for pack in packs:
        split = repo.fetch_pack(pack)
        for entry in pack.entries:
            if live.get(entry.id) != pack.id:
                continue
            # Verified before it moves: a damaged chunk must fail here, not in a restore.
            open_chunk(split, entry, *keys)
            builder.add(entry.id, bytes(split.view(entry.offset, entry.length)), entry.raw_length)
            if builder.size >= repo.config.pack_size:
                written.append(_store_everywhere(repo, builder))
                builder = PackBuilder()
        done += pack.length
        report(Progress("repack", bytes=done, total_bytes=total))
    if len(builder):
        written.append(_store_everywhere(repo, builder))
    return written


def _store_everywhere(repo: RepositoryStore, builder: PackBuilder) -> PackInfo:
    """Write a repacked pack's shares to every site; its index entry once all are stored."""
    sent = repo.send_pack(builder, list(range(repo.config.n)))
    failed = repo.settle(sent)
    if failed:
        first = next(iter(failed.values()))
        raise type(first)(f"{first.message}; prune stopped before deleting anything")
    return sent.info
