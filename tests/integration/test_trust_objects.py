"""Who may define and version what, over a real TAXII server: markings, creators, oracles."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from seawall.core import organisations, tokens, users
from seawall.core.node import Node
from seawall.db.models.intel import IntelObject
from seawall.intel import cases, ingest
from seawall.intel.collections import Audience, create_collection, get_collection
from seawall.intel.identity import identity_id
from seawall.intel.ingest import Format
from seawall.intel.taxii import MEDIA_TYPE
from seawall.intel.tlp import TLP2_EXTENSION, Tlp, marking_id
from tests.conftest import LiveServer

STAMP = "2026-11-01T10:00:00.000Z"
LATER = "2026-11-05T10:00:00.000Z"
CUSTOM = f"marking-definition--{uuid.uuid5(uuid.NAMESPACE_URL, 'jm/custom-red')}"


def marking(level: str, created: str = STAMP, creator: str = "JM") -> dict[str, Any]:
    """A custom marking definition that declares a TLP 2.0 level."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": CUSTOM,
        "created": created,
        "created_by_ref": identity_id(creator),
        "name": f"JM ministries ({level})",
        "extensions": {TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level}},
    }


def indicator(n: int, markings: list[str], creator: str | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid5(uuid.NAMESPACE_URL, f'trust/{n}')}",
        "created": STAMP,
        "modified": STAMP,
        "pattern": f"[domain-name:value = 'trust{n}.example']",
        "pattern_type": "stix",
        "valid_from": STAMP,
        "object_marking_refs": markings,
    }
    if creator:
        obj["created_by_ref"] = identity_id(creator)
    return obj


@dataclass
class Node2:
    """One node with Jamaican and Trinidadian writers on a collection both may use."""

    node: Node
    live: LiveServer
    collection_id: str
    secrets: dict[str, str]

    def post(self, user: str, objects: list[dict[str, Any]]) -> httpx.Response:
        return httpx.post(
            f"{self.live.url}/taxii2/api/collections/{self.collection_id}/objects/",
            content=json.dumps({"objects": objects}),
            headers=self.headers(user) | {"Content-Type": MEDIA_TYPE},
            timeout=10,
        )

    def get(self, user: str, path: str, **params: str) -> httpx.Response:
        return httpx.get(
            f"{self.live.url}/taxii2/api/{path}", params=params, headers=self.headers(user)
        )

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets[user]}", "Accept": MEDIA_TYPE}

    def rows(self, stix_id: str) -> list[IntelObject]:
        with self.node.unit(self.node.operator()) as ctx:
            found = ctx.db.scalars(select(IntelObject).where(IntelObject.stix_id == stix_id))
            rows = list(found)
            ctx.db.expunge_all()
            return rows


@pytest.fixture
def two(live_server: LiveServer, node: Node) -> Node2:
    with node.unit(node.operator()) as ctx:
        cirt = organisations.add_org(ctx, "JaCIRT", "cirt")
        other = organisations.add_org(ctx, "Ministry", "ministry")
        users.add_user(ctx, "jm-analyst", "analyst", org=cirt.id)
        users.add_user(ctx, "jm-colleague", "analyst", org=other.id)
        users.add_user(ctx, "tt-analyst", "analyst", nation="TT")
        secrets = {
            name: tokens.create_token(ctx, "t", [], username=name).value
            for name in ("jm-analyst", "jm-colleague", "tt-analyst")
        }
        shared = create_collection(
            ctx, "shared", "Shared", Audience.of(nations=["JM", "TT"]), "green"
        )
    return Node2(node, live_server, shared.id, secrets)


def test_no_writer_can_redefine_a_marking_to_loosen_it(two: Node2) -> None:
    assert two.post("jm-analyst", [marking("red")]).json()["success_count"] == 1
    # A newer version declaring CLEAR, from another nation and from Jamaica itself.
    forged = marking("clear", created=LATER, creator="TT")
    assert two.post("tt-analyst", [forged]).json()["failure_count"] == 1
    again = marking("clear", created=LATER)
    refused = two.post("jm-analyst", [again]).json()
    assert refused["failure_count"] == 1
    assert "never changes" in refused["failures"][0]["message"]
    # The same (id, version) with another level in the batch is that version already.
    sneaky = {**marking("clear"), "name": "renamed"}
    marked = indicator(1, [CUSTOM])
    status = two.post("jm-analyst", [sneaky, marked]).json()
    [same] = [ok for ok in status["successes"] if ok["id"] == CUSTOM]
    assert same["message"].startswith("already in the collection")
    [row] = two.rows(marked["id"])
    assert row.tlp == int(Tlp.RED)
    [definition] = two.rows(CUSTOM)
    assert json.loads(definition.body)["extensions"][TLP2_EXTENSION]["tlp_2_0"] == "red"


