"""Check, repair and site replacement: find bad or missing shares and copies, and heal them."""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from seawall.embassy.config import CONFIG, MARKER, RepoConfig, marker_fits
from seawall.embassy.erasure import (
    ShareHeader,
    encode_pack,
    open_share,
    rebuild_pack,
    rebuild_split,
)
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
from seawall.embassy.packs import open_chunk, share_name
from seawall.embassy.progress import Progress, ProgressFn, ignore_progress
from seawall.embassy.pruning import stale_temporaries
from seawall.embassy.reindexing import IndexRebuild, rebuild_index
from seawall.embassy.sites.base import Site

if TYPE_CHECKING:
    from seawall.embassy.store import RepositoryStore


Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One finding of ``check``."""

    severity: Severity
    kind: str
    name: str
    message: str
    site: int | None = None
    site_url: str = ""


@dataclass
class CheckReport:
    """What ``check`` found."""

    problems: list[Problem] = field(default_factory=list)
    snapshots: int = 0
    packs: int = 0
    packs_read: int = 0
    shares_read: int = 0
    # Packs beyond repair, each with the snapshots and files it takes with it.
    lost_packs: list[PackLoss] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is wrong (warnings allowed)."""
        return not self.errors

    @property
    def errors(self) -> list[Problem]:
        """Problems that need repair."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def bad_shares(self) -> list[tuple[int, str]]:
        """(site index, share name) of each missing or corrupt share."""
        return [
            (p.site, p.name)
            for p in self.problems
            if p.kind in ("share-missing", "share-corrupt") and p.site is not None
        ]


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


def check_repository(
    repo: RepositoryStore, read_data: bool | float = False, *, progress: ProgressFn | None = None
) -> CheckReport:
    """Verify structure, and with ``read_data`` (True or a fraction) every share read."""
    if not isinstance(read_data, bool) and not 0 < read_data <= 1:
        raise BadRepositoryConfig("read_data fraction must be in (0, 1], e.g. 0.1 for 10%")
    # A shared lock: prune cannot delete packs while they are being read.
    with repo.lock(exclusive=False):
        return _check(repo, read_data, progress or ignore_progress)


def _check(repo: RepositoryStore, read_data: bool | float, report: ProgressFn) -> CheckReport:
    result = CheckReport()
    problems = result.problems
    up = dict(repo.reachable(fresh=True))
    for i, url in enumerate(repo.config.sites):
        if i not in up:
            problems.append(Problem("error", "site-down", url, f"site {url} unreachable", i, url))
    for i, site in up.items():
        url = repo.config.sites[i]
        try:
            marker = site.get(MARKER)
        except IO_ERRORS:
            marker = b""
        if not marker_fits(marker, repo.config.id, i):
            # The site holds this repository (its config authenticated when it was opened).
            problems.append(
                Problem(
                    "error",
                    "marker-damaged",
                    MARKER,
                    f"the repository marker on {url} is damaged or missing; "
                    "repair rewrites it from the config",
                    i,
                    url,
                )
            )
        try:
            data = repo.unseal_meta(CONFIG, site.get(CONFIG))
            RepoConfig.from_json(data)
        except (*IO_ERRORS, IntegrityError, BadRepositoryConfig):
            problems.append(
                Problem("error", "object-corrupt", CONFIG, f"config on {url} is bad", i, url)
            )
    names: dict[str, set[int]] = {}
    for i, site in up.items():
        with suppress(*IO_ERRORS):
            for prefix in ("keys/", "index/", "snapshots/", "trees/"):
                for name in site.list(prefix):
                    names.setdefault(name, set()).add(i)
    for name, holders in sorted(names.items()):
        for i in up:
            url = repo.config.sites[i]
            if i not in holders:
                # An interrupted write leaves metadata on some sites only: still readable,
                # so a warning that repair clears rather than an error.
                problems.append(
                    Problem(
                        "warning",
                        "object-underreplicated",
                        name,
                        f"{name} missing on {url}; run repair",
                        i,
                        url,
                    )
                )
                continue
            try:
                blob = up[i].get(name)
                if name.startswith("keys/"):
                    KeySlot.from_json(blob)
                else:
                    repo.unseal_meta(name, blob)
            except (*IO_ERRORS, IntegrityError, BadRepositoryConfig):
                problems.append(
                    Problem("error", "object-corrupt", name, f"{name} is bad on {url}", i, url)
                )
    index = repo.load_index()
    result.packs = len(index.packs)
    for name, reason in sorted(index.damaged.items()):
        problems.append(
            Problem(
                "error",
                "index-damaged",
                name,
                f"{name} is unreadable on every site ({reason}); the packs it lists are "
                "unknown: run repair --index",
            )
        )
    snaps = repo.snapshots()
    result.snapshots = len(snaps)
    for snap in snaps:
        if snap.degraded:
            problems.append(
                Problem(
                    "warning",
                    "snapshot-degraded",
                    f"snapshots/{snap.id}",
                    f"snapshot {snap.short_id} is degraded; run repair",
                )
            )
        for node in repo.tree(snap):
            for cid in node.chunks:
                if bytes.fromhex(cid) not in index:
                    problems.append(
                        Problem(
                            "error",
                            "chunk-unknown",
                            node.path,
                            f"snapshot {snap.short_id}: {node.path} needs chunk {cid[:16]} "
                            "no index lists",
                        )
                    )
    stored: dict[int, set[str]] = {}
    for i, site in up.items():
        stored[i] = set()
        with suppress(*IO_ERRORS):
            stored[i] = set(site.list("data/"))
    lost: set[bytes] = set()
    down = repo.config.n - len(up)
    for pack in index.packs.values():
        name = share_name(pack.id)
        held = 0
        for i in up:
            if name in stored[i]:
                held += 1
                continue
            url = repo.config.sites[i]
            problems.append(
                Problem("error", "share-missing", name, f"{name} missing on {url}", i, url)
            )
        # Shares on a site that is down may come back; without them the pack is lost.
        if held + down < pack.k:
            lost.add(pack.id)
    known = {share_name(pid) for pid in index.packs}
    for i, names_here in stored.items():
        for name in sorted(names_here - known):
            url = repo.config.sites[i]
            problems.append(
                Problem(
                    "warning",
                    "pack-orphan",
                    name,
                    f"{name} on {url} is in no index (an interrupted run's); prune deletes it",
                    i,
                    url,
                )
            )
    _report_temporaries(repo, up, problems)
    if read_data:
        packs = list(index.packs.values())
        if read_data is not True:
            count = max(1, round(len(packs) * float(read_data)))
            packs = random.sample(packs, count) if packs else []
        workers = max(2, os.cpu_count() or 2)
        with (
            ThreadPoolExecutor(workers, thread_name_prefix="embassy-check") as openers,
            ThreadPoolExecutor(1, thread_name_prefix="embassy-fetch") as fetcher,
        ):
            # The next pack's shares are read and authenticated while this one's chunks open.
            def fetch(few: list[PackInfo]) -> list[Future[_PackShares]]:
                return [fetcher.submit(_read_shares, repo, p, up, stored) for p in few]

            ahead = fetch(packs[:1])
            for number, pack in enumerate(packs):
                shares = ahead.pop().result()
                ahead = fetch(packs[number + 1 : number + 2])
                if (
                    not _open_pack(repo, pack, shares, result, openers)
                    and len(shares.good) + down < pack.k
                ):
                    lost.add(pack.id)
                report(Progress("check", files=number + 1, total_files=len(packs)))
    result.lost_packs = find_losses(repo, index, lost)
    for loss in result.lost_packs:
        severity: Severity = "error" if loss.snapshots else "warning"
        problems.append(Problem(severity, "pack-lost", loss.pack, loss.describe()))
    return result


def _report_temporaries(
    repo: RepositoryStore, up: dict[int, Site], problems: list[Problem]
) -> None:
    """A warning for each temporary file older than any live run's (prune deletes them)."""
    for i, site in up.items():
        url = repo.config.sites[i]
        with suppress(*IO_ERRORS):
            for temp in stale_temporaries(repo, site):
                problems.append(
                    Problem(
                        "warning",
                        "temp-stale",
                        temp.name,
                        f"{temp.name} on {url} is a temporary file of an interrupted write "
                        f"({temp.size:,} bytes, {temp.modified:%Y-%m-%d %H:%M}Z); prune deletes it",
                        i,
                        url,
                    )
                )


