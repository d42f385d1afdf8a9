"""Which validity a match holds indicators to: their own, or a retro-hunt's.

By default an indicator counts for a log record only while it was valid at the record's
time (``valid_from`` to ``valid_until``). Intelligence often arrives after the traffic it
describes, so a retro-hunt relaxes that, in one of two ways:

- ``since``: every indicator counts from that time at the latest. A record at or after
  ``since`` matches an indicator even if its ``valid_from`` is later (published today,
  hunted in yesterday's log); a record before ``since`` still needs the indicator's own
  ``valid_from``. ``valid_until`` still holds: an indicator withdrawn by its author at a
  time does not count after it.
- ``ignore``: neither ``valid_from`` nor ``valid_until`` is looked at, so ``since`` adds
  nothing to it.

Neither brings back a revoked indicator: revocation withdraws an indicator for every time,
so loading leaves revoked ones out before any window is looked at.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from seawall.errors import InvalidInput
from seawall.intel.matching.scan import Window

if TYPE_CHECKING:
    from seawall.intel.matching.compiled import Compiled


@dataclass(frozen=True)
class Validity:
    """How a match treats indicators' validity windows."""

    ignore: bool = False
    since: datetime | None = None

    @property
    def own(self) -> bool:
        """Whether indicators are held to their own windows (no retro-hunt)."""
        return not self.ignore and self.since is None

    def window(self, window: Window) -> Window:
        """The window an indicator with ``window`` is matched in."""
        start, until = window
        if self.ignore:
            return None, None
        if self.since is None or start is None or start <= self.since:
            return window
        return self.since, until

    def windows(self, windows: list[Window]) -> list[Window]:
        """The windows of many indicators, by their keys."""
        return windows if self.own else [self.window(w) for w in windows]

    def apply(self, compiled: Compiled) -> Compiled:
        """``compiled`` with every indicator's window as this hunt widens it, so every path
        that matches (line by line, columnar, on every core, followed) holds the same."""
        if self.own:
            return compiled
        import polars as pl  # here: `seawall intel` commands import this module, few match

        table = compiled.indicators
        kind = table.schema["valid_from"]
        if self.ignore:
            table = table.with_columns(
                pl.lit(None).cast(kind).alias("valid_from"),
                pl.lit(None).cast(table.schema["valid_until"]).alias("valid_until"),
            )
        else:
            start, since = pl.col("valid_from"), pl.lit(self.since).cast(kind)
            table = table.with_columns(
                pl.when(start > since).then(since).otherwise(start).alias("valid_from")
            )
        return replace(compiled, indicators=table, _made={})


_UNITS = {"m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}


def parse_since(text: str, now: datetime) -> datetime:
    """When a retro-hunt starts: a date (its first moment, UTC), a date and time (UTC unless
    it carries an offset), or a span back from ``now`` (``90m``, ``24h``, ``7d``, ``2w``)."""
    plain = text.strip()
    unit, count = _UNITS.get(plain[-1:].lower()), plain[:-1]
    try:
        if unit is not None and count.isascii() and count.isdigit():
            return now - timedelta(seconds=int(count) * unit)
        try:
            return datetime.combine(date.fromisoformat(plain), time.min, UTC)
        except ValueError:
            when = datetime.fromisoformat(plain)
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: before year 1 or after 9999
        raise InvalidInput(
            f"--since {text!r} is not a time; give a date (2026-12-01), a date and time "
            "('2026-12-01 18:00', UTC unless it has an offset) or a span back (24h, 7d)"
        ) from None
