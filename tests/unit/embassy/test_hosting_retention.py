"""The pure retention rules of hosted shares: what a name shows at a time, what may be purged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from seawall.embassy.hosting.retention import (
    Version,
    may_shorten,
    purgeable,
    retained_until,
    visible_as_of,
)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

# A history of one name: each step is a put (True) or a delete (False), after some minutes
# (0 included: several writes within one instant, as under a frozen clock).
steps = st.lists(st.tuples(st.booleans(), st.integers(0, 120)), min_size=1, max_size=12)


def history(name: str, plan: list[tuple[bool, int]]) -> tuple[list[Version], list[datetime]]:
    """The versions a host keeps after ``plan``, and the time of each step."""
    versions: list[Version] = []
    times: list[datetime] = []
    now = T0
    for i, (is_put, minutes) in enumerate(plan):
        now += timedelta(minutes=minutes)
        times.append(now)
        if versions and versions[-1].superseded_at is None:
            last = versions[-1]
            if not (last.marker and not is_put):  # a delete over a delete changes nothing
                versions[-1] = Version(last.id, name, last.stored_at, last.marker, now)
            else:
                continue
        versions.append(Version(f"v{i:03d}", name, now, marker=not is_put))
    return versions, times


@given(steps)
def test_the_current_view_shows_the_last_put_unless_a_delete_followed(
    plan: list[tuple[bool, int]],
) -> None:
    versions, _times = history("data/ab/x", plan)
    shown = visible_as_of(versions, None)
    last_is_put = plan[-1][0]
    if last_is_put:
        assert shown["data/ab/x"].id == f"v{len(plan) - 1:03d}"
    else:
        assert shown == {}


@given(steps, st.integers(0, 11))
def test_a_past_view_shows_what_was_current_then(plan: list[tuple[bool, int]], pick: int) -> None:
    versions, times = history("config", plan)
    step = min(pick, len(plan) - 1)
    as_of = times[step]
    # The last step at or before as_of decides (steps within one instant: the last of them).
    deciding = max(i for i, t in enumerate(times) if t <= as_of)
    shown = visible_as_of(versions, as_of)
    if plan[deciding][0]:
        assert shown["config"].id == f"v{deciding:03d}"
    else:
        assert shown == {}


@given(steps, st.integers(1, 3650), st.integers(0, 4000))
def test_nothing_is_purgeable_before_its_retention_whoever_released_it(
    plan: list[tuple[bool, int]], days: int, later_days: int
) -> None:
    versions, times = history("data/cd/y", plan)
    now = times[-1] + timedelta(days=later_days)
    for version in versions:
        released_all = purgeable(version, now, days, release_before=now)
        until = retained_until(version, days)
        if until is None:
            assert not released_all  # a current version is kept as long as it is current
        else:
            assert released_all == (until <= now)
            assert not purgeable(version, now, days, release_before=None)


def test_locks_show_as_they_are_now_whatever_the_view() -> None:
    lock = Version("l1", "locks/00ff", T0 + timedelta(days=5))
    old = Version("d1", "data/aa/1", T0, superseded_at=T0 + timedelta(days=2))
    shown = visible_as_of([lock, old], T0 + timedelta(days=1))
    assert set(shown) == {"locks/00ff", "data/aa/1"}
    assert visible_as_of([lock, old], None).keys() == {"locks/00ff"}


@given(st.integers(1, 3650), st.integers(1, 3650), st.booleans(), st.text(max_size=5))
def test_retention_only_lengthens_unless_the_host_admin_gives_a_reason(
    old: int, new: int, admin: bool, reason: str
) -> None:
    allowed = may_shorten(old, new, by_host_admin=admin, reason=reason)
    assert allowed == (new >= old or (admin and bool(reason.strip())))