@dataclass
class _PackShares:
    """What reading one pack's shares found: the valid bodies, and the problems."""

    good: dict[int, memoryview] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    read: int = 0


def _read_shares(
    repo: RepositoryStore, pack: PackInfo, up: dict[int, Site], stored: dict[int, set[str]]
) -> _PackShares:
    name = share_name(pack.id)
    found = _PackShares()
    readable = [i for i in up if name in stored[i]]

    def verified(i: int) -> tuple[ShareHeader, memoryview] | ShareInvalid | None:
        # Read and authenticated on the I/O threads, so the shares' MACs are checked in parallel.
        share = raw_share(repo, i, name)
        if share is None:
            return None
        try:
            return open_share(share, repo.master.mac_key, what=f"{name} on {repo.config.sites[i]}")
        except ShareInvalid as exc:
            return exc

    for i, outcome in zip(readable, repo.io.map(verified, readable), strict=True):
        url = repo.config.sites[i]
        found.read += 1
        if outcome is None:
            found.problems.append(
                Problem("error", "share-missing", name, f"{name} unreadable on {url}", i, url)
            )
            continue
        if not isinstance(outcome, ShareInvalid):
            head, body = outcome
            if head.of(pack.id, pack.k, pack.n, pack.length) and head.index == i:
                found.good[i] = body
                continue
            outcome = ShareInvalid(f"{name} on {url} belongs elsewhere")
        found.problems.append(Problem("error", "share-corrupt", name, str(outcome), i, url))
    return found


def _open_pack(
    repo: RepositoryStore,
    pack: PackInfo,
    shares: _PackShares,
    result: CheckReport,
    openers: ThreadPoolExecutor,
) -> bool:
    """Rebuild the pack and open every chunk; False when it cannot be read."""
    result.shares_read += shares.read
    result.problems.extend(shares.problems)
    result.packs_read += 1
    try:
        data = rebuild_split(
            shares.good,
            pid=pack.id,
            k=pack.k,
            n=pack.n,
            length=pack.length,
            mac_key=repo.master.mac_key,
        )
        keys = (repo.master.data_key, repo.master.id_key)
        # Chunks are opened on worker threads (AES-GCM, zstd and BLAKE3 release the GIL);
        # each result is dropped as soon as it is seen, so memory stays at a few chunks.
        for _ in openers.map(lambda e: open_chunk(data, e, *keys), pack.entries):
            pass
    except (TooFewShares, IntegrityError) as exc:
        name = share_name(pack.id)
        result.problems.append(Problem("error", "pack-unreadable", name, str(exc)))
        return False
    return True


def raw_share(repo: RepositoryStore, i: int, name: str) -> bytes | None:
    """The bytes of a share on site ``i``, or None when missing or unreachable."""
    site = repo.sites[i]
    if site is None:
        return None
    try:
        return site.get(name)
    except IO_ERRORS:
        return None


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
