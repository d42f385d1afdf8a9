"""Hardening: private file modes, security headers on every response, and TAXII discovery
URLs that come from the node's settings, never from the request's Host header."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from seawall.core import tokens, users
from seawall.core.clock import FrozenClock
from seawall.core.node import Node
from seawall.web.app import create_app
from tests.conftest import LiveServer, make_node, serve_in_thread

TAXII = "application/taxii+json;version=2.1"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_home_and_the_database_are_private_after_a_write(
    tmp_path: Path, clock: FrozenClock
) -> None:
    node = make_node(tmp_path / "home", None, clock)
    try:
        with node.unit(node.operator()) as ctx:
            users.add_user(ctx, "admin", "admin", password="a-long-password")
        with node.engine.connect():  # a connection holds the WAL and shared memory open
            home = node.settings.home
            files = {p.name: _mode(p) for p in home.iterdir() if p.name.startswith("seawall.db")}
            assert files == {"seawall.db": 0o600, "seawall.db-wal": 0o600, "seawall.db-shm": 0o600}
            assert _mode(home) == 0o700
    finally:
        node.close()


def test_an_older_home_is_made_private_when_the_node_opens_it(
    tmp_path: Path, clock: FrozenClock
) -> None:
    make_node(tmp_path / "home", None, clock).close()
    home = tmp_path / "home"
    home.chmod(0o755)
    (home / "seawall.db").chmod(0o644)
    node = make_node(home, None, clock)  # `seawall init` again, as an upgrade does
    try:
        with node.unit(node.operator()) as ctx:
            users.add_user(ctx, "admin", "admin", password="a-long-password")
        with node.engine.connect():
            assert _mode(home / "seawall.db") == 0o600
            assert _mode(home / "seawall.db-wal") == 0o600
            assert _mode(home) == 0o700
    finally:
        node.close()


@pytest.fixture
def token(node: Node) -> str:
    with node.unit(node.operator()) as ctx:
        users.add_user(ctx, "admin", "admin", password="a-long-password")
        return tokens.create_token(ctx, "t", [], username="admin").value


@pytest.fixture
def server(node: Node) -> Iterator[LiveServer]:
    app: FastAPI = create_app(node=node)

    @app.get("/test-only/boom")
    def boom() -> None:
        raise RuntimeError("a bug, for the test")

    live = serve_in_thread(app)
    yield live
    live.stop()


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/login", 200),  # HTML
        ("/", 303),  # a redirect to sign in
        ("/admin/users", 303),
        ("/api/v1/me", 401),  # a JSON error
        ("/taxii2/", 401),  # a TAXII error
        ("/static/css/seawall.css", 200),
        ("/static/vendor/htmx-2.0.4.min.js", 200),
        ("/no/such/page", 404),
        ("/healthz", 200),
        ("/test-only/boom", 500),
    ],
)
def test_every_response_carries_the_security_headers(
    server: LiveServer, path: str, status: int
) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        accept = TAXII if path.startswith("/taxii2") else "text/html"
        response = client.get(path, headers={"accept": accept})
    assert response.status_code == status
    policy = response.headers["content-security-policy"]
    directives = {d.split()[0]: d.split()[1:] for d in policy.split("; ")}
    assert directives["script-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in directives["default-src"]
    assert "'unsafe-inline'" not in directives["style-src"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-frame-options"] == "DENY"


def test_taxii_discovery_names_the_public_url_whatever_the_host_header(
    node: Node, token: str
) -> None:
    live = serve_in_thread(create_app(node=node))
    node.settings = node.settings.model_copy(update={"public_url": "https://cirt.gov.jm/seawall/"})
    try:
        with httpx.Client(base_url=live.url, timeout=10) as client:
            answer = client.get(
                "/taxii2/",
                headers={
                    "Authorization": f"Bearer {token}",
                    "Accept": TAXII,
                    "Host": "evil.example",
                    "X-Forwarded-Host": "evil.example",
                },
            )
    finally:
        live.stop()
    assert answer.status_code == 200, answer.text
    document = answer.json()
    assert "evil.example" not in answer.text
    assert document["api_roots"] == [document["default"]]
    assert document["default"].startswith("https://cirt.gov.jm/seawall/taxii2/")
    assert document["contact"] == "https://cirt.gov.jm/seawall/"


def test_templates_hold_no_inline_script() -> None:
    import re

    templates = Path(__file__).parents[2] / "src/seawall/web/templates"
    found = []
    for page in templates.rglob("*.html"):
        text = page.read_text()
        for script in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in script:
                found.append(f"{page.name}: {script}")
        found += [f"{page.name}: {h}" for h in re.findall(r"\son[a-z]+\s*=", text)]
        found += [f"{page.name}: javascript:" for _ in re.findall(r"javascript:", text)]
    assert found == []
