"""Reading the store: the TAXII filters, pages, cursors, and the reads through the policy.

Objects are kept per collection, one row per (id, version), where the version is
``modified`` (else ``created``, else the time it was added). Reads page in
``date_added`` order with an opaque cursor over (date_added, row id): it names a
place in the table, not a server-side session, so it never expires and survives
restarts. Every read is narrowed by :func:`seawall.intel.store.visibility.visible`
and every row it returns is checked again by the reader's own policy verdict.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Executable,
    Integer,
    bindparam,
    exists,
    not_,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import aliased

from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.db.models.intel import IntelCollection, IntelObject
from seawall.errors import Forbidden
from seawall.intel.collections import Reader, can_read, reader_of
from seawall.intel.errors import BadCursor, BadFilter, InvalidStixObject, ObjectNotFound
from seawall.intel.store.visibility import visible
from seawall.intel.tlp import Tlp
from seawall.intel.validation import format_timestamp, parse_timestamp

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
# Built once: making an alias is costly and the statement cache keys on its name.
_OTHER_VERSION = aliased(IntelObject, name="other_version")


@dataclass(frozen=True)
class Filters:
    """The TAXII 2.1 filters (§3.4), with the spec's defaults."""

    added_after: datetime | None = None
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: tuple[str, ...] = ("last",)
    spec_versions: tuple[str, ...] = ()
    limit: int = DEFAULT_LIMIT
    next: str | None = None

    @classmethod
    def parse(
        cls,
        added_after: str | None = None,
        ids: str | None = None,
        types: str | None = None,
        versions: str | None = None,
        spec_versions: str | None = None,
        limit: str | None = None,
        next: str | None = None,
        default_versions: tuple[str, ...] = ("last",),
    ) -> Filters:
        """Filters from TAXII query-string values (comma-separated lists), or BadFilter."""
        after = None
        if added_after:
            try:
                after = parse_timestamp(added_after, "", "added_after")
            except InvalidStixObject:
                raise BadFilter(
                    f"added_after {added_after!r} is not a timestamp like 2024-01-31T12:00:00Z"
                ) from None
        wanted_versions = _split(versions) or default_versions
        for value in wanted_versions:
            if value not in ("first", "last", "all"):
                try:
                    parse_timestamp(value, "", "match[version]")
                except InvalidStixObject:
                    raise BadFilter(
                        f"match[version] {value!r} is not first, last, all or a timestamp"
                    ) from None
        count = DEFAULT_LIMIT
        if limit:
            # Digits checked before int(): a 5,000-digit number is over Python's limit.
            digits = limit.lstrip("0")
            if not (limit.isascii() and limit.isdigit()) or not digits:
                raise BadFilter(f"limit {limit[:40]!r} is not a positive whole number")
            count = MAX_LIMIT if len(digits) > 6 else min(int(digits), MAX_LIMIT)
        if next is not None:
            decode_cursor(next)
        return cls(
            added_after=after,
            ids=_split(ids),
            types=_split(types),
            versions=wanted_versions,
            spec_versions=_split(spec_versions),
            limit=count,
            next=next or None,
        )


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


class StoredObject(NamedTuple):
    """One stored object version as a reader sees it (a tuple: pages build thousands)."""

    id: str
    type: str
    version: datetime
    date_added: datetime
    spec_version: str
    tlp: Tlp
    created_by_ref: str | None
    body: str

    def as_dict(self) -> dict[str, Any]:
        """The STIX object."""
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass(frozen=True)
class Page:
    """One page of a read: the rows, whether more follow, and the cursor to them."""

    objects: list[StoredObject]
    more: bool
    next: str | None

    @property
    def date_added_first(self) -> datetime | None:
        """The earliest date_added on the page."""
        return min((o.date_added for o in self.objects), default=None)

    @property
    def date_added_last(self) -> datetime | None:
        """The latest date_added on the page."""
        return max((o.date_added for o in self.objects), default=None)


