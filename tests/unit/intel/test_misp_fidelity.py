"""Eight real MISP events (PyMISP's test files) through STIX and back: what survives, counted."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from seawall.core.node import Node
from seawall.intel.matching.logs import LogFormat, reader_for
from seawall.intel.matching.matcher import Index
from seawall.intel.matching.observables import Kind, terms
from seawall.intel.matching.scan import scan
from seawall.intel.misp import reading, writing
from seawall.intel.validation import check_object, parse_timestamp
from tests.misp import DATA, event_of, stored_and_exported

# One observation of comparisons on one object type, joined by AND, as mapping writes them.
_TERM = r"([a-z0-9-]+):[A-Za-z0-9_.'\-\[\]*]+ = (?:'(?:[^'\\]|\\.)*'|\d+)"
CANONICAL_AND = re.compile(rf"^\[{_TERM}(?: AND {_TERM})+\]$")
NOW = datetime(2026, 12, 7, tzinfo=UTC)


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
    # 146 MISP compounds (three of them ip-port objects, an address and its port), less two
    # PE objects whose filenames repeat one comparison.
    assert len(compound) == 144
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


def test_every_compound_pattern_is_one_a_log_record_can_prove(trip: Any) -> None:
    _, _, stix = trip
    compound = [
        o["pattern"]
        for o in stix
        if o["type"] == "indicator" and len(re.findall(_TERM, o["pattern"])) > 1
    ]
    found = [(pattern, terms(pattern)) for pattern in compound]
    assert [p for p, t in found if t is None] == []
    # A SHA-512 beside a file's MD5 is dropped (no log carries one): 3 file objects.
    assert sum("SHA-512" in p for p in compound) == 3
    held = [o for _, t in found for term in t or () for o in term]
    assert [o for o in held if o.kind is Kind.HASH and len(o.value) > 64] == []
    assert all(len(t) == 1 for _, t in found if t)  # one alternative each
    kinds = Counter(tuple(sorted(o.kind.value for o in t[0])) for _, t in found if t)
    assert kinds == {
        ("file-name", "hash"): 107,
        ("file-name", "hash", "hash", "hash"): 3,
        ("hash", "hash", "hash"): 14,
        ("file-name", "hash", "hash"): 2,
        ("domain", "resolved"): 12,
        ("endpoint",): 6,  # 3 ip-dst|port attributes and the 3 ip-port objects alike
    }


def _zeek(fields: list[str], rows: list[list[str]]) -> list[str]:
    head = ["#separator \\x09\n", "#set_separator\t,\n", "#fields\t" + "\t".join(fields) + "\n"]
    return head + ["\t".join(row) + "\n" for row in rows]


def test_misp_domain_ip_and_ip_port_pairs_match_dns_answers_and_connections(trip: Any) -> None:
    _, _, stix = trip
    pairs = [
        o["pattern"]
        for o in stix
        if o["type"] == "indicator"
        and ("resolves_to_refs" in o["pattern"] or "dst_port" in o["pattern"])
    ]
    assert len(pairs) == 18
    alternatives = [terms(p) or () for p in pairs]
    index = Index.of(enumerate(alternatives))
    dns, conn = [], []
    for n, (term,) in enumerate(alternatives):
        values = {o.kind: o.value for o in term}
        if Kind.DOMAIN in values:
            name, address = values[Kind.DOMAIN], values[Kind.RESOLVED]
            # Proves it: the name asked (a name under it) and the address in the answers.
            dns.append([f"{n}.0", "10.0.0.5", "8.8.8.8", f"www.{name}", f"198.51.100.9,{address}"])
            # Do not: the address elsewhere than beside the name, or another address.
            dns.append([f"{n}.1", "10.0.0.5", "8.8.8.8", "other.example", address])
            dns.append([f"{n}.2", "10.0.0.5", "8.8.8.8", name, "198.51.100.9"])
            # Nor the client that asked for the name, nor the resolver asked.
            dns.append([f"{n}.3", address, "8.8.8.8", name, "198.51.100.9"])
            dns.append([f"{n}.4", "10.0.0.5", address, name, "198.51.100.9"])
        else:
            address, _, port = values[Kind.ENDPOINT].rpartition(":")
            conn.append([f"{n}.0", "10.0.0.5", "50000", address, port])  # proves it
            conn.append([f"{n}.1", "10.0.0.5", port, address, "8080"])  # the port on our side
            conn.append([f"{n}.2", "10.0.0.5", "50000", "203.0.113.1", port])
    lines = _zeek(["ts", "id.orig_h", "id.resp_h", "query", "answers"], dns)
    lines += _zeek(["ts", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p"], conn)
    windows = [(None, None)] * len(pairs)
    tally = scan(lines, reader_for(LogFormat.ZEEK), index, windows, NOW)
    # 14 distinct patterns: two domain-ip objects are the same pair (servicecdp.com), and each
    # ip-port object is the pair its event also lists as an ip-dst|port attribute.
    assert len(set(pairs)) == 14
    assert {k: f.count for k, f in tally.found.items()} == {
        n: 2 if pairs.count(p) == 2 else 1 for n, p in enumerate(pairs)
    }
