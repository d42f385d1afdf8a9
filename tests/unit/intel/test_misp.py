"""MISP events, feeds and CSV to STIX and back: values, types, TLP and distribution survive."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.intel.errors import InvalidStixObject, NotAMispEvent, UnknownMarking, UnreadableIntel
from seawall.intel.misp import mapping, markings, reading, writing
from seawall.intel.tlp import MARKING_IDS, Tlp, marking_id
from seawall.intel.validation import check_object, pattern_errors

EVENT_UUID = "5f0c8a2e-8f4b-4c5a-9a63-0c1f2d3e4b5a"
SHA256 = "5f2b7c9e1d3a4b6c8e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d"


def attribute(n: int | str, misp_type: str, value: str, **extra: Any) -> dict[str, Any]:
    return {
        "uuid": f"{n}c4e7a52-6d3b-4f0a-b1c2-3d4e5f6a7b8c",
        "type": misp_type,
        "value": value,
        "to_ids": True,
        "timestamp": "1763640000",
        **extra,
    }


def event(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "uuid": EVENT_UUID,
        "info": "Tax-refund phishing against Caribbean taxpayers",
        "date": "2026-11-20",
        "timestamp": "1763640000",
        "threat_level_id": "2",
        "analysis": "1",
        "distribution": "2",
        "Orgc": {"name": "JaCIRT", "uuid": "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"},
        "Tag": [{"name": "tlp:green"}, {"name": 'osint:source-type="blog-post"'}],
        "Attribute": [
            attribute(1, "ip-dst", "45.77.12.9", category="Network activity", comment="C2"),
            attribute(
                2, "domain", "taxrefund-gov-jm.example", to_ids=False, Tag=[{"name": "tlp:amber"}]
            ),
            attribute(3, "sha256", SHA256, category="Payload delivery"),
            attribute(4, "text", "It's one campaign", category="Other", to_ids=False),
            attribute(5, "ip-dst|port", "45.77.12.9|8443"),
            attribute(6, "url", "https://x.example/a'b"),
            attribute(7, "ip-src", "2001:67c:2e8::22"),
            attribute("a", "domain|ip", "c2.example|45.77.12.10"),
        ],
        "Object": [
            {
                "uuid": "8c4e7a52-6d3b-4f0a-b1c2-3d4e5f6a7b8c",
                "name": "file",
                "meta-category": "file",
                "timestamp": "1763640000",
                "Attribute": [
                    {
                        "type": "filename",
                        "object_relation": "filename",
                        "value": "invoice.pdf.exe",
                        "to_ids": True,
                    },
                    {
                        "type": "md5",
                        "object_relation": "md5",
                        "value": "9e107d9d372bb6826bd81d3542a419d6",
                        "to_ids": True,
                    },
                    {
                        "type": "text",
                        "object_relation": "state",
                        "value": "Malicious",
                        "to_ids": False,
                    },
                ],
            }
        ],
    }
    body.update(extra)
    return {"Event": body}


def by_id(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["id"]: o for o in objects}


def level(obj: dict[str, Any]) -> Tlp:
    return max(MARKING_IDS[r] for r in obj["object_marking_refs"])


def test_event_becomes_valid_stix_with_report_identity_and_indicators() -> None:
    converted = reading.read_events(json.dumps(event()))
    assert converted.problems == []
    for obj in converted.objects:
        check_object(obj)  # every object passes the store's own validation, patterns too
    objects = by_id(converted.objects)
    report = objects[f"report--{EVENT_UUID}"]
    assert report["name"] == "Tax-refund phishing against Caribbean taxpayers"
    assert len(report["object_refs"]) == 9
    ip = objects["indicator--1c4e7a52-6d3b-4f0a-b1c2-3d4e5f6a7b8c"]
    assert ip["pattern"] == "[ipv4-addr:value = '45.77.12.9']"
    assert ip["created_by_ref"] == "identity--7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
    assert objects["indicator--7c4e7a52-6d3b-4f0a-b1c2-3d4e5f6a7b8c"]["pattern"] == (
        "[ipv6-addr:value = '2001:67c:2e8::22']"
    )
    assert objects["x-misp-attribute--4c4e7a52-6d3b-4f0a-b1c2-3d4e5f6a7b8c"]["x_misp_value"] == (
        "It's one campaign"
    )
    file_object = objects["indicator--8c4e7a52-6d3b-4f0a-b1c2-3d4e5f6a7b8c"]
    assert file_object["pattern"] == (
        "[file:name = 'invoice.pdf.exe' AND file:hashes.MD5 = '9e107d9d372bb6826bd81d3542a419d6']"
    )


def test_tags_and_distribution_become_markings_and_never_widen() -> None:
    objects = by_id(reading.read_events(json.dumps(event())).objects)
    assert level(objects[f"report--{EVENT_UUID}"]) is Tlp.GREEN
    assert level(objects["indicator--1c4e7a52-6d3b-4f0a-b1c2-3d4e5f6a7b8c"]) is Tlp.GREEN
    # An attribute's own tlp:amber tightens it; it can never loosen the event's marking.
    assert level(objects["indicator--2c4e7a52-6d3b-4f0a-b1c2-3d4e5f6a7b8c"]) is Tlp.AMBER


@pytest.mark.parametrize(
    ("distribution", "tags", "expected"),
    [
        (0, [], Tlp.AMBER_STRICT),
        (1, [], Tlp.GREEN),
        (2, [], Tlp.GREEN),
        (3, [], Tlp.GREEN),  # untagged is never made public
        (3, ["tlp:clear"], Tlp.CLEAR),
        (3, ["tlp:white"], Tlp.CLEAR),
        (4, ["tlp:green"], Tlp.RED),  # a sharing group is a list of named recipients
        (0, ["tlp:clear"], Tlp.AMBER_STRICT),
        (2, ["tlp:amber+strict"], Tlp.AMBER_STRICT),
        (None, [], None),
    ],
)
def test_distribution_mapping(distribution: int | None, tags: list[str], expected: Tlp) -> None:
    assert markings.marking_of(tags, distribution) is expected


def test_inherit_distribution_takes_the_events_level() -> None:
    doc = event(
        distribution="0", Attribute=[attribute(1, "ip-dst", "45.77.12.9", distribution="5")]
    )
    objects = by_id(reading.read_events(json.dumps(doc)).objects)
    assert level(objects["indicator--1c4e7a52-6d3b-4f0a-b1c2-3d4e5f6a7b8c"]) is Tlp.AMBER_STRICT


@given(
    tags=st.lists(st.sampled_from(["tlp:clear", "tlp:green", "tlp:amber", "tlp:red", "x:y"])),
    distribution=st.sampled_from([None, 0, 1, 2, 3, 4]),
)
@settings(max_examples=80, deadline=None)
def test_a_marking_is_never_looser_than_the_tlp_tag(
    tags: list[str], distribution: int | None
) -> None:
    marking = markings.marking_of(tags, distribution)
    tagged = markings.tlp_of_tags(tags)
    if tagged is not None:
        assert marking is not None and marking >= tagged
    if distribution is not None:
        assert marking is not None and marking >= markings.distribution_limit(distribution)


def test_round_trip_keeps_values_types_to_ids_and_tlp() -> None:
    original = event()["Event"]
    stix = reading.read_events(json.dumps(event())).objects
    (back,) = writing.stix_to_events(stix, "Other node")
    exported = back["Event"]
    assert exported["uuid"] == EVENT_UUID
    assert exported["info"] == original["info"]
    assert exported["date"] == "2026-11-20"
    assert exported["threat_level_id"] == "2"
    assert exported["Orgc"]["name"] == "JaCIRT"
    assert {"name": "tlp:green"} in exported["Tag"]
    assert {"name": 'osint:source-type="blog-post"'} in exported["Tag"]
    before = {a["uuid"]: a for a in original["Attribute"]}
    after = {a["uuid"]: a for a in exported["Attribute"]}
    assert before.keys() == after.keys()
    for key, attr in before.items():
        assert (after[key]["type"], after[key]["value"]) == (attr["type"], attr["value"])
        assert after[key]["to_ids"] == attr["to_ids"]
    assert {"name": "tlp:amber"} in after["2c4e7a52-6d3b-4f0a-b1c2-3d4e5f6a7b8c"]["Tag"]
    (obj,) = exported["Object"]
    assert obj["name"] == "file"
    assert [(a["object_relation"], a["value"]) for a in obj["Attribute"]] == [
        ("filename", "invoice.pdf.exe"),
        ("md5", "9e107d9d372bb6826bd81d3542a419d6"),
        ("state", "Malicious"),
    ]
    # And MISP -> STIX -> MISP -> STIX gives the same STIX objects again.
    again = reading.read_events(json.dumps(back)).objects
    assert {o["id"]: level(o) for o in again if "object_marking_refs" in o} == {
        o["id"]: level(o) for o in stix if "object_marking_refs" in o
    }
    patterns = {o["id"]: o.get("pattern") for o in stix}
    assert {o["id"]: o.get("pattern") for o in again} == patterns


@pytest.mark.parametrize("tlp", list(Tlp))
def test_export_distribution_brings_each_marking_back(tlp: Tlp) -> None:
    indicator = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--1c4e7a52-6d3b-4f0a-b1c2-3d4e5f6a7b8c",
        "created": "2026-11-20T12:00:00.000Z",
        "modified": "2026-11-20T12:00:00.000Z",
        "pattern": "[domain-name:value = 'c2.example']",
        "pattern_type": "stix",
        "valid_from": "2026-11-20T12:00:00.000Z",
        "object_marking_refs": [marking_id(tlp)],
    }
    (exported,) = writing.stix_to_events([indicator], "JM node")
    (attr,) = exported["Event"]["Attribute"]
    assert (attr["type"], attr["value"], attr["to_ids"]) == ("domain", "c2.example", True)
    assert {"name": f"tlp:{tlp.key}"} in attr["Tag"]
    (again,) = [
        o for o in reading.read_events(json.dumps(exported)).objects if o["type"] == "indicator"
    ]
    assert level(again) is tlp


def test_foreign_patterns_map_to_misp_types_or_stix2_pattern() -> None:
    assert mapping.attribute_of_pattern("[file:hashes.'SHA-256' = 'ab']") == ("sha256", "ab")
    assert mapping.attribute_of_pattern("[url:value = 'http://a.example/']") == (
        "url",
        "http://a.example/",
    )
    odd = "[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [domain-name:value = 'a.example']"
    assert mapping.attribute_of_pattern(odd) == ("stix2-pattern", odd)


def test_unknown_tlp_tag_rejects_the_event_with_one_line() -> None:
    doc = event(Tag=[{"name": "tlp:purple"}])
    converted = reading.read_events(json.dumps(doc))
    assert converted.objects == []
    (problem,) = converted.problems
    assert "tlp:purple" in problem.message and "\n" not in problem.message


def test_an_event_whose_attributes_are_not_a_list_is_refused_whole() -> None:
    converted = reading.read_events(json.dumps(event(Attribute="notalist")))
    assert converted.objects == []
    (problem,) = converted.problems
    assert "'Attribute' must be a list" in problem.message


def test_an_address_that_is_not_one_is_refused_at_ingest() -> None:
    converted = reading.read_events(
        json.dumps(event(Attribute=[attribute(1, "ip-dst", "1.2.3.400")]))
    )
    (made,) = [o for o in converted.objects if "1.2.3.400" in o.get("pattern", "")]
    with pytest.raises(InvalidStixObject, match=r"'1\.2\.3\.400' is not an IPv4 address"):
        check_object(made)


@pytest.mark.parametrize(
    ("misp_type", "value"),
    [("AS", "AS\u00b2"), ("AS", "AS" + "1" * 11), ("ip-dst|port", "1.2.3.4|" + "9" * 5000)],
)
def test_a_number_that_is_none_keeps_the_attribute_whole_without_a_traceback(
    misp_type: str, value: str
) -> None:
    converted = reading.read_events(json.dumps(event(Attribute=[attribute(1, misp_type, value)])))
    assert converted.problems == []
    (kept,) = [o for o in converted.objects if o.get("x_misp_type") == misp_type]
    assert (kept["type"], kept["x_misp_value"]) == ("x-misp-attribute", value)


def test_unknown_distribution_rejects_only_that_attribute() -> None:
    doc = event(
        Attribute=[
            attribute(1, "ip-dst", "45.77.12.9", distribution="9"),
            attribute(2, "domain", "c2.example"),
        ]
    )
    converted = reading.read_events(json.dumps(doc))
    assert len(converted.problems) == 1
    assert (
        "distribution '9'" in converted.problems[0].message or "9" in converted.problems[0].message
    )
    assert any(o["id"].endswith("2c4e7a52-6d3b-4f0a-b1c2-3d4e5f6a7b8c") for o in converted.objects)


def test_distribution_limit_refuses_unknown_levels() -> None:
    with pytest.raises(UnknownMarking):
        markings.distribution_limit(7)


def test_a_stix_bundle_is_not_a_misp_event() -> None:
    with pytest.raises(NotAMispEvent, match="--format stix"):
        reading.read_events(json.dumps({"type": "bundle", "id": "bundle--x", "objects": []}))


def test_malformed_json_names_the_line() -> None:
    with pytest.raises(UnreadableIntel, match="line 1"):
        reading.read_events('{"Event": {', "event.json")


def test_feed_reads_every_listed_event_and_reports_missing_files(tmp_path: Path) -> None:
    second = "6a0c8a2e-8f4b-4c5a-9a63-0c1f2d3e4b5a"
    missing = "7b0c8a2e-8f4b-4c5a-9a63-0c1f2d3e4b5a"
    (tmp_path / f"{EVENT_UUID}.json").write_text(json.dumps(event()))
    (tmp_path / f"{second}.json").write_text(
        json.dumps(event(uuid=second, Attribute=[attribute(9, "domain", "b.example")], Object=[]))
    )
    manifest = {u: {"info": "x", "timestamp": "1763640000"} for u in (EVENT_UUID, second, missing)}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    converted = reading.read_feed(tmp_path)
    reports = [o for o in converted.objects if o["type"] == "report"]
    assert {r["id"] for r in reports} == {f"report--{EVENT_UUID}", f"report--{second}"}
    (problem,) = converted.problems
    assert missing in problem.ref and "missing" in problem.message


def test_csv_export_rows_become_indicators_with_their_tags() -> None:
    text = (
        ",".join(reading.CSV_COLUMNS)
        + "\n"
        + "1c4e7a52-6d3b-4f0a-b1c2-3d4e5f6a7b8c,12,Network activity,ip-dst,45.77.12.9,C2,1,"
        '1763640000,,"tlp:amber,osint",,,\n'
        + "2c4e7a52-6d3b-4f0a-b1c2-3d4e5f6a7b8c,12,Other,text,hello,,0,1763640000,,,,,\n"
        + "3c4e7a52-6d3b-4f0a-b1c2-3d4e5f6a7b8c,12,Network activity,ip-dst,1.2.3.4,,1,"
        "1763640000,,tlp:mauve,,,\n"
    )
    converted = reading.read_csv(text, "export.csv")
    objects = by_id(converted.objects)
    ip = objects["indicator--1c4e7a52-6d3b-4f0a-b1c2-3d4e5f6a7b8c"]
    assert ip["pattern"] == "[ipv4-addr:value = '45.77.12.9']"
    assert level(ip) is Tlp.AMBER and "osint" in ip["labels"]
    assert "x-misp-attribute--2c4e7a52-6d3b-4f0a-b1c2-3d4e5f6a7b8c" in objects
    (problem,) = converted.problems
    assert problem.ref == "export.csv line 4" and "tlp:mauve" in problem.message


def test_csv_without_the_misp_header_is_refused() -> None:
    with pytest.raises(UnreadableIntel, match="not a MISP CSV"):
        reading.read_csv("a,b\n1,2\n", "x.csv")


_SINGLE_TYPES = sorted(t for t, n in mapping.OBSERVABLE_TYPES.items() if n == 1 and t != "AS")
_HASHES = {"md5", "sha1", "sha256", "sha512"}
_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="|"),
    min_size=1,
    max_size=40,
).filter(lambda v: v.strip() == v and v != "")


@given(misp_type=st.sampled_from(_SINGLE_TYPES), value=_TEXT)
@settings(max_examples=150, deadline=None)
def test_any_value_survives_pattern_and_back(misp_type: str, value: str) -> None:
    pattern = mapping.pattern_for(misp_type, value)
    assert pattern is not None
    back_type, back_value = mapping.attribute_of_pattern(pattern, misp_type)
    assert back_value == value
    assert back_type == misp_type
    if misp_type not in _HASHES:  # the grammar also checks hash lengths
        assert pattern_errors(pattern) == ()


RED_AS_A_DICT = {"name": "tlp:red"}


@pytest.mark.parametrize(
    ("where", "shape"),
    [
        ("event", {"Tag": RED_AS_A_DICT}),  # a TLP tag not in a list: dropping it would widen
        ("event", {"Tag": 1234}),
        ("event", {"Tag": ["tlp:red"]}),
        ("event", {"Tag": [{"name": ["tlp:red"]}]}),
        ("event", {"EventTag": {"Tag": RED_AS_A_DICT}}),
        ("event", {"EventTag": [{"Tag": "tlp:red"}]}),
        ("event", {"Galaxy": 7}),
        ("event", {"Galaxy": [{"GalaxyCluster": 7}]}),
        ("attribute", {"Tag": RED_AS_A_DICT}),
        ("attribute", {"Sighting": 5}),
        ("attribute", {"Galaxy": {"GalaxyCluster": []}}),
        ("object", {"ObjectReference": 5}),
        ("object", {"Attribute": {"type": "md5"}}),
        ("object attribute", {"Tag": RED_AS_A_DICT}),
        ("object attribute", {"Sighting": "yesterday"}),
    ],
)
def test_a_malformed_list_refuses_the_event_in_one_line(where: str, shape: dict[str, Any]) -> None:
    doc = event()
    body = doc["Event"]
    target = {
        "event": body,
        "attribute": body["Attribute"][0],
        "object": body["Object"][0],
        "object attribute": body["Object"][0]["Attribute"][0],
    }[where]
    target.update(shape)
    converted = reading.read_events(json.dumps(doc))
    assert converted.objects == []
    (problem,) = converted.problems
    assert "event not imported" in problem.message and "\n" not in problem.message


def test_an_object_marked_stricter_since_import_exports_no_looser_attribute_tag() -> None:
    doc = event(Tag=[], distribution="3")
    doc["Event"]["Object"][0]["Attribute"][0]["Tag"] = [{"name": "tlp:green"}, {"name": "kit"}]
    objects = reading.read_events(json.dumps(doc)).objects
    (made,) = [o for o in objects if o.get("x_misp_attributes")]
    assert level(made) == Tlp.GREEN
    # Re-marked RED on this node: a tlp:green left on its attributes would tell the MISP
    # that receives it that the file's name may be shared with the community.
    made["object_marking_refs"] = [marking_id(Tlp.RED)]
    (exported,) = writing.stix_to_events([made], "JaCIRT")
    (obj,) = exported["Event"]["Object"]
    tags = {t["name"] for a in obj["Attribute"] for t in a.get("Tag", [])}
    assert tags == {"tlp:red", "kit"}
    assert obj["distribution"] == 0


@pytest.mark.parametrize("held", [{"uuid": "x"}, [5], ["x"], []])
def test_a_peers_odd_x_misp_attributes_export_without_a_traceback(held: Any) -> None:
    # A custom property: a TAXII peer may send any JSON in it, and the store keeps it.
    objects = reading.read_events(json.dumps(event())).objects
    made = next(o for o in objects if o["type"] == "indicator" and "x_misp_attributes" not in o)
    odd = {**made, "x_misp_attributes": held}
    seen = {
        "type": "sighting",
        "spec_version": "2.1",
        "id": "sighting--6c4e7a52-6d3b-4f0a-b1c2-3d4e5f6a7b8c",
        "created": made["created"],
        "modified": made["created"],
        "last_seen": made["created"],
        "sighting_of_ref": made["id"],
    }
    (exported,) = writing.stix_to_events([odd, seen], "JaCIRT")
    assert [a["uuid"] for a in exported["Event"]["Attribute"]] + [
        o["uuid"] for o in exported["Event"]["Object"]
    ] == [made["id"].split("--", 1)[1]]