def encode_cursor(date_added: datetime, seq: int) -> str:
    """An opaque ``next`` value naming the place after a row."""
    raw = f"1|{format_timestamp(date_added)}|{seq}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str) -> tuple[datetime, int]:
    """The place a ``next`` value names, or BadCursor."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        version, stamp, seq = raw.split("|")
        # Row ids are 64-bit: a larger one would overflow the database's integer.
        if version != "1" or not (seq.isascii() and seq.isdigit()) or len(seq) > 18:
            raise ValueError(raw)
        return parse_timestamp(stamp, "", "next"), int(seq)
    except (ValueError, binascii.Error, UnicodeDecodeError, InvalidStixObject):
        raise BadCursor(
            f"next {value[:40]!r} is not a cursor from this node; start again without next"
        ) from None


# Like visible(): a pure function of hashable arguments, built once and reused.
@lru_cache(maxsize=512)
def _versions_sql(
    reader: Reader, versions: tuple[str, ...], spec_versions: tuple[str, ...], collection_id: str
) -> ColumnElement[bool]:
    clauses: list[ColumnElement[bool]] = []
    stamps = [parse_timestamp(v) for v in versions if v not in ("first", "last")]
    if stamps:
        clauses.append(IntelObject.version.in_(stamps))
    for edge in ("first", "last"):
        if edge not in versions:
            continue
        other = _OTHER_VERSION
        beyond = (
            other.version > IntelObject.version
            if edge == "last"
            else (other.version < IntelObject.version)
        )
        conditions = [
            other.collection_id == collection_id,
            other.stix_id == IntelObject.stix_id,
            beyond,
            visible(reader, other),
        ]
        if spec_versions:
            conditions.append(other.spec_version.in_(spec_versions))
        newest = not_(exists().where(*conditions))
        if edge == "last":
            # Most objects have one version: no newer row at all, so no per-reader lookup.
            newest = or_(IntelObject.superseded.is_(False), newest)
        clauses.append(newest)
    return or_(*clauses)


def newest_visible(reader: Reader, collection_id: str) -> ColumnElement[bool]:
    """SQL for "this row is the newest version of its object that the reader may see"."""
    return _versions_sql(reader, ("last",), (), collection_id)


class Shape(NamedTuple):
    """What a read's SQL depends on; the values it compares with are bound, not built in."""

    reader: Reader
    collection_id: str
    object_id: bool
    ids: bool
    types: bool
    spec_versions: tuple[str, ...]
    added_after: bool
    versions: tuple[str, ...] | None  # None: every version
    after: bool


def shape_of(
    reader: Reader,
    collection: IntelCollection,
    filters: Filters,
    object_id: str | None,
    with_versions: bool,
) -> tuple[Shape, dict[str, Any]]:
    """A read's shape and the values to bind into its statement."""
    values: dict[str, Any] = {}
    if object_id is not None:
        values["object_id"] = object_id
    if filters.ids:
        values["ids"] = list(filters.ids)
    if filters.types:
        values["types"] = list(filters.types)
    if filters.added_after is not None:
        values["added_after"] = filters.added_after
    if filters.next is not None:
        values["after"], values["after_seq"] = decode_cursor(filters.next)
    every = not with_versions or "all" in filters.versions
    shape = Shape(
        reader,
        collection.id,
        object_id is not None,
        bool(filters.ids),
        bool(filters.types),
        filters.spec_versions,
        filters.added_after is not None,
        None if every else filters.versions,
        filters.next is not None,
    )
    return shape, values


# Built once per shape, with its values bound at execution: SQLAlchemy then finds the
# compiled SQL by a cache key it computed once, instead of building and hashing the
# statement on every request.
@lru_cache(maxsize=512)
def conditions_of(shape: Shape) -> tuple[ColumnElement[bool], ...]:
    """The WHERE clauses of a read of ``shape``, with its values left as bind parameters."""
    by_id = shape.object_id or shape.ids
    # Looking up by id, SQLite would rather walk the paging index (collection, date_added)
    # to skip a sort; hiding the collection column from it makes it use the id index.
    in_collection = (
        (IntelObject.collection_id + "") == shape.collection_id
        if by_id
        else IntelObject.collection_id == shape.collection_id
    )
    conditions: list[ColumnElement[bool]] = [in_collection, visible(shape.reader)]
    if shape.object_id:
        conditions.append(IntelObject.stix_id == bindparam("object_id"))
    if shape.ids:
        conditions.append(IntelObject.stix_id.in_(bindparam("ids", expanding=True)))
    if shape.types:
        conditions.append(IntelObject.type.in_(bindparam("types", expanding=True)))
    # TAXII 2.1: without match[spec_version] only each object's latest spec
    # version is returned; this store holds STIX 2.1 only, so that is every row.
    if shape.spec_versions:
        conditions.append(IntelObject.spec_version.in_(shape.spec_versions))
    if shape.added_after:
        added_after = bindparam("added_after", type_=IntelObject.date_added.type)
        conditions.append(IntelObject.date_added > added_after)
    if shape.versions is not None:
        conditions.append(
            _versions_sql(shape.reader, shape.versions, shape.spec_versions, shape.collection_id)
        )
    if shape.after:
        # A row value, so the paging index (collection, date_added, seq) is entered at
        # the cursor instead of filtered from the start.
        after = bindparam("after", type_=IntelObject.date_added.type)
        after_seq = bindparam("after_seq", type_=IntelObject.seq.type)
        cursor = tuple_(IntelObject.date_added, IntelObject.seq) > tuple_(after, after_seq)
        conditions.append(cursor)
    return tuple(conditions)


