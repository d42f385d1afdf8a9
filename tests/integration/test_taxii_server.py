"""The TAXII 2.1 server through a real uvicorn on 127.0.0.1, driven by the OASIS taxii2-client."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
import requests
from sqlalchemy import func, select
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from seawall.core import organisations, tokens, users
from seawall.core.clock import FrozenClock
from seawall.core.node import Node
from seawall.db.models import ApiToken
from seawall.db.models.intel import IntelObject
from seawall.intel.collections import Audience, create_collection
from seawall.intel.tlp import Tlp, marking_id
from seawall.web.app import create_app
from tests.conftest import LiveServer, serve_in_thread

MEDIA = "application/taxii+json;version=2.1"
STAMP = "2026-11-01T10:00:00.000Z"


def indicator(
    n: int,
    tlp: Tlp | None = None,
    modified: str = STAMP,
    pattern: str | None = None,
    ident: str | None = None,
) -> dict[str, Any]:
    """A valid STIX 2.1 indicator numbered ``n``."""
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": ident or f"indicator--{uuid.UUID(int=n, version=4)}",
        "created": STAMP,
        "modified": modified,
        "pattern": pattern or f"[ipv4-addr:value = '198.51.100.{n % 250}']",
        "pattern_type": "stix",
        "valid_from": STAMP,
    }
    if tlp is not None:
        obj["object_marking_refs"] = [marking_id(tlp)]
    return obj


@dataclass
class Taxii:
    """A live TAXII server, its collection and the callers' credentials."""

    live: LiveServer
    node: Node
    clock: FrozenClock
    collection_id: str
    secrets: dict[str, str]

    @property
    def root(self) -> str:
        return f"{self.live.url}/taxii2/api/"

    def collection(self, user: str) -> Collection:
        url = f"{self.root}collections/{self.collection_id}/"
        return Collection(url, user=user, password=self.secrets[user])

    def objects_url(self) -> str:
        return f"{self.root}collections/{self.collection_id}/objects/"

    def bearer(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets[user]}", "Accept": MEDIA}

    def stored(self) -> int:
        with self.node.unit(self.node.operator()) as ctx:
            return ctx.db.scalar(select(func.count()).select_from(IntelObject)) or 0


@pytest.fixture
def taxii(live_server: LiveServer, node: Node, clock: FrozenClock) -> Taxii:
    with node.unit(node.operator()) as ctx:
        cirt = organisations.add_org(ctx, "CIRT-JM", "cirt")
        users.add_user(ctx, "jm-analyst", "analyst", org=cirt.id)
        users.add_user(ctx, "tt-viewer", "viewer", nation="TT")
        secrets = {
            "jm-analyst": tokens.create_token(ctx, "taxii", [], username="jm-analyst").value,
            "tt-viewer": tokens.create_token(ctx, "taxii", [], username="tt-viewer").value,
        }
        shared = create_collection(ctx, "shared", "Shared indicators", Audience(), "green")
        collection_id = shared.id
    return Taxii(live_server, node, clock, collection_id, secrets)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def test_client_discovers_the_api_root_and_its_collections(taxii: Taxii) -> None:
    server = Server(
        f"{taxii.live.url}/taxii2/", user="jm-analyst", password=taxii.secrets["jm-analyst"]
    )
    assert server.title.startswith("Seawall TAXII")
    assert [root.url for root in server.api_roots] == [taxii.root]
    root: ApiRoot = server.default
    assert root.versions == [MEDIA]
    assert root.max_content_length == taxii.node.settings.max_body_bytes
    [collection] = root.collections
    assert (collection.id, collection.alias) == (taxii.collection_id, "shared")
    assert collection.can_read and collection.can_write
    assert collection.media_types == ["application/stix+json;version=2.1"]


def test_client_adds_objects_and_follows_next_pages(taxii: Taxii) -> None:
    collection = taxii.collection("jm-analyst")
    sent = [indicator(n) for n in range(1, 26)]
    status = collection.add_objects({"objects": sent})
    assert (status.status, status.success_count, status.failure_count) == ("complete", 25, 0)
    pages = list(as_pages(collection.get_objects, per_request=10))
    assert [len(page.get("objects", [])) for page in pages] == [10, 10, 5]
    assert [page["more"] for page in pages] == [True, True, False]
    got = [obj for page in pages for obj in page["objects"]]
    assert got == sent
    status_again = ApiRoot(
        taxii.root, user="jm-analyst", password=taxii.secrets["jm-analyst"]
    ).get_status(status.id)
    assert status_again.success_count == 25


def test_objects_answer_carries_date_added_headers(taxii: Taxii, http: httpx.Client) -> None:
    taxii.collection("jm-analyst").add_objects({"objects": [indicator(1)]})
    taxii.clock.advance(minutes=5)
    taxii.collection("jm-analyst").add_objects({"objects": [indicator(2)]})
    answer = http.get(taxii.objects_url(), headers=taxii.bearer("jm-analyst"))
    assert answer.status_code == 200
    assert answer.headers["content-type"] == MEDIA
    assert answer.headers["X-TAXII-Date-Added-First"] == "2026-11-23T09:00:00.000000Z"
    assert answer.headers["X-TAXII-Date-Added-Last"] == "2026-11-23T09:05:00.000000Z"


