"""The JSON API through a real uvicorn server on 127.0.0.1."""

from __future__ import annotations

import html
import inspect
from collections.abc import Iterator

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlalchemy import func, select

from seawall.core import tokens, users
from seawall.core.clock import FrozenClock
from seawall.core.node import Node
from seawall.db.models import AuditEntry, Partner, User
from seawall.web.app import create_app
from tests.conftest import LiveServer


@pytest.fixture
def tokens_by_nation(node: Node) -> dict[str, str]:
    with node.unit(node.operator()) as ctx:
        users.add_user(ctx, "jm-admin", "admin", password="a-long-password")
        users.add_user(ctx, "jm-viewer", "viewer", password="a-long-password")
        users.add_user(ctx, "tt-admin", "admin", password="a-long-password", nation="TT")
        return {
            "jm": tokens.create_token(ctx, "t", [], username="jm-admin").value,
            "jm-viewer": tokens.create_token(ctx, "t", [], username="jm-viewer").value,
            "tt": tokens.create_token(ctx, "t", [], username="tt-admin").value,
        }


@pytest.fixture
def client(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=10) as c:
        yield c


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def counts(node: Node) -> tuple[int, int, int]:
    with node.unit(node.operator()) as ctx:
        return tuple(  # type: ignore[return-value]
            ctx.db.scalar(select(func.count()).select_from(model)) or 0
            for model in (User, Partner, AuditEntry)
        )


def test_health_and_metrics_answer(client: httpx.Client) -> None:
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    client.get("/api/v1/me")
    metrics = client.get("/metrics")
    assert (
        'seawall_http_requests_total{method="GET",route="/api/v1/me",status="401"}' in metrics.text
    )


def test_openapi_is_served_under_api_v1(client: httpx.Client) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/users" in spec["paths"]
    assert client.get("/docs").status_code == 404  # no CDN-backed Swagger UI


def test_me_reports_role_and_permissions(
    client: httpx.Client, tokens_by_nation: dict[str, str]
) -> None:
    body = client.get("/api/v1/me", headers=auth(tokens_by_nation["jm-viewer"])).json()
    assert body["username"] == "jm-viewer" and body["nation"] == "JM"
    assert "users.manage" not in body["permissions"]


def test_missing_token_is_401_with_a_hint(client: httpx.Client) -> None:
    response = client.get("/api/v1/users")
    assert response.status_code == 401
    assert response.json()["error"] == "authentication_failed"
    assert "seawall token create" in response.json()["message"]


def test_create_user_then_read_it(client: httpx.Client, tokens_by_nation: dict[str, str]) -> None:
    created = client.post(
        "/api/v1/users",
        headers=auth(tokens_by_nation["jm"]),
        json={"username": "kemar", "role": "analyst", "password": "a-long-password"},
    )
    assert created.status_code == 201 and "password" not in created.text
    got = client.get("/api/v1/users/kemar", headers=auth(tokens_by_nation["jm"]))
    assert got.json()["role"] == "analyst"


def test_token_of_one_nation_cannot_see_anothers_records(
    client: httpx.Client, tokens_by_nation: dict[str, str]
) -> None:
    response = client.get("/api/v1/users/jm-viewer", headers=auth(tokens_by_nation["tt"]))
    assert response.status_code == 404
    listed = client.get("/api/v1/users", headers=auth(tokens_by_nation["tt"])).json()
    assert [u["username"] for u in listed] == ["tt-admin"]


def test_viewer_is_forbidden_to_add_users(
    client: httpx.Client, tokens_by_nation: dict[str, str], node: Node
) -> None:
    before = counts(node)
    response = client.post(
        "/api/v1/users",
        headers=auth(tokens_by_nation["jm-viewer"]),
        json={"username": "x1", "role": "viewer"},
    )
    assert response.status_code == 403 and response.json()["error"] == "forbidden"
    assert counts(node) == before


def test_malformed_json_is_a_clear_400_and_changes_nothing(
    client: httpx.Client, tokens_by_nation: dict[str, str], node: Node
) -> None:
    before = counts(node)
    response = client.post(
        "/api/v1/partners",
        headers={**auth(tokens_by_nation["jm"]), "content-type": "application/json"},
        content=b'{"name": "tt", "nation": ',
    )
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_body"
    assert "not valid JSON" in response.json()["message"]
    assert counts(node) == before


