"""Check: find unreachable sites, bad or missing shares and metadata copies, and lost packs.

What it finds, repair heals (see :mod:`.repairing`).
"""

from __future__ import annotations

import os
import random
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from seawall.embassy.config import CONFIG, MARKER, RepoConfig, marker_fits
from seawall.embassy.erasure import ShareHeader, open_share, rebuild_split
from seawall.embassy.errors import (
    IO_ERRORS,
    BadRepositoryConfig,
    IntegrityError,
    ShareInvalid,
    TooFewShares,
)
from seawall.embassy.index import Index, PackInfo
from seawall.embassy.keys import KeySlot
from seawall.embassy.losses import PackLoss, find_losses
from seawall.embassy.packs import open_chunk, share_name
from seawall.embassy.progress import Progress, ProgressFn, ignore_progress
from seawall.embassy.pruning import stale_temporaries
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
    _check_sites(repo, up, problems)
    _check_metadata(repo, up, problems)
    index = repo.load_index()
    result.packs = len(index.packs)
    _report_damaged_index(index, problems)
    result.snapshots = _check_snapshots(repo, index, problems)
    stored: dict[int, set[str]] = {}
    for i, site in up.items():
        stored[i] = set()
        with suppress(*IO_ERRORS):
            stored[i] = set(site.list("data/"))
    lost = _check_shares(repo, index, up, stored, problems)
    _report_orphans(repo, index, stored, problems)
    _report_temporaries(repo, up, problems)
    if read_data:
        lost |= _read_data(repo, index, read_data, up, stored, result, report)
    result.lost_packs = find_losses(repo, index, lost)
    for loss in result.lost_packs:
        severity: Severity = "error" if loss.snapshots else "warning"
        problems.append(Problem(severity, "pack-lost", loss.pack, loss.describe()))
    return result


def _check_sites(repo: RepositoryStore, up: dict[int, Site], problems: list[Problem]) -> None:
    """An error for each site down, and for each marker or config that is bad on its site."""
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


def _check_metadata(repo: RepositoryStore, up: dict[int, Site], problems: list[Problem]) -> None:
    """Every copy of every key slot, index file, snapshot and tree: missing or bad."""
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


def _report_damaged_index(index: Index, problems: list[Problem]) -> None:
    """An error for each index file that verifies on no site."""
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


def _check_snapshots(repo: RepositoryStore, index: Index, problems: list[Problem]) -> int:
    """A warning for each degraded snapshot and an error for each chunk no index lists;
    the number of snapshots."""
    snaps = repo.snapshots()
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
    return len(snaps)


def _check_shares(
    repo: RepositoryStore,
    index: Index,
    up: dict[int, Site],
    stored: dict[int, set[str]],
    problems: list[Problem],
) -> set[bytes]:
    """An error for each indexed pack's share missing on a site that is up; the ids of the
    packs too few sites hold shares of."""
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
    return lost


def _report_orphans(
    repo: RepositoryStore, index: Index, stored: dict[int, set[str]], problems: list[Problem]
) -> None:
    """A warning for each share on a site that no index lists (prune deletes it)."""
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


def _read_data(
    repo: RepositoryStore,
    index: Index,
    read_data: bool | float,
    up: dict[int, Site],
    stored: dict[int, set[str]],
    result: CheckReport,
    report: ProgressFn,
) -> set[bytes]:
    """Read and authenticate every share of every pack (or of a random fraction of them), and
    open every chunk; the ids of the packs that cannot be rebuilt."""
    lost: set[bytes] = set()
    down = repo.config.n - len(up)
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
    return lost


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
