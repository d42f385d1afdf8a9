"""The outbound queue: only what a partner may receive, once, with backoff; pages whole or not."""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from seawall.core import partners
from seawall.core.access import Principal, Role
from seawall.core.clock import FrozenClock
from seawall.core.federation.identity import NodeKey, identity_challenge
from seawall.core.federation.links import link_partner
from seawall.core.node import Node
from seawall.db.models.intel import IntelObject
from seawall.intel import outbox
from seawall.intel.collections import Audience, create_collection
from seawall.intel.policy import Holder, Recipient, may_share
from seawall.intel.store import writing
from seawall.intel.sync import sync
from seawall.intel.tlp import Tlp, marking_id
from tests.conftest import EPOCH, make_node

STAMP = "2026-11-01T10:00:00.000Z"
NATIONS = ("JM", "TT", "BB")
names = itertools.count()


def indicator(n: int, tlp: Tlp) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": STAMP,
        "modified": STAMP,
        "pattern": f"[ipv4-addr:value = '203.0.113.{n % 250}']",
        "pattern_type": "stix",
        "valid_from": STAMP,
        "object_marking_refs": [marking_id(tlp)],
    }


@pytest.fixture(scope="module")
def jm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    node = make_node(tmp_path_factory.mktemp("outbox"), None, FrozenClock(EPOCH), "JM")
    yield node
    node.close()


submitters = st.tuples(st.sampled_from(NATIONS), st.sampled_from(["org-a", "org-b", None]))
rows = st.lists(st.tuples(st.sampled_from(list(Tlp)), submitters), min_size=1, max_size=12)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    objects=rows,
    partner_nation=st.sampled_from(NATIONS),
    cap=st.sampled_from(list(Tlp)),
    lowered=st.sampled_from(list(Tlp)),
)
def test_the_queue_never_yields_an_object_the_partner_may_not_receive(
    jm: Node,
    objects: list[tuple[Tlp, tuple[str, str | None]]],
    partner_nation: str,
    cap: Tlp,
    lowered: Tlp,
) -> None:
    n = next(names)
    name = f"p{n}"
    with jm.unit(jm.operator()) as ctx:
        collection = create_collection(
            ctx, f"c{n}", audience=Audience.of(partners=[name]), default_tlp="green"
        )
        partner = partners.add_partner(
            ctx, name, partner_nation, "https://x.example", max_tlp=cap.key
        )
    expected: dict[str, Tlp] = {}
    for i, (level, (nation, org)) in enumerate(objects):
        who = Principal(f"u{i}", nation, Role.ANALYST, org_id=org, node_operator=True)
        obj = indicator(i, level)
        with jm.unit(who) as ctx:
            writing.add_objects(ctx, collection, [obj])
        recipient = Recipient(partner_nation, None, is_partner_node=True, in_community=True)
        if nation == "JM" and level <= cap and may_share(level, Holder(nation, org), recipient):
            expected[obj["id"]] = level
    with jm.unit(jm.operator()) as ctx:
        partner = partners.get_partner(ctx, name)
        assert outbox.enqueue(ctx, partner, "JM") == len(expected)
        assert outbox.enqueue(ctx, partner, "JM") == 0  # a second scan queues nothing more
        partner.max_tlp = lowered.key
        claimed = outbox.claim_due(ctx, partner, 100)
        again = outbox.claim_due(ctx, partner, 100)  # the lease holds
    got = [c.stix_id for c in claimed]
    assert len(got) == len(set(got)) and again == []
    # Queued: exactly what the policy and the cap allowed; claimed: what the lowered cap allows.
    assert set(got) == {i for i, level in expected.items() if level <= lowered}
    levels = [_level(c.body) for c in claimed]
    assert all(level <= min(cap, lowered) for level in levels)
    # AMBER and stricter never leave for another nation, whatever the caps say.
    assert all(level <= Tlp.GREEN or partner_nation == "JM" for level in levels)
    assert Tlp.AMBER_STRICT not in levels and Tlp.RED not in levels


def _level(body: str) -> Tlp:
    ref = json.loads(body)["object_marking_refs"][0]
    return next(level for level in Tlp if marking_id(level) == ref)