def test_oversized_body_is_413_and_changes_nothing(
    client: httpx.Client, tokens_by_nation: dict[str, str], node: Node
) -> None:
    before = counts(node)
    big = b'{"name": "' + b"a" * (node.settings.max_body_bytes + 10) + b'"}'
    response = client.post(
        "/api/v1/partners",
        headers={**auth(tokens_by_nation["jm"]), "content-type": "application/json"},
        content=big,
    )
    assert response.status_code == 413 and response.json()["error"] == "payload_too_large"
    assert counts(node) == before


def test_unknown_nation_code_is_named(
    client: httpx.Client, tokens_by_nation: dict[str, str], node: Node
) -> None:
    before = counts(node)
    response = client.post(
        "/api/v1/partners",
        headers=auth(tokens_by_nation["jm"]),
        json={"name": "atlantis", "nation": "XX", "url": "https://node.atlantis.example"},
    )
    assert response.status_code == 422
    assert response.json() == {
        "error": "unknown_nation",
        "message": "unknown nation code 'XX': use an ISO 3166-1 code such as JM or JAM",
    }
    assert (
        client.get("/api/v1/nations/XYZ", headers=auth(tokens_by_nation["jm"])).status_code == 422
    )
    assert counts(node) == before


def test_expired_and_revoked_tokens_are_refused(
    client: httpx.Client, node: Node, clock: FrozenClock, tokens_by_nation: dict[str, str]
) -> None:
    with node.unit(node.operator()) as ctx:
        short = tokens.create_token(ctx, "short", [], days=1, username="jm-admin")
        doomed = tokens.create_token(ctx, "doomed", [], days=30, username="jm-admin")
    revoke = client.delete(
        f"/api/v1/tokens/{doomed.token.id}", headers=auth(tokens_by_nation["jm"])
    )
    assert revoke.status_code == 200 and revoke.json()["revoked_at"]
    refused = client.get("/api/v1/me", headers=auth(doomed.value))
    assert refused.status_code == 401 and refused.json()["error"] == "token_revoked"
    clock.advance(days=2)
    expired = client.get("/api/v1/me", headers=auth(short.value))
    assert expired.status_code == 401 and expired.json()["error"] == "token_expired"


def test_basic_auth_takes_user_and_token(
    client: httpx.Client, tokens_by_nation: dict[str, str]
) -> None:
    ok = client.get("/api/v1/me", auth=("jm-admin", tokens_by_nation["jm"]))
    assert ok.json()["username"] == "jm-admin"
    wrong_user = client.get("/api/v1/me", auth=("jm-viewer", tokens_by_nation["jm"]))
    assert wrong_user.status_code == 401


def test_audit_api_lists_and_verifies(
    client: httpx.Client, tokens_by_nation: dict[str, str]
) -> None:
    client.post(
        "/api/v1/partners",
        headers=auth(tokens_by_nation["jm"]),
        json={"name": "tt-national", "nation": "TT", "url": "https://seawall.tt.example"},
    )
    entries = client.get(
        "/api/v1/audit", params={"action": "partner"}, headers=auth(tokens_by_nation["jm"])
    ).json()
    assert entries[0]["action"] == "partner.added" and entries[0]["source"] == "127.0.0.1"
    verdict = client.get("/api/v1/audit/verify", headers=auth(tokens_by_nation["jm"])).json()
    assert verdict["ok"] is True
    assert (
        client.get("/api/v1/audit", headers=auth(tokens_by_nation["jm-viewer"])).status_code == 403
    )


@pytest.mark.parametrize(
    ("since", "status"),
    [
        ("0001-01-01T00:00:00+00:01", 422),  # its UTC time falls before year 1
        ("2026-01-01T00:00:00", 200),  # no offset: taken as UTC
        ("9999-12-31T23:59:59-00:30", 422),  # its UTC time falls after year 9999
    ],
)
def test_audit_since_at_the_edge_of_the_calendar_is_refused_not_a_500(
    client: httpx.Client, tokens_by_nation: dict[str, str], since: str, status: int
) -> None:
    answer = client.get(
        "/api/v1/audit", params={"since": since}, headers=auth(tokens_by_nation["jm"])
    )
    assert answer.status_code == status, answer.text
    if status == 422:
        assert answer.json()["error"] == "invalid_input"
        assert "has no UTC equivalent" in answer.json()["message"]


