"""Keyset paging for every list: one page of items, the exact total, and opaque cursors.

A list is read in one of a few named sort orders. Each order is a key: a tuple of
columns ending in a unique one (a row id), all in one direction. A cursor names the key
of the row at a page's edge and which way to read from it, so a page is found by seeking
the index to that key (``WHERE (a, b) < (:a, :b)``) instead of skipping rows with
OFFSET: page 500 costs what page 1 costs, and rows added while the reader pages never
make a row appear twice or vanish.

A cursor is the base64 of a small JSON array ``[1, sort, "n"|"p", [key...]]``. It is
validated field by field on the way in (version, sort, direction, and the type of every
key part); anything else is :class:`~seawall.errors.BadPageCursor`. It carries no secret
and grants nothing: every read still applies the reader's own visibility rules.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, func, literal, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from seawall.errors import BadPageCursor, InvalidInput

T = TypeVar("T")
KeyPart = datetime | int | str
Key = tuple[KeyPart, ...]

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
_MAX_CURSOR = 2048  # characters: a key of a few columns is far shorter
_INT64 = 2**63  # keys are 64-bit integers (row ids, counts)


@dataclass(frozen=True)
class Sort:
    """A named order of a list: the kind of each key part, and its direction."""

    name: str
    kinds: tuple[type[KeyPart], ...]
    descending: bool = False


@dataclass(frozen=True)
class Cursor:
    """A decoded cursor: the key of an edge row, and whether to read past it or before it."""

    sort: str
    forward: bool
    key: Key


@dataclass(frozen=True)
class PageRequest:
    """Which page of a list to read: how many rows, from which cursor, in which order."""

    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, the number of rows the whole list holds, and the cursors either side."""

    items: list[T]
    total: int
    next: str | None = None
    prev: str | None = None

    def map(self, convert: Callable[[T], Any]) -> Page[Any]:
        """The same page with every item converted."""
        return Page([convert(item) for item in self.items], self.total, self.next, self.prev)


def parse_limit(
    value: str | int | None, default: int = DEFAULT_LIMIT, most: int = MAX_LIMIT
) -> int:
    """A page size from a query string or option, or InvalidInput; capped at ``most``."""
    if value is None or value == "":
        return default
    text = str(value).strip()
    # Digits checked before int(): "²".isdigit() is True, and a 5,000-digit number is slow.
    if not (text.isascii() and text.isdigit()) or not text.lstrip("0"):
        raise InvalidInput(f"limit {text[:40]!r} is not a positive whole number")
    return most if len(text.lstrip("0")) > 6 else min(int(text), most)


def parse_day(value: str, what: str, day_end: bool = False) -> datetime | None:
    """A filter's date (``2026-11-01``: that day's start in UTC, or with ``day_end`` the next
    day's, so the day is included) or time (``2026-11-01T12:00:00Z``), or InvalidInput."""
    text = value.strip()
    if not text:
        return None
    try:
        if len(text) == 10:
            day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
            return day + timedelta(days=1) if day_end else day
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            raise ValueError(text)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):  # Overflow: the UTC shift left years 1-9999
        raise InvalidInput(
            f"{what} {text[:40]!r} is not a date like 2026-11-01 or a time like "
            "2026-11-01T12:00:00Z"
        ) from None


def _encode_part(part: KeyPart) -> Any:
    if isinstance(part, datetime):
        return {"t": part.astimezone(UTC).isoformat()}
    return part


