"""Hostile and odd TAXII 2.1 requests against a real uvicorn: never a 5xx, always TAXII.

Every answer is checked the same way: a status below 500, the TAXII 2.1 media type
(TAXII 2.1 §1.6.8: every response, errors included) and, for an error, a TAXII error
message whose ``http_status`` is the status. Hypothesis draws the free-form values,
with few examples each, so the file runs in well under a minute.
"""

from __future__ import annotations

import base64
import http.client
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seawall.core import tokens, users
from seawall.core.clock import SystemClock
from seawall.core.node import Node, init_node
from seawall.intel.collections import Audience, create_collection
from seawall.settings import load_settings
from seawall.web.app import create_app
from tests.conftest import serve_in_thread

MEDIA = "application/taxii+json;version=2.1"
STAMP = "2026-11-01T10:00:00.000Z"
FEW = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass
class Target:
    """A live TAXII server with a collection holding one indicator, and credentials."""

    url: str
    http: httpx.Client
    node: Node
    collection_id: str
    token: str
    revoked: str
    stored_id: str

    @property
    def collection(self) -> str:
        return f"{self.url}/taxii2/api/collections/{self.collection_id}"

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Accept": MEDIA, **extra}

    def get(self, path: str, params: Any = None, **headers: str) -> httpx.Response:
        sent = {**self.headers(), **headers}
        return taxii_answer(self.http.get(f"{self.url}{path}", params=params, headers=sent))

    def objects(self, **params: str) -> httpx.Response:
        return self.get(self.collection.removeprefix(self.url) + "/objects/", params=params)

    def post(self, body: bytes, **headers: str) -> httpx.Response:
        sent = {**self.headers(), "Content-Type": MEDIA, **headers}
        answer = self.http.post(f"{self.collection}/objects/", content=body, headers=sent)
        return taxii_answer(answer)


def indicator(pattern: str = "[ipv4-addr:value = '45.77.12.9']", **extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": STAMP,
        "modified": STAMP,
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": STAMP,
        **extra,
    }


def taxii_answer(answer: httpx.Response) -> httpx.Response:
    """Assert what every TAXII answer must be, and hand it back."""
    assert answer.status_code < 500, (answer.request.url, answer.text[:500])
    assert answer.headers.get("content-type") == MEDIA, (answer.request.url, answer.headers)
    if answer.status_code >= 400:
        body = answer.json()
        assert body["http_status"] == str(answer.status_code), body
        assert body["title"] and "\n" not in body.get("description", "")
    return answer


def envelope(*objects: Any) -> bytes:
    return json.dumps({"objects": list(objects)}).encode()


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    home = tmp_path_factory.mktemp("taxii-fuzz")
    node = init_node(load_settings(home=home, cookie_secure=False), "JM", "Fuzz", SystemClock())
    with node.unit(node.operator()) as ctx:
        users.add_user(ctx, "fuzzer", "analyst")
        token = tokens.create_token(ctx, "fuzz", [], username="fuzzer").value
        gone = tokens.create_token(ctx, "gone", [], username="fuzzer")
        tokens.revoke_token(ctx, gone.token.id)
        collection_id = create_collection(ctx, "fuzz", "Fuzz", Audience(), "green").id
    live = serve_in_thread(create_app(node=node))
    with httpx.Client(timeout=60) as http:
        t = Target(live.url, http, node, collection_id, token, gone.value, "")
        first = indicator()
        assert t.post(envelope(first)).status_code == 202
        t.stored_id = first["id"]
        yield t
    live.stop()
    node.close()


# -- negotiation ------------------------------------------------------------------------------

ACCEPTS = [
    "",
    "*/*",
    "application/*",
    "application/json",
    "text/html",
    "application/taxii+json",
    "application/taxii+json;version=2.0",
    "application/taxii+json;version=2.1;q=0",
    'application/taxii+json; version="2.1"',
    "application/taxii+json;version=2.1, application/json;q=0.5",
    ";;;,,,;=;",
    "application/taxii+json;version",
    "a" * 8000,
]
PATHS = [
    "/taxii2/",
    "/taxii2/api/",
    "/taxii2/api/collections/",
    "/taxii2/api/collections/{c}/",
    "/taxii2/api/collections/{c}/objects/",
    "/taxii2/api/collections/{c}/manifest/",
    "/taxii2/api/collections/{c}/objects/{o}/",
    "/taxii2/api/collections/{c}/objects/{o}/versions/",
    "/taxii2/api/status/{s}/",
    "/taxii2/api/collections/nope/objects/",
    "/taxii2/api/nowhere/",
    "/taxii2/api/collections/{c}/objects/%00/",
    "/taxii2/api/collections/{c}/objects/indicator--%E2%80%AE/versions/",
]


