"""Indicator decay: the polynomial model, sightings, and whether an indicator is in force."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.core.access import Principal, Role
from seawall.core.clock import FrozenClock
from seawall.core.node import Node
from seawall.intel import decay, ingest, search
from seawall.intel.collections import create_collection
from seawall.intel.ingest import Format, Parsed
from seawall.intel.validation import format_timestamp
from tests import stix

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PATTERNS = [
    "[ipv4-addr:value = '45.77.12.9']",
    "[domain-name:value = 'c2.example']",
    "[url:value = 'https://x.example/a']",
    "[file:name = 'a.exe' AND file:hashes.MD5 = '9e107d9d372bb6826bd81d3542a419d6']",
    "[mutex:name = 'Global\\\\x']",
    "[x-custom:value = 'y']",
]


def indicator(pattern: str = PATTERNS[0], **extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator",
        "id": "indicator--1c4e7a52-6d3b-4f0a-b1c2-3d4e5f6a7b8c",
        "created": format_timestamp(T0),
        "modified": format_timestamp(T0),
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": format_timestamp(T0),
        **extra,
    }


ages = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=4000))
patterns = st.sampled_from(PATTERNS)


def test_the_formula_at_known_points() -> None:
    model = decay.Model("linear", timedelta(days=100), 1.0)
    assert model.score(timedelta(0)) == 100.0
    assert model.score(timedelta(days=50)) == pytest.approx(50.0)
    assert model.score(timedelta(days=100)) == 0.0
    # delta 2: the square root falls fast at first.
    fast = decay.Model("fast", timedelta(days=100), 2.0)
    assert fast.score(timedelta(days=25)) == pytest.approx(50.0)
    assert fast.live_for() == timedelta(days=49)


def test_each_kind_has_its_model() -> None:
    kinds = [decay.model_for(indicator(p)).kind for p in PATTERNS]
    assert kinds == ["address", "name", "url", "artefact", "artefact", "other"]
    # A quoted value never names an observable type.
    assert decay.model_for(indicator("[url:value = 'mailto:a@b.example']")) is decay.URL
    # Several types: the shortest-lived decides.
    mixed = "[file:name = 'a'] OR [ipv4-addr:value = '45.77.12.9']"
    assert decay.model_for(indicator(mixed)) is decay.ADDRESS
    assert decay.live_for_days() == {
        "address": 29.4,
        "url": 63.0,
        "name": 126.0,
        "artefact": 1526.9,
        "other": 255.5,
    }


@given(pattern=patterns, age=ages)
@settings(max_examples=200, deadline=None)
def test_score_is_between_0_and_base(pattern: str, age: timedelta) -> None:
    assert 0.0 <= decay.score(indicator(pattern), T0 + age) <= decay.BASE


@given(pattern=patterns, a=ages, b=ages)
@settings(max_examples=200, deadline=None)
def test_score_never_rises_with_age_without_sightings(
    pattern: str, a: timedelta, b: timedelta
) -> None:
    young, old = sorted((a, b))
    obj = indicator(pattern)
    assert decay.score(obj, T0 + young) >= decay.score(obj, T0 + old)


@given(
    pattern=patterns,
    age=ages,
    sighted=st.timedeltas(min_value=timedelta(days=-5000), max_value=timedelta(days=5000)),
)
@settings(max_examples=200, deadline=None)
def test_a_sighting_never_lowers_the_score(
    pattern: str, age: timedelta, sighted: timedelta
) -> None:
    obj = indicator(pattern)
    now = T0 + age
    assert decay.score(obj, now, T0 + sighted) >= decay.score(obj, now)


def test_a_sighting_resets_the_age() -> None:
    obj = indicator()
    now = T0 + timedelta(days=59)
    assert decay.score(obj, now) < decay.THRESHOLD
    assert decay.score(obj, now, now - timedelta(days=1)) > 80
    assert not decay.is_live(obj, now)
    assert decay.is_live(obj, now, now - timedelta(days=1))


@given(pattern=patterns, age=ages)
@settings(max_examples=200, deadline=None)
def test_live_is_the_window_and_the_threshold(pattern: str, age: timedelta) -> None:
    obj = indicator(pattern)
    now = T0 + age
    model = decay.model_for(obj)
    assert decay.is_live(obj, now) == (decay.score(obj, now) >= decay.THRESHOLD)
    if abs(age - model.live_for()) > timedelta(seconds=1):  # the boundary is rounded
        assert decay.is_live(obj, now) == (age < model.live_for())
    assert not decay.is_live({**obj, "revoked": True}, now)


@given(pattern=patterns, age=ages, sighted=st.none() | ages)
@settings(max_examples=200, deadline=None)
def test_live_until_is_where_is_live_ends(
    pattern: str, age: timedelta, sighted: timedelta | None
) -> None:
    obj = indicator(pattern)
    last = None if sighted is None else T0 + sighted
    now = T0 + age
    until = decay.live_until(obj, last)
    assert until is not None
    # A sighting not yet made does not count, and the boundary itself is rounded.
    if (last is None or last <= now) and abs(now - until) > timedelta(seconds=1):
        assert decay.is_live(obj, now, last) == (now < until)


WINDOWS = [
    {},
    {"valid_until": format_timestamp(T0 + timedelta(days=400))},
    {"valid_from": format_timestamp(T0 + timedelta(days=100))},
    {"labels": [decay.PERPETUAL]},
    {"confidence": 40},
]


@given(
    pattern=patterns,
    age=ages,
    sighted=st.none() | ages,
    window=st.sampled_from(WINDOWS),
    fraction=st.floats(min_value=0, max_value=1, exclude_max=True),
)
@settings(max_examples=300, deadline=None)
def test_is_live_holds_until_changes_at(
    pattern: str, age: timedelta, sighted: timedelta | None, window: dict[str, Any], fraction: float
) -> None:
    obj = indicator(pattern, **window)
    now = T0 + age
    last = None if sighted is None else T0 + min(sighted, age)
    changes = decay.changes_at(obj, now, last)
    later = now + ((changes - now) if changes else timedelta(days=9000)) * fraction
    assert decay.is_live(obj, later, last) == decay.is_live(obj, now, last)
    if changes is not None:  # and it does change there (give or take the rounded boundary)
        flipped = changes + timedelta(seconds=2)
        assert decay.is_live(obj, flipped, last) != decay.is_live(obj, now, last)


def test_a_sighting_dated_ahead_counts_from_skew_before_it() -> None:
    ahead = {"type": "sighting", "last_seen": format_timestamp(T0 + timedelta(days=2))}
    assert decay.counts_from(ahead) == T0 + timedelta(days=2) - decay.SKEW
    assert decay.counts_from({**ahead, "x_misp_sighting_type": "1"}) is None


def test_live_until_is_the_own_valid_until_or_never() -> None:
    until = T0 + timedelta(days=3)
    assert decay.live_until(indicator(valid_until=format_timestamp(until))) == until
    assert decay.live_until(indicator(labels=[decay.PERPETUAL])) is None
    assert decay.live_until(indicator()) == T0 + decay.ADDRESS.live_for()


def test_an_explicit_valid_until_wins_over_the_model() -> None:
    until = format_timestamp(T0 + timedelta(days=400))
    obj = indicator(valid_until=until)
    assert decay.is_live(obj, T0 + timedelta(days=399))
    assert not decay.is_live(obj, T0 + timedelta(days=400))
    assert not decay.is_live(obj, T0 - timedelta(seconds=1))  # not yet valid


def test_perpetual_and_non_indicators_do_not_decay() -> None:
    later = T0 + timedelta(days=4000)
    assert decay.is_live(indicator(labels=[decay.PERPETUAL]), later)
    assert decay.score(indicator(labels=[decay.PERPETUAL]), later) == decay.BASE
    report = {"type": "report", "id": "report--1c4e7a52-6d3b-4f0a-b1c2-3d4e5f6a7b8c"}
    assert decay.is_live(report, later)


def test_last_sightings_counts_only_real_sightings() -> None:
    target = indicator()["id"]

    def sighting(day: int, kind: str | None = None) -> dict[str, Any]:
        return {
            "type": "sighting",
            "sighting_of_ref": target,
            "last_seen": format_timestamp(T0 + timedelta(days=day)),
            **({"x_misp_sighting_type": kind} if kind else {}),
        }

    found = decay.last_sightings(
        [sighting(3), sighting(9, "1"), sighting(5, "0"), sighting(7, "2")]
    )
    assert found == {target: T0 + timedelta(days=5)}


def test_exports_leave_decayed_indicators_out_unless_sighted(
    node: Node, clock: FrozenClock
) -> None:
    start = format_timestamp(clock.now())

    def stored(n: int, pattern: str) -> dict[str, Any]:
        return stix.indicator(n, pattern, None, stamp=start)

    old = stored(1, "[ipv4-addr:value = '45.77.12.9']")
    seen = stored(2, "[ipv4-addr:value = '45.77.12.10']")
    name = stored(3, "[domain-name:value = 'c2.example']")
    later = format_timestamp(clock.now() + timedelta(days=40))
    sighting = stix.sighting(
        9, seen["id"], None, stamp=start, first_seen=later, last_seen=later, count=1
    )
    analyst = Principal("jm-analyst", "JM", Role.ANALYST, user_id="u1", org_id="org-jm")
    with node.unit(analyst) as ctx:
        collection = create_collection(ctx, "c2")
        objects = [old, seen, name, sighting]
        assert len(ingest.import_objects(ctx, collection, Parsed(Format.STIX, objects)).added) == 4
    clock.advance(days=45)  # past an address's 29.4 days, inside a domain's 126
    with node.unit(analyst) as ctx:
        chosen = search.readable_collections(ctx, "c2")
        ids = {o["id"] for o in search.stix_bundle(ctx, chosen)["objects"]}
        assert old["id"] not in ids and {seen["id"], name["id"]} <= ids
        everything = {o["id"] for o in search.stix_bundle(ctx, chosen, True)["objects"]}
        assert old["id"] in everything
        # Search shows each indicator's score from its age (45 days of 60, and of 180).
        assert [f.score for f in search.search(ctx, "45.77.12.9")] == [13.4]
        assert [f.score for f in search.search(ctx, "c2.example")] == [75.0]


confidences = st.integers(min_value=0, max_value=100)


@given(pattern=patterns, confidence=confidences, age=ages, sighted=st.none() | ages)
@settings(max_examples=200, deadline=None)
def test_the_score_never_exceeds_the_confidence(
    pattern: str, confidence: int, age: timedelta, sighted: timedelta | None
) -> None:
    obj = indicator(pattern, confidence=confidence)
    last = None if sighted is None else T0 + sighted
    assert decay.base_of(obj) == confidence
    assert 0.0 <= decay.score(obj, T0 + age, last) <= confidence
    assert decay.score(obj, T0 + age, last) <= decay.score(indicator(pattern), T0 + age, last)


@given(pattern=patterns, confidence=confidences, age=ages)
@settings(max_examples=200, deadline=None)
def test_a_less_trusted_indicator_leaves_force_sooner(
    pattern: str, confidence: int, age: timedelta
) -> None:
    obj = indicator(pattern, confidence=confidence)
    until, full = decay.live_until(obj), decay.live_until(indicator(pattern))
    assert until is not None and full is not None and until <= full
    if abs(T0 + age - until) > timedelta(seconds=1):  # the boundary is rounded
        assert decay.is_live(obj, T0 + age) == (T0 + age < until)


def test_the_confidence_is_the_base_score() -> None:
    assert decay.base_of(indicator()) == decay.BASE  # none given
    assert decay.base_of(indicator(confidence="high")) == decay.BASE  # not STIX's integer
    assert decay.base_of(indicator(confidence=True)) == decay.BASE
    half = indicator("[domain-name:value = 'c2.example']", confidence=50)
    assert decay.score(half, T0) == 50.0
    # 180 days x (1 - 30/50) = 72 days in force, where full confidence gives 126.
    assert decay.live_until(half) == T0 + timedelta(days=72)
    low = indicator(confidence=15)  # STIX's "Low": under the threshold from the start
    assert not decay.is_live(low, T0) and decay.live_until(low) == T0
    # An explicit valid_until still wins; perpetual keeps its base, whatever it is.
    until = format_timestamp(T0 + timedelta(days=3))
    assert decay.is_live(indicator(confidence=15, valid_until=until), T0)
    kept = indicator(confidence=60, labels=[decay.PERPETUAL])
    assert decay.score(kept, T0 + timedelta(days=4000)) == 60.0
    assert decay.is_live(kept, T0 + timedelta(days=4000)) and decay.live_until(kept) is None
    doubted = indicator(confidence=10, labels=[decay.PERPETUAL])
    assert not decay.is_live(doubted, T0) and decay.live_until(doubted) == T0
