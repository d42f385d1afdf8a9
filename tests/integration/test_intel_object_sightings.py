"""An indicator's page counts every sighting the reader may see, and a sighting dated in the
future never sets its 'in force until'."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import httpx

from seawall.core import users, websessions
from seawall.core.node import Node
from seawall.intel.collections import create_collection, get_collection
from seawall.intel.store import writing
from seawall.web.deps import SESSION_COOKIE
from tests import stix
from tests.conftest import LiveServer
from tests.html import section
from tests.unit.intel.test_store import indicator

SIGHTINGS = 205  # over the 200 a collection's holders were once cut at
INDICATOR = indicator(1, pattern="[ipv4-addr:value = '91.219.236.18']")


def sighting(n: int, last_seen: str = "2026-11-02T10:00:00.000Z") -> dict[str, Any]:
    return stix.sighting(
        n,
        INDICATOR["id"],
        None,
        count=1,
        first_seen="2026-11-02T09:00:00.000Z",
        last_seen=last_seen,
    )


def _page(node: Node, live: LiveServer, query: str = "") -> str:
    with node.unit(node.operator()) as ctx:
        user = users.add_user(ctx, f"jm-analyst-{uuid.uuid4().hex[:6]}", "analyst")
        cookie = websessions.open_session(ctx, user, timedelta(hours=1)).cookie
    path = f"/intel/collections/seen/objects/{INDICATOR['id']}{query}"
    with httpx.Client(base_url=live.url, timeout=30) as client:
        client.cookies.set(SESSION_COOKIE, cookie)
        answer = client.get(path)
    assert answer.status_code == 200, answer.text[:2000]
    return answer.text


def test_the_object_page_counts_every_sighting_and_pages_through_them(
    node: Node, live_server: LiveServer
) -> None:
    with node.unit(node.operator()) as ctx:
        create_collection(ctx, "seen", "Seen", None, "green")
        objects = [INDICATOR, *(sighting(n) for n in range(1, SIGHTINGS + 1))]
        writing.add_objects(ctx, get_collection(ctx, "seen"), objects)
    first = section(_page(node, live_server), "sightings")
    assert f"{SIGHTINGS} results" in first
    rows = first.count("<tr><td>")
    assert 0 < rows < SIGHTINGS
    cursor = re.search(r'rel="next" href="\?cursor=([^"]+)"', first)
    assert cursor
    second = section(_page(node, live_server, f"?cursor={cursor.group(1)}"), "sightings")
    assert f"{SIGHTINGS} results" in second and second.count("<tr><td>") > 0


def test_a_sighting_dated_in_the_future_never_shows_a_future_in_force_date(
    node: Node, live_server: LiveServer
) -> None:
    with node.unit(node.operator()) as ctx:
        create_collection(ctx, "seen", "Seen", None, "green")
        future = sighting(1, last_seen="2099-01-01T00:00:00.000Z")
        writing.add_objects(ctx, get_collection(ctx, "seen"), [INDICATOR, future])
    in_force = re.search(r'<dd id="in-force">(.*?)</dd>', _page(node, live_server), re.S)
    assert in_force and "2099" not in in_force.group(1)
