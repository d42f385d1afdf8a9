"""Sightings and relationships on the way to MISP: where they go, never looser than their holder."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from seawall.intel.misp import writing
from seawall.intel.tlp import Tlp, marking_id
from tests import stix as shared
from tests.stix import sid

STAMP = "2026-11-20T10:00:00.000Z"
NATION = sid("identity", 7)


def stix(kind: str, n: int, level: Tlp = Tlp.GREEN, **extra: Any) -> dict[str, Any]:
    return shared.stix(kind, n, level, stamp=STAMP, **extra)


def indicator(n: int, level: Tlp = Tlp.GREEN, **extra: Any) -> dict[str, Any]:
    pattern = shared.domain(f"c{n}.example")
    return stix(
        "indicator", n, level, pattern=pattern, pattern_type="stix", valid_from=STAMP, **extra
    )


def sighting(n: int, target: str, level: Tlp = Tlp.GREEN, **extra: Any) -> dict[str, Any]:
    return stix(
        "sighting",
        n,
        level,
        sighting_of_ref=target,
        first_seen="2026-11-21T08:00:00.000Z",
        last_seen="2026-11-21T09:00:00.000Z",
        count=14,
        where_sighted_refs=[NATION],
        **extra,
    )


def file_object(n: int, *attribute_uuids: str) -> dict[str, Any]:
    attributes = [
        {"type": "filename", "object_relation": "filename", "value": f"f{i}.exe", "uuid": u}
        for i, u in enumerate(attribute_uuids)
    ]
    return indicator(n, x_misp_attributes=attributes, labels=['misp:name="file"'])


def test_a_seawall_sighting_becomes_a_misp_sighting_by_its_nation() -> None:
    found = indicator(1)
    nation = {"type": "identity", "id": NATION, "name": "Jamaica"}
    (event,) = writing.stix_to_events([found, sighting(2, found["id"]), nation], "JM node")
    (attr,) = event["Event"]["Attribute"]
    assert attr["Sighting"] == [
        {
            "uuid": sid("sighting", 2).split("--")[1],
            "date_sighting": "1795251600",  # its last_seen, 2026-11-21T09:00Z
            "type": "0",
            "source": "",
            "Organisation": {"uuid": NATION.split("--")[1], "name": "Jamaica"},
        }
    ]


def test_a_sighting_stricter_than_its_indicator_stays_behind() -> None:
    found = indicator(1, Tlp.GREEN)
    objects = [found, sighting(2, found["id"], Tlp.RED), sighting(3, found["id"], Tlp.GREEN)]
    (event,) = writing.stix_to_events(objects, "JM node")
    (attr,) = event["Event"]["Attribute"]
    assert [s["uuid"] for s in attr["Sighting"]] == [sid("sighting", 3).split("--")[1]]


def test_a_sighting_marked_red_only_granularly_stays_behind_too() -> None:
    # The store counts a granular marking in an object's TLP; so does the export.
    found = indicator(1, Tlp.GREEN)
    red = [{"selectors": ["count"], "marking_ref": marking_id(Tlp.RED)}]
    hidden = sighting(2, found["id"], None, granular_markings=red)
    (event,) = writing.stix_to_events([found, hidden], "JM node")
    (attr,) = event["Event"]["Attribute"]
    assert "Sighting" not in attr


def test_object_sightings_go_on_the_named_attribute_or_the_first() -> None:
    a, b = str(uuid.UUID(int=21, version=4)), str(uuid.UUID(int=22, version=4))
    obj = file_object(1, a, b)
    named = sighting(2, obj["id"], x_misp_attribute_uuid=b)
    unnamed = sighting(3, obj["id"])
    (event,) = writing.stix_to_events([obj, named, unnamed], "JM node")
    (made,) = event["Event"]["Object"]
    on = {x["uuid"]: [s["uuid"][-2:] for s in x.get("Sighting", [])] for x in made["Attribute"]}
    assert on == {a: [sid("sighting", 3)[-2:]], b: [sid("sighting", 2)[-2:]]}


def test_references_stay_inside_the_event_and_under_the_objects_marking() -> None:
    target = indicator(2)
    source = file_object(1, str(uuid.UUID(int=21, version=4)))
    report = stix("report", 9, name="e", object_refs=[source["id"], target["id"]], published=STAMP)
    inside = stix(
        "relationship",
        3,
        relationship_type="drops",
        source_ref=source["id"],
        target_ref=target["id"],
    )
    outside = stix(
        "relationship",
        4,
        relationship_type="uses",
        source_ref=source["id"],
        target_ref=sid("attack-pattern", 5),
    )
    secret = stix(
        "relationship",
        6,
        Tlp.RED,
        relationship_type="drops",
        source_ref=source["id"],
        target_ref=target["id"],
    )
    events = writing.stix_to_events([report, source, target, inside, outside, secret], "JM")
    (made,) = events[0]["Event"]["Object"]
    assert [(r["relationship_type"], r["referenced_uuid"]) for r in made["ObjectReference"]] == [
        ("drops", target["id"].split("--")[1])
    ]


@pytest.mark.parametrize(
    ("index", "prop", "value"),
    [
        (0, "labels", 5),
        (1, "external_references", 5),
        (2, "object_refs", 5),
        (2, "object_refs", [["not", "an", "id"]]),
        (3, "where_sighted_refs", 5),
    ],
)
def test_stored_properties_of_odd_shape_export_without_a_traceback(
    index: int, prop: str, value: Any
) -> None:
    # The store keeps these properties as a peer sent them.
    found = indicator(1)
    technique = stix("attack-pattern", 2, name="Phishing")
    report = stix("report", 3, name="e", object_refs=[found["id"], technique["id"]])
    objects = [found, technique, report, sighting(4, found["id"])]
    objects[index][prop] = value
    events = writing.stix_to_events(objects, "JM node")
    attributes = [a for e in events for a in e["Event"]["Attribute"]]
    assert [a["value"] for a in attributes] == ["c1.example"]
