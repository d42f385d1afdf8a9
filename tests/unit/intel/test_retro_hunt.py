"""Retro-hunts: --since and --ignore-validity widen indicators' windows, never revocation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from seawall.errors import InvalidInput
from seawall.intel.matching.logs import LogFormat, reader_for
from seawall.intel.matching.scan import valid_at
from seawall.intel.matching.validity import Validity, parse_since

ZEEK = Path(__file__).parents[2] / "data" / "zeek"
TODAY = datetime(2026, 12, 7, tzinfo=UTC)
YESTERDAY = TODAY - timedelta(days=1)
LAST_WEEK = TODAY - timedelta(days=7)


def test_by_default_an_indicator_keeps_its_own_window() -> None:
    window = (TODAY, None)
    assert Validity().window(window) == window
    assert not valid_at(Validity().window(window), YESTERDAY)


def test_since_makes_an_indicator_valid_from_that_time_at_the_latest() -> None:
    hunt = Validity(since=YESTERDAY)
    published_today = hunt.window((TODAY, None))
    assert valid_at(published_today, YESTERDAY + timedelta(hours=1))
    assert not valid_at(published_today, YESTERDAY - timedelta(seconds=1))
    # An older valid_from is kept: since never narrows a window.
    assert hunt.window((LAST_WEEK, None)) == (LAST_WEEK, None)
    assert hunt.window((None, None)) == (None, None)
    # valid_until still holds.
    withdrawn = hunt.window((TODAY, TODAY + timedelta(hours=1)))
    assert withdrawn == (YESTERDAY, TODAY + timedelta(hours=1))
    assert not valid_at(withdrawn, TODAY + timedelta(hours=2))


def test_ignore_validity_looks_at_neither_end() -> None:
    assert Validity(ignore=True).window((TODAY, TODAY + timedelta(days=1))) == (None, None)
    assert Validity(ignore=True, since=YESTERDAY).window((TODAY, None)) == (None, None)
    windows = [(TODAY, None), (None, LAST_WEEK)]
    assert Validity().windows(windows) is windows
    assert Validity(ignore=True).windows(windows) == [(None, None), (None, None)]


def test_a_real_zeek_log_is_timed_before_an_indicator_published_today() -> None:
    # The zat dns.log is from 2013: an indicator valid from today is silent on it unless
    # the hunt reaches back.
    read = reader_for(LogFormat.ZEEK)
    times = [o[0] for o in map(read, (ZEEK / "dns.log").read_text().splitlines()) if o]
    first = datetime.fromtimestamp(float(min(t for t in times if t)), UTC)
    assert not valid_at((TODAY, None), first)
    assert valid_at(Validity(since=datetime(2013, 9, 1, tzinfo=UTC)).window((TODAY, None)), first)
    assert valid_at(Validity(ignore=True).window((TODAY, None)), first)


def test_since_takes_a_date_a_time_or_a_span_back() -> None:
    now = datetime(2026, 12, 7, 12, 30, tzinfo=UTC)
    assert parse_since("2026-12-01", now) == datetime(2026, 12, 1, tzinfo=UTC)
    assert parse_since("2026-12-01 18:00", now) == datetime(2026, 12, 1, 18, tzinfo=UTC)
    assert parse_since("2026-12-01T18:00+02:00", now) == datetime(2026, 12, 1, 16, tzinfo=UTC)
    assert parse_since("24h", now) == now - timedelta(hours=24)
    assert parse_since("7d", now) == now - timedelta(days=7)
    assert parse_since("90m", now) == now - timedelta(minutes=90)
    assert parse_since("2w", now) == now - timedelta(weeks=2)
    with pytest.raises(InvalidInput, match="--since"):
        parse_since("yesterday", now)


@pytest.mark.parametrize(
    "text",
    [
        "99999999999d",
        "9" * 400 + "w",
        "\u00b2d",
        "0001-01-01T00:00+05:00",
        "9999-12-31T23:00-05:00",
    ],
)
def test_since_out_of_range_or_in_other_digits_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="--since"):
        parse_since(text, datetime(2026, 12, 7, 12, 30, tzinfo=UTC))


def test_a_hunt_widens_the_compiled_windows_every_matching_path_reads() -> None:
    from seawall.intel.matching.compiled import Compiled, Indicator
    from seawall.intel.matching.observables import Kind, Observable
    from seawall.intel.tlp import Tlp

    def made(n: int, window: tuple[datetime | None, datetime | None]) -> Indicator:
        return Indicator(f"indicator--{n}", "feed", Tlp.GREEN, f"i{n}", window)

    term = ((Observable(Kind.DOMAIN, "evil.example"),),)
    compiled = Compiled.of(
        [
            (made(1, (TODAY, None)), term),
            (made(2, (LAST_WEEK, TODAY)), term),
            (made(3, (None, None)), term),
        ]
    )
    assert Validity().apply(compiled) is compiled
    hunted = Validity(since=YESTERDAY).apply(compiled)
    assert hunted.windows() == [(YESTERDAY, None), (LAST_WEEK, TODAY), (None, None)]
    assert hunted.indicator(0).window == (YESTERDAY, None)
    assert compiled.windows()[0] == (TODAY, None)  # the loaded set is left as it was
    assert Validity(ignore=True).apply(compiled).windows() == [(None, None)] * 3