def test_unknown_route_is_json_404(client: httpx.Client) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_no_route_does_blocking_work_on_the_event_loop(node: Node) -> None:
    # An `async def` endpoint runs on the event loop: a database query or a log match
    # there stalls every other request. Only the TAXII reads, a package delivery and the
    # embassy hosting API (which read their bodies first, or stream) are async, and they hop
    # to a worker thread themselves (seawall.web.routers.taxii.as_caller).
    app = create_app(node=node)
    hosting = {
        "agreement_status", "list_objects", "get_object", "stat_object", "put_object",
        "delete_object", "list_versions", "release_versions", "audit_objects", "purge_version",
    }  # fmt: skip
    hopping = {"get_objects", "get_manifest", "get_object", "deliver_package", *hosting}
    routes = list(app.routes)
    for included in app.routes:  # FastAPI keeps each included router's routes in it
        routes.extend(getattr(getattr(included, "original_router", None), "routes", []))
    endpoints = [route.endpoint for route in routes if isinstance(route, APIRoute)]
    assert len(endpoints) > 50
    on_loop = {e.__name__ for e in endpoints if inspect.iscoroutinefunction(e)}
    assert on_loop == hopping


def test_an_error_page_speaks_the_language_asked_for(client: httpx.Client) -> None:
    html = {"Accept": "text/html"}
    english = client.get("/no-such-page", headers=html)
    assert english.status_code == 404 and "Back to the dashboard" in english.text
    french = client.get("/no-such-page?lang=fr", headers=html)
    assert french.status_code == 404 and "Retour au tableau de bord" in french.text
    dutch = client.get("/no-such-page", headers={**html, "Accept-Language": "nl"})
    assert "Back to the dashboard" not in dutch.text and "<title>" in dutch.text


def test_a_token_cannot_mint_one_wider_than_itself(client: httpx.Client, node: Node) -> None:
    with node.unit(node.operator()) as ctx:
        users.add_user(ctx, "reader", "admin", password="a-long-password")
        narrow = tokens.create_token(ctx, "dashboards", ["node.read", "tokens.manage"],
                                     username="reader").value  # fmt: skip
    asked = {"name": "wider", "scopes": ["users.manage"], "days": 30}
    refused = client.post("/api/v1/tokens", json=asked, headers=auth(narrow))
    assert refused.status_code == 403
    assert "cannot grant scopes you do not hold: users.manage" in refused.json()["message"]
    # Asking for everything gives no more than the token that asked holds.
    issued = client.post("/api/v1/tokens", json={"name": "all", "days": 30}, headers=auth(narrow))
    assert issued.status_code == 201
    assert sorted(issued.json()["scopes"]) == ["node.read", "tokens.manage"]
    users_list = client.get("/api/v1/users", headers=auth(issued.json()["token"]))
    assert users_list.status_code == 403  # users.manage was never granted


def test_revoking_by_the_whole_value_never_repeats_the_secret(
    client: httpx.Client, tokens_by_nation: dict[str, str]
) -> None:
    secret = tokens_by_nation["jm-viewer"].split("_", 2)[2]
    guess = f"sw_000000000000_{secret}"  # a whole value, with an id that does not exist
    answer = client.delete(f"/api/v1/tokens/{guess}", headers=auth(tokens_by_nation["jm"]))
    assert answer.status_code == 404 and secret not in answer.text
    assert answer.json()["message"].startswith("no token '000000000000'")


@pytest.mark.parametrize(
    ("asked", "kept"),
    [
        ("/intel/search?q=c2.example", "/intel/search?q=c2.example"),
        ("//evil.example/x", "/"),
        ("/\\evil.example/x", "/"),  # browsers read /\\ as //
        ("https://evil.example/", "/"),
    ],
)
def test_sign_in_goes_back_only_to_a_local_page(
    client: httpx.Client, asked: str, kept: str
) -> None:
    page = client.get("/login", params={"next": asked})
    assert f'name="next" value="{html.escape(kept)}"' in page.text


def test_a_release_without_a_time_is_refused_not_a_server_error(client: httpx.Client) -> None:
    body = {"before": "", "public_key": "", "signature": ""}
    answer = client.post("/api/v1/embassy/hosting/jm-records/release", json=body)
    assert 400 <= answer.status_code < 500, answer.text
