"""Shared fixtures: real SQLite and PostgreSQL nodes, a frozen clock, a live uvicorn server.

Also :func:`sign_in_by_form`, which signs an httpx client in through the real /login form.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import tempfile
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
from sqlalchemy import make_url, text

from seawall.core.clock import FrozenClock
from seawall.core.node import Node, init_node
from seawall.db.engine import make_engine
from seawall.db.migrate import upgrade
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


# -- the schema, migrated once per process ------------------------------------------------
# Running every migration takes seconds (batch mode rebuilds SQLite tables), and most tests
# want a node, not a migration. Each test process (each xdist worker) migrates one SQLite file
# and one PostgreSQL database once; a node's new database starts as a copy of it, and
# init_node then finds the schema at its heads and seeds the nations as always. Migrating an
# empty database stays tested where it is the point: `seawall init` (tests/cli.py) and the
# migration tests, which never come here.
_schema: dict[str, str] = {}


def _schema_dir() -> Path:
    if "dir" not in _schema:
        made = tempfile.mkdtemp(prefix="seawall-schema-")
        atexit.register(shutil.rmtree, made, True)
        _schema["dir"] = made
    return Path(_schema["dir"])


def _sqlite_schema() -> Path:
    """A SQLite file migrated to the heads (made on first use)."""
    path = _schema_dir() / "seawall.db"
    if not path.exists():
        part = path.with_suffix(".part")
        engine = make_engine(f"sqlite:///{part}")
        upgrade(engine)
        engine.dispose()  # the last connection checkpoints the WAL into the file
        part.rename(path)
    return path


def _pg_schema() -> str:
    """The name of a PostgreSQL database migrated to the heads (made on first use)."""
    if "pg" not in _schema:
        name = f"sw_schema_{uuid.uuid4().hex[:12]}"
        with _pg_admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        atexit.register(_drop_database, name)
        engine = make_engine(make_url(PG_URL).set(database=name).render_as_string(False))
        upgrade(engine)
        engine.dispose()  # a template database must have no connections
        _schema["pg"] = name
    return _schema["pg"]


def _drop_database(name: str) -> None:
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _blank_pg(url: str) -> bool:
    """True when the PostgreSQL database at ``url`` has no table at all."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.execute(
                text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            ).scalar_one()
            return bool(found == 0)
    finally:
        engine.dispose()


def start_at_heads(settings: Settings) -> None:
    """Give a node's database the migrated schema when it is new.

    A SQLite file that does not exist yet becomes a copy of this process's migrated file; an
    empty PostgreSQL database that :func:`pg_database` made (``sw_*``) is made again with this
    process's migrated database as its template. Anything else is left to init_node.
    """
    url = make_url(settings.effective_database_url)
    name = url.database or ""
    if url.get_backend_name() == "sqlite":
        if name and name != ":memory:" and not name.startswith("file:") and not Path(name).exists():
            Path(name).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            shutil.copyfile(_sqlite_schema(), name)
        return
    admin = make_url(PG_URL)
    ours = (url.host, url.port or 5432) == (admin.host, admin.port or 5432)
    if ours and name.startswith("sw_") and _blank_pg(url.render_as_string(hide_password=False)):
        template = _pg_schema()
        with _pg_admin() as conn:
            try:
                conn.execute(f'DROP DATABASE "{name}"')
            except psycopg.errors.ObjectInUse:
                return  # the test holds a connection to it: init_node migrates it in place
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


def make_node(home: Path, database_url: str | None, clock: FrozenClock, nation: str = "JM") -> Node:
    """Initialise a node home and return its Node bound to ``clock``."""
    overrides: dict[str, object] = {"home": home, "cookie_secure": False}
    if database_url:
        overrides["database_url"] = database_url
    settings: Settings = load_settings(**overrides)
    start_at_heads(settings)
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
    # The socket is bound here and handed to uvicorn, so no other test process can take the
    # port between choosing it and listening on it (as with a probed free_port()).
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port or 0))
    port = int(sock.getsockname()[1])
    node = getattr(getattr(app, "state", None), "node", None)
    if isinstance(node, Node):
        node.settings = node.settings.model_copy(update={"public_url": f"http://127.0.0.1:{port}"})
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
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
