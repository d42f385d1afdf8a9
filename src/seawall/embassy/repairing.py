"""Repair and site replacement: rebuild missing or corrupt shares and metadata copies.

A repair heals what check finds (see :mod:`.checking`): every pack's shares from any k valid
ones, every metadata object from a copy that verifies, the marker and config of each site.
A site replacement does the same for one new, empty site.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from seawall.embassy.checking import raw_share
from seawall.embassy.config import CONFIG, MARKER, RepoConfig
from seawall.embassy.erasure import encode_pack, open_share, rebuild_pack
from seawall.embassy.errors import (
    IO_ERRORS,
    BadRepositoryConfig,
    IndexDamaged,
    IntegrityError,
    ObjectMissing,
    PacksLost,
    RepositoryExists,
    ShareInvalid,
    TooFewShares,
    TooFewSites,
)
from seawall.embassy.index import PackInfo
from seawall.embassy.keys import KeySlot
from seawall.embassy.losses import (
    PackLoss,
    find_losses,
    find_unlisted,
    summarise_losses,
    summarise_unlisted,
    unindex_packs,
)
from seawall.embassy.packs import share_name
from seawall.embassy.progress import Progress, ProgressFn, ignore_progress
from seawall.embassy.reindexing import IndexRebuild, rebuild_index
from seawall.embassy.sites.base import Site

if TYPE_CHECKING:
    from seawall.embassy.store import RepositoryStore


@dataclass(frozen=True)
class RepairReport:
    """What ``repair`` fixed."""

    shares_rebuilt: int
    objects_copied: int
    snapshots_cleared: int
    unrecoverable: tuple[str, ...] = ()
    losses: tuple[PackLoss, ...] = ()
    rebuilt: IndexRebuild | None = None
    # Lost packs taken out of the index, so that the next backup stores their chunks again.
    unindexed: tuple[str, ...] = ()
    # Per snapshot id, the files needing chunks no index lists (of packs unindexed before).
    unlisted: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def to_doc(self) -> dict[str, Any]:
        """JSON form; ``lost_packs`` lists every snapshot and file each lost pack held."""
        return {
            "shares_rebuilt": self.shares_rebuilt,
            "objects_copied": self.objects_copied,
            "snapshots_cleared": self.snapshots_cleared,
            "unrecoverable": list(self.unrecoverable),
            "lost_packs": [loss.to_doc() for loss in self.losses],
            "index": self.rebuilt.to_doc() if self.rebuilt else None,
            "unindexed": list(self.unindexed),
            "unlisted": [{"id": sid, "files": list(paths)} for sid, paths in self.unlisted],
        }


def repair_repository(
    repo: RepositoryStore, *, index: bool = False, progress: ProgressFn | None = None
) -> RepairReport:
    """Rebuild missing or corrupt shares and metadata copies; clear degraded snapshots.

    With ``index``, first index every pack again from its trailer. A pack it cannot
    rebuild, or an index file damaged on every site, fails the run once the rest is healed.
    """
    report = progress or ignore_progress
    repo.require_sites(degraded=False, what="repair")
    with repo.lock(exclusive=True):
        rebuilt = rebuild_index(repo, report) if index else None
        copied = sync_metadata(repo, range(repo.config.n))
        known = repo.load_index(partial=True)
        healed = 0
        lost: list[bytes] = []
        for number, pack in enumerate(known.packs.values()):
            try:
                healed += heal_pack(repo, pack, range(repo.config.n))
            except (TooFewShares, IntegrityError):
                lost.append(pack.id)
            report(Progress("repair", files=number + 1, total_files=len(known.packs)))
        # Files whose chunks a repair before this one took out of the index with their pack.
        unlisted = () if lost or known.damaged else find_unlisted(repo, known)
        cleared = 0
        for snap in repo.snapshots():
            # A snapshot stays degraded while any pack is beyond repair or unindexed.
            if snap.degraded and not lost and not known.damaged and not unlisted:
                name = f"snapshots/{snap.id}"
                data = snap.mark(degraded=False).to_json()
                repo.put_everywhere(name, repo.seal_meta(name, data))
                cleared += 1
        losses = tuple(find_losses(repo, known, lost))
        unindexed = tuple(unindex_packs(repo, known, lost))
    gone = tuple(loss.pack for loss in losses)
    done = RepairReport(healed, copied, cleared, gone, losses, rebuilt, unindexed, unlisted)
    if known.damaged:
        names = ", ".join(sorted(known.damaged))
        raise IndexDamaged(
            f"repair healed the rest, but {names} is unreadable on every site: "
            "run seawall embassy repair --index to index its packs again"
        )
    if losses or unlisted:
        # Everything else is healed; the run still fails, so no one reads it as a clean bill.
        verb = "repair could not rebuild"
        told = summarise_losses(list(losses), verb=verb) if losses else summarise_unlisted(unlisted)
        raise PacksLost(told, gone, done.to_doc())
    return done


def heal_pack(repo: RepositoryStore, pack: PackInfo, sites: Sequence[int]) -> int:
    """Rewrite the shares of ``pack`` that are missing or bad on ``sites``."""
    repo.check_lock()
    name = share_name(pack.id)
    good: dict[int, memoryview] = {}
    bad: list[int] = []
    for i, share in zip(
        range(pack.n),
        repo.io.map(lambda i: raw_share(repo, i, name), range(pack.n)),
        strict=True,
    ):
        try:
            if share is None:
                raise ShareInvalid("missing")
            head, body = open_share(share, repo.master.mac_key)
            if not head.of(pack.id, pack.k, pack.n, pack.length) or head.index != i:
                raise ShareInvalid("misplaced")
            good[i] = body
        except ShareInvalid:
            if i in sites:
                bad.append(i)
    if not bad:
        return 0
    data = rebuild_pack(
        good, pid=pack.id, k=pack.k, n=pack.n, length=pack.length, mac_key=repo.master.mac_key
    )
    shares = encode_pack(data, pack.id, k=pack.k, n=pack.n, mac_key=repo.master.mac_key)
    for i in bad:
        site = repo.sites[i]
        if site is None:
            raise TooFewSites(f"site {repo.config.sites[i]} is unreachable; cannot heal it")
        site.put(name, shares[i])
    return len(bad)


def sync_metadata(repo: RepositoryStore, targets: Sequence[int] | range) -> int:
    """Copy a verified copy of every metadata object to ``targets`` that lack one."""
    up = dict(repo.reachable(fresh=True))
    copied = 0
    config_blob = repo.seal_meta(CONFIG, repo.config.to_json())
    names: set[str] = set()
    for site in up.values():
        with suppress(*IO_ERRORS):
            for prefix in ("keys/", "index/", "snapshots/", "trees/"):
                names.update(site.list(prefix))
    wanted: dict[str, bytes] = {}
    for name in names:
        for site in up.values():
            try:
                blob = site.get(name)
                if name.startswith("keys/"):
                    KeySlot.from_json(blob)
                else:
                    repo.unseal_meta(name, blob)
            except (*IO_ERRORS, IntegrityError, BadRepositoryConfig):
                continue
            wanted[name] = blob
            break
    for i in targets:
        target = repo.sites[i]
        if target is None:
            continue
        repo.check_lock()
        copied += _sync_site(repo, i, target, config_blob, wanted)
    return copied


def _sync_site(
    repo: RepositoryStore, i: int, site: Site, config_blob: bytes, wanted: dict[str, bytes]
) -> int:
    copied = 0
    if _differs(site, MARKER, repo.marker_for(i)):
        site.put(MARKER, repo.marker_for(i))
        copied += 1
    try:
        current = RepoConfig.from_json(repo.unseal_meta(CONFIG, site.get(CONFIG)))
        stale = current.generation < repo.config.generation
    except (*IO_ERRORS, IntegrityError, BadRepositoryConfig):
        stale = True
    if stale:
        site.put(CONFIG, config_blob)
        copied += 1
    for name, blob in sorted(wanted.items()):
        if _differs(site, name, blob):
            site.put(name, blob)
            copied += 1
    return copied


def replace_site(
    repo: RepositoryStore, old: int | str, new: Site, *, progress: ProgressFn | None = None
) -> None:
    """Swap a lost or retired site for an empty one and rebuild its shares there."""
    report = progress or ignore_progress
    if isinstance(old, int):
        slot = old
    elif old in repo.config.sites:
        slot = repo.config.sites.index(old)
    else:
        raise BadRepositoryConfig(f"{old} is not a site of this repository; see stats")
    if not 0 <= slot < repo.config.n:
        raise BadRepositoryConfig(f"site index {slot} is out of range")
    if new.stat(MARKER) is not None:
        raise RepositoryExists(f"site {new.url} already holds a repository; use an empty one")
    if new.url in repo.config.sites:
        raise BadRepositoryConfig(f"site {new.url} is already part of this repository")
    others = [i for i, _ in repo.reachable(fresh=True) if i != slot]
    if len(others) < repo.config.k:
        raise TooFewSites(f"only {len(others)} other sites reachable; {repo.config.k} needed")
    with repo.lock(exclusive=True):
        repo.attach_site(slot, new)
        new.put(MARKER, repo.marker_for(slot))
        repo.config = replace(
            repo.config,
            sites=tuple(new.url if i == slot else u for i, u in enumerate(repo.config.sites)),
            generation=repo.config.generation + 1,
        )
        sync_metadata(repo, [slot])
        index = repo.load_index(partial=True)
        for number, pack in enumerate(index.packs.values()):
            heal_pack(repo, pack, [slot])
            report(Progress("replace", files=number + 1, total_files=len(index.packs)))
        blob = repo.seal_meta(CONFIG, repo.config.to_json())
        repo.put_everywhere(CONFIG, blob, degraded=True)


def _differs(site: Site, name: str, blob: bytes) -> bool:
    try:
        return site.get(name) != blob
    except ObjectMissing:
        return True