def test_filters_and_versions_follow_the_spec_defaults(taxii: Taxii) -> None:
    collection = taxii.collection("jm-analyst")
    first = indicator(1)
    second = {**first, "modified": "2026-11-02T10:00:00.000Z", "name": "v2"}
    collection.add_objects({"objects": [first, indicator(2)]})
    taxii.clock.advance(minutes=5)
    collection.add_objects({"objects": [second, {**indicator(3), "type": "indicator"}]})

    latest = collection.get_objects()["objects"]
    assert {(o["id"], o["modified"]) for o in latest} == {
        (first["id"], second["modified"]),
        (indicator(2)["id"], STAMP),
        (indicator(3)["id"], STAMP),
    }
    every = collection.get_objects(version="all")["objects"]
    assert len(every) == 4
    assert collection.get_object(first["id"], version="first")["objects"] == [first]
    assert collection.get_object(first["id"])["objects"] == [second]
    versions = collection.object_versions(first["id"])["versions"]
    assert versions == ["2026-11-01T10:00:00.000000Z", "2026-11-02T10:00:00.000000Z"]
    assert collection.get_objects(id=indicator(2)["id"])["objects"] == [indicator(2)]
    assert collection.get_objects(type="malware") == {"more": False}
    added_later = collection.get_objects(added_after="2026-11-23T09:01:00Z")["objects"]
    assert {o["id"] for o in added_later} == {first["id"], indicator(3)["id"]}
    manifest = collection.get_manifest(id=first["id"], version="all")["objects"]
    assert [m["version"] for m in manifest] == versions
    assert manifest[0]["media_type"] == "application/stix+json;version=2.1"
    assert collection.get_objects(spec_version="2.0") == {"more": False}


def test_green_reader_of_another_nation_cannot_see_amber(taxii: Taxii, http: httpx.Client) -> None:
    green, amber, strict = indicator(1, Tlp.GREEN), indicator(2, Tlp.AMBER), indicator(3)
    strict["object_marking_refs"] = [marking_id(Tlp.AMBER_STRICT)]
    taxii.collection("jm-analyst").add_objects({"objects": [green, amber, strict]})
    reader = taxii.collection("tt-viewer")
    assert reader.get_objects()["objects"] == [green]
    assert [m["id"] for m in reader.get_manifest()["objects"]] == [green["id"]]
    hidden = http.get(f"{taxii.objects_url()}{amber['id']}/", headers=taxii.bearer("tt-viewer"))
    assert hidden.status_code == 404
    assert hidden.json()["http_status"] == "404"
    # The writer's own organisation sees all three.
    assert len(taxii.collection("jm-analyst").get_objects()["objects"]) == 3


def test_delete_removes_the_versions_asked_for(taxii: Taxii, http: httpx.Client) -> None:
    collection = taxii.collection("jm-analyst")
    first = indicator(1)
    collection.add_objects({"objects": [first, {**first, "modified": "2026-11-02T10:00:00Z"}]})
    url = f"{taxii.objects_url()}{first['id']}/"
    gone = http.delete(url, params={"match[version]": "first"}, headers=taxii.bearer("jm-analyst"))
    assert gone.status_code == 200
    assert collection.object_versions(first["id"])["versions"] == ["2026-11-02T10:00:00.000000Z"]
    refused = http.delete(url, headers=taxii.bearer("tt-viewer"))
    assert refused.status_code == 403
    assert http.delete(url, headers=taxii.bearer("jm-analyst")).status_code == 200
    assert http.get(url, headers=taxii.bearer("jm-analyst")).status_code == 404


def test_cursor_survives_a_restart(taxii: Taxii, http: httpx.Client) -> None:
    taxii.collection("jm-analyst").add_objects({"objects": [indicator(n) for n in range(1, 6)]})
    first = http.get(taxii.objects_url(), params={"limit": 2}, headers=taxii.bearer("jm-analyst"))
    cursor = first.json()["next"]
    taxii.live.stop()
    fresh = Node(taxii.node.settings, clock=taxii.clock)
    again = serve_in_thread(create_app(node=fresh))
    try:
        url = taxii.objects_url().replace(taxii.live.url, again.url)
        rest = http.get(url, params={"next": cursor}, headers=taxii.bearer("jm-analyst")).json()
        assert [o["id"] for o in rest["objects"]] == [indicator(n)["id"] for n in range(3, 6)]
        assert rest["more"] is False
    finally:
        again.stop()
        fresh.close()


# -- bad input ------------------------------------------------------------------------------


def post(http: httpx.Client, taxii: Taxii, body: bytes, **headers: str) -> httpx.Response:
    sent = {**taxii.bearer("jm-analyst"), "Content-Type": MEDIA, **headers}
    return http.post(taxii.objects_url(), content=body, headers=sent)


