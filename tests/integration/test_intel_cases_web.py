"""The case pages over a real uvicorn: link by search, severity, assignee and tasks, the
filtered and paged list, a viewer refused, and the pages in Spanish."""

from __future__ import annotations

from contextlib import closing

import httpx
import pytest

from seawall.core import users
from seawall.core.node import Node
from seawall.intel import cases
from seawall.intel.collections import Audience, create_collection
from seawall.intel.store import writing
from seawall.intel.tlp import Tlp
from tests.conftest import LiveServer, sign_in_by_form
from tests.integration.test_intel_bad_input import csrf_of
from tests.unit.intel.test_case_work import LURE, OTHER

PASSWORD = "a-long-password"


@pytest.fixture
def region(node: Node) -> Node:
    with node.unit(node.operator()) as ctx:
        ann = users.principal_of(
            users.add_user(ctx, "ann", "analyst", password=PASSWORD, display_name="Ann Brown")
        )
        users.add_user(ctx, "vic", "viewer", password=PASSWORD)
    with node.unit(ann) as ctx:
        collection = create_collection(ctx, "region", "Region", Audience(groups=("CARICOM",)))
        writing.add_objects(ctx, collection, [LURE, OTHER])
    return node


def _client(live_server: LiveServer, username: str) -> httpx.Client:
    http = httpx.Client(base_url=live_server.url, timeout=30)
    assert sign_in_by_form(http, username, PASSWORD).status_code == 303
    return http


def test_an_analyst_works_a_case_from_its_page(region: Node, live_server: LiveServer) -> None:
    with closing(_client(live_server, "ann")) as http:
        listed = http.get("/intel/cases")
        opened = http.post(
            "/intel/cases",
            data={
                "csrf_token": csrf_of(listed),
                "title": "Refund lure",
                "collection": "region",
                "severity": "high",
            },
        )
        assert opened.status_code == 303, opened.text
        path = opened.headers["location"]
        found = http.get(path, params={"q": "refund"})
        assert found.status_code == 200
        assert "Refund lure domain" in found.text and "Refund portal domain" in found.text
        token = csrf_of(found)
        linked = http.post(
            path,
            data={"csrf_token": token, "action": "link", "object_id": [LURE["id"], OTHER["id"]]},
        )
        assert linked.status_code == 303, linked.text
        for data in (
            {"action": "assign", "assignee": "ann"},
            {"action": "task_add", "title": "Block the domain", "assignee": "ann"},
            {"action": "task_add", "title": "Warn the ministries"},
            {"action": "status", "status": "open", "severity": "critical"},
        ):
            done = http.post(path, data={"csrf_token": token, **data})
            assert done.status_code == 303, done.text
        with region.unit(region.operator()) as ctx:
            case = cases.show_case(ctx, path.rsplit("/", 1)[1])
        first = case.tasks[0].id
        for action in ("task_done", "task_down"):
            done = http.post(path, data={"csrf_token": token, "action": action, "task": first})
            assert done.status_code == 303, done.text
        page = http.get(path).text
        assert page.index("Warn the ministries") < page.index("Block the domain")
        assert 'id="case-assignee">Ann Brown<' in page
        assert 'id="case-severity">critical<' in page
        assert page.count('<tr class="case-link">') == 2 and "Refund portal domain" in page
        refused = http.post(path, data={"csrf_token": token, "action": "assign", "assignee": "vic"})
        assert refused.status_code == 422 and "no user &#39;vic&#39; of JM" in refused.text

        mine = http.get("/intel/cases", params={"mine": "1", "severity": "critical"})
        assert "Refund lure" in mine.text and "1 result" in mine.text
        theirs = http.get("/intel/cases", params={"nation": "TT", "opened_from": "2020-01-01"})
        assert "No case you may see matches these filters." in theirs.text
        dated = http.get("/intel/cases", params={"opened_until": "yesterday"})
        assert dated.status_code == 422 and "is not a date" in dated.text
        none = http.get("/intel/cases", params={"status": "closed"})
        assert "No case you may see matches these filters." in none.text
        bad = http.get("/intel/cases", params={"cursor": "nonsense"})
        assert bad.status_code == 400
        spanish = http.get(path, params={"lang": "es"})
        assert "Tareas" in spanish.text and "Asignado a:" in spanish.text

    with closing(_client(live_server, "vic")) as http:
        seen = http.get(path)
        assert seen.status_code == 200 and "task-form" not in seen.text
        denied = http.post(
            path, data={"csrf_token": csrf_of(seen), "action": "task_add", "title": "x"}
        )
        assert denied.status_code == 403


def test_the_cases_list_pages_with_a_total(region: Node, live_server: LiveServer) -> None:
    with region.unit(region.operator()) as ctx:
        for n in range(3):
            cases.open_case(ctx, "region", f"Case {n}", tlp=Tlp.GREEN.key)
    with closing(_client(live_server, "ann")) as http:
        first = http.get("/intel/cases", params={"sort": "title", "limit": "2"})
        assert "3 results" in first.text
        assert "Case 0" in first.text and "Case 2" not in first.text
        assert 'rel="next"' in first.text
        after = first.text.split('rel="next" href="?')[1].split('"')[0].replace("&amp;", "&")
        second = http.get(f"/intel/cases?{after}")
        assert "Case 2" in second.text and "Case 0" not in second.text
