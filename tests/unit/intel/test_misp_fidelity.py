"""Eight real MISP events (PyMISP's test files) through STIX and back: what survives, counted."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from seawall.core.node import Node
from seawall.intel.misp import reading, writing
from seawall.intel.validation import check_object, parse_timestamp
from tests.misp import DATA, event_of, stored_and_exported

# One observation of comparisons on one object type, joined by AND, as mapping writes them.
_TERM = r"([a-z0-9-]+):[A-Za-z0-9_.'\-\[\]*]+ = (?:'(?:[^'\\]|\\.)*'|\d+)"
CANONICAL_AND = re.compile(rf"^\[{_TERM}(?: AND {_TERM})+\]$")


def _attributes(event: Mapping[str, Any]) -> Iterator[tuple[Mapping[str, Any], str | None]]:
    """Every attribute, with the uuid of the object holding it (None for the event's own)."""
    for attr in event.get("Attribute") or []:
        yield attr, None
    for obj in event.get("Object") or []:
        for attr in obj.get("Attribute") or []:
            yield attr, str(obj["uuid"])


def _level(value: Any, parent: int | None) -> int | None:
    if value is None or str(value) in ("", "5"):
        return parent
    return int(value)


def _distributions(event: Mapping[str, Any]) -> dict[str, int | None]:
    """Each item's effective distribution: "inherit" (5, or unset) resolved to its parent's."""
    top = _level(event.get("distribution"), None)
    out: dict[str, int | None] = {str(event["uuid"]): top}
    for attr in event.get("Attribute") or []:
        out[str(attr["uuid"])] = _level(attr.get("distribution"), top)
    for obj in event.get("Object") or []:
        own = out[str(obj["uuid"])] = _level(obj.get("distribution"), top)
        for attr in obj.get("Attribute") or []:
            out[str(attr["uuid"])] = _level(attr.get("distribution"), own)
    return out


def _seen(value: Any) -> Any:
    if value in (None, ""):
        return None
    return parse_timestamp(str(value).replace("+00:00", "Z"))


def measure(events: list[Mapping[str, Any]]) -> dict[str, Any]:
    """What a MISP round trip is judged on, as sets, so that before and after compare."""
    sightings, references, object_tags = set(), set(), set()
    first_seen: dict[str, Any] = {}
    distribution: dict[str, int | None] = {}
    tags: dict[str, set[str]] = {}
    published: dict[str, Any] = {}
    templates: dict[str, tuple[str, str]] = {}
    for event in events:
        tags[str(event["uuid"])] = {str(t["name"]) for t in event.get("Tag") or []}
        if str(event.get("published")).lower() in ("1", "true"):
            published[str(event["uuid"])] = int(event["publish_timestamp"])
        distribution.update(_distributions(event))
        for attr, holder in _attributes(event):
            first_seen[str(attr["uuid"])] = _seen(attr.get("first_seen"))
            for s in attr.get("Sighting") or []:
                org = (s.get("Organisation") or {}).get("name")
                sightings.add(
                    (attr["uuid"], s["uuid"], int(s["date_sighting"]), str(s["type"]), org)
                )
            if holder is not None:
                object_tags |= {(attr["uuid"], str(t["name"])) for t in attr.get("Tag") or []}
        for obj in event.get("Object") or []:
            templates[obj["uuid"]] = (obj["template_uuid"], str(obj["template_version"]))
            for ref in obj.get("ObjectReference") or []:
                references.add((obj["uuid"], ref["referenced_uuid"], ref["relationship_type"]))
    return {
        "sightings": sightings,
        "references": references,
        "object_tags": object_tags,
        "first_seen": first_seen,
        "distribution": distribution,
        "tags": tags,
        "published": published,
        "templates": templates,
    }


@pytest.fixture(scope="module")
def trip() -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    originals: list[Mapping[str, Any]] = []
    stix: list[dict[str, Any]] = []
    for path in sorted(DATA.glob("*.json")):
        text = path.read_text(encoding="utf-8")
        originals.append(event_of(json.loads(text)))
        converted = reading.read_events(text, path.name)
        assert converted.problems == []
        stix += converted.objects
    exported = [event_of(e) for e in writing.stix_to_events(stix, "Other node")]
    return measure(originals), measure(exported), stix


def test_a_second_trip_gives_the_same_stix(trip: Any) -> None:
    _, _, stix = trip
    again = reading.read_events(json.dumps(writing.stix_to_events(stix, "Other node")))
    assert again.problems == []
    first = {o["id"]: (o.get("pattern"), o.get("object_marking_refs")) for o in stix}
    assert {o["id"]: (o.get("pattern"), o.get("object_marking_refs")) for o in again.objects} == (
        first
    )


def test_the_eight_events_hold_what_the_issue_counted(trip: Any) -> None:
    before, _, stix = trip
    assert len(before["tags"]) == 8
    assert len(before["sightings"]) == 6
    assert len(before["references"]) == 41
    assert len(before["object_tags"]) == 7
    assert sum(1 for o in stix if o["type"] == "indicator") == 508


def test_stix_side_keeps_sightings_and_references_as_objects(trip: Any) -> None:
    _, _, stix = trip
    for obj in stix:
        check_object(obj)  # all of it passes the store's own validation
    # Galaxy clusters' relationships are counted in test_misp_galaxies.py.
    clusters = {o["id"] for o in stix if "x_misp_cluster" in o}
    counts = {
        "sighting": sum(1 for o in stix if o["type"] == "sighting"),
        "relationship": sum(
            1 for o in stix if o["type"] == "relationship" and o["target_ref"] not in clusters
        ),
    }
    assert counts == {"sighting": 6, "relationship": 41}
    ids = {o["id"] for o in stix}
    for rel in (o for o in stix if o["type"] == "relationship"):
        assert {rel["source_ref"], rel["target_ref"]} <= ids
    for sighting in (o for o in stix if o["type"] == "sighting"):
        assert sighting["sighting_of_ref"] in ids
        assert sighting["sighting_of_ref"].startswith("indicator--")


def test_sightings_survive(trip: Any) -> None:
    before, after, _ = trip
    assert after["sightings"] == before["sightings"]


def test_object_references_survive(trip: Any) -> None:
    before, after, _ = trip
    assert after["references"] == before["references"]


def test_tags_on_object_attributes_survive(trip: Any) -> None:
    before, after, _ = trip
    assert after["object_tags"] == before["object_tags"]


def test_first_seen_is_never_invented(trip: Any) -> None:
    before, after, _ = trip
    assert before["first_seen"].keys() == after["first_seen"].keys()
    invented = [k for k, v in after["first_seen"].items() if v and not before["first_seen"][k]]
    assert invented == []
    changed = [k for k, v in before["first_seen"].items() if v and after["first_seen"][k] != v]
    assert changed == []


def test_distribution_3_stays_3_and_nothing_widens(trip: Any) -> None:
    before, after, _ = trip
    was_3 = {k for k, v in before["distribution"].items() if v == 3}
    assert len(was_3) == 382
    assert {k for k in was_3 if after["distribution"][k] != 3} == set()
    wider = {
        k: (v, after["distribution"][k])
        for k, v in before["distribution"].items()
        if v is not None and v < 4 and (after["distribution"][k] or 0) > v
    }
    assert wider == {}


def test_object_templates_survive(trip: Any) -> None:
    before, after, _ = trip
    assert len(before["templates"]) == 94
    assert after["templates"] == before["templates"]


def test_publication_times_survive(trip: Any) -> None:
    before, after, _ = trip
    assert len(before["published"]) == 4
    assert after["published"] == before["published"]


def test_tlp_white_comes_back_as_tlp_clear(trip: Any) -> None:
    before, after, _ = trip
    white = [k for k, tags in before["tags"].items() if "tlp:white" in tags]
    assert len(white) == 6
    for key in white:
        assert "tlp:clear" in after["tags"][key]
        assert "tlp:white" not in after["tags"][key]


def test_compound_patterns_are_canonical_and_on_one_object_type(trip: Any) -> None:
    _, _, stix = trip
    compound = [
        o["pattern"]
        for o in stix
        if o["type"] == "indicator" and len(re.findall(_TERM, o["pattern"])) > 1
    ]
    # 143 MISP compounds, less two PE objects whose filenames repeat one comparison.
    assert len(compound) == 141
    for pattern in compound:
        assert CANONICAL_AND.match(pattern), pattern
        assert len(set(re.findall(_TERM, pattern))) == 1, pattern


def test_the_store_and_its_misp_export_keep_them_too(node: Node, trip: Any) -> None:
    before, _, _ = trip
    after = measure(stored_and_exported(node))
    assert after["sightings"] == before["sightings"]
    assert after["references"] == before["references"]
    assert after["object_tags"] == before["object_tags"]
    assert [k for k, v in after["first_seen"].items() if v and not before["first_seen"][k]] == []
    was_3 = {k for k, v in before["distribution"].items() if v == 3}
    assert {k for k in was_3 if after["distribution"].get(k, 3) != 3} == set()
    assert len(was_3 - after["distribution"].keys()) == 0
