"""An object's neighbourhood names every relationship end, however many ids its referrers hold."""

from __future__ import annotations

import uuid

from seawall.core.access import Principal, Role
from seawall.core.node import Node
from seawall.intel.collections import create_collection, get_collection
from seawall.intel.neighbourhood import neighbourhood
from seawall.intel.search import history
from seawall.intel.store import writing
from seawall.intel.tlp import Tlp, marking_id

STAMP = "2026-11-01T10:00:00.000Z"
JM = Principal("jm-analyst", "JM", Role.ANALYST, user_id="jm-analyst", org_id=None)
INDICATOR = f"indicator--{uuid.UUID(int=1, version=4)}"
MALWARE = "malware--ffffffff-ffff-4fff-bfff-ffffffffffff"  # sorts after every other id


def _common(kind: str, object_id: str) -> dict[str, object]:
    return {
        "type": kind,
        "spec_version": "2.1",
        "id": object_id,
        "created": STAMP,
        "modified": STAMP,
        "object_marking_refs": [marking_id(Tlp.GREEN)],
    }


def test_a_report_of_many_objects_leaves_every_relationship_end_named(node: Node) -> None:
    # A MISP event becomes one report referring to every attribute: hundreds of ids.
    many = [f"indicator--{uuid.UUID(int=n, version=4)}" for n in range(2, 700)]
    bundle = [
        {
            **_common("indicator", INDICATOR),
            "name": "C2 address",
            "pattern": "[ipv4-addr:value = '198.51.100.7']",
            "pattern_type": "stix",
            "valid_from": STAMP,
        },
        {**_common("malware", MALWARE), "name": "BadRAT", "is_family": True},
        {
            **_common("relationship", f"relationship--{uuid.UUID(int=1, version=4)}"),
            "relationship_type": "indicates",
            "source_ref": INDICATOR,
            "target_ref": MALWARE,
        },
        {
            **_common("report", f"report--{uuid.UUID(int=1, version=4)}"),
            "name": "Big event",
            "published": STAMP,
            "object_refs": [INDICATOR, *many],
        },
    ]
    with node.unit(node.operator()) as ctx:
        create_collection(ctx, "shared", "Shared", None, "green")
    with node.unit(JM) as ctx:
        collection = get_collection(ctx, "shared")
        assert len(writing.add_objects(ctx, collection, bundle).added) == 4
        around = neighbourhood(ctx, "shared", history(ctx, collection, INDICATOR)[0])
    assert [(link.kind, link.target.name) for link in around.relationships] == [
        ("indicates", "BadRAT")
    ]
    assert [report.name for report in around.reports] == ["Big event"]
