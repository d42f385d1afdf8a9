"""Bulk inserts: PostgreSQL's COPY where it is the backend, one executemany elsewhere.

An executemany of a few hundred rows spends more time in statement compilation and per-row
parameter processing than the database spends storing them; COPY streams the rows instead.
Values go through the same conversions the column types apply on a normal insert.

PostgreSQL plans from table statistics that autovacuum refreshes a minute or more after a
bulk load, or never where it is turned off. Without them, a lookup of a few hundred ids in
a freshly loaded table of 600,000 objects was planned as a parallel scan of the whole table
(136 ms per import batch, where the index answers in a few). So a table that grew by
``analyze_every`` rows through this function in this process is analysed at once.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import orjson
from sqlalchemy import JSON, Table, insert, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from seawall.db.models.base import Base
from seawall.db.types import UTCDateTime

if TYPE_CHECKING:
    import psycopg

ANALYZE_EVERY = 50_000
# Rows inserted per (database, table) since this process last analysed the table.
_grown: Counter[tuple[str, str]] = Counter()
_grown_lock = threading.Lock()


def insert_rows(
    db: Session,
    model: type[Base],
    rows: Sequence[dict[str, Any]],
    *,
    analyze_every: int = ANALYZE_EVERY,
) -> None:
    """Insert ``rows`` (each with the same keys) into ``model``'s table in the session's
    transaction. Rows are stored in the order given, so an autoincrementing key follows it.
    """
    if not rows:
        return
    table = cast(Table, model.__table__)
    if db.get_bind().dialect.name != "postgresql":
        db.execute(insert(table), list(rows))
        return
    # Imported here: a node on SQLite never loads the PostgreSQL driver (0.13 s at start-up).
    from psycopg import sql

    names = list(rows[0])
    convert = [_converter(table.c[name].type) for name in names]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, names))
    )
    raw = cast("psycopg.Connection[Any]", db.connection().connection.driver_connection)
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([fn(row[name]) for fn, name in zip(convert, names, strict=True)])
    _analyze_when_grown(db, table, len(rows), analyze_every)


def _analyze_when_grown(db: Session, table: Table, added: int, every: int) -> None:
    key = (db.get_bind().engine.url.render_as_string(hide_password=True), table.name)
    with _grown_lock:
        _grown[key] += added
        if _grown[key] < every:
            return
        _grown[key] = 0
    # Inside the caller's transaction (ANALYZE may run in one), behind a savepoint: without
    # the right to analyse, the insert still commits and autovacuum is left to it.
    try:
        with db.begin_nested():
            quoted = db.get_bind().dialect.identifier_preparer.quote(table.name)
            db.execute(text(f"ANALYZE {quoted}"))
    except DBAPIError:
        return


def _converter(kind: TypeEngine[Any]) -> Callable[[Any], Any]:
    if isinstance(kind, UTCDateTime):
        return _naive_utc
    if isinstance(kind, JSON):
        return _json
    return _same


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is UTC:
        return value.replace(tzinfo=None)
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(UTC).replace(tzinfo=None)


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _same(value: Any) -> Any:
    return value