def test_every_route_answers_any_accept_header_in_taxii(target: Target) -> None:
    for path in PATHS:
        where = path.format(c=target.collection_id, o=target.stored_id, s=uuid.uuid4())
        for accept in ACCEPTS:
            answer = target.get(where, Accept=accept)
            refused = ("application/json", "text/html", "application/taxii+json;version=2.0")
            if accept in refused and "nowhere" not in where:
                assert answer.status_code == 406, (where, accept)


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "",
        "application/json",
        "text/plain",
        "application/taxii+json;version=2.0",
        "application/taxii+json;version=2.1;charset=utf-8",
        "multipart/form-data; boundary=x",
        ";;;",
    ],
)
def test_a_body_in_another_media_type_is_refused_in_taxii(
    target: Target, content_type: str | None
) -> None:
    sent = target.headers()
    if content_type is not None:
        sent["Content-Type"] = content_type
    answer = taxii_answer(
        target.http.post(f"{target.collection}/objects/", content=envelope(), headers=sent)
    )
    assert answer.status_code in (202, 415)


def test_methods_a_route_lacks_are_answered_in_taxii(target: Target) -> None:
    for method in ("PUT", "PATCH", "OPTIONS"):
        answer = taxii_answer(
            target.http.request(method, f"{target.collection}/objects/", headers=target.headers())
        )
        assert answer.status_code == 405


# -- bodies -----------------------------------------------------------------------------------

BODIES = [
    b"",
    b"null",
    b"[]",
    b"1",
    b'"objects"',
    b"{",
    b"\xff\xfe\x00{",
    b'{"objects": 1}',
    b'{"objects": {"type": "indicator"}}',
    b'{"objects": [1, "x", null, [], {}]}',
    b'{"objects": [{"type": "indicator", "id": 1e999}]}',
    b'{"objects": [{"type": "indicator", "n": ' + b"9" * 5000 + b"}]}",
    b'{"objects": [{"type": "indicator", "n": 18446744073709551616}]}',
    b"[" * 5000 + b"]" * 5000,
    b'{"objects": [' + b"{" * 2000 + b"}" * 2000 + b"]}",
    b'{"objects": [], "more": "yes", "next": 5}',
    b'{"\\u0000": "\\u0000", "objects": []}',
]


@pytest.mark.parametrize("body", BODIES, ids=range(len(BODIES)))
def test_odd_bodies_are_refused_or_reported_never_a_5xx(target: Target, body: bytes) -> None:
    answer = target.post(body)
    assert answer.status_code in (202, 400, 413, 422)
    if answer.status_code == 202:
        assert answer.json()["success_count"] == 0


def test_an_object_nested_deep_in_a_custom_property_is_refused_alone(target: Target) -> None:
    # 1,000 levels: under orjson's 1,024, over what the store could write back out.
    deep = b'{"x":' * 1000 + b"1" + b"}" * 1000
    odd = json.dumps(indicator(x_deep="DEEP")).encode().replace(b'"DEEP"', deep)
    good = indicator()
    answer = target.post(b'{"objects": [' + odd + b"," + json.dumps(good).encode() + b"]}")
    status = answer.json()
    assert (status["success_count"], status["failure_count"]) == (1, 1)
    assert "x_deep" in status["failures"][0]["message"]


def test_a_bare_stix_object_is_not_an_envelope(target: Target) -> None:
    assert target.post(json.dumps(indicator()).encode()).status_code == 422


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
PROPERTIES = st.sampled_from(
    [
        "type",
        "id",
        "spec_version",
        "created",
        "modified",
        "pattern",
        "pattern_type",
        "valid_from",
        "valid_until",
        "created_by_ref",
        "object_marking_refs",
        "granular_markings",
        "revoked",
        "labels",
        "extensions",
    ]
)


@FEW
@given(changes=st.dictionaries(PROPERTIES, JSON, min_size=1, max_size=3))
def test_objects_with_properties_of_any_type_fail_alone(
    target: Target, changes: dict[str, Any]
) -> None:
    odd, good = {**indicator(), **changes}, indicator()
    status = target.post(envelope(odd, good)).json()
    assert status["total_count"] == 2
    assert good["id"] in {s["id"] for s in status["successes"]}


# -- patterns ---------------------------------------------------------------------------------

