"""Decay: a sighting dated in the future is no evidence that an indicator is in use now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from seawall.intel import decay
from seawall.intel.validation import format_timestamp

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NOW = T0 + timedelta(days=300)  # an address indicator decays in about 29 days
INDICATOR = {
    "type": "indicator",
    "id": "indicator--1c4e7a52-6d3b-4f0a-b1c2-3d4e5f6a7b8c",
    "created": format_timestamp(T0),
    "modified": format_timestamp(T0),
    "pattern": "[ipv4-addr:value = '45.77.1.9']",
    "pattern_type": "stix",
    "valid_from": format_timestamp(T0),
}


def sighted(when: datetime) -> dict[str, str]:
    return {
        "type": "sighting",
        "sighting_of_ref": INDICATOR["id"],
        "last_seen": format_timestamp(when),
    }


def test_a_sighting_dated_in_the_future_keeps_no_indicator_alive() -> None:
    # One bogus sighting dated 2099 would otherwise keep a decayed indicator in the feeds
    # and exports until 2099.
    future = NOW + timedelta(days=365 * 70)
    assert not decay.is_live(INDICATOR, NOW, future)
    assert decay.score(INDICATOR, NOW, future) == 0.0
    assert decay.last_sightings([sighted(future)], now=NOW) == {}
    # A clock a few minutes ahead of ours is not a forgery: that sighting counts as now.
    skewed = NOW + timedelta(minutes=5)
    assert decay.is_live(INDICATOR, NOW, skewed)
    assert decay.last_sightings([sighted(skewed)], now=NOW) == {INDICATOR["id"]: skewed}
    # Without a now, every sighting is returned as before.
    assert decay.last_sightings([sighted(future)]) == {INDICATOR["id"]: future}
