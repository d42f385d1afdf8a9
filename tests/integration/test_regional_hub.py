"""A regional hub and three nations' nodes on 127.0.0.1: rounds travel over the partner link."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from seawall.assess import publication
from seawall.assess.benchmark import region_view
from seawall.assess.frameworks import shipped_frameworks
from seawall.assess.rounds import agree, create_round, grant_consent
from seawall.core import partners, tokens, users
from seawall.core.clock import FrozenClock
from seawall.core.federation import queue
from seawall.core.federation.delivery import PACKAGE_MEDIA_TYPE, PACKAGES_PATH, deliver
from seawall.core.federation.identity import load_node_key
from seawall.core.federation.links import link_partner
from seawall.core.node import Node
from seawall.db.models import AuditEntry, FederationInbox, FederationOutbox
from seawall.db.models.assess import ReceivedRound
from seawall.web.app import create_app
from tests.conftest import EPOCH, LiveServer, free_port, make_node, serve_in_thread

CMM = shipped_frameworks()["cmm-2021"]


@dataclass
class Node4:
    """One node served on its own port, with the token the hub issued it."""

    key: str
    node: Node
    live: LiveServer
    port: int
    token: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Region:
    hub: Node4
    nations: dict[str, Node4]

    def panel(self) -> set[tuple[str, int]]:
        with self.hub.node.unit(self.hub.node.operator()) as ctx:
            return {(r.nation, r.year) for r in region_view(ctx, "CARICOM").panel}

    def held(self, round_id: str) -> int:
        with self.hub.node.unit(self.hub.node.operator()) as ctx:
            stmt = select(func.count()).select_from(ReceivedRound)
            return int(ctx.db.scalar(stmt.where(ReceivedRound.round_id == round_id)) or 0)


def _node(tmp: Path, key: str, nation: str) -> Node4:
    node = make_node(tmp / key, None, FrozenClock(EPOCH), nation)
    port = free_port()
    return Node4(key, node, serve_in_thread(create_app(node=node), port), port)


@pytest.fixture
def region(tmp_path: Path) -> Iterator[Region]:
    hub = _node(tmp_path, "hub", "TT")
    nations = {n: _node(tmp_path, n.lower(), n) for n in ("JM", "GD", "BB")}
    hub_key = load_node_key(hub.node.settings).public_text
    for code, site in nations.items():
        name = f"{code.lower()}-node"
        with hub.node.unit(hub.node.operator()) as ctx:
            partners.add_partner(ctx, name, code, site.url)
            link_partner(
                ctx,
                hub.node.settings,
                name,
                public_key=load_node_key(site.node.settings).public_text,
            )
            users.add_user(ctx, f"sync-{code.lower()}", "analyst", partner=name)
            site.token = tokens.create_token(ctx, "hub", [], username=f"sync-{code.lower()}").value
        with site.node.unit(site.node.operator()) as ctx:
            partners.add_partner(ctx, "caricom-hub", "TT", hub.url, hub_for=["CARICOM"])
            link_partner(
                ctx, site.node.settings, "caricom-hub", token=site.token, public_key=hub_key
            )
    made = Region(hub, nations)
    yield made
    for site in (hub, *nations.values()):
        site.live.stop()
        site.node.close()


def publish(site: Node4, year: int, stage: int) -> str:
    """A round of the site's nation with every factor agreed at ``stage``, published."""
    node = site.node
    with node.unit(node.operator()) as ctx:
        row = create_round(ctx, node.nation, "cmm-2021", year)
        for dimension in CMM.dimensions:
            for factor in dimension.factors:
                agree(ctx, row.id, factor.id, stage)
        grant_consent(ctx, node.nation, "CARICOM")
        published, sent = publication.publish_round(ctx, node.settings, row.id)
    assert sent.hubs == {"caricom-hub": ("CARICOM",)}
    return published.id


def outcomes(site: Node4) -> list[tuple[str, str]]:
    [report] = deliver(site.node, "caricom-hub", timeout=10)
    assert report.error == "", report.error
    return [(d["outcome"], d["key"]) for d in report.delivered + report.refused]


def test_published_rounds_reach_the_hub_and_a_withdrawal_removes_one(region: Region) -> None:
    jm, gd, bb = (region.nations[n] for n in ("JM", "GD", "BB"))
    ids = {
        code: publish(site, 2026, stage)
        for code, site, stage in (("JM", jm, 3), ("GD", gd, 1), ("BB", bb, 2))
    }
    assert region.panel() == set()  # queued, not yet delivered

    for code, site in (("JM", jm), ("GD", gd), ("BB", bb)):
        assert outcomes(site) == [("stored", ids[code])]
    assert region.panel() == {("JM", 2026), ("GD", 2026), ("BB", 2026)}
    assert outcomes(jm) == []  # nothing left to send

    jm.node.clock.advance(hours=1)  # type: ignore[attr-defined]
    with jm.node.unit(jm.node.operator()) as ctx:
        publication.withdraw(ctx, jm.node.settings, ids["JM"], "CARICOM", "figures under review")
    assert outcomes(jm) == [("withdrawn", ids["JM"])]
    assert region.panel() == {("GD", 2026), ("BB", 2026)}
    with region.hub.node.unit(region.hub.node.operator()) as ctx:
        [(row, why)] = publication.withdrawals_for(ctx, "CARICOM")
        # Recorded at the hub as the partner's account, never as a hub operator.
        actors = set(
            ctx.db.scalars(select(AuditEntry.actor).where(AuditEntry.action.like("assess.round.%")))
        )
    assert (row.nation, why["reason"]) == ("JM", "figures under review")
    with region.hub.node.unit(region.hub.node.operator()) as ctx:
        [shown] = region_view(ctx, "CARICOM").withdrawn
    assert (shown.round_id, shown.by, shown.reason) == (
        ids["JM"],
        "operator",
        "figures under review",
    )
    assert actors == {"sync-jm", "sync-gd", "sync-bb"}