TERM = "ipv4-addr:value = '45.77.12.9'"
PATTERNS = [
    "(" * 3000 + f"[{TERM}]" + ")" * 3000,
    "[" * 3000 + TERM + "]" * 3000,
    "[" + " OR ".join([TERM] * 5000) + "]",
    "[" + " OR ".join(["file:name LIKE 'x%'"] * 2000) + "]",
    "[file:" + ".".join(["a"] * 2000) + " LIKE 'x%']",
    "[file:name = '\u202e\u0000\U0001f600']",
    "[file:name = 'a\x00b'] OR [\x00]",
    "[domain-name:value = '\u00e9xample.\u0661\u0662']",
    "\x00",
    " ",
    "[ipv4-addr:value = '1.2.3.4'] WITHIN 99999999999999999999999 SECONDS",
    "[ipv4-addr:value = '1.2.3.4'] REPEATS 99999999999999999999999 TIMES",
    "[ipv4-addr:value = '1.2.3.4'] START t'0000-01-01T00:00:00Z' STOP t'9999-99-99T00:00:00Z'",
]


def test_odd_patterns_fail_alone_and_the_rest_is_stored(target: Target) -> None:
    sent = [indicator(p) for p in PATTERNS]
    good = indicator()
    status = target.post(envelope(*sent, good)).json()
    assert status["total_count"] == len(PATTERNS) + 1
    assert good["id"] in {s["id"] for s in status["successes"]}
    assert all("\n" not in f["message"] for f in status["failures"])
    refused = {f["id"] for f in status["failures"]}
    assert {o["id"] for o in sent[:5]} <= refused


@FEW
@given(
    pattern=st.text(
        alphabet=st.sampled_from(list("[]()' ORANDx:=.\x00\u00b2\U0001d7d8")), max_size=200
    )
)
def test_any_text_as_a_pattern_is_stored_or_refused(target: Target, pattern: str) -> None:
    status = target.post(envelope(indicator(pattern))).json()
    assert status["success_count"] + status["failure_count"] == 1


def test_an_id_in_upper_case_hex_is_stored_and_found_as_sent(target: Target) -> None:
    upper = indicator(id=f"indicator--{str(uuid.uuid4()).upper()}")
    status = target.post(envelope(upper)).json()
    assert status["success_count"] == 1, status
    found = target.objects(**{"match[id]": upper["id"]}).json()["objects"]
    assert found == [upper]
    one = target.get(f"{target.collection.removeprefix(target.url)}/objects/{upper['id']}/")
    assert one.json()["objects"] == [upper]


# -- filters and cursors ----------------------------------------------------------------------


def cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


FILTERS: list[tuple[str, str]] = [
    ("added_after", "yesterday"),
    ("added_after", "9999-99-99T99:99:99Z"),
    ("added_after", "0000-01-01T00:00:00Z"),
    ("added_after", "\u0662\u0660\u0662\u0664-01-01T00:00:00Z"),
    ("added_after", "2024-01-01T00:00:00." + "1" * 5000 + "Z"),
    ("limit", "0"),
    ("limit", "-1"),
    ("limit", "\u00b2"),
    ("limit", "\u0661\u0662"),
    ("limit", "10001"),
    ("limit", " 5"),
    ("limit", ""),
    ("match[version]", "nope"),
    ("match[version]", ",,,"),
    ("match[version]", "first,last,all,2024-02-30T00:00:00Z"),
    ("match[spec_version]", "2.1,\x00,\u00b2"),
    ("match[type]", ""),
    ("match[type]", ",,,"),
    ("match[type]", "\u202e" * 100),
    ("match[type]", "x" * 10000),
    ("match[id]", ",".join(f"indicator--{uuid.UUID(int=n + 1, version=4)}" for n in range(1000))),
    ("match[id]", "%00,\x00"),
    ("next", "!!!"),
    ("next", "="),
    ("next", "AAAA"),
    ("next", "\u00b2"),
    ("next", cursor("1|2026-01-01T00:00:00.000000Z|-1")),
    ("next", cursor("1|2026-01-01T00:00:00.000000Z|" + "9" * 5000)),
    ("next", cursor("1|99999-01-01T00:00:00Z|1")),
    ("next", cursor("1|-2026-01-01T00:00:00Z|1")),
    ("next", cursor("2|2026-01-01T00:00:00.000000Z|1")),
    ("next", cursor("1|2026-01-01T00:00:00.000000Z|1|1")),
    ("next", cursor("1|2026-01-01T00:00:00.000000Z|" + "9" * 19)),
    ("next", cursor("1|2026-01-01T00:00:00.000000Z|" + "9" * 30)),
    ("limit", "1" * 5000),
    ("limit", "9" * 20),
]
READS = ["objects/", "manifest/", "objects/{o}/", "objects/{o}/versions/"]


