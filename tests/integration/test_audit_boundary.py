"""The audit log is read through one core call that keeps each nation to its own entries."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from seawall.core import audit, tokens, users, websessions
from seawall.core.access import Principal
from seawall.core.node import Node
from seawall.core.paging import PageRequest
from seawall.errors import Forbidden, InvalidInput
from seawall.web.deps import SESSION_COOKIE
from tests.cli import run_seawall
from tests.conftest import LiveServer


def _two_nations(node: Node) -> None:
    """A TT admin and a TT viewer on the JM node; both nations have audited actions."""
    with node.unit(node.operator()) as ctx:
        users.add_user(ctx, "tt-admin", "admin", nation="TT")
        users.add_user(ctx, "tt-viewer", "viewer", nation="TT")
        users.add_user(ctx, "jm-admin", "admin")
    with node.unit(node.operator()) as ctx:
        tt = users.principal_of(users.get_user(ctx, "tt-admin"))
    with node.unit(tt) as ctx:
        ctx.record("tt.secret", "tt-target")


def _principal(node: Node, name: str) -> Principal:
    with node.unit(node.operator()) as ctx:
        return users.principal_of(users.get_user(ctx, name))


def test_the_core_keeps_each_reader_to_their_nation_and_refuses_without_the_right(
    node: Node,
) -> None:
    _two_nations(node)
    asking_for_jm = audit.AuditFilter(nation="JM")
    with node.unit(_principal(node, "tt-admin")) as ctx:
        seen = audit.page(ctx, asking_for_jm, PageRequest(1000))
    assert seen.items and {e.nation for e in seen.items} == {"TT"}
    assert seen.total == len(seen.items)
    with node.unit(_principal(node, "jm-admin")) as ctx:
        jm = audit.page(ctx, audit.AuditFilter(nation="TT"), PageRequest(1000))
    assert jm.items and {e.nation for e in jm.items} == {"JM"}
    with node.unit(_principal(node, "tt-viewer")) as ctx, pytest.raises(Forbidden):
        audit.page(ctx, audit.AuditFilter(), PageRequest(10))


@pytest.mark.parametrize("action", ["%", "_", "user%", "us_r", "%.%"])
def test_an_action_filter_of_like_wildcards_matches_only_itself(node: Node, action: str) -> None:
    _two_nations(node)
    with node.unit(_principal(node, "jm-admin")) as ctx:
        assert audit.page(ctx, audit.AuditFilter(action="user"), PageRequest(10)).items
        assert audit.page(ctx, audit.AuditFilter(action=action), PageRequest(10)).items == []
        assert audit.search(ctx.db, audit.AuditFilter(action=action)) == []


def test_a_nul_in_a_filter_is_refused_as_input_where_the_database_cannot_hold_it(
    any_node: Node,
) -> None:
    nul = audit.AuditFilter(actor="a\x00b")
    if any_node.engine.url.get_backend_name() == "sqlite":  # SQLite stores and compares it
        with any_node.unit(any_node.operator()) as ctx:
            assert audit.page(ctx, nul, PageRequest(10)).items == []
        return
    with pytest.raises(InvalidInput) as refused, any_node.unit(any_node.operator()) as ctx:
        audit.page(ctx, nul, PageRequest(10))
    assert refused.value.message.startswith("the database cannot take a value given: ")
    assert "NUL" in refused.value.message and "\n" not in refused.value.message


def test_no_edge_shows_another_nations_entries(node: Node, live_server: LiveServer) -> None:
    _two_nations(node)
    with node.unit(node.operator()) as ctx:
        jm_admin = users.get_user(ctx, "jm-admin")
        cookie = websessions.open_session(ctx, jm_admin, timedelta(hours=1)).cookie
        token = tokens.create_token(ctx, "t", [], username="jm-admin").value
    with httpx.Client(base_url=live_server.url, timeout=10) as client:
        api = client.get("/api/v1/audit?limit=1000", headers={"Authorization": f"Bearer {token}"})
        client.cookies.set(SESSION_COOKIE, cookie)
        web = client.get("/audit?limit=500&action=tt")
        everything = client.get("/audit?limit=500")
    assert api.status_code == 200 and api.json()
    assert {e["nation"] for e in api.json()} == {"JM"}
    assert web.status_code == 200 and "tt.secret" not in web.text and "0 results" in web.text
    assert everything.status_code == 200 and "tt-target" not in everything.text
    shown = run_seawall(node.settings.home, "audit", "show", "--limit", "500", "--json")
    assert shown.code == 0, shown.output
    assert shown.json()["items"] and {e["nation"] for e in shown.json()["items"]} == {"JM"}
