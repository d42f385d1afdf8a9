"""MISP galaxy clusters of the 8 real events: kept as STIX objects with relationships, and
given back to MISP."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from seawall.core.node import Node
from seawall.intel.misp import galaxies, reading, writing
from seawall.intel.validation import check_object
from tests.misp import DATA, read_event, stored_and_exported

# Cluster references per event, counted in the files: bodies in Galaxy blocks (event level
# and on object attributes) and misp-galaxy tags that name a cluster without a body.
HELD = {
    "existing_event.json": 14,  # 14 bodies on the event, in 4 galaxies
    "galaxy_1.json": 14,  # 7 on the event (3 galaxies), 7 on object attributes (7 galaxies)
    "image_event.json": 3,  # 1 body, 2 tags only
    "long_event.json": 0,
    "mainly_objects_1.json": 2,  # tags only
    "shadow.json": 0,
    "sighting_1.json": 1,
    "to_delete2.json": 2,  # tags only
}


def _holders(event: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    yield "event", event
    for attr in event.get("Attribute") or []:
        yield str(attr["uuid"]), attr
    for obj in event.get("Object") or []:
        for attr in obj.get("Attribute") or []:
            yield str(attr["uuid"]), attr


def cluster_tags(event: Mapping[str, Any]) -> set[tuple[str, str]]:
    """(where, tag name) of every cluster an event names, from its Galaxy blocks and tags."""
    out: set[tuple[str, str]] = set()
    for where, holder in _holders(event):
        for galaxy in holder.get("Galaxy") or []:
            for cluster in galaxy.get("GalaxyCluster") or []:
                out.add((where, galaxies.tag_of(str(cluster["type"]), str(cluster["value"]))))
        for tag in holder.get("Tag") or []:
            if str(tag["name"]).startswith("misp-galaxy:"):
                out.add((where, str(tag["name"])))
    return out


def galaxy_blocks(event: Mapping[str, Any]) -> set[tuple[str, str]]:
    """(where, tag name) of the clusters in an event's Galaxy blocks only."""
    return {
        (where, galaxies.tag_of(str(c["type"]), str(c["value"])))
        for where, holder in _holders(event)
        for g in holder.get("Galaxy") or []
        for c in g.get("GalaxyCluster") or []
    }


@pytest.fixture(scope="module")
def converted() -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(DATA.glob("*.json")):
        made = reading.read_events(path.read_text(encoding="utf-8"), path.name)
        assert made.problems == []
        out[path.name] = made.objects
    return out


def test_the_events_hold_36_cluster_references_in_30_bodies() -> None:
    counted = {p.name: len(cluster_tags(read_event(p))) for p in sorted(DATA.glob("*.json"))}
    assert counted == HELD
    bodies = sum(len(galaxy_blocks(read_event(p))) for p in DATA.glob("*.json"))
    blocks = sum(
        len(h.get("Galaxy") or []) for p in DATA.glob("*.json") for _, h in _holders(read_event(p))
    )
    assert (sum(counted.values()), bodies, blocks) == (36, 30, 16)


def test_every_cluster_becomes_a_stix_object_in_its_report(
    converted: dict[str, list[dict[str, Any]]],
) -> None:
    for name, objects in converted.items():
        report = next(o for o in objects if o["type"] == "report")
        by_id = {o["id"]: o for o in objects}
        clusters = [
            by_id[r] for r in report["object_refs"] if by_id[r]["type"] in galaxies.CLUSTER_TYPES
        ]
        assert {c["x_misp_cluster"]["tag_name"] for c in clusters} == {
            tag for _, tag in cluster_tags(read_event(DATA / name))
        }, name
        assert len(clusters) == HELD[name]
        for obj in objects:
            check_object(obj)


