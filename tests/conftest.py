"""Shared fixtures: real SQLite and PostgreSQL nodes, a frozen clock, a live uvicorn server.

Also :func:`sign_in_by_form`, which signs an httpx client in through the real /login form.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
import pytest
import uvicorn
from sqlalchemy import make_url

from seawall.core.clock import FrozenClock
from seawall.core.node import Node, init_node
from seawall.settings import Settings, load_settings

PG_URL = os.environ.get("SEAWALL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
EPOCH = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

# Real storage servers (OpenSSH sshd, rclone serve s3) for the embassy site tests.
pytest_plugins = ["tests.servers"]


def _pg_admin() -> psycopg.Connection[tuple[object, ...]]:
    url = make_url(PG_URL)
    return psycopg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        dbname=url.database,
        autocommit=True,
        connect_timeout=5,
    )


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    name = f"sw_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each database test runs on both backends."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'seawall.db'}"
    url: str = request.getfixturevalue("pg_database")
    return url


@pytest.fixture
def clock() -> FrozenClock:
    """A clock that moves only when a test says so."""
    return FrozenClock(EPOCH)


def make_node(home: Path, database_url: str | None, clock: FrozenClock, nation: str = "JM") -> Node:
    """Initialise a node home and return its Node bound to ``clock``."""
    overrides: dict[str, object] = {"home": home, "cookie_secure": False}
    if database_url:
        overrides["database_url"] = database_url
    settings: Settings = load_settings(**overrides)
    node = init_node(settings, nation, "Test node", clock=clock)
    return node


@pytest.fixture
def node(tmp_path: Path, clock: FrozenClock) -> Iterator[Node]:
    """A Jamaica node on SQLite."""
    n = make_node(tmp_path / "home", None, clock)
    yield n
    n.close()


@pytest.fixture
def any_node(tmp_path: Path, clock: FrozenClock, database_url: str) -> Iterator[Node]:
    """A Jamaica node on each backend in turn."""
    n = make_node(tmp_path / "home", database_url, clock)
    yield n
    n.close()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LiveServer:
    """A uvicorn server running in a thread."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        """Stop and wait."""
        self.server.should_exit = True
        self.thread.join(timeout=10)


def serve_in_thread(app: object, port: int | None = None) -> LiveServer:
    """Start uvicorn on a loopback port (a free one unless given) and wait until it listens.

    A node's app learns the URL it is served at as its ``public_url``, which TAXII discovery
    names (as an operator sets SEAWALL_PUBLIC_URL); a test may set another afterwards.
    """
    port = port or free_port()
    node = getattr(getattr(app, "state", None), "node", None)
    if isinstance(node, Node):
        node.settings = node.settings.model_copy(update={"public_url": f"http://127.0.0.1:{port}"})
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start within 10 s")
        time.sleep(0.02)
    return LiveServer(f"http://127.0.0.1:{port}", server, thread)


def sign_in_by_form(http: httpx.Client, username: str, password: str) -> httpx.Response:
    """Sign in through the real form: GET /login for its CSRF cookie, then POST /login.

    Returns the POST's answer unfollowed (a 303 on success), the client keeping the session.
    """
    http.get("/login")
    return http.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": http.cookies["seawall_login_csrf"],
            "next": "/",
        },
        follow_redirects=False,
    )


@pytest.fixture
def live_server(node: Node) -> Iterator[LiveServer]:
    """The node's app served by a real uvicorn on 127.0.0.1."""
    from seawall.web.app import create_app

    live = serve_in_thread(create_app(node=node))
    yield live
    live.stop()
