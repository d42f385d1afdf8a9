"""Bandwidth limits per site (``--limit-upload`` and ``--limit-download``, in KiB/s).

Each site opened while limits are in force gets a token bucket per direction: a write waits
until the bucket holds its bytes, and a read pays for its bytes once they have arrived, so
the next one waits. Over any stretch of time the bytes a site moves stay within
``rate x time + burst``; an object itself goes out at the link's speed once let through,
so the limit holds over stretches longer than one object (a share is pack size / k).

The limits are set for the sites opened inside :func:`link_limits` (the CLI sets them from
its options or the settings); every site kind is limited the same way.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from seawall.embassy.sites.base import Site
from seawall.errors import InvalidInput

KIB = 1024


class TokenBucket:
    """Bytes at ``rate`` per second, with up to ``burst`` bytes saved up.

    :meth:`plan` is pure (it takes the time and returns the delay); :meth:`take` sleeps. A
    request larger than the burst is let through in slices of at most the burst, so no
    window of time sees more than ``rate x its length + burst`` bytes granted.
    """

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise InvalidInput(f"a bandwidth limit must be positive, not {rate}")
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else rate)
        self.monotonic = monotonic
        self.sleep = sleep
        self.tokens = self.burst
        self.stamp: float | None = None
        self._lock = threading.Lock()

    def plan(self, size: float, now: float) -> float:
        """Grant ``size`` bytes (at most the burst) asked for at ``now``; the delay before
        they may go. The bucket counts them spent from then on."""
        size = min(size, self.burst)
        # A request made while an earlier grant still waits is served after it.
        start = now if self.stamp is None else max(now, self.stamp)
        if self.stamp is not None:
            self.tokens = min(self.burst, self.tokens + (start - self.stamp) * self.rate)
        wait = max(0.0, (size - self.tokens) / self.rate)
        # Spent at the moment they go: the tokens earned while waiting pay for them.
        self.tokens = self.tokens + wait * self.rate - size
        self.stamp = start + wait
        return self.stamp - now

    def take(self, size: int) -> None:
        """Wait until ``size`` bytes may go (slice by slice, for sizes over the burst)."""
        left = float(size)
        with self._lock:  # waiters queue in turn: the rate is the site's, not each thread's
            while left > 0:
                piece = min(left, self.burst)
                wait = self.plan(piece, self.monotonic())
                if wait > 0:
                    self.sleep(wait)
                left -= piece


@dataclass(frozen=True)
class Limits:
    """Bandwidth limits in KiB/s per site and direction; None is unlimited."""

    upload_kib: int | None = None
    download_kib: int | None = None

    def __post_init__(self) -> None:
        for option, value in (
            ("--limit-upload", self.upload_kib),
            ("--limit-download", self.download_kib),
        ):
            if value is not None and value <= 0:
                raise InvalidInput(f"{option} must be a positive number of KiB/s, not {value}")


_LIMITS: ContextVar[Limits | None] = ContextVar("seawall_embassy_link_limits", default=None)


@contextmanager
def link_limits(limits: Limits) -> Iterator[None]:
    """Limit every site opened (by :func:`~seawall.embassy.sites.open_site`) in the block."""
    token = _LIMITS.set(limits)
    try:
        yield
    finally:
        _LIMITS.reset(token)


def current_limits() -> Limits:
    """The limits sites opened now get."""
    return _LIMITS.get() or Limits()


def limit_site(site: Site, limits: Limits | None = None) -> Site:
    """``site`` with its writes and reads held to ``limits`` (the ones in force if None).

    The site's own methods are wrapped on the instance rather than behind another object,
    so the site keeps its class: partner sites are recognised by it (terms, audits).
    """
    limits = limits or current_limits()
    if limits.upload_kib is not None:
        up = TokenBucket(limits.upload_kib * KIB)
        put = site.put

        def limited_put(name: str, data: bytes) -> None:
            up.take(len(data))
            put(name, data)

        setattr(site, "put", limited_put)  # noqa: B010 - assigning a method mypy refuses
    if limits.download_kib is not None:
        down = TokenBucket(limits.download_kib * KIB)
        get = site.get

        def limited_get(name: str) -> bytes:
            data = get(name)
            down.take(len(data))
            return data

        setattr(site, "get", limited_get)  # noqa: B010 - assigning a method mypy refuses
    return site