def test_clusters_map_to_attack_patterns_intrusion_sets_malware_and_tools(
    converted: dict[str, list[dict[str, Any]]],
) -> None:
    made = {
        (o["type"], o["name"]): o
        for objects in converted.values()
        for o in objects
        if o["type"] in galaxies.CLUSTER_TYPES
    }
    technique = made[("attack-pattern", "Account Manipulation")]
    assert technique["external_references"][0] == {
        "source_name": "mitre-attack",
        "external_id": "T1098",
        "url": "https://attack.mitre.org/techniques/T1098",
    }
    assert made[("intrusion-set", "APT1")]["aliases"] == [
        "Comment Crew",
        "Comment Group",
        "Comment Panda",
    ]
    assert made[("intrusion-set", "Sofacy")]["x_misp_cluster"]["meta"]["country"] == ["RU"]
    assert made[("malware", "BACKSPACE")]["is_family"] is True
    assert made[("tool", "Sednit EK")]["tool_types"] == ["exploitation"]
    assert made[("malware", "Gozi")]["type"] == "malware"  # banker galaxy
    assert made[("intrusion-set", "STOLEN PENCIL")]["x_misp_cluster"] == {
        "type": "threat-actor",
        "value": "STOLEN PENCIL",
        "tag_name": 'misp-galaxy:threat-actor="STOLEN PENCIL"',
    }
    assert made[("course-of-action", "Account Discovery Mitigation")]["type"] == "course-of-action"
    assert ("x-misp-galaxy-cluster", "Leak of confidential information") in made


def test_relationships_link_attributes_and_the_event_clusters(
    converted: dict[str, list[dict[str, Any]]],
) -> None:
    objects = converted["galaxy_1.json"]
    by_id = {o["id"]: o for o in objects}
    rels = {
        (
            by_id[r["source_ref"]].get("name", by_id[r["source_ref"]]["type"]),
            r["relationship_type"],
            by_id[r["target_ref"]]["name"],
        )
        for r in objects
        if r["type"] == "relationship"
        and r["target_ref"] in by_id
        and by_id[r["target_ref"]]["type"] in galaxies.CLUSTER_TYPES
    }
    # The file object (an indicator) carries T1098 on its sha1 attribute.
    assert ("MISP file object", "indicates", "Account Manipulation") in rels
    # The virustotal-report object has no pattern: related-to.
    assert ("x-misp-object", "related-to", "Permission Groups Discovery") in rels
    assert ("APT1", "uses", "BACKSPACE") in rels
    assert ("APT12", "uses", "ANDROIDOS_ANSERVER.A") in rels
    sha1 = next(
        r
        for r in objects
        if r["type"] == "relationship"
        and by_id[r["target_ref"]].get("name") == "Account Manipulation"
    )
    assert sha1["x_misp_attribute_uuid"] == "5acd1ad5-d454-4166-aa3a-498d02de0b81"


def test_the_store_and_its_misp_export_give_the_clusters_back(node: Node) -> None:
    after = {str(e["uuid"]): e for e in stored_and_exported(node)}
    for path in sorted(DATA.glob("*.json")):
        before = read_event(path)
        back = after[str(before["uuid"])]
        # Every cluster in a Galaxy block comes back in one, in the same place, and every
        # cluster named only by a tag comes back in a Galaxy block too.
        assert galaxy_blocks(back) == cluster_tags(before), path.name
        assert cluster_tags(back) == cluster_tags(before), path.name


def test_stix_from_elsewhere_goes_back_as_an_attack_galaxy() -> None:
    technique = {
        "type": "attack-pattern",
        "spec_version": "2.1",
        "id": "attack-pattern--0042a9f5-f053-4769-b3ef-9ad018dfa298",
        "created": "2020-01-14T17:18:32.126Z",
        "modified": "2020-01-14T17:18:32.126Z",
        "name": "Spearphishing Attachment",
        "external_references": [{"source_name": "mitre-attack", "external_id": "T1566.001"}],
    }
    report = {
        "type": "report",
        "spec_version": "2.1",
        "id": "report--6f0a4a6e-8a8f-4c39-9f7f-7d5a57a1f0c1",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": "Phishing wave",
        "published": "2026-01-01T00:00:00.000Z",
        "object_refs": [technique["id"]],
    }
    event = writing.stix_to_events([technique, report], "JM node")[0]["Event"]
    tag = 'misp-galaxy:mitre-attack-pattern="Spearphishing Attachment - T1566.001"'
    assert {t["name"] for t in event["Tag"]} >= {tag}
    assert event["Galaxy"][0]["GalaxyCluster"][0]["meta"] == {"external_id": ["T1566.001"]}