@pytest.mark.parametrize(("name", "value"), FILTERS, ids=[f"{n}={v[:20]!r}" for n, v in FILTERS])
def test_odd_filters_are_a_400_or_an_answer_never_a_5xx(
    target: Target, name: str, value: str
) -> None:
    for read in READS:
        path = f"{target.collection.removeprefix(target.url)}/{read.format(o=target.stored_id)}"
        answer = target.get(path, params={name: value})
        assert answer.status_code in (200, 400, 404), (read, answer.text[:300])


def raw_get(target: Target, path: str) -> tuple[int, str, bytes]:
    """GET over a plain connection: httpx will not send a query string over 64 KiB."""
    host, port = target.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        connection.request("GET", path, headers=target.headers())
        answer = connection.getresponse()
        return answer.status, answer.getheader("content-type") or "", answer.read()
    finally:
        connection.close()


def test_thousands_of_ids_in_match_id_are_answered(target: Target) -> None:
    objects = f"{target.collection.removeprefix(target.url)}/objects/"
    # As many ids as fit in uvicorn's 64 KiB request line reach the store and are answered.
    ids = [f"indicator--{uuid.uuid4()}" for _ in range(1299)] + [target.stored_id]
    query = urlencode({"match[id]": ",".join(ids)}, safe=",[]")
    status, kind, body = raw_get(target, f"{objects}?{query}")
    assert (status, kind) == (200, MEDIA), body[:300]
    assert [o["id"] for o in json.loads(body)["objects"]] == [target.stored_id]
    # 5,000 ids (245 KB) never reach the app: uvicorn refuses the request line itself.
    ids = [f"indicator--{uuid.uuid4()}" for _ in range(5000)]
    query = urlencode({"match[id]": ",".join(ids)}, safe=",[]")
    status, _, body = raw_get(target, f"{objects}?{query}")
    assert status == 400, body[:300]


def test_a_limit_over_the_cap_reads_a_full_page(target: Target) -> None:
    # TAXII 2.1 §3.4.1: a server answers at most its own page size, whatever was asked.
    for limit in ("1" * 5000, "9" * 20, "10001"):
        assert target.objects(limit=limit).status_code == 200


@FEW
@given(
    params=st.dictionaries(
        st.sampled_from(
            ["added_after", "limit", "next", "match[id]", "match[type]", "match[version]"]
        ),
        st.text(st.characters(codec="utf-8"), max_size=40),
        max_size=4,
    )
)
def test_any_filter_text_is_a_400_or_an_answer(target: Target, params: dict[str, str]) -> None:
    assert target.objects(**params).status_code in (200, 400)


def test_delete_with_odd_versions_is_never_a_5xx(target: Target) -> None:
    url = f"{target.collection}/objects/indicator--{uuid.uuid4()}/"
    for value in ("nope", "\u00b2", "", "first,," + "9" * 5000):
        answer = taxii_answer(
            target.http.delete(url, params={"match[version]": value}, headers=target.headers())
        )
        assert answer.status_code in (200, 400, 404)


# -- authentication ---------------------------------------------------------------------------


def basic(raw: bytes) -> str:
    return "Basic " + base64.b64encode(raw).decode()


def test_every_odd_authorization_is_a_401_in_taxii(target: Target) -> None:
    headers: list[str | None] = [
        None,
        "",
        "Bearer",
        "Bearer sw_nope",
        "Bearer " + "x" * 8000,
        "Token abc",
        "Digest username=x",
        "Basic",
        "Basic !!!",
        "Basic " + "A" * 5,
        basic(b"no-colon"),
        basic(b"fuzzer:"),
        basic(b"\xff\xfe:\xff"),
        basic(b"fuzzer:" + target.token.encode()[:-1]),
        basic(b"someone-else:" + target.token.encode()),
        f"Bearer {target.revoked}",
        basic(b"fuzzer:" + target.revoked.encode()),
    ]
    for header in headers:
        sent = {"Accept": MEDIA}
        if header is not None:
            sent["Authorization"] = header
        answer = taxii_answer(target.http.get(f"{target.collection}/objects/", headers=sent))
        assert answer.status_code == 401, header
        assert "WWW-Authenticate" in answer.headers
        assert target.token not in answer.text
    answer = target.http.get(
        f"{target.collection}/",
        headers={"Accept": MEDIA, "Authorization": "Bearer \u00e9".encode()},
    )
    assert taxii_answer(answer).status_code == 401


@pytest.mark.parametrize(
    "raw", [b"Basic \xff\xfe", "Basic \u00e9".encode()], ids=["latin1", "utf8"]
)
def test_basic_credentials_that_are_not_ascii_are_a_401(target: Target, raw: bytes) -> None:
    answer = target.http.get(
        f"{target.collection}/", headers={"Accept": MEDIA, "Authorization": raw}
    )
    assert taxii_answer(answer).status_code == 401