def test_no_writer_can_version_another_nations_case_over_taxii(two: Node2) -> None:
    with two.node.unit(two.node.operator()) as ctx:
        jm_analyst = users.principal_of(users.get_user(ctx, "jm-analyst"))
    with two.node.unit(jm_analyst) as ctx:
        case = cases.open_case(ctx, "shared", "Lure", tlp="green")
    [row] = two.rows(case.id)
    forged = json.loads(row.body)
    forged["modified"] = "2099-01-01T00:00:00.000Z"
    forged["extensions"][cases.INCIDENT_CORE]["investigation_status"] = "closed"
    status = two.post("tt-analyst", [forged]).json()
    assert status["failure_count"] == 1, status
    assert "JM's identity" in status["failures"][0]["message"]
    # Claiming it as Trinidad's own does not help either: the object is Jamaica's.
    forged["created_by_ref"] = identity_id("TT")
    status = two.post("tt-analyst", [forged]).json()
    assert status["failure_count"] == 1 and "belongs to JM" in status["failures"][0]["message"]
    assert len(two.rows(case.id)) == 1
    with two.node.unit(jm_analyst) as ctx:
        assert cases.show_case(ctx, case.id).status == cases.Status.NEW


def test_a_misp_import_cannot_version_another_nations_object(two: Node2) -> None:
    theirs = indicator(2, [marking_id(Tlp.GREEN)], creator="JM")
    assert two.post("jm-analyst", [theirs]).json()["success_count"] == 1
    attribute = theirs["id"].removeprefix("indicator--")
    event = {
        "Event": {
            "uuid": str(uuid.uuid4()),
            "info": "Re-published",
            "date": "2026-11-06",
            "Orgc": {"uuid": str(uuid.uuid4()), "name": "TT-CSIRT"},
            "Tag": [{"name": "tlp:green"}],
            "Attribute": [
                {
                    "uuid": attribute,
                    "type": "domain",
                    "category": "Network activity",
                    "value": "changed.example",
                    "to_ids": True,
                    "timestamp": "1793000000",
                }
            ],
        }
    }
    with two.node.unit(two.node.operator()) as ctx:
        tt = users.principal_of(users.get_user(ctx, "tt-analyst"))
    with two.node.unit(tt) as ctx:
        parsed = ingest.parse_bytes("event.json", json.dumps(event).encode(), Format.MISP)
        report = ingest.import_objects(ctx, get_collection(ctx, "shared"), parsed)
    assert any("belongs to JM" in ref.message for ref in report.rejected), report.rejected
    assert [json.loads(r.body)["pattern"] for r in two.rows(theirs["id"])] == [theirs["pattern"]]


def test_a_write_never_confirms_a_hidden_object(two: Node2) -> None:
    hidden = indicator(3, [marking_id(Tlp.AMBER_STRICT)])
    assert two.post("jm-analyst", [hidden]).json()["success_count"] == 1
    # A colleague in another organisation may not read it: the same id, a duplicate or a
    # new version, is answered as if it were new, and nothing of theirs is stored.
    for attempt in (hidden, {**hidden, "modified": LATER}):
        status = two.post("jm-colleague", [attempt]).json()
        assert status["success_count"] == 1 and "message" not in status["successes"][0]
    newer = {**hidden, "modified": LATER, "created_by_ref": identity_id("TT")}
    status = two.post("tt-analyst", [newer]).json()
    assert status["success_count"] == 1 and "message" not in status["successes"][0]
    assert [r.submitted_by for r in two.rows(hidden["id"])] == ["jm-analyst", "jm-colleague"]


def test_a_status_is_read_by_the_client_that_posted_it_only(two: Node2) -> None:
    posted = two.post("jm-analyst", [indicator(4, [marking_id(Tlp.RED)])]).json()
    assert two.get("jm-analyst", f"status/{posted['id']}/").status_code == 200
    assert two.get("jm-colleague", f"status/{posted['id']}/").status_code == 404
    assert two.get("tt-analyst", f"status/{posted['id']}/").status_code == 404


def test_odd_paging_values_are_refused_before_the_database(two: Node2) -> None:
    path = f"collections/{two.collection_id}/objects/"
    assert two.get("jm-analyst", path, limit="9" * 5000).status_code == 200
    assert two.get("jm-analyst", path, limit="0" * 5000).status_code == 400
    huge = base64.urlsafe_b64encode(f"1|{STAMP}|{'9' * 40}".encode()).decode().rstrip("=")
    assert two.get("jm-analyst", path, next=huge).status_code == 400
    bare = two.post("jm-analyst", [])
    assert bare.status_code == 202
    single = httpx.post(
        f"{two.live.url}/taxii2/api/{path}",
        content=json.dumps(indicator(5, [])),
        headers=two.headers("jm-analyst") | {"Content-Type": MEDIA_TYPE},
    )
    assert single.status_code == 422 and "single STIX object" in single.text
