"""Site health without the key: is each site up, and does it still hold the repository?"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from seawall.embassy.config import MARKER, read_marker
from seawall.embassy.errors import IO_ERRORS, BadSiteUrl, ObjectMissing
from seawall.embassy.sites import open_site, redact_url


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


def probe_sites(urls: list[str]) -> list[SiteState]:
    """Probe all sites in parallel, in order."""
    with ThreadPoolExecutor(max_workers=max(1, len(urls))) as pool:
        return list(pool.map(probe_site, urls))
