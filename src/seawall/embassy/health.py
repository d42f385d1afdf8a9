"""Site health and repository figures.

A probe needs no key: is each site up, and does it still hold the repository? The figures of
an open repository (:func:`gather_stats`) come from its index and snapshots.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass
from typing import TYPE_CHECKING

from seawall.embassy.config import MARKER, read_marker
from seawall.embassy.erasure import share_size
from seawall.embassy.errors import IO_ERRORS, BadSiteUrl, ObjectMissing, TooFewShares
from seawall.embassy.sites import open_site, redact_url

if TYPE_CHECKING:
    from seawall.embassy.store import RepositoryStore


@dataclass(frozen=True)
class SiteState:
    """One site's state as seen from this node."""

    url: str
    state: str  # "up", "empty" (reachable, repository missing) or "down"
    detail: str = ""


def probe_site(url: str) -> SiteState:
    """Look for the repository marker; a few seconds at most per site."""
    shown = redact_url(url)
    try:
        site = open_site(url)
    except BadSiteUrl as exc:
        return SiteState(shown, "down", exc.message)
    try:
        if read_marker(site.get(MARKER)) is None:
            # Still up: the key, which a probe lacks, tells whether the site is the
            # repository's (check does), and repair rewrites the marker from the config.
            return SiteState(shown, "up", "repository marker is damaged; run repair")
        return SiteState(shown, "up")
    except ObjectMissing:
        return SiteState(shown, "empty")
    except IO_ERRORS as exc:
        return SiteState(shown, "down", exc.message)
    finally:
        site.close()


def probe_sites(urls: list[str], wait: float | None = None) -> list[SiteState]:
    """Probe all sites in parallel, in order; with ``wait``, a site that has not answered
    within ``wait`` seconds is "down" (its probe ends on its own, in the background)."""
    if not urls:
        return []
    pool = ThreadPoolExecutor(max_workers=len(urls))
    try:
        futures = [pool.submit(probe_site, url) for url in urls]
        done, _ = futures_wait(futures, timeout=wait)
        late = f"no answer within {wait or 0:g} s"  # with no ``wait``, every probe is done
        return [
            f.result() if f in done else SiteState(redact_url(url), "down", late)
            for f, url in zip(futures, urls, strict=True)
        ]
    finally:
        pool.shutdown(wait=False)


def too_few_shares(
    pack_id: bytes, valid: int, k: int, sites: Sequence[str], up: Collection[int]
) -> TooFewShares:
    """The error for a pack with fewer than ``k`` valid shares, saying what can be done.

    With sites down, only bringing them back helps: repair needs every site to answer. With
    every site up, the pack is lost, and repair heals the rest and counts what is lost.
    """
    n = len(sites)
    short = f"pack {pack_id.hex()[:16]} has {valid} valid shares of the {k} needed"
    down = [redact_url(url) for i, url in enumerate(sites) if i not in up]
    if down and k - valid <= len(down):
        return TooFewShares(
            f"{short}; {len(down)} of {n} sites are down ({', '.join(down)}): bring back at "
            f"least {k - valid} of them (a pack needs shares from {k} of the {n} sites)"
        )
    where = f"the {n - len(down)} sites that answer" if down else f"all {n} sites"
    advice = (
        "bring back the sites that are down, then run repair to heal the rest and count "
        "what is lost"
        if down
        else "run repair to heal the rest and count what is lost"
    )
    return TooFewShares(f"{short} on {where}: it cannot be rebuilt; {advice}")


@dataclass(frozen=True)
class SiteHealth:
    """A site and whether it answered."""

    index: int
    url: str
    up: bool


@dataclass(frozen=True)
class Stats:
    """Size and dedup figures of a repository."""

    snapshots: int
    packs: int
    chunks: int
    raw_bytes: int
    stored_bytes: int
    bytes_per_site: int
    k: int
    n: int
    sites: tuple[SiteHealth, ...]


def site_health(repo: RepositoryStore) -> list[SiteHealth]:
    """Probe every site of an open repository now."""
    up = {i for i, _ in repo.reachable(fresh=True)}
    return [SiteHealth(i, url, i in up) for i, url in enumerate(repo.config.sites)]


def gather_stats(repo: RepositoryStore) -> Stats:
    """Snapshot count, stored and raw sizes, and site health."""
    index = repo.load_index()
    return Stats(
        snapshots=len(repo.snapshots()),
        packs=len(index.packs),
        chunks=len(index.chunks),
        raw_bytes=sum(loc.entry.raw_length for loc in index.chunks.values()),
        stored_bytes=sum(p.length for p in index.packs.values()),
        bytes_per_site=sum(share_size(p.length, p.k) for p in index.packs.values()),
        k=repo.config.k,
        n=repo.config.n,
        sites=tuple(site_health(repo)),
    )
