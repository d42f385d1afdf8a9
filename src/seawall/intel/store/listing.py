"""Listing the store for people: the newest visible version of each object, filtered, sorted,
paged by keyset, with the exact total a reader may see.

TAXII reads (:mod:`seawall.intel.store.reading`) walk a collection oldest first, as the spec
says. Analysts want the newest first, a count they can trust, and filters by type, marking,
state, date and creator. Both read through the same visibility SQL and the same per-row
policy verdict; the total is a COUNT with the page's own WHERE clause, so it counts exactly
what the pages hold, over the paging index ``(collection_id, date_added, seq)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    and_,
    false,
    not_,
    or_,
    select,
    text,
)

from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.core.paging import Page, PageRequest, Sort, parse_day, parse_limit, sql_page
from seawall.db.models.intel import IntelCollection, IntelObject
from seawall.errors import Forbidden, InvalidInput, parse_choice
from seawall.intel.collections import can_read, reader_of
from seawall.intel.observable_index import holds_observable
from seawall.intel.store.reading import ROW_COLUMNS, StoredObject, newest_visible
from seawall.intel.store.visibility import visible
from seawall.intel.tlp import Tlp, parse_tlp


class Order(StrEnum):
    """The orders an object list can be read in."""

    NEWEST = "newest"
    OLDEST = "oldest"
    MODIFIED = "modified"
    TYPE = "type"


class State(StrEnum):
    """An object's state now (see :func:`seawall.intel.quality.status_of`)."""

    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"
    PENDING = "pending"


SORTS: dict[Order, Sort] = {
    Order.NEWEST: Sort("newest", (datetime, int), descending=True),
    Order.OLDEST: Sort("oldest", (datetime, int)),
    Order.MODIFIED: Sort("modified", (datetime, int), descending=True),
    Order.TYPE: Sort("type", (str, int)),
}
_KEYS: dict[Order, tuple[Any, ...]] = {
    Order.NEWEST: (IntelObject.date_added, IntelObject.seq),
    Order.OLDEST: (IntelObject.date_added, IntelObject.seq),
    Order.MODIFIED: (IntelObject.version, IntelObject.seq),
    Order.TYPE: (IntelObject.type, IntelObject.seq),
}


@dataclass(frozen=True)
class ObjectQuery:
    """What to list: filters, order and page. Empty filters mean "any"."""

    text: str = ""
    types: tuple[str, ...] = ()
    tlps: tuple[Tlp, ...] = ()
    state: State | None = None
    added_from: datetime | None = None
    added_to: datetime | None = None
    creator: str = ""
    order: Order = Order.NEWEST
    page: PageRequest = field(default_factory=PageRequest)

    @classmethod
    def parse(
        cls,
        text: str = "",
        type: str = "",
        tlp: str = "",
        state: str = "",
        added_from: str = "",
        added_to: str = "",
        creator: str = "",
        sort: str = "",
        limit: str | int | None = None,
        cursor: str | None = None,
    ) -> ObjectQuery:
        """A query from form or option values (lists comma-separated), or InvalidInput."""
        return cls(
            text=_utf8(text.strip()[:500], "the search text"),
            types=tuple(_utf8(t, "the type") for t in _split(type)),
            tlps=tuple(parse_tlp(t) for t in _split(tlp)),
            state=parse_choice(State, "state", state) if state.strip() else None,
            added_from=parse_day(added_from, "from"),
            added_to=parse_day(added_to, "to", day_end=True),
            creator=_utf8(creator.strip()[:300], "the creator"),
            order=parse_choice(Order, "sort", sort) if sort.strip() else Order.NEWEST,
            page=PageRequest(parse_limit(limit), cursor.strip() if cursor else None),
        )

    @property
    def sort(self) -> Sort:
        """The keyset order this query reads in."""
        return SORTS[self.order]


