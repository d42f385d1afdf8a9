"""What the region counts as sighted: MISP false-positive and expiration sightings are not."""

from __future__ import annotations

from typing import Any

from seawall.core.access import Principal, Role
from seawall.core.node import Node
from seawall.intel import decay
from seawall.intel.collections import Audience, create_collection
from seawall.intel.identity import identity_id
from seawall.intel.matching.sightings import regional_sightings
from seawall.intel.store import writing
from tests import stix

JM = Principal("jm-analyst", "JM", Role.ANALYST, user_id="jm-analyst", org_id="org-jm-cirt")


def indicator(n: int, value: str) -> dict[str, Any]:
    return stix.indicator(n, stix.domain(value))


def sighting(n: int, of: str, count: int, **extra: Any) -> dict[str, Any]:
    return stix.sighting(
        n,
        of,
        created_by_ref=identity_id("JM"),
        count=count,
        first_seen="2026-11-20T00:00:00Z",
        last_seen="2026-11-21T00:00:00Z",
        where_sighted_refs=[identity_id("JM")],
        **extra,
    )


SEEN, WRONG = indicator(1, "seen.example"), indicator(2, "wrong.example")
SIGHTINGS = [
    sighting(10, SEEN["id"], 3),
    sighting(11, SEEN["id"], 2, x_misp_sighting_type="0"),  # a MISP sighting proper
    sighting(12, SEEN["id"], 40, x_misp_sighting_type="1"),  # false positive
    sighting(13, SEEN["id"], 7, x_misp_sighting_type="2"),  # expiration
    sighting(14, WRONG["id"], 5, x_misp_sighting_type="1"),
]


def test_false_positive_and_expiration_sightings_are_not_regional_sightings(node: Node) -> None:
    with node.unit(JM) as ctx:
        feed = create_collection(ctx, "feed", "Feed", Audience(), "green")
        assert not writing.add_objects(ctx, feed, [SEEN, WRONG, *SIGHTINGS]).rejected
        rows = regional_sightings(ctx)
    (row,) = rows  # WRONG was only ever reported as a false positive
    assert (row.indicator, row.nations, row.sightings) == (SEEN["id"], {"JM": 3 + 2}, 2)


def test_the_region_and_decay_agree_on_what_a_sighting_is() -> None:
    kept = [s["id"] for s in SIGHTINGS if decay.is_evidence(s)]
    assert kept == [SIGHTINGS[0]["id"], SIGHTINGS[1]["id"]]
    assert set(decay.last_sightings(SIGHTINGS)) == {SEEN["id"]}
    assert not decay.is_evidence(SEEN)  # not a sighting at all