def assert_taxii_error(answer: httpx.Response, status: int, needle: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == MEDIA
    body = answer.json()
    assert body["http_status"] == str(status)
    assert body["title"]
    assert needle in body["description"]


def test_malformed_json_is_a_400_in_taxii_form(taxii: Taxii, http: httpx.Client) -> None:
    assert_taxii_error(post(http, taxii, b'{"objects": [}'), 400, "not valid JSON")
    assert taxii.stored() == 0


def test_a_bundle_where_an_envelope_is_expected_is_422(taxii: Taxii, http: httpx.Client) -> None:
    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": [indicator(1)]}
    assert_taxii_error(post(http, taxii, json.dumps(bundle).encode()), 422, "STIX bundle")
    assert taxii.stored() == 0


def test_bad_objects_fail_alone_and_the_rest_is_kept(taxii: Taxii) -> None:
    unknown = indicator(1)
    unknown["object_marking_refs"] = [f"marking-definition--{uuid.uuid4()}"]
    broken = indicator(2, pattern="[ipv4-addr:value = '10.0.0.1'")
    good = indicator(3)
    status = taxii.collection("jm-analyst").add_objects({"objects": [unknown, broken, good]})
    assert (status.success_count, status.failure_count) == (1, 2)
    messages = {f["id"]: f["message"] for f in status.failures}
    assert "object_marking_refs" in messages[unknown["id"]]
    assert "unknown marking" in messages[unknown["id"]]
    assert "'pattern' does not parse" in messages[broken["id"]]
    assert taxii.collection("jm-analyst").get_objects()["objects"] == [good]


def test_duplicate_is_reported_and_not_added_again(taxii: Taxii) -> None:
    collection = taxii.collection("jm-analyst")
    collection.add_objects({"objects": [indicator(1)]})
    status = collection.add_objects({"objects": [indicator(1)]})
    assert status.success_count == 1
    assert "not added again" in status.successes[0]["message"]
    assert taxii.stored() == 1


def test_oversized_body_is_refused_with_413(taxii: Taxii, http: httpx.Client) -> None:
    limit = taxii.node.settings.max_body_bytes
    answer = post(http, taxii, b"{" + b" " * limit + b"}")
    assert answer.status_code == 413
    assert taxii.stored() == 0


def test_expired_token_is_refused_with_the_reason(taxii: Taxii, http: httpx.Client) -> None:
    with taxii.node.unit(taxii.node.operator()) as ctx:
        for row in ctx.db.scalars(select(ApiToken)):
            row.expires_at = ctx.now() - timedelta(days=1)
    answer = http.get(taxii.objects_url(), headers=taxii.bearer("jm-analyst"))
    assert_taxii_error(answer, 401, "expired")
    assert "WWW-Authenticate" in answer.headers
    with pytest.raises(requests.HTTPError):
        taxii.collection("jm-analyst").get_objects()


def test_media_types_are_negotiated(taxii: Taxii, http: httpx.Client) -> None:
    wrong_accept = {**taxii.bearer("jm-analyst"), "Accept": "application/json"}
    assert_taxii_error(http.get(taxii.objects_url(), headers=wrong_accept), 406, "Accept")
    old = {**taxii.bearer("jm-analyst"), "Accept": "application/taxii+json;version=2.0"}
    assert http.get(taxii.objects_url(), headers=old).status_code == 406
    spaced = {**taxii.bearer("jm-analyst"), "Accept": "application/taxii+json; version=2.1"}
    assert http.get(taxii.objects_url(), headers=spaced).status_code == 200
    answer = post(http, taxii, b'{"objects": []}', **{"Content-Type": "application/json"})
    assert_taxii_error(answer, 415, "Content-Type")


def test_unknown_collection_and_bad_cursor(taxii: Taxii, http: httpx.Client) -> None:
    missing = taxii.objects_url().replace(taxii.collection_id, str(uuid.uuid4()))
    assert_taxii_error(http.get(missing, headers=taxii.bearer("jm-analyst")), 404, "collection")
    bad = http.get(taxii.objects_url(), params={"next": "nope"}, headers=taxii.bearer("jm-analyst"))
    assert_taxii_error(bad, 400, "cursor")
    late = http.get(
        taxii.objects_url(), params={"added_after": "yesterday"}, headers=taxii.bearer("jm-analyst")
    )
    assert_taxii_error(late, 400, "added_after")


def test_unicode_digits_in_paging_parameters_are_a_400_not_a_crash(
    taxii: Taxii, http: httpx.Client
) -> None:
    """``"8\u00b9".isdigit()`` is True in Python but ``int()`` refuses it: found by Schemathesis."""
    answer = http.get(
        taxii.objects_url(), headers=taxii.bearer("jm-analyst"), params={"limit": "8\u00b9"}
    )
    assert_taxii_error(answer, 400, "limit")
    cursor = http.get(
        taxii.objects_url(), headers=taxii.bearer("jm-analyst"), params={"next": "1.\u00b9"}
    )
    assert cursor.status_code == 400
