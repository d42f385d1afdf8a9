"""Injected time and identifiers, so tests can freeze both."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


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
