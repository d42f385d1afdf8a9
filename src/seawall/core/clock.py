"""Injected time and identifiers, so tests can freeze both."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from seawall.errors import InvalidInput


class Clock(Protocol):
    """Something that tells the current UTC time."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        return datetime.now(UTC)


class FrozenClock:
    """A clock that moves only when told to."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        """The frozen time."""
        return self.at

    def advance(self, **delta: float) -> None:
        """Move forward by a ``timedelta(**delta)``."""
        self.at += timedelta(**delta)


IdFactory = Callable[[], str]


def new_id() -> str:
    """A random UUID4 string."""
    return str(uuid.uuid4())


def counting_ids(prefix: str = "00000000-0000-4000-8000-") -> IdFactory:
    """Deterministic ids for tests: ``...-000000000001``, ``...-000000000002``, ..."""
    counter = 0

    def make() -> str:
        nonlocal counter
        counter += 1
        return f"{prefix}{counter:012d}"

    return make


def as_utc(moment: datetime, what: str) -> datetime:
    """``moment`` in UTC (a naive one is taken as UTC already); InvalidInput when it has none.

    An offset can push a moment at the edge of the calendar out of it
    (``0001-01-01T00:00+00:01``), which a database column cannot hold.
    """
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(
            f"{what} {moment.isoformat()} has no UTC equivalent; give a date from year 1 to 9999"
        ) from None
