"""Sync between nations: real Seawall nodes on 127.0.0.1 pulling and pushing over TAXII 2.1."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from seawall.core import audit, partners, tokens, users
from seawall.core.clock import FrozenClock
from seawall.core.federation.identity import load_node_key
from seawall.core.federation.links import link_partner
from seawall.core.node import Node
from seawall.db.models import AuditEntry, Partner
from seawall.db.models.intel import IntelObject
from seawall.db.models.intel_sync import IntelOutbox, IntelSyncCursor
from seawall.intel import cases, outbox
from seawall.intel.cases import Status
from seawall.intel.collections import Audience, create_collection, get_collection
from seawall.intel.errors import NotCaseOwner
from seawall.intel.identity import identity_id
from seawall.intel.store import writing
from seawall.intel.sync import SyncReport, partner_statuses, sync
from seawall.intel.tlp import Tlp, marking_id
from seawall.web.app import create_app
from tests.conftest import EPOCH, LiveServer, free_port, make_node, serve_in_thread

STAMP = "2026-11-01T10:00:00.000Z"


def indicator(tag: str, n: int, tlp: Tlp | None, modified: str = STAMP) -> dict[str, Any]:
    """A valid indicator; ``tag`` keeps each nation's ids apart."""
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid5(uuid.NAMESPACE_URL, f'{tag}/{n}')}",
        "created": STAMP,
        "modified": modified,
        "pattern": f"[ipv4-addr:value = '198.51.{n // 250}.{n % 250}']",
        "pattern_type": "stix",
        "valid_from": STAMP,
    }
    if tlp is not None:
        obj["object_marking_refs"] = [marking_id(tlp)]
    return obj


def serve(app: object, port: int) -> LiveServer:
    """uvicorn on a chosen loopback port (so a node can come back where it was)."""
    return serve_in_thread(app, port)


