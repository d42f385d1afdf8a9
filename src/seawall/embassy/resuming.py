"""Writes to partner sites that resume after a dropped link, without re-sending what the
host already holds.

A partner site speaks HTTP over a long, thin link, which drops. During a backup each
partner site is wrapped in a :class:`ResumingSite`: a call that fails because the link
dropped (nothing answered, or not in time; never a refusal) is tried again after a pause
that doubles, for up to ``window`` seconds. Before a write is sent again the site is asked
whether it already holds the object at the size sent: the host may have stored it before
the answer was lost, and a second write would keep a second version there. Objects whose
names are written once (shares, index files, trees, snapshots) are then taken as written.

Resuming works at object granularity: a write cut halfway is sent again whole, so on a thin
link the bytes lost to a drop are at most one share (pack size / k). A site that has not
answered once in this run, or whose window ran out, fails at once: a partner that is down
costs a backup one window, not one per write.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from seawall.core.federation.errors import PartnerTimedOut, PartnerUnreachable
from seawall.embassy.errors import SiteUnavailable
from seawall.embassy.sites.base import ObjectInfo

if TYPE_CHECKING:
    from seawall.embassy.sites.partner import PartnerSite
    from seawall.embassy.store import RepositoryStore

# How long a dropped link is waited for, and the pauses between tries.
WINDOW = 60.0
FIRST_PAUSE = 0.5
LONGEST_PAUSE = 15.0
# Names the guest writes once, with bytes fixed by the name: one of the size sent is the one.
WRITTEN_ONCE = ("data/", "index/", "trees/", "snapshots/")

T = TypeVar("T")


def dropped(exc: SiteUnavailable) -> bool:
    """True when a site error is the link dropping, not the site refusing.

    A partner site raises SiteUnavailable from the link's own error: unreachable (a
    connection refused, reset or cut) or timed out. Refusals (quota, an ended agreement)
    come from an HTTP answer and are final.
    """
    cause = exc.__cause__ or exc.__context__
    return isinstance(cause, PartnerUnreachable | PartnerTimedOut)


@dataclass
class Resumed:
    """What resuming did on one site: drops met, writes found held, bytes sent again."""

    drops: int = 0
    held: int = 0
    resent_bytes: int = 0


class ResumingSite:
    """A site whose calls are tried again after a dropped link (see the module doc)."""

    def __init__(
        self,
        inner: PartnerSite,
        *,
        window: float = WINDOW,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self.window = window
        self.sleep = sleep
        self.monotonic = monotonic
        self.resumed = Resumed()
        self._lock = threading.Lock()
        # Resuming starts once the site has answered, and stops for good once a window ran out.
        self._answered = False
        self._given_up = False
        # When the link dropped (monotonic), until a call succeeds again.
        self._since: float | None = None

    @property
    def url(self) -> str:
        """The inner site's URL."""
        return self.inner.url

    def put(self, name: str, data: bytes) -> None:
        """Store ``data``; after a drop, ask whether the site holds it before sending again."""
        tries = 0
        while True:
            try:
                if tries:
                    held = self._retry(lambda: self.inner.stat(name))
                    if (
                        held is not None
                        and held.size == len(data)
                        and name.startswith(WRITTEN_ONCE)
                    ):
                        with self._lock:
                            self.resumed.held += 1
                        # The host stored it before the drop: whoever watches the site's
                        # writes (audit challenges) still sees it stored.
                        if self.inner.tap is not None:
                            self.inner.tap(name, data)
                        return
                    with self._lock:
                        self.resumed.resent_bytes += len(data)
                self.inner.put(name, data)
                self._ok()
                return
            except SiteUnavailable as exc:
                tries += 1
                self._pause_or_raise(exc, tries)

    def get(self, name: str) -> bytes:
        """Read an object, again after a drop."""
        return self._retry(lambda: self.inner.get(name))

    def list(self, prefix: str = "") -> Iterator[str]:
        """The names under ``prefix`` (read whole, so a drop midway is tried again)."""
        return iter(self._retry(lambda: list(self.inner.list(prefix))))

    def delete(self, name: str) -> None:
        """Remove an object, again after a drop (a delete is idempotent)."""
        self._retry(lambda: self.inner.delete(name))

    def stat(self, name: str) -> ObjectInfo | None:
        """Size of an object, again after a drop."""
        return self._retry(lambda: self.inner.stat(name))

    def close(self) -> None:
        """Close the inner site."""
        self.inner.close()

    def _retry(self, call: Callable[[], T]) -> T:
        tries = 0
        while True:
            try:
                found = call()
            except SiteUnavailable as exc:
                tries += 1
                self._pause_or_raise(exc, tries)
                continue
            self._ok()
            return found

    def _ok(self) -> None:
        with self._lock:
            self._answered = True
            self._since = None

    def _pause_or_raise(self, exc: SiteUnavailable, tries: int) -> None:
        """Wait before the next try after a drop; raise ``exc`` when it is not one, or when
        the site never answered or has been down for the whole window."""
        now = self.monotonic()
        with self._lock:
            if not dropped(exc) or not self._answered or self._given_up:
                raise exc
            since = self._since
            if since is None:
                self._since = since = now
                self.resumed.drops += 1
            if now - since >= self.window:
                self._given_up = True
                raise exc
        self.sleep(min(FIRST_PAUSE * 2 ** (tries - 1), LONGEST_PAUSE))


@contextmanager
def resuming(repo: RepositoryStore, *, window: float = WINDOW) -> Iterator[list[ResumingSite]]:
    """Wrap the repository's partner sites in :class:`ResumingSite` while the block runs.

    The sites are put back afterwards, so the calls that follow a run (terms, releases)
    see the partner sites themselves.
    """
    from seawall.embassy.sites.partner import PartnerSite  # httpx loads only when needed

    wrapped: list[tuple[int, PartnerSite, ResumingSite]] = []
    for i, site in enumerate(repo.sites):
        if isinstance(site, PartnerSite):
            wrapper = ResumingSite(site, window=window)
            wrapped.append((i, site, wrapper))
            repo.sites[i] = wrapper
    try:
        yield [wrapper for _, _, wrapper in wrapped]
    finally:
        for i, site, wrapper in wrapped:
            if repo.sites[i] is wrapper:
                repo.sites[i] = site