_TLPS = tuple(sorted(Tlp))  # a level by its stored value, without the enum's lookup

# What a listing reads of a version, after the column that orders or scopes it.
ROW_COLUMNS = (
    IntelObject.stix_id,
    IntelObject.type,
    IntelObject.version,
    IntelObject.date_added,
    IntelObject.spec_version,
    IntelObject.tlp,
    IntelObject.created_by_ref,
    IntelObject.body,
    IntelObject.owner_nation,
    IntelObject.owner_org,
    IntelObject.submitted_by,
)
_PAGE_COLUMNS = (IntelObject.seq, *ROW_COLUMNS)


@lru_cache(maxsize=512)
def _page_sql(shape: Shape) -> Executable:
    # Plain columns, not ORM entities: a page of 1,000 entities costs more to build
    # than to fetch.
    return (
        select(*_PAGE_COLUMNS)
        .where(*conditions_of(shape))
        .order_by(IntelObject.date_added, IntelObject.seq)
        .limit(bindparam("page_limit", type_=Integer))
    )


def _page(
    ctx: Ctx,
    collection: IntelCollection,
    filters: Filters,
    object_id: str | None = None,
    with_versions: bool = True,
) -> Page:
    require(ctx.who, Perm.INTEL_READ)
    if not can_read(ctx, collection):
        raise Forbidden(f"{ctx.who.username} may not read {collection.alias!r}")
    reader = reader_of(ctx, collection)
    shape, values = shape_of(reader, collection, filters, object_id, with_versions)
    values["page_limit"] = filters.limit + 1
    # Core execution: the ORM's result machinery costs more than the query for 1,000 rows.
    rows = ctx.db.connection().execute(_page_sql(shape), values).all()
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    cursor = encode_cursor(rows[-1].date_added, rows[-1].seq) if more and rows else None
    verdicts: dict[tuple[int, str, str | None, str], bool] = {}
    objects: list[StoredObject] = []
    # Unpacked rows, not attribute lookups: this loop runs for every object read.
    for _, stix_id, kind, version, added, spec, tlp, by_ref, body, nation, org, who in rows:
        # Defence in depth: the SQL filter is compiled from the policy; ask it again,
        # once per distinct (marking, holder, submitter) on the page.
        key = (tlp, nation, org, who)
        verdict = verdicts.get(key)
        if verdict is None:
            verdict = verdicts[key] = reader.may_read(*key)
        if verdict:
            objects.append(
                StoredObject(stix_id, kind, version, added, spec, _TLPS[tlp], by_ref, body)
            )
    return Page(objects=objects, more=more, next=cursor)


def query_objects(ctx: Ctx, collection: IntelCollection, filters: Filters) -> Page:
    """One page of the objects the caller may see, filtered as TAXII says."""
    return _page(ctx, collection, filters)


def each_object(ctx: Ctx, collection: IntelCollection, filters: Filters) -> Iterator[StoredObject]:
    """Every object :func:`query_objects` finds, page after page."""
    cursor = filters.next
    while True:
        page = query_objects(ctx, collection, replace(filters, next=cursor))
        yield from page.objects
        if not page.more or page.next is None:
            return
        cursor = page.next


def get_object(ctx: Ctx, collection: IntelCollection, object_id: str, filters: Filters) -> Page:
    """One page of the versions of one object, or ObjectNotFound when none is visible."""
    page = _page(ctx, collection, filters, object_id=object_id)
    if not page.objects and filters.next is None and not _exists(ctx, collection, object_id):
        raise ObjectNotFound(f"no object {object_id!r} in collection {collection.alias!r}")
    return page


def get_versions(ctx: Ctx, collection: IntelCollection, object_id: str, filters: Filters) -> Page:
    """One page of an object's versions (every version, whatever match[version] says)."""
    page = _page(ctx, collection, filters, object_id=object_id, with_versions=False)
    if not page.objects and filters.next is None and not _exists(ctx, collection, object_id):
        raise ObjectNotFound(f"no object {object_id!r} in collection {collection.alias!r}")
    return page


def _exists(ctx: Ctx, collection: IntelCollection, object_id: str) -> bool:
    reader = reader_of(ctx, collection)
    stmt = select(IntelObject.seq).where(
        IntelObject.collection_id == collection.id,
        IntelObject.stix_id == object_id,
        visible(reader),
    )
    return ctx.db.scalar(stmt.limit(1)) is not None


__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "ROW_COLUMNS",
    "Filters",
    "Page",
    "Shape",
    "StoredObject",
    "conditions_of",
    "decode_cursor",
    "each_object",
    "encode_cursor",
    "get_object",
    "get_versions",
    "newest_visible",
    "query_objects",
    "shape_of",
]