@dataclass
class Site:
    """One nation's node, served on its own port."""

    key: str
    node: Node
    port: int
    live: LiveServer | None = None
    ids: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def nation(self) -> str:
        return self.node.nation

    def start(self) -> None:
        self.live = serve(create_app(node=self.node), self.port)

    def stop(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None

    def add(self, objects: list[dict[str, Any]], collection: str = "shared") -> None:
        with self.node.unit(self.node.operator()) as ctx:
            row = get_collection(ctx, collection)
            result = writing.add_objects(ctx, row, objects)
            assert not result.rejected, result.rejected
        self.node.clock.advance(seconds=1)  # type: ignore[attr-defined]

    def plant(self, objects: list[dict[str, Any]], collection: str = "shared") -> None:
        """Write rows past the store's admission rules, as root on a rogue node would."""
        with self.node.unit(self.node.operator()) as ctx:
            row = get_collection(ctx, collection)
            for obj in objects:
                version = datetime.fromisoformat(obj["modified"])
                ctx.db.add(
                    IntelObject(
                        collection_id=row.id,
                        stix_id=obj["id"],
                        type=obj["type"],
                        spec_version="2.1",
                        created=datetime.fromisoformat(obj["created"]),
                        modified=version,
                        version=version,
                        date_added=ctx.now(),
                        created_by_ref=obj.get("created_by_ref"),
                        markings=obj.get("object_marking_refs", []),
                        tlp=int(Tlp.GREEN),
                        owner_nation=self.nation,
                        owner_org=None,
                        submitted_by="operator",
                        body=json.dumps(obj),
                        superseded=False,
                    )
                )
        self.node.clock.advance(seconds=1)  # type: ignore[attr-defined]

    def held(self) -> dict[str, int]:
        """Every stored (id) with how many rows hold it."""
        with self.node.unit(self.node.operator()) as ctx:
            rows = ctx.db.execute(
                select(IntelObject.stix_id, func.count()).group_by(IntelObject.stix_id)
            ).all()
        return {str(stix_id): int(n) for stix_id, n in rows}

    def bodies(self) -> dict[str, dict[str, Any]]:
        with self.node.unit(self.node.operator()) as ctx:
            rows = ctx.db.execute(select(IntelObject.stix_id, IntelObject.body)).all()
        return {stix_id: json.loads(body) for stix_id, body in rows}


class Federation:
    """Real nodes that register each other as partners with tokens."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.sites: dict[str, Site] = {}

    def site(
        self, key: str, nation: str, audience: list[str], database_url: str | None = None
    ) -> Site:
        clock = FrozenClock(EPOCH)
        node = make_node(self.tmp / key, database_url, clock, nation)
        with node.unit(node.operator()) as ctx:
            create_collection(
                ctx, "shared", "Shared", Audience.of(nations=[nation], partners=audience), "green"
            )
        site = Site(key, node, free_port())
        site.start()
        self.sites[key] = site
        return site

    def pair(
        self,
        a: Site,
        b: Site,
        max_tlp: str = "green",
        name: str | None = None,
        nation: str | None = None,
    ) -> None:
        """Let ``a`` reach ``b``: a's sync account on b, bound to b's partner record for a,
        and b as a partner of a. Each record is made once, with the cap given by the call
        in its own direction."""
        partner_name = name or f"{b.key}-node"
        account = f"sync-{a.key}-{partner_name}"
        with b.node.unit(b.node.operator()) as ctx:
            back = f"{a.key}-node"
            if ctx.db.scalar(select(Partner).where(Partner.name == back)) is None:
                partners.add_partner(ctx, back, a.nation, a.url, max_tlp=max_tlp)
            users.add_user(ctx, account, "analyst", partner=back)
            token = tokens.create_token(ctx, "sync", [], username=account).value
            shared = get_collection(ctx, "shared")
            audience = Audience.from_json(shared.audience)
            shared.audience = Audience.of(
                nations=[*audience.nations, a.nation], partners=audience.partners
            ).to_json()
        with a.node.unit(a.node.operator()) as ctx:
            record = ctx.db.scalar(select(Partner).where(Partner.name == partner_name))
            if record is None:
                partners.add_partner(ctx, partner_name, nation or b.nation, b.url, max_tlp=max_tlp)
            else:
                record.max_tlp = max_tlp
            public = load_node_key(b.node.settings).public_text
            link_partner(ctx, a.node.settings, partner_name, token=token, public_key=public)

    def jm_and_tt(self) -> tuple[Site, Site]:
        """Jamaica and Trinidad and Tobago, each paired with the other."""
        jm = self.site("jm", "JM", ["tt-node"])
        tt = self.site("tt", "TT", ["jm-node"])
        self.pair(jm, tt)
        self.pair(tt, jm)
        return jm, tt

    def close(self) -> None:
        for site in self.sites.values():
            site.stop()
            site.node.close()


@pytest.fixture
def federation(tmp_path: Path) -> Iterator[Federation]:
    fed = Federation(tmp_path)
    yield fed
    fed.close()


def one(reports: list[SyncReport]) -> SyncReport:
    [report] = reports
    return report


def by_level(tag: str) -> dict[Tlp | None, dict[str, Any]]:
    levels: list[Tlp | None] = [None, *Tlp]
    return {level: indicator(tag, i, level) for i, level in enumerate(levels)}


def test_objects_flow_both_ways_and_amber_and_red_stay_in_their_nation(
    federation: Federation,
) -> None:
    jm = federation.site("jm", "JM", ["tt-node", "jm2-node"])
    tt = federation.site("tt", "TT", ["jm-node"])
    jm2 = federation.site("jm2", "JM", ["jm-node"])
    # Even a partner allowed up to RED by its max_tlp gets no AMBER from another nation.
    federation.pair(jm, tt, max_tlp="red")
    federation.pair(tt, jm, max_tlp="red")
    federation.pair(jm, jm2, max_tlp="amber")
    federation.pair(jm2, jm, max_tlp="amber")
    from_jm, from_tt = by_level("jm"), by_level("tt")
    jm.add(list(from_jm.values()))
    tt.add(list(from_tt.values()))

    first = one(sync(jm.node, "tt-node"))
    assert first.error == "" and first.collections == 1
    assert first.pulled.added == 3  # TT's unmarked, CLEAR and GREEN objects
    assert first.sent == 3
    assert one(sync(tt.node, "jm-node")).error == ""
    assert one(sync(jm.node, "jm2-node")).error == ""
    assert one(sync(jm2.node, "jm-node")).error == ""

    public = (None, Tlp.CLEAR, Tlp.GREEN)
    on_tt, on_jm, on_jm2 = tt.held(), jm.held(), jm2.held()
    for level, obj in from_jm.items():
        assert (obj["id"] in on_tt) == (level in public), level
        assert (obj["id"] in on_jm2) == (level in (*public, Tlp.AMBER)), level
    for level, obj in from_tt.items():
        assert (obj["id"] in on_jm) == (level in public), level
        # jm never relays what TT sent it, even to another node of its own nation.
        assert obj["id"] not in on_jm2, level
    # Every (id, version) is held once, whichever way it came.
    assert set(on_tt.values()) == {1} and set(on_jm.values()) == {1}

    # Provenance: an object sent without a creator names its nation's identity.
    unmarked = tt.bodies()[from_jm[None]["id"]]
    assert unmarked["created_by_ref"] == identity_id("JM")
    assert tt.bodies()[identity_id("JM")]["type"] == "identity"

    # A second pass moves nothing and sends nothing twice.
    again = one(sync(jm.node, "tt-node"))
    assert (again.pulled.added, again.sent, again.queued) == (0, 0, 0)
    with jm.node.unit(jm.node.operator()) as ctx:
        [status] = [s for s in partner_statuses(ctx) if s.partner.name == "tt-node"]
        assert status.queue == {"pending": 0, "sent": 3, "refused": 0, "withheld": 0}
        assert status.last_pull_at is not None and status.last_error == ""


def test_delivered_rows_leave_the_queue_after_thirty_days_and_nothing_is_sent_twice(
    federation: Federation,
) -> None:
    jm = federation.site("jm", "JM", ["tt-node"])
    tt = federation.site("tt", "TT", ["jm-node"])
    federation.pair(jm, tt)
    jm.add([indicator("jm", 1, Tlp.GREEN), indicator("jm", 2, Tlp.CLEAR)])
    assert one(sync(jm.node, "tt-node")).sent == 2
    jm.node.clock.advance(days=29)  # type: ignore[attr-defined]
    jm.add([indicator("jm", 3, Tlp.GREEN)])
    assert one(sync(jm.node, "tt-node")).sent == 1
    held = tt.held()
    jm.node.clock.advance(days=2)  # type: ignore[attr-defined]
    later = one(sync(jm.node, "tt-node"))
    assert (later.error, later.sent, later.queued) == ("", 0, 0)
    with jm.node.unit(jm.node.operator()) as ctx:
        [status] = [s for s in partner_statuses(ctx) if s.partner.name == "tt-node"]
        # The two rows delivered 31 days ago are gone; the one from 2 days ago stays.
        assert status.queue == {"pending": 0, "sent": 1, "refused": 0, "withheld": 0}
        actions = [e.action for e in audit.search(ctx.db, audit.AuditFilter(action="intel"))]
    assert "intel.outbox.pruned" in actions
    assert tt.held() == held  # nothing arrived twice


def test_sync_both_ways_with_a_node_on_postgresql(pg_database: str, federation: Federation) -> None:
    jm = federation.site("jm", "JM", ["tt-node"], database_url=pg_database)
    tt = federation.site("tt", "TT", ["jm-node"])
    federation.pair(jm, tt, max_tlp="amber")
    federation.pair(tt, jm, max_tlp="amber")
    from_jm, from_tt = by_level("jm"), by_level("tt")
    jm.add(list(from_jm.values()))
    tt.add(list(from_tt.values()))
    for _ in range(2):
        assert one(sync(jm.node, "tt-node", page_size=2)).error == ""
        assert one(sync(tt.node, "jm-node", page_size=2)).error == ""
    public = (None, Tlp.CLEAR, Tlp.GREEN)
    on_jm, on_tt = jm.held(), tt.held()
    assert {o["id"] for lv, o in from_tt.items() if lv in public} <= set(on_jm)
    assert {o["id"] for lv, o in from_jm.items() if lv in public} <= set(on_tt)
    assert not {o["id"] for lv, o in from_jm.items() if lv not in public} & set(on_tt)
    assert not {o["id"] for lv, o in from_tt.items() if lv not in public} & set(on_jm)
    assert set(on_jm.values()) == {1} and set(on_tt.values()) == {1}


def test_a_newer_version_from_its_creator_wins_and_another_creators_is_refused(
    federation: Federation,
) -> None:
    jm = federation.site("jm", "JM", ["tt-node"])
    tt = federation.site("tt", "TT", ["jm-node"])
    federation.pair(jm, tt)
    report = indicator("tt", 1, Tlp.GREEN)
    report["created_by_ref"] = identity_id("TT")
    tt.add([report])
    assert one(sync(jm.node, "tt-node")).pulled.added == 1
    newer = {**report, "modified": "2026-11-02T10:00:00.000Z"}
    hijack = {**report, "modified": "2026-11-03T10:00:00.000Z", "created_by_ref": identity_id("BB")}
    forged = indicator("jm-forged", 1, Tlp.GREEN)
    forged["created_by_ref"] = identity_id("JM")
    tt.add([newer])
    # TT's own store refuses both; a rogue TT node would serve them all the same.
    tt.plant([hijack, forged])
    got = one(sync(jm.node, "tt-node")).pulled
    assert got.added == 1
    assert len(got.rejected) == 2
    assert any("names BB's identity; TT may not" in r for r in got.rejected)
    assert any("names JM's identity; TT may not" in r for r in got.rejected)
    with jm.node.unit(jm.node.operator()) as ctx:
        versions = ctx.db.scalars(
            select(IntelObject.version).where(IntelObject.stix_id == report["id"])
        ).all()
    assert sorted(v.isoformat()[:10] for v in versions) == ["2026-11-01", "2026-11-02"]


class SlowLink:
    """An HTTP relay to a node that can slow down or drop, as a thin island link does."""

    def __init__(self, target: str, delay: float = 0.0) -> None:
        self.target = target
        self.delay = delay
        self.port = free_port()
        self.requests = 0
        self.drop_after: int | None = None
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def _relay(self) -> None:
                # The caller may be killed or give up mid-answer.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._forward()

            def _forward(self) -> None:
                relay.requests += 1
                if relay.drop_after is not None and relay.requests > relay.drop_after:
                    self.connection.shutdown(socket.SHUT_RDWR)  # the link goes down
                    return
                time.sleep(relay.delay)
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                answer = httpx.request(
                    self.command, relay.target + self.path, headers=headers, content=body
                )
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = _relay

            def log_message(self, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def _point(site: Site, partner: str, url: str) -> None:
    with site.node.unit(site.node.operator()) as ctx:
        partners.get_partner(ctx, partner).url = url


def _pull_cursor(site: Site) -> IntelSyncCursor:
    with site.node.unit(site.node.operator()) as ctx:
        [cursor] = ctx.db.scalars(
            select(IntelSyncCursor).where(IntelSyncCursor.direction == "pull")
        ).all()
        ctx.db.expunge(cursor)
    return cursor


def test_a_sync_killed_mid_pull_resumes_with_nothing_lost_or_duplicated(
    federation: Federation,
) -> None:
    jm = federation.site("jm", "JM", ["tt-node"])
    tt = federation.site("tt", "TT", ["jm-node"])
    federation.pair(jm, tt)
    sent = [indicator("tt", n, Tlp.GREEN) for n in range(200)]
    tt.add(sent[:120])
    tt.add(sent[120:])  # a second add: date_added differs, and pages straddle it
    link = SlowLink(tt.url, delay=0.05)
    link.start()
    _point(jm, "tt-node", link.url)
    env = {k: v for k, v in os.environ.items() if k != "SEAWALL_HOME"}
    child = subprocess.Popen(
        [
            *(sys.executable, "-m", "seawall", "--home", str(jm.node.settings.home)),
            *("intel", "partner", "sync", "tt-node", "--page-size", "7", "--json"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while len(jm.held()) < 40:
            assert time.monotonic() < deadline, "the sync made no progress"
            assert child.poll() is None, child.communicate()
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate(timeout=10)
    partial = len(jm.held())
    assert 40 <= partial < 200
    assert _pull_cursor(jm).next_page != ""  # it stopped between pages

    # The link also drops mid-pagination on the next try...
    link.delay, link.requests, link.drop_after = 0.0, 0, 8
    dropped = one(sync(jm.node, "tt-node", page_size=7, timeout=2))
    assert dropped.error_code in ("partner_unreachable", "partner_answered_garbage")
    assert partial < len(jm.held()) < 200
    # ...and the next pass, once it is back, resumes where it stopped.
    link.drop_after = None
    done = one(sync(jm.node, "tt-node", page_size=7))
    assert done.error == "" and done.pulled.duplicates == 0
    held = jm.held()
    assert {o["id"] for o in sent} <= set(held)
    assert all(held[o["id"]] == 1 for o in sent)
    cursor = _pull_cursor(jm)
    assert cursor.next_page == "" and cursor.added_after != ""
    link.stop()


def test_a_dropped_link_is_retried_later_and_the_queue_survives(federation: Federation) -> None:
    jm = federation.site("jm", "JM", ["tt-node"])
    tt = federation.site("tt", "TT", [])
    federation.pair(jm, tt)
    jm.add([indicator("jm", n, Tlp.GREEN) for n in range(5)])
    tt.stop()
    failed = one(sync(jm.node, "tt-node", timeout=2))
    assert failed.error_code == "partner_unreachable"
    assert "cannot be reached" in failed.error
    # A pass from the timer leaves the partner alone until its next attempt time.
    waiting = one(sync(jm.node))
    assert waiting.skipped.startswith("waiting until")
    with jm.node.unit(jm.node.operator()) as ctx:
        [status] = partner_statuses(ctx)
        assert status.last_error_code == "partner_unreachable"
        assert status.next_attempt_at is not None and status.failures == 1
    # The node itself restarts: a new Node object over the same home and database.
    restarted = Node(jm.node.settings, clock=jm.node.clock)
    jm.node.close()
    jm.node = restarted
    assert one(sync(jm.node)).skipped  # still backing off
    tt.start()
    jm.node.clock.advance(minutes=2)  # type: ignore[attr-defined]
    back = one(sync(jm.node))
    assert back.error == "" and back.sent == 5 and back.pending == 0
    assert len([i for i in tt.held() if i.startswith("indicator--")]) == 5
    with jm.node.unit(jm.node.operator()) as ctx:
        states = ctx.db.scalars(select(IntelOutbox.state)).all()
        [status] = partner_statuses(ctx)
    assert set(states) == {outbox.SENT}
    assert status.failures == 0 and status.next_attempt_at is None
    # Both passes are audited with what they did: what leaves the nation is always on record.
    with jm.node.unit(jm.node.operator()) as ctx:
        passes = ctx.db.execute(
            select(AuditEntry.action, AuditEntry.detail)
            .where(AuditEntry.action.like("intel.partner.sync%"))
            .order_by(AuditEntry.seq)
        ).all()
    assert [(a, d["sent"], d["pulled"]) for a, d in passes] == [
        ("intel.partner.sync_failed", 0, 0),
        ("intel.partner.synced", 5, 0),
    ]


def test_wrong_nation_or_key_is_refused_and_nothing_is_ingested(federation: Federation) -> None:
    jm = federation.site("jm", "JM", [])
    tt = federation.site("tt", "TT", ["jm-node", "bb"])
    bb = federation.site("bb", "BB", [])
    tt.add([indicator("tt", 1, Tlp.GREEN)])
    # "bb" is registered as Barbados but its URL is Trinidad and Tobago's node.
    federation.pair(jm, tt, name="bb", nation="BB")
    refused = one(sync(jm.node, "bb"))
    assert refused.error_code == "partner_identity_mismatch"
    assert "answers as nation TT" in refused.error
    # Right nation, wrong key: the key registered is Barbados's.
    federation.pair(jm, tt)
    with jm.node.unit(jm.node.operator()) as ctx:
        link_partner(
            ctx, jm.node.settings, "tt-node", public_key=load_node_key(bb.node.settings).public_text
        )
    wrong_key = one(sync(jm.node, "tt-node"))
    assert wrong_key.error_code == "partner_identity_mismatch"
    assert "not the key registered" in wrong_key.error
    assert jm.held() == {}
    with jm.node.unit(jm.node.operator()) as ctx:
        errors = {s.partner.name: s.last_error_code for s in partner_statuses(ctx)}
    assert errors == {"bb": "partner_identity_mismatch", "tt-node": "partner_identity_mismatch"}


def _raw_server(answer: bytes | None) -> tuple[socket.socket, int]:
    """A socket that answers every connection with ``answer`` (or never answers)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    held: list[socket.socket] = []

    def run() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            held.append(conn)
            if answer is not None:
                conn.recv(65536)
                conn.sendall(answer)
                conn.close()

    threading.Thread(target=run, daemon=True).start()
    return sock, sock.getsockname()[1]


@contextlib.contextmanager
def partners_answering(node: Node, answers: dict[str, bytes | None]) -> Iterator[None]:
    """Raw servers answering as given (None: never), linked on ``node`` as TT partners."""
    servers = {name: _raw_server(answer) for name, answer in answers.items()}
    try:
        with node.unit(node.operator()) as ctx:
            for name, (_, port) in servers.items():
                partners.add_partner(ctx, name, "TT", f"http://127.0.0.1:{port}")
                link_partner(ctx, node.settings, name, token="sw_x_y")
        yield
    finally:
        for sock, _ in servers.values():
            sock.close()


def stored_objects(node: Node) -> int:
    with node.unit(node.operator()) as ctx:
        return int(ctx.db.scalar(select(func.count()).select_from(IntelObject)) or 0)


def test_a_partner_answering_garbage_or_nothing_gets_a_clear_error(tmp_path: Path) -> None:
    node = make_node(tmp_path / "jm", None, FrozenClock(EPOCH), "JM")
    html = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 12\r\n\r\n<html></html"
    try:
        with partners_answering(node, {"tt-garbage": html, "tt-silent": None}):
            started = time.monotonic()
            reports = {r.partner: r for r in sync(node, timeout=0.5)}
        assert time.monotonic() - started < 10
        assert reports["tt-garbage"].error_code == "partner_answered_garbage"
        assert "not TAXII JSON" in reports["tt-garbage"].error
        assert reports["tt-silent"].error_code == "partner_timed_out"
        assert "did not answer in time" in reports["tt-silent"].error
        assert stored_objects(node) == 0
    finally:
        node.close()


def test_a_partner_answering_too_much_is_cut_off_while_it_sends(tmp_path: Path) -> None:
    node = make_node(tmp_path / "jm", None, FrozenClock(EPOCH), "JM")
    taxii = b"HTTP/1.1 200 OK\r\nContent-Type: application/taxii+json;version=2.1\r\n"
    declared = taxii + b'Content-Length: 104857600\r\n\r\n{"objects": ['
    # No length given: 65 MiB of chunks, refused once past the cap, not after.
    chunk = b"x" * (1 << 20)
    chunked = (
        taxii
        + b"Transfer-Encoding: chunked\r\n\r\n"
        + (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * 65
        + b"0\r\n\r\n"
    )
    try:
        with partners_answering(node, {"tt-big": declared, "tt-flood": chunked}):
            reports = {r.partner: r for r in sync(node, timeout=5)}
        for name in ("tt-big", "tt-flood"):
            assert reports[name].error_code == "partner_answered_too_much", reports[name].error
            assert "sent an answer over 64 MiB; nothing of it was used" in reports[name].error
        assert stored_objects(node) == 0
    finally:
        node.close()


def test_a_case_crosses_to_a_partner_and_comes_back_with_its_notes(
    federation: Federation,
) -> None:
    jm, tt = federation.jm_and_tt()
    lure = indicator("jm", 1, Tlp.GREEN)
    jm.add([lure])
    with jm.node.unit(jm.node.operator()) as ctx:
        case = cases.open_case(ctx, "shared", "Refund lure", types=("phishing",))
        cases.link_objects(ctx, case.id, [lure["id"]])
    jm.node.clock.advance(seconds=60)  # type: ignore[attr-defined]
    with jm.node.unit(jm.node.operator()) as ctx:
        cases.add_note(ctx, case.id, "Blocked at the national resolver")
    jm.node.clock.advance(seconds=60)  # type: ignore[attr-defined]
    assert one(sync(jm.node, "tt-node")).error == ""

    tt.node.clock.advance(seconds=600)  # type: ignore[attr-defined]  # the notes' real order
    with tt.node.unit(tt.node.operator()) as ctx:
        theirs = cases.show_case(ctx, case.id[10:18])
        assert [(e.kind, e.nation) for e in theirs.timeline] == [("link", "JM"), ("note", "JM")]
        cases.add_note(ctx, case.id, "Same lure in Port of Spain")
        with pytest.raises(NotCaseOwner):
            cases.set_status(ctx, case.id, Status.CLOSED)
    tt.node.clock.advance(seconds=60)  # type: ignore[attr-defined]
    assert one(sync(jm.node, "tt-node")).error == ""

    with jm.node.unit(jm.node.operator()) as ctx:
        ours = cases.show_case(ctx, case.id)
        closed = cases.set_status(ctx, case.id, Status.CLOSED)
    assert [(e.kind, e.nation, e.text) for e in ours.notes] == [
        ("note", "JM", "Blocked at the national resolver"),
        ("note", "TT", "Same lure in Port of Spain"),
    ]
    assert ours.nations == ["JM", "TT"] and closed.status is Status.CLOSED