def encode_cursor(sort: Sort, key: Key, forward: bool = True) -> str:
    """An opaque cursor naming the place after (or, not ``forward``, before) ``key``."""
    raw = json.dumps(
        [1, sort.name, "n" if forward else "p", [_encode_part(p) for p in key]],
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_part(kind: type[KeyPart], value: Any) -> KeyPart:
    if kind is datetime:
        if not (isinstance(value, dict) and list(value) == ["t"] and isinstance(value["t"], str)):
            raise ValueError(value)
        moment = datetime.fromisoformat(value["t"])
        if moment.tzinfo is None:
            raise ValueError(value)
        return moment.astimezone(UTC)
    if kind is int:
        if type(value) is not int or not -_INT64 <= value < _INT64:
            raise ValueError(value)
        return value
    if not isinstance(value, str) or len(value) > 1000:
        raise ValueError(value)
    return value


def decode_cursor(value: str, sort: Sort) -> Cursor:
    """The place a cursor issued for ``sort`` names, or BadPageCursor."""
    try:
        if len(value) > _MAX_CURSOR or not value.isascii():
            raise ValueError(value)
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        version, name, way, parts = json.loads(raw)
        if version != 1 or name != sort.name or way not in ("n", "p"):
            raise ValueError(raw)
        if not isinstance(parts, list) or len(parts) != len(sort.kinds):
            raise ValueError(raw)
        key = tuple(_decode_part(kind, part) for kind, part in zip(sort.kinds, parts, strict=True))
    except (
        ValueError,
        TypeError,
        OverflowError,  # a time the UTC shift takes past year 1 or 9999
        binascii.Error,
        UnicodeDecodeError,
        RecursionError,
    ):
        raise BadPageCursor(
            f"cursor {value[:40]!r} is not one this node issued for the {sort.name!r} order; "
            "start again from the first page"
        ) from None
    return Cursor(sort.name, way == "n", key)


def _beyond(sort: Sort, key: Key, cursor: Cursor) -> bool:
    """Whether ``key`` lies on the side of the cursor it reads towards."""
    later = key > cursor.key
    earlier = key < cursor.key
    ahead = earlier if sort.descending else later
    behind = later if sort.descending else earlier
    return ahead if cursor.forward else behind


def _assemble(
    sort: Sort,
    rows: list[T],
    key_of: Callable[[T], Key],
    limit: int,
    total: int,
    cursor: Cursor | None,
) -> Page[T]:
    """A page from up to ``limit + 1`` rows read in the cursor's direction (list order)."""
    more = len(rows) > limit
    rows = rows[:limit]
    forward = cursor is None or cursor.forward
    if not forward:
        rows.reverse()
    if not rows:
        return Page([], total)
    # Reading forward, rows lie before the page exactly when it started from a cursor;
    # reading back, rows lie after it, the ones the cursor came from.
    has_next = more if forward else True
    has_prev = (cursor is not None) if forward else more
    return Page(
        rows,
        total,
        next=encode_cursor(sort, key_of(rows[-1])) if has_next else None,
        prev=encode_cursor(sort, key_of(rows[0]), forward=False) if has_prev else None,
    )


def page_of(
    items: Sequence[T], key_of: Callable[[T], Key], sort: Sort, request: PageRequest
) -> Page[T]:
    """One page of a list held in memory, already in ``sort``'s order."""
    cursor = decode_cursor(request.cursor, sort) if request.cursor else None
    if cursor is None:
        chosen = list(items[: request.limit + 1])
    elif cursor.forward:
        chosen = [i for i in items if _beyond(sort, key_of(i), cursor)][: request.limit + 1]
    else:
        before = [i for i in items if _beyond(sort, key_of(i), cursor)]
        chosen = before[::-1][: request.limit + 1]
    return _assemble(sort, chosen, key_of, request.limit, len(items), cursor)


def sql_page(
    db: Session,
    stmt: Select[*tuple[Any, ...]],
    sort: Sort,
    columns: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]],
    request: PageRequest,
    key_of: Callable[[Any], Key] | None = None,
) -> Page[Any]:
    """One page of a filtered SELECT (no ORDER BY, no LIMIT) and its exact total.

    ``columns`` are the SQL of ``sort``'s key; ``key_of`` reads a key back from a result
    row (by default the row's last ``len(columns)`` values). The total is one COUNT with
    the same WHERE clause, so it uses the same indexes and counts only what the reader
    may see.
    """
    cursor = decode_cursor(request.cursor, sort) if request.cursor else None
    width = len(columns)
    read_key = key_of or (lambda row: tuple(row[-width:]))
    total = db.execute(
        stmt.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)
    ).scalar_one()
    forward = cursor is None or cursor.forward
    descending = sort.descending == forward  # the SQL order of this read
    page_stmt = stmt
    if cursor is not None:
        bound = tuple_(*(literal(v, c.type) for v, c in zip(cursor.key, columns, strict=True)))
        row = tuple_(*columns)
        page_stmt = page_stmt.where(row < bound if descending else row > bound)
    order = [c.desc() if descending else c.asc() for c in columns]
    rows = list(db.execute(page_stmt.order_by(*order).limit(request.limit + 1)).all())
    return _assemble(sort, rows, read_key, request.limit, int(total), cursor)


__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "Cursor",
    "Key",
    "Page",
    "PageRequest",
    "Sort",
    "decode_cursor",
    "encode_cursor",
    "page_of",
    "parse_day",
    "parse_limit",
    "sql_page",
]
