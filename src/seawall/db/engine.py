"""Engines and sessions, with a reachability check that names the URL safely."""

from __future__ import annotations

import contextlib
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import (
    ArgumentError,
    DatabaseError,
    DataError,
    OperationalError,
    ProgrammingError,
)
from sqlalchemy.orm import Session, sessionmaker

from seawall.errors import ConfigError, DatabaseFailed, DatabaseUnavailable, InvalidInput


def safe_url(url: str) -> str:
    """The URL as it may be shown: password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            "database URL is not a URL; use sqlite:///PATH or postgresql+psycopg://HOST/DB"
        ) from None
    # A database error names the statement, never its values: they hold password and
    # token hashes, CSRF tokens and sealed partner tokens.
    kwargs: dict[str, Any] = {"hide_parameters": True}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
    else:
        kwargs["pool_pre_ping"] = True
        # Plan every execution with its own values: psycopg prepares repeated statements, and
        # PostgreSQL's generic plan for "stix_id IN (500 parameters)" scanned the whole table
        # once it judged that cheaper, which made each import batch slower than the last.
        kwargs["connect_args"] = {
            "connect_timeout": 5,
            "options": "-c plan_cache_mode=force_custom_plan",
        }
    try:
        engine = create_engine(parsed, **kwargs)
    except Exception as exc:  # an unknown driver name and the like
        raise ConfigError(
            f"cannot use database URL {safe_url(url)} ({exc}): Seawall runs on "
            "sqlite:///PATH or postgresql+psycopg://HOST/DB"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        path = _sqlite_file(parsed.database)
        event.listen(engine, "connect", lambda conn, record: _sqlite_connect(path, conn))
    return engine


def _sqlite_file(database: str | None) -> Path | None:
    """The database's file, or None for an in-memory database."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _sqlite_connect(path: Path | None, dbapi_conn: Any) -> None:
    if path is not None:
        _make_private(path)
    _sqlite_pragmas(dbapi_conn)


def _make_private(path: Path) -> None:
    """Mode 0600 for the database and its WAL and shared-memory files.

    The file holds password and token hashes and sealed partner tokens. SQLite makes it
    0644 (under the usual umask) and gives the -wal and -shm files it makes later the main
    file's mode, so the main file is set before the pragmas below bring the others about;
    ones left over from an older node are set too.
    """
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        # Missing is fine; another user's file we cannot change, and it still opens.
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if stat.S_IMODE(name.stat().st_mode) != 0o600:
                name.chmod(0o600)


def _sqlite_pragmas(dbapi_conn: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _first_line(exc: DatabaseError, otherwise: str) -> str:
    """What the driver said, in one line (its own text, never the statement's values)."""
    said = str(exc.orig).strip() if exc.orig else ""
    return said.splitlines()[0] if said else otherwise


def check_reachable(engine: Engine) -> None:
    """Raise one clear line when the database cannot be reached."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DatabaseError as exc:  # no server, no file, or a file that is not a database
        reason = _first_line(exc, "no answer")
        password = engine.url.password
        if password:
            reason = reason.replace(str(password), "***")
        raise DatabaseUnavailable(
            f"cannot reach database {safe_url(engine.url.render_as_string(False))}: {reason}; "
            "check SEAWALL_DATABASE_URL and that the server is running"
        ) from None


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any failure.

    A database failure the work did not expect (a dropped connection, a missing table)
    leaves as one typed line rather than a driver's traceback.
    """
    try:
        with factory() as session, session.begin():
            yield session
    except DataError as exc:  # a value given that the database cannot hold (a NUL in text)
        reason = _first_line(exc, "a value it cannot hold")
        raise InvalidInput(
            f"the database cannot take a value given: {reason}; correct the input"
        ) from exc
    except (OperationalError, ProgrammingError) as exc:
        reason = _first_line(exc, type(exc).__name__)
        raise DatabaseFailed(
            f"the database failed: {reason}; check that it is running and that its schema "
            "is current (`seawall init`), or restore it from a backup"
        ) from exc