class FakePartner:
    """A TAXII peer served over real HTTP on 127.0.0.1, proving its identity correctly.

    Its pages script what a real partner might answer: a page, a Response (an error
    status), a function of the request, or a transport error, for which the connection is
    closed without an answer (a dropped link).
    """

    def __init__(self, pages: list[Any], can_write: bool = False) -> None:
        self.key = NodeKey(Ed25519PrivateKey.generate())
        self.pages = pages
        self.can_write = can_write
        self.asked: list[dict[str, str]] = []

    @contextmanager
    def served(self) -> Iterator[str]:
        """Serve on a free loopback port; yields the base URL."""
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                request = httpx.Request(
                    self.command,
                    f"http://127.0.0.1:{self.server.server_address[1]}{self.path}",
                    headers=dict(self.headers.items()),
                    content=self.rfile.read(length),
                )
                try:
                    answer = peer.answer(request)
                except httpx.TransportError:
                    self.close_connection = True
                    return
                self.send_response(answer.status_code)
                for name, value in answer.headers.items():
                    if name.lower() not in ("content-length", "transfer-encoding"):
                        self.send_header(name, value)
                self.send_header("content-length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = _answer

            def log_message(self, format: str, *args: Any) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()

    def answer(self, request: httpx.Request) -> httpx.Response:
        """What this peer answers to one request."""
        path = request.url.path
        taxii = {"content-type": "application/taxii+json;version=2.1"}
        if path.endswith("/identity"):
            challenge = request.url.params["challenge"]
            return httpx.Response(
                200,
                json={
                    "nation": "TT",
                    "public_key": self.key.public_text,
                    "key_id": self.key.key_id,
                    "signature": self.key.sign(identity_challenge("TT", challenge)),
                },
            )
        if path.endswith("/intel/sync/witness"):
            return httpx.Response(404, json={"error": "not_found", "message": "no witness here"})
        if path == "/taxii2/":
            return httpx.Response(200, headers=taxii, json={"default": "/taxii2/api/"})
        if path.endswith("/collections/"):
            listed = {
                "id": "c1",
                "alias": "shared",
                "title": "S",
                "can_read": True,
                "can_write": self.can_write,
            }
            return httpx.Response(200, headers=taxii, json={"collections": [listed]})
        self.asked.append(dict(request.url.params))
        page = self.pages.pop(0)
        if isinstance(page, Exception):
            raise page
        if isinstance(page, httpx.Response):
            return page
        if callable(page):
            answer: httpx.Response = page(request)
            return answer
        return httpx.Response(200, headers=taxii, content=json.dumps(page).encode())


def linked(node: Node, url: str, peer: FakePartner) -> None:
    """Register the peer as partner tt-node of ``node``."""
    with node.unit(node.operator()) as ctx:
        partners.add_partner(ctx, "tt-node", "TT", url)
        link_partner(ctx, node.settings, "tt-node", "sw_a_b", peer.key.public_text)


@pytest.mark.parametrize(
    ("page", "problem"),
    [
        ({"more": False, "objects": [indicator(1, Tlp.GREEN), "not an object"]}, "not a list"),
        ({"more": True, "objects": [indicator(2, Tlp.GREEN)]}, "gives no 'next'"),
        ({"more": "yes", "objects": []}, "bad 'more'"),
        ([indicator(3, Tlp.GREEN)], "not an object"),
    ],
)
def test_a_garbage_page_is_refused_whole(tmp_path: Path, page: Any, problem: str) -> None:
    node = make_node(tmp_path / "jm", None, FrozenClock(EPOCH), "JM")
    peer = FakePartner([page])
    try:
        with peer.served() as url:
            linked(node, url, peer)
            [report] = sync(node)
        assert report.error_code == "partner_answered_garbage"
        assert problem in report.error
        with node.unit(node.operator()) as ctx:
            assert ctx.db.scalar(select(func.count()).select_from(IntelObject)) == 0
    finally:
        node.close()


def test_a_row_is_claimed_once_and_a_failed_post_waits_on_both_backends(
    any_node: Node, clock: FrozenClock
) -> None:
    with any_node.unit(any_node.operator()) as ctx:
        row = create_collection(ctx, "shared", audience=Audience.of(nations=["TT"]))
        partner = partners.add_partner(ctx, "tt-node", "TT", "https://tt.example", max_tlp="red")
        writing.add_objects(ctx, row, [indicator(1, Tlp.GREEN), indicator(2, Tlp.AMBER)])
        assert outbox.enqueue(ctx, partner, "JM") == 1
        [first] = outbox.claim_due(ctx, partner, 10)
        outbox.mark_sent(ctx, [first.seq], "status-1")
        writing.add_objects(ctx, row, [indicator(3, Tlp.CLEAR)])
        assert outbox.enqueue(ctx, partner, "JM") == 1
        [second] = outbox.claim_due(ctx, partner, 10)
        until = outbox.defer(ctx, [second.seq], "partner tt-node cannot be reached")
        assert until == clock.now() + timedelta(minutes=1)
        assert outbox.claim_due(ctx, partner, 10) == []
        assert outbox.counts(ctx, partner.id) == {
            "pending": 1,
            "sent": 1,
            "refused": 0,
            "withheld": 0,
        }
    clock.advance(minutes=1)
    with any_node.unit(any_node.operator()) as ctx:
        partner = partners.get_partner(ctx, "tt-node")
        [again] = outbox.claim_due(ctx, partner, 10)
        assert again.seq == second.seq


def test_an_expired_next_restarts_the_run_from_added_after(tmp_path: Path) -> None:
    """A server whose cursors expire (medallion's last 30 s) is read again from added_after."""
    node = make_node(tmp_path / "jm", None, FrozenClock(EPOCH), "JM")
    first, second = indicator(1, Tlp.GREEN), indicator(2, Tlp.GREEN)
    expired = httpx.Response(400, json={"title": "Bad request", "description": "next expired"})
    peer = FakePartner(
        [
            {"more": True, "next": "n1", "objects": [first]},
            httpx.ConnectError("the link dropped"),
            expired,
            {"more": False, "objects": [first, second]},
        ]
    )
    try:
        with peer.served() as url:
            linked(node, url, peer)
            [dropped] = sync(node)
            assert dropped.error_code == "partner_unreachable" and dropped.pulled.added == 1
            [waiting] = sync(node)
            assert waiting.skipped.startswith("waiting until")
            [done] = sync(node, "tt-node")
        assert done.error == ""
        assert (done.pulled.added, done.pulled.duplicates) == (1, 1)
        assert [a.get("next") for a in peer.asked] == [None, "n1", "n1", None]
        assert all(a["match[version]"] == "all" for a in peer.asked)
    finally:
        node.close()


def test_rows_are_marked_sent_or_refused_as_the_partners_status_says(tmp_path: Path) -> None:
    node = make_node(tmp_path / "jm", None, FrozenClock(EPOCH), "JM")
    good, bad = indicator(1, Tlp.GREEN), indicator(2, Tlp.CLEAR)
    posted: list[dict[str, Any]] = []

    def status(request: httpx.Request) -> httpx.Response:
        posted.extend(json.loads(request.content)["objects"])
        return httpx.Response(
            202,
            headers={"content-type": "application/taxii+json;version=2.1"},
            json={
                "id": "status-1",
                "status": "complete",
                "total_count": 3,
                "success_count": 1,
                "successes": [{"id": good["id"], "version": "2026-11-01T10:00:00Z"}],
                "failure_count": 1,
                "failures": [{"id": bad["id"], "version": STAMP, "message": "not wanted here"}],
                "pending_count": 0,
                "pendings": [],
            },
        )

    peer = FakePartner([{"more": False}, status, {"more": False}], can_write=True)
    try:
        with node.unit(node.operator()) as ctx:
            row = create_collection(ctx, "shared", audience=Audience.of(partners=["tt-node"]))
            writing.add_objects(ctx, row, [good, bad])
        with peer.served() as url:
            linked(node, url, peer)
            [report] = sync(node)
            assert report.error == "" and report.sent == 1
            assert report.refused == [f"{bad['id']}: not wanted here"]
            assert {o["type"] for o in posted} == {"indicator", "identity"}
            [again] = sync(node, "tt-node")
            assert (again.sent, again.refused, again.pending) == (0, [], 0)
            with node.unit(node.operator()) as ctx:
                partner = partners.get_partner(ctx, "tt-node")
                assert outbox.counts(ctx, partner.id) == {
                    "pending": 0,
                    "sent": 1,
                    "refused": 1,
                    "withheld": 0,
                }
            # A month on, the delivered row is deleted (the refusal stays on record), and
            # nothing is queued or sent again for want of it.
            node.clock.advance(days=31)  # type: ignore[attr-defined]
            peer.pages += [{"more": False}, {"more": False}]
            [later] = sync(node, "tt-node")
        assert (later.error, later.sent, later.pending) == ("", 0, 0)
        with node.unit(node.operator()) as ctx:
            partner = partners.get_partner(ctx, "tt-node")
            assert outbox.counts(ctx, partner.id)["sent"] == 0
            assert outbox.counts(ctx, partner.id)["refused"] == 1
        assert len([o for o in posted if o["type"] == "indicator"]) == 2
    finally:
        node.close()


def test_an_answer_nested_past_the_stack_is_garbage_not_a_crash(tmp_path: Path) -> None:
    node = make_node(tmp_path / "jm", None, FrozenClock(EPOCH), "JM")
    deep = b'{"more": false, "objects": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    taxii = {"content-type": "application/taxii+json;version=2.1"}
    peer = FakePartner([httpx.Response(200, headers=taxii, content=deep)])
    try:
        with peer.served() as url:
            linked(node, url, peer)
            [report] = sync(node)
        assert report.error_code == "partner_answered_garbage", report.error
    finally:
        node.close()