def _split(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _utf8(value: str, label: str) -> str:
    """``value``, or InvalidInput when it holds a lone surrogate (bytes a shell passed that
    are not UTF-8): no stored body holds one, and neither database can bind it."""
    try:
        value.encode()
    except UnicodeEncodeError:
        raise InvalidInput(f"{label} {value!r} is not UTF-8 text") from None
    return value


class Listed(NamedTuple):
    """One listed object: its collection, and the version the reader sees."""

    collection_id: str
    stored: StoredObject


def holds_text(dialect: str, needle: str) -> ColumnElement[bool]:
    """SQL for "the id is, or the body holds, ``needle``, whatever its case", as cheap as
    each database allows: this scans every body a reader may see."""
    if dialect == "sqlite" or needle.lower() == needle.upper():
        # SQLite's LIKE ignores ASCII case (its lower() folds only ASCII too), and a needle
        # without letters (an address, a port) has no case: no lower() of every body.
        holds = IntelObject.body.contains(needle, autoescape=True)
    else:
        holds = IntelObject.body.icontains(needle, autoescape=True)
    return or_(IntelObject.stix_id == needle, holds)


def _state_sql(state: State, now: datetime) -> ColumnElement[bool]:
    """SQL for :func:`seawall.intel.quality.status_of` being ``state`` at ``now``, from the
    columns :mod:`seawall.intel.store.lifecycle` keeps beside each body.

    Each test is true or false, never NULL (an absent time is false), so NOT is exact.
    """
    revoked = IntelObject.revoked.is_(True)
    expired = and_(IntelObject.valid_until.is_not(None), IntelObject.valid_until <= now)
    pending = and_(IntelObject.valid_from.is_not(None), IntelObject.valid_from > now)
    if state is State.REVOKED:
        return revoked
    if state is State.EXPIRED:
        return and_(not_(revoked), expired)
    if state is State.PENDING:
        return and_(not_(revoked), not_(expired), pending)
    return and_(not_(revoked), not_(expired), not_(pending))


def _filters(ctx: Ctx, query: ObjectQuery) -> list[ColumnElement[bool]]:
    dialect = ctx.db.get_bind().dialect.name
    where: list[ColumnElement[bool]] = []
    if query.text:
        # The value as written in a body, or as an observable however it is written.
        where.append(or_(holds_text(dialect, query.text), holds_observable(query.text)))
    if query.types:
        where.append(IntelObject.type.in_(query.types))
    if query.tlps:
        where.append(IntelObject.tlp.in_([int(t) for t in query.tlps]))
    if query.added_from is not None:
        where.append(IntelObject.date_added >= query.added_from)
    if query.added_to is not None:
        where.append(IntelObject.date_added < query.added_to)
    if query.creator:
        where.append(
            or_(
                IntelObject.created_by_ref == query.creator,
                IntelObject.submitted_by == query.creator,
            )
        )
    if query.state is not None:
        where.append(_state_sql(query.state, ctx.now()))
    return where


_COLUMNS = (IntelObject.collection_id, *ROW_COLUMNS)
_TLPS = tuple(sorted(Tlp))


def list_objects(
    ctx: Ctx, collections: Sequence[IntelCollection], query: ObjectQuery
) -> Page[Listed]:
    """One page of the newest visible version of each object in ``collections`` that the
    query selects, and how many there are in all; Forbidden for an unreadable collection."""
    require(ctx.who, Perm.INTEL_READ)
    readers = {}
    scopes: list[ColumnElement[bool]] = []
    for collection in collections:
        if not can_read(ctx, collection):
            raise Forbidden(f"{ctx.who.username} may not read {collection.alias!r}")
        reader = readers[collection.id] = reader_of(ctx, collection)
        scopes.append(
            and_(
                IntelObject.collection_id == collection.id,
                visible(reader),
                newest_visible(reader, collection.id),
            )
        )
    scope = or_(*scopes) if scopes else false()
    if ctx.db.get_bind().dialect.name == "postgresql":
        # The "newest version" subquery makes the planner cost a COUNT of 100,000 rows near
        # a million, past the JIT threshold: compiling it took 0.9 s of a 1.1 s count.
        ctx.db.execute(text("SET LOCAL jit = off"))
    keys = _KEYS[query.order]
    stmt = select(*_COLUMNS, *keys).where(scope, *_filters(ctx, query))
    page = sql_page(ctx.db, stmt, query.sort, keys, query.page)
    listed: list[Listed] = []
    for row in page.items:
        cid, stix_id, kind, version, added, spec, tlp, by_ref, body, nation, org, who = row[:12]
        # Defence in depth, as every store read: the SQL is compiled from the policy;
        # ask the policy itself before a row leaves the store.
        if readers[cid].may_read(tlp, nation, org, who):
            stored = StoredObject(stix_id, kind, version, added, spec, _TLPS[tlp], by_ref, body)
            listed.append(Listed(cid, stored))
    return Page(listed, page.total, page.next, page.prev)


__all__ = ["SORTS", "Listed", "ObjectQuery", "Order", "State", "holds_text", "list_objects"]
