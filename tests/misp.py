"""The eight real PyMISP test events (tests/data/misp) through a node's store and back."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from seawall.core.access import Principal, Role
from seawall.core.node import Node
from seawall.intel import ingest, search
from seawall.intel.collections import create_collection

DATA = Path(__file__).parent / "data" / "misp"
ANALYST = Principal("jm-analyst", "JM", Role.ANALYST, user_id="u1", org_id="org-jm")


def event_of(document: Mapping[str, Any]) -> Mapping[str, Any]:
    """The event of a MISP document, wrapped in ``{"Event": ...}`` or not."""
    found = document.get("Event", document)
    assert isinstance(found, Mapping)
    return found


def read_event(path: Path) -> Mapping[str, Any]:
    """The event in a MISP JSON file."""
    return event_of(json.loads(path.read_text(encoding="utf-8")))


def stored_and_exported(node: Node) -> list[Mapping[str, Any]]:
    """Import every event into a new collection, refusing nothing; export them as MISP."""
    with node.unit(ANALYST) as ctx:
        collection = create_collection(ctx, "misp")
        for path in sorted(DATA.glob("*.json")):
            report = ingest.import_objects(ctx, collection, ingest.parse_path(path))
            assert report.rejected == [], report.rejected
    with node.unit(ANALYST) as ctx:
        exported = search.misp_events(ctx, [collection], "JM node", include_inactive=True)
    return [event_of(e) for e in exported["response"]]