def test_revoking_consent_withdraws_every_published_round_from_that_hub(region: Region) -> None:
    gd = region.nations["GD"]
    publish(gd, 2025, 1)
    publish(gd, 2026, 2)
    assert len(outcomes(gd)) == 2
    assert region.panel() == {("GD", 2025), ("GD", 2026)}
    gd.node.clock.advance(hours=1)  # type: ignore[attr-defined]
    with gd.node.unit(gd.node.operator()) as ctx:
        publication.revoke_consent(ctx, gd.node.settings, "GD", "CARICOM")
    assert [o for o, _ in outcomes(gd)] == ["withdrawn", "withdrawn"]
    assert region.panel() == set()


def _post(site: Node4, hub: Node4, data: bytes) -> dict[str, Any]:
    answer = httpx.post(
        hub.url + PACKAGES_PATH,
        content=data,
        headers={"Authorization": f"Bearer {site.token}", "Content-Type": PACKAGE_MEDIA_TYPE},
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_a_tampered_or_borrowed_package_is_refused_and_nothing_is_held(region: Region) -> None:
    jm, gd = region.nations["JM"], region.nations["GD"]
    round_id = publish(jm, 2026, 3)
    with jm.node.unit(jm.node.operator()) as ctx:
        [row] = ctx.db.scalars(select(FederationOutbox)).all()
        data = bytearray(row.payload)
    data[-4] ^= 0x01
    refused = _post(jm, region.hub, bytes(data))
    assert (refused["outcome"], refused["error"]) == ("refused", "package_signature_invalid")
    # Delivered again, the same bytes get the same answer, and are kept once.
    assert _post(jm, region.hub, bytes(data))["duplicate"] is True
    # Grenada's account may not deliver Jamaica's words, even signed by Jamaica's node.
    data[-4] ^= 0x01
    borrowed = _post(gd, region.hub, bytes(data))
    assert (borrowed["outcome"], borrowed["error"]) == ("refused", "package_sender_unknown")
    assert region.held(round_id) == 0 and region.panel() == set()
    # A person's token (not a partner node's account) delivers nothing at all.
    with region.hub.node.unit(region.hub.node.operator()) as ctx:
        users.add_user(ctx, "analyst-tt", "admin")
        person = tokens.create_token(ctx, "p", [], username="analyst-tt").value
    answer = httpx.post(
        region.hub.url + PACKAGES_PATH,
        content=bytes(data),
        headers={"Authorization": f"Bearer {person}", "Content-Type": PACKAGE_MEDIA_TYPE},
    )
    assert answer.status_code == 403 and answer.json()["error"] == "forbidden"
    # The genuine package, by its own node's account, is held.
    assert outcomes(jm) == [("stored", round_id)]
    assert region.held(round_id) == 1


class HoldingRelay:
    """Relays to the hub, then holds the answer back: the sender waits while the hub has
    already stored what it sent."""

    def __init__(self, target: str, hold: float) -> None:
        self.target, self.hold, self.port = target, hold, free_port()
        self.stored = threading.Event()
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._relay()

            def do_POST(self) -> None:
                self._relay()

            def _relay(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                answer = httpx.request(
                    self.command, relay.target + self.path, headers=headers, content=body
                )
                if self.command == "POST":
                    relay.stored.set()
                    time.sleep(relay.hold)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.send_response(answer.status_code)
                    self.send_header("Content-Type", answer.headers["content-type"])
                    self.send_header("Content-Length", str(len(answer.content)))
                    self.end_headers()
                    self.wfile.write(answer.content)

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_node_killed_mid_delivery_delivers_once(region: Region) -> None:
    gd = region.nations["GD"]
    round_id = publish(gd, 2026, 2)
    relay = HoldingRelay(region.hub.url, hold=30)
    with gd.node.unit(gd.node.operator()) as ctx:
        partners.get_partner(ctx, "caricom-hub").url = f"http://127.0.0.1:{relay.port}"
    env = {k: v for k, v in os.environ.items() if k != "SEAWALL_HOME"}
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "seawall",
            "--home",
            str(gd.node.settings.home),
            "partner",
            "deliver",
            "caricom-hub",
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        assert relay.stored.wait(30), child.communicate()
        child.send_signal(signal.SIGKILL)
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate(timeout=10)
    relay.stop()
    assert region.held(round_id) == 1
    with gd.node.unit(gd.node.operator()) as ctx:
        assert queue.counts(ctx, partners.get_partner(ctx, "caricom-hub").id)[queue.PENDING] == 1
        partners.get_partner(ctx, "caricom-hub").url = region.hub.url
    # Its lease ran out: the next pass posts it again, and the hub recognises it.
    gd.node.clock.advance(days=30)  # type: ignore[attr-defined]
    assert outcomes(gd) == [("stored", round_id)]
    assert outcomes(gd) == []
    assert region.held(round_id) == 1
    with region.hub.node.unit(region.hub.node.operator()) as ctx:
        assert ctx.db.scalar(select(func.count()).select_from(FederationInbox)) == 1
        received = ctx.db.scalars(
            select(AuditEntry.target).where(AuditEntry.action == "assess.round.received")
        ).all()
    assert received == [round_id]
