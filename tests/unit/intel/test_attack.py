"""MITRE ATT&CK import: real Enterprise (STIX 2.0) and ICS (STIX 2.1) slices, into one
reference collection, idempotent by ``modified``."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from seawall.core.access import Principal, Role
from seawall.core.node import Node
from seawall.db.models.core import AuditEntry
from seawall.db.models.intel import IntelObject
from seawall.errors import Forbidden
from seawall.intel import attack, search
from seawall.intel.collections import get_collection
from seawall.intel.errors import NotAnAttackBundle, UnreadableIntel
from tests.cli import init_node, run_seawall

DATA = Path(__file__).parents[2] / "data" / "attack"
ICS = DATA / "ics-attack-slice.json"
ENTERPRISE = DATA / "enterprise-attack-slice.json"
TT = Principal("tt-analyst", "TT", Role.ANALYST, user_id="tt-analyst")


def objects_of(path: Path) -> list[dict[str, Any]]:
    return attack.read_bundle(path.read_bytes(), path.name)


def stored(node: Node, alias: str = attack.DEFAULT_ALIAS) -> Counter[str]:
    with node.unit(node.operator()) as ctx:
        collection = get_collection(ctx, alias)
        rows = ctx.db.execute(
            select(IntelObject.type, func.count())
            .where(IntelObject.collection_id == collection.id)
            .group_by(IntelObject.type)
        )
        return Counter({str(row[0]): int(row[1]) for row in rows})


def test_ics_bundle_lands_whole_in_a_clear_reference_collection(node: Node) -> None:
    objects = objects_of(ICS)
    with node.unit(node.operator()) as ctx:
        report = attack.import_attack(ctx, objects)
        collection = get_collection(ctx, "mitre-attack")
        assert (collection.default_tlp, collection.owner_nation) == ("clear", "JM")
    assert report.domains == ["ATT&CK for ICS"]
    assert (len(report.added), report.unchanged, report.rejected) == (len(objects), 0, [])
    assert stored(node) == Counter(o["type"] for o in objects)
    # Another nation's user reads it, x_mitre_* properties intact.
    technique = next(o for o in objects if attack.attack_id(o) == "T0803")
    with node.unit(TT) as ctx:
        newest = search.history(ctx, get_collection(ctx, "mitre-attack"), technique["id"])[0]
    assert newest.body == technique
    assert newest.body["x_mitre_domains"] == ["ics-attack"]


def test_reimport_adds_nothing_and_a_newer_release_adds_only_what_changed(node: Node) -> None:
    objects = objects_of(ICS)
    with node.unit(node.operator()) as ctx:
        attack.import_attack(ctx, objects)
    with node.unit(node.operator()) as ctx:
        again = attack.import_attack(ctx, objects_of(ICS))
        audited = [
            (e.action, e.detail["added"], e.detail["unchanged"])
            for e in ctx.db.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "intel.attack.imported")
                .order_by(AuditEntry.seq)
            )
        ]
    assert (again.added, again.unchanged, again.total) == ([], len(objects), len(objects))
    assert audited == [
        ("intel.attack.imported", len(objects), 0),
        ("intel.attack.imported", 0, len(objects)),
    ]
    newer = objects_of(ICS)
    changed = next(o for o in newer if attack.attack_id(o) == "T0814")
    changed["modified"] = "2026-01-01T00:00:00.000Z"
    changed["name"] = "Denial of Service (renamed)"
    with node.unit(node.operator()) as ctx:
        third = attack.import_attack(ctx, newer)
    assert [r.id for r in third.added] == [changed["id"]]
    assert third.unchanged == len(objects) - 1
    with node.unit(node.operator()) as ctx:
        versions = search.history(ctx, get_collection(ctx, "mitre-attack"), changed["id"])
    assert [v.body["name"] for v in versions] == [
        "Denial of Service (renamed)",
        "Denial of Service",
    ]


def test_enterprise_stix_2_0_objects_are_read_as_2_1(node: Node) -> None:
    objects = objects_of(ENTERPRISE)
    assert {o["spec_version"] for o in objects} == {"2.1"}
    assert all(o["is_family"] for o in objects if o["type"] == "malware")
    with node.unit(node.operator()) as ctx:
        report = attack.import_attack(ctx, objects, alias="attack-ref")
    assert report.domains == ["Enterprise ATT&CK"]
    assert (len(report.added), report.rejected) == (len(objects), [])
    assert stored(node, "attack-ref") == Counter(
        {
            "relationship": 17,
            "x-mitre-tactic": 14,
            "attack-pattern": 8,
            "intrusion-set": 2,
            "malware": 2,
            "tool": 1,
            "identity": 1,
            "marking-definition": 1,
            "x-mitre-matrix": 1,
        }
    )


def test_a_bundle_that_is_not_attack_is_refused() -> None:
    bundle = {
        "type": "bundle",
        "id": "bundle--6f0a4a6e-8a8f-4c39-9f7f-7d5a57a1f0c1",
        "objects": [
            {
                "type": "identity",
                "spec_version": "2.1",
                "id": "identity--6f0a4a6e-8a8f-4c39-9f7f-7d5a57a1f0c2",
                "created": "2026-01-01T00:00:00.000Z",
                "modified": "2026-01-01T00:00:00.000Z",
                "name": "Not MITRE",
            }
        ],
    }
    with pytest.raises(NotAnAttackBundle):
        attack.read_bundle(json.dumps(bundle).encode())


@pytest.mark.parametrize("objects", [5, "x-mitre-matrix", {"type": "x-mitre-matrix"}, True])
def test_a_bundle_whose_objects_are_not_a_list_is_refused_in_one_line(objects: Any) -> None:
    data = json.dumps({"type": "bundle", "id": "bundle--1", "objects": objects}).encode()
    with pytest.raises(NotAnAttackBundle, match="objects"):
        attack.read_bundle(data, "hostile.json")


@pytest.mark.parametrize("stray", [5, "attack-pattern--1", None, ["x"]])
def test_a_bundle_with_an_object_that_is_not_an_object_is_refused_whole(stray: Any) -> None:
    bundle = json.loads(ICS.read_bytes())
    bundle["objects"].insert(2, stray)
    with pytest.raises(NotAnAttackBundle, match="object 3 is not a JSON object"):
        attack.read_bundle(json.dumps(bundle).encode(), "hostile.json")


def test_a_bundle_past_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    # The real limit: bytes(n) and a sparse file cost no memory or disk until read.
    attack.check_size(attack.MAX_BUNDLE_BYTES, ICS.name)
    with pytest.raises(UnreadableIntel, match="at most"):
        attack.read_bundle(bytes(attack.MAX_BUNDLE_BYTES + 1), ICS.name)
    home = init_node(tmp_path / "home")
    big = tmp_path / "huge.json"
    with big.open("wb") as sparse:
        sparse.truncate(attack.MAX_BUNDLE_BYTES + 1)
    result = run_seawall(home, "intel", "attack", "import", str(big))
    assert result.code == 65, result.output
    assert "at most" in result.err and "Traceback" not in result.err


def test_cli_imports_a_bundle_and_says_what_changed(tmp_path: Path) -> None:
    home = init_node(tmp_path / "home")
    first = run_seawall(home, "intel", "attack", "import", str(ICS), "--json")
    assert first.code == 0, first.output
    total = len(objects_of(ICS))
    assert first.json() | {"rejected": []} == {
        "collection": "mitre-attack",
        "domains": ["ATT&CK for ICS"],
        "total": total,
        "added": total,
        "unchanged": 0,
        "rejected": [],
    }
    again = run_seawall(home, "intel", "attack", "import", str(ICS))
    assert again.code == 0, again.output
    assert f"mitre-attack: 0 added, {total} unchanged" in again.err
    wrong = run_seawall(home, "intel", "attack", "import", str(DATA / "README.md"))
    assert wrong.code == 65, wrong.output


def test_the_marking_definition_may_come_last_in_a_bundle(node: Node) -> None:
    objects = objects_of(ICS)
    objects.sort(key=lambda o: o["type"] == "marking-definition")
    with node.unit(node.operator()) as ctx:
        report = attack.import_attack(ctx, objects, batch=5)
    assert (len(report.added), report.rejected) == (len(objects), [])


def test_only_a_writer_of_the_collection_imports_even_when_nothing_changed(node: Node) -> None:
    objects = objects_of(ICS)
    with node.unit(node.operator()) as ctx:
        attack.import_attack(ctx, objects)
    viewer = Principal("jm-viewer", "JM", Role.VIEWER, user_id="jm-viewer")
    with node.unit(viewer) as ctx, pytest.raises(Forbidden):
        attack.import_attack(ctx, objects)
    with node.unit(node.operator()) as ctx:
        imports = ctx.db.scalar(
            select(func.count()).where(AuditEntry.action == "intel.attack.imported")
        )
    assert imports == 1
