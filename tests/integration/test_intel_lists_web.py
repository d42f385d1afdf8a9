"""List pages a reader can work from: true totals, filters, sorts and keyset pages, over HTTP."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from html import unescape
from pathlib import Path

import httpx
import pytest

from seawall.core import audit, tokens, users, websessions
from seawall.core.clock import FrozenClock
from seawall.core.node import Node
from seawall.intel.collections import Audience, create_collection, get_collection
from seawall.intel.matching.sightings import match_logs, record
from seawall.intel.store import writing
from seawall.intel.tlp import Tlp
from seawall.web.deps import SESSION_COOKIE
from tests.conftest import LiveServer
from tests.unit.intel.test_store import indicator

COUNT = 60  # every fifth one AMBER


@dataclass
class Site:
    node: Node
    live: LiveServer
    cookies: dict[str, str]

    def get(self, who: str, path: str, status: int = 200) -> str:
        with httpx.Client(base_url=self.live.url, timeout=10) as client:
            client.cookies.set(SESSION_COOKIE, self.cookies[who])
            answer = client.get(path)
        assert answer.status_code == status, answer.text[:2000]
        return answer.text


@pytest.fixture
def site(node: Node, live_server: LiveServer, clock: FrozenClock) -> Site:
    cookies: dict[str, str] = {}
    with node.unit(node.operator()) as ctx:
        for name, nation in (("jm", "JM"), ("tt", "TT")):
            user = users.add_user(ctx, f"{name}-analyst", "analyst", nation=nation)
            cookies[name] = websessions.open_session(ctx, user, timedelta(hours=1)).cookie
    with node.unit(node.operator()) as ctx:
        create_collection(ctx, "region", "Region", Audience(groups=("CARICOM",)), "green")
    with node.unit(node.operator()) as ctx:
        jm = users.principal_of(users.get_user(ctx, "jm-analyst"))
    with node.unit(jm) as ctx:
        collection = get_collection(ctx, "region")
        for n in range(1, COUNT + 1):
            level = Tlp.AMBER if n % 5 == 0 else Tlp.GREEN
            writing.add_objects(ctx, collection, [indicator(n, level)])
            clock.advance(seconds=1)
    return Site(node, live_server, cookies)


def _ids(page: str) -> list[str]:
    return re.findall(
        r'<div class="small muted mono intel-oid phone-hide">(indicator--[0-9a-f-]+)</div>', page
    )


def _link(page: str, rel: str) -> str | None:
    found = re.search(rf'<a rel="{rel}" href="([^"]+)"', page)
    return unescape(found.group(1)) if found else None


def test_the_collection_page_pages_every_object_newest_first_with_the_true_total(
    site: Site,
) -> None:
    path = "/intel/collections/region"
    first = site.get("jm", f"{path}?limit=25")
    assert "60 results" in first and _link(first, "prev") is None
    seen = _ids(first)
    page = first
    while (after := _link(page, "next")) is not None:
        page = site.get("jm", path + after)
        assert "limit=25" in after and "60 results" in page
        seen += _ids(page)
    assert seen == [indicator(n)["id"] for n in range(COUNT, 0, -1)]
    back = site.get("jm", path + (_link(page, "prev") or ""))
    assert _ids(back) == seen[25:50]


def test_a_reader_from_another_nation_counts_only_what_it_may_read(site: Site) -> None:
    page = site.get("tt", "/intel/collections/region?limit=500")
    green = [indicator(n)["id"] for n in range(COUNT, 0, -1) if n % 5]
    assert "48 results" in page and _ids(page) == green
    found = site.get("tt", "/intel/search?q=192.0.2.&limit=500")
    assert "48 results for" in found and set(_ids(found)) == set(green)


def test_filters_and_sorts_narrow_the_list_and_its_total(site: Site) -> None:
    amber = site.get("jm", "/intel/collections/region?tlp=amber&sort=oldest")
    assert "12 results" in amber
    assert _ids(amber) == [indicator(n)["id"] for n in range(5, COUNT + 1, 5)]
    found = site.get("jm", "/intel/search?q=192.0.2.&tlp=amber&limit=5")
    assert "12 results for" in found and len(_ids(found)) == 5
    assert "q=192.0.2." in (_link(found, "next") or "")
    nothing = site.get("jm", "/intel/collections/region?added_to=2020-01-01")
    assert "0 results" in nothing


def test_a_bad_cursor_or_filter_is_a_clear_refusal(site: Site) -> None:
    page = site.get("jm", "/intel/collections/region?cursor=bm9wZQ", status=400)
    assert "start again from the first page" in page
    refused = site.get("jm", "/intel/collections/region?sort=sideways", status=422)
    assert "newest, oldest, modified, type" in refused


def test_the_sightings_page_pages_with_the_total(site: Site, tmp_path: Path) -> None:
    log = tmp_path / "squid.log"
    log.write_text(
        "".join(
            f"1796302933.120    134 10.0.0.7 TCP_MISS/200 1520 GET http://192.0.2.{n}/ "
            f"- HIER_DIRECT/192.0.2.{n} text/html\n"
            for n in range(101, 104)
        )
    )
    with site.node.unit(site.node.operator()) as ctx:
        jm = users.principal_of(users.get_user(ctx, "jm-analyst"))
    # Valid until a set day: decay leaves such indicators live until then.
    live = [indicator(n, valid_until="2027-12-31T00:00:00Z") for n in range(101, 104)]
    with site.node.unit(jm) as ctx:
        writing.add_objects(ctx, get_collection(ctx, "region"), live)
        record(ctx, match_logs(ctx, [log]), get_collection(ctx, "region"))
    first = site.get("jm", "/intel/sightings?limit=2")
    assert "3 results" in first and first.count("<tr>") == 3  # the head and two rows
    rest = site.get("jm", "/intel/sightings" + (_link(first, "next") or ""))
    assert "3 results" in rest and rest.count("<tr>") == 2
    assert _link(rest, "prev") is not None


def test_the_audit_log_pages_on_the_page_and_the_api_with_its_total(site: Site) -> None:
    with site.node.unit(site.node.operator()) as ctx:
        admin = users.add_user(ctx, "jm-admin", "admin")
        site.cookies["admin"] = websessions.open_session(ctx, admin, timedelta(hours=1)).cookie
        token = tokens.create_token(ctx, "t", [], username="jm-admin").value
        every = [e.seq for e in audit.search(ctx.db, audit.AuditFilter(nation="JM", limit=1000))]
    headers = {"Authorization": f"Bearer {token}"}
    seen: list[int] = []
    url: str | None = f"{site.live.url}/api/v1/audit?limit=7"
    with httpx.Client(timeout=10) as client:
        while url:
            answer = client.get(url, headers=headers)
            assert answer.status_code == 200, answer.text
            assert int(answer.headers["X-Total-Count"]) == len(every)
            seen += [e["seq"] for e in answer.json()]
            found = re.search(r'<([^>]+)>; rel="next"', answer.headers.get("Link", ""))
            url = found.group(1) if found else None
        bad = client.get(f"{site.live.url}/api/v1/audit?cursor=bm9wZQ", headers=headers)
    assert seen == every and len(every) > 7
    assert bad.status_code == 400 and bad.json()["error"] == "bad_page_cursor"
    page = site.get("admin", "/audit?limit=5&sort=oldest")
    assert f"{len(every)} results" in page and _link(page, "prev") is None
    later = site.get("admin", "/audit" + (_link(page, "next") or ""))
    assert f"{len(every)} results" in later and _link(later, "prev") is not None


def test_the_object_list_api_pages_with_the_total_for_each_reader(site: Site) -> None:
    with site.node.unit(site.node.operator()) as ctx:
        bearer = {
            who: tokens.create_token(ctx, "t", [], username=f"{who}-analyst").value
            for who in ("jm", "tt")
        }

    def get(who: str, **params: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {bearer[who]}"}
        with httpx.Client(base_url=site.live.url, timeout=10) as client:
            return client.get("/api/v1/intel/objects", params=params, headers=headers)

    seen: list[str] = []
    params = {"collection": "region", "limit": "25", "sort": "oldest"}
    while True:
        answer = get("jm", **params)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert page["total"] == COUNT
        seen += [o["id"] for o in page["items"]]
        if not page["next"]:
            break
        params["cursor"] = page["next"]
    assert seen == [indicator(n)["id"] for n in range(1, COUNT + 1)]
    theirs = get("tt", q="192.0.2.", tlp="amber").json()
    assert theirs["total"] == 0 and theirs["items"] == []
    assert get("tt", q="192.0.2.").json()["total"] == 48
    bad = get("jm", cursor="bm9wZQ")
    assert bad.status_code == 400 and bad.json()["error"] == "bad_page_cursor"
    assert get("jm", state="dormant").status_code == 422
