"""The pure schedule core: due times, coalescing and missed runs (Hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.embassy.schedules import Timing, format_duration, parse_duration, plan
from seawall.errors import InvalidInput

ANCHOR = datetime(2026, 11, 23, 9, 0, 30, tzinfo=UTC)
CRONS = ["*/5 * * * *", "0 2 * * *", "15 */6 * * *", "0 3 * * 1"]

timings = st.one_of(
    st.builds(
        lambda minutes: Timing(ANCHOR, every=timedelta(minutes=minutes)),
        st.integers(min_value=1, max_value=24 * 60),
    ),
    st.builds(lambda expr: Timing(ANCHOR, cron=expr), st.sampled_from(CRONS)),
    st.builds(
        lambda expr: Timing(ANCHOR, cron=expr, timezone="America/Jamaica"),
        st.sampled_from(CRONS),
    ),
)
# Gaps between passes: mostly short, sometimes a node down for days.
gaps = st.lists(
    st.one_of(
        st.integers(min_value=0, max_value=600), st.integers(min_value=600, max_value=5 * 86400)
    ),
    min_size=1,
    max_size=25,
)
graces = st.integers(min_value=0, max_value=3 * 3600).map(lambda s: timedelta(seconds=s))


def _due_times(timing: Timing, start: datetime, end: datetime) -> list[datetime]:
    found, at = [], timing.after(start)
    while at <= end:
        found.append(at)
        at = timing.after(at)
    return found


@settings(max_examples=150, deadline=None)
@given(timing=timings, steps=gaps, grace=graces)
def test_passes_never_run_a_due_time_twice_and_count_exactly_the_missed(
    timing: Timing, steps: list[int], grace: timedelta
) -> None:
    done = ANCHOR
    now = ANCHOR
    runs: list[datetime] = []
    missed = 0
    passes = []
    for step in steps:
        now += timedelta(seconds=step)
        passes.append(now)
        chosen = plan(timing, done, now, grace)
        if chosen.run_for is not None:
            runs.append(chosen.run_for)
        missed += chosen.missed
        assert chosen.done_through >= done
        done = chosen.done_through
    # Each run is a due time, later than the one before: never one due time twice.
    assert runs == sorted(set(runs))
    every_due = _due_times(timing, ANCHOR, now)
    assert set(runs) <= set(every_due)
    # Every due time up to the last pass is done, and the last pass ran the latest of them.
    assert done == (every_due[-1] if every_due else ANCHOR)
    # A due time is missed exactly when the first pass at or after it came after its grace.
    expected = sum(1 for due in every_due if next(p for p in passes if p >= due) - due > grace)
    assert missed == expected


@settings(max_examples=100, deadline=None)
@given(timing=timings, grace=graces, offset=st.integers(min_value=0, max_value=30 * 86400))
def test_a_pass_repeated_at_the_same_moment_runs_nothing(
    timing: Timing, grace: timedelta, offset: int
) -> None:
    now = ANCHOR + timedelta(seconds=offset)
    first = plan(timing, ANCHOR, now, grace)
    again = plan(timing, first.done_through, now, grace)
    assert again.run_for is None
    assert again.missed == 0


def test_a_nightly_cron_in_jamaica_is_due_at_two_local_time() -> None:
    timing = Timing(ANCHOR, cron="0 2 * * *", timezone="America/Jamaica")
    assert timing.after(ANCHOR) == datetime(2026, 11, 24, 7, 0, tzinfo=UTC)


def test_an_interval_counts_from_when_the_schedule_was_made() -> None:
    timing = Timing(ANCHOR, every=timedelta(hours=6))
    assert timing.after(ANCHOR) == ANCHOR + timedelta(hours=6)
    assert timing.after(ANCHOR + timedelta(hours=6)) == ANCHOR + timedelta(hours=12)


def test_a_pass_late_beyond_the_grace_runs_once_and_counts_the_misses() -> None:
    timing = Timing(ANCHOR, every=timedelta(hours=1))
    chosen = plan(timing, ANCHOR, ANCHOR + timedelta(hours=3, minutes=5), timedelta(minutes=10))
    assert chosen.run_for == ANCHOR + timedelta(hours=3)
    assert chosen.missed == 2
    assert chosen.first_missed == ANCHOR + timedelta(hours=1)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"cron": "0 2 * *"}, "not a cron expression"),
        ({"every": timedelta(seconds=30)}, "at least 1m"),
        ({}, "either --cron or --every"),
        ({"cron": "0 2 * * *", "every": timedelta(hours=1)}, "either --cron or --every"),
        ({"cron": "0 2 * * *", "timezone": "Mars/Olympus"}, "time zone"),
        ({"cron": "0 0 30 2 *"}, "never comes due"),
        ({"cron": "* * * * * *"}, "five fields"),  # seconds would dodge the 1m minimum
    ],
)
def test_a_bad_timing_is_refused_in_one_line(kwargs: dict[str, object], words: str) -> None:
    with pytest.raises(InvalidInput, match=words):
        Timing(ANCHOR, **kwargs)  # type: ignore[arg-type]


def test_durations_read_and_print_as_people_write_them() -> None:
    assert parse_duration("6h", "--rpo") == timedelta(hours=6)
    assert parse_duration(" 2w", "--every") == timedelta(weeks=2)
    assert format_duration(timedelta(days=1, hours=6, minutes=3)) == "1d 6h"
    for bad in ("6", "h", "0m", "1y", "-1h"):
        with pytest.raises(InvalidInput, match="not a duration"):
            parse_duration(bad, "--rpo")
    assert parse_duration("520w", "--every") == timedelta(weeks=520)
    for beyond in ("521w", "99999999999999d"):
        with pytest.raises(InvalidInput, match="at most 520w"):
            parse_duration(beyond, "--every")
