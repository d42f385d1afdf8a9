"""The STIX 2.1 store: every version of every object, read through the sharing policy.

Objects are kept per collection, one row per (id, version), where the version is
``modified`` (else ``created``, else the time it was added). Reads page in
``date_added`` order with an opaque cursor over (date_added, row id): it names a
place in the table, not a server-side session, so it never expires and survives
restarts.

TLP is enforced here, for every reader. The SQL filter is compiled from
:func:`seawall.intel.policy.reach` by evaluating it on each case the policy can
tell apart (named or not, same organisation or not, same nation or not), and
every row is checked again with :func:`seawall.intel.policy.may_share` before it
leaves the store.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

import orjson
from sqlalchemy import (
    ColumnElement,
    Executable,
    Exists,
    Integer,
    and_,
    bindparam,
    delete,
    exists,
    false,
    func,
    not_,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.orm import aliased

from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.db.bulk import insert_rows
from seawall.db.models.intel import IntelCollection, IntelObject
from seawall.errors import Forbidden
from seawall.intel.admission import DUPLICATE, Admission, Verdict, known_markings, submitter_of
from seawall.intel.collections import Reader, can_read, can_write, default_marking, reader_of
from seawall.intel.errors import (
    BadCursor,
    BadFilter,
    InvalidStixObject,
    ObjectNotFound,
    UnknownMarking,
)
from seawall.intel.policy import Holder, Recipient, reach
from seawall.intel.sharing import PARTNER_PREFIX
from seawall.intel.tlp import Tlp, effective_tlp
from seawall.intel.validation import (
    CheckedObject,
    check_object,
    format_timestamp,
    parse_timestamp,
)

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
_OTHER = "\x00other"
# Built once: making an alias is costly and the statement cache keys on its name.
_OTHER_VERSION = aliased(IntelObject, name="other_version")


@dataclass(frozen=True)
class ObjectRef:
    """One object version named in an add result."""

    id: str
    version: str
    message: str = ""


@dataclass
class AddResult:
    """What happened to each object of one add request."""

    added: list[ObjectRef] = field(default_factory=list)
    duplicates: list[ObjectRef] = field(default_factory=list)
    rejected: list[ObjectRef] = field(default_factory=list)
    # From a partner, above what it may send us: never stored.
    withheld: list[ObjectRef] = field(default_factory=list)
    # In the way of a hidden object: answered as accepted, never stored (see admission).
    discarded: list[ObjectRef] = field(default_factory=list)

    @property
    def total(self) -> int:
        """How many objects were sent."""
        return (
            len(self.added)
            + len(self.duplicates)
            + len(self.rejected)
            + len(self.withheld)
            + len(self.discarded)
        )

    @property
    def accepted(self) -> list[ObjectRef]:
        """What the writer is told was taken: added, duplicates, and discarded (unsaid)."""
        return [
            *self.added,
            *self.duplicates,
            *(ObjectRef(r.id, r.version) for r in self.discarded),
        ]

    @property
    def refused(self) -> list[ObjectRef]:
        """What the writer is told was refused, with the reasons."""
        return [*self.rejected, *self.withheld]


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


def visible(reader: Reader, row: type[IntelObject] | Any = IntelObject) -> ColumnElement[bool]:
    """SQL for "the reader may see this row", compiled from the sharing policy."""
    return _visible(reader, row)


# Building the expression costs about a millisecond per request; it depends only on the
# (frozen, hashable) reader and the table alias, so it is built once per reader.
@lru_cache(maxsize=512)
def _visible(reader: Reader, row: type[IntelObject] | Any) -> ColumnElement[bool]:
    me = reader.recipient
    named_expr: ColumnElement[bool] = (
        true() if reader.named_by_collection else row.submitted_by == reader.username
    )
    org_expr: ColumnElement[bool] = (
        func.coalesce(row.owner_org, "") == me.organisation
        if me.organisation is not None
        else false()
    )
    nation_expr: ColumnElement[bool] = row.owner_nation == me.nation
    terms: list[ColumnElement[bool]] = []
    for named, same_org, same_nation in itertools.product((False, True), repeat=3):
        if same_org and me.organisation is None:
            continue
        holder = Holder(
            nation=me.nation if same_nation else _OTHER,
            organisation=(me.organisation if same_org else _OTHER),
        )
        recipient = Recipient(
            nation=me.nation,
            organisation=me.organisation,
            is_partner_node=me.is_partner_node,
            is_named=named or reader.named_by_collection,
            in_community=me.in_community,
        )
        limit = reach(holder, recipient)
        allowed = Tlp.CLEAR if limit is None else limit
        terms.append(
            and_(
                named_expr if named else not_(named_expr),
                org_expr if same_org else not_(org_expr),
                nation_expr if same_nation else not_(nation_expr),
                row.tlp <= int(allowed),
            )
        )
    if reader.origin is None:
        return or_(*terms)
    # A partner node: this nation's own rows only (no relays), and nothing above its cap.
    limits = [row.owner_nation == reader.origin, not_(row.submitted_by.startswith(PARTNER_PREFIX))]
    if reader.cap is not None:
        limits.append(row.tlp <= int(reader.cap))
    return and_(or_(*terms), *limits)


def allows(reader: Reader, row: IntelObject) -> bool:
    """The policy's verdict on one row for a reader."""
    return _verdict(reader, row.tlp, row.owner_nation, row.owner_org, row.submitted_by)


def _verdict(
    reader: Reader, tlp: int, owner_nation: str, owner_org: str | None, submitted_by: str
) -> bool:
    return reader.may_read(tlp, owner_nation, owner_org, submitted_by)


def add_objects(
    ctx: Ctx, collection: IntelCollection, objects: Iterable[Any], request_id: str = ""
) -> AddResult:
    """Validate objects, admit them (:mod:`seawall.intel.admission`) and store them.

    Duplicates are reported, not added again; each refusal names the object and why.
    """
    require(ctx.who, Perm.INTEL_WRITE)
    if not can_write(ctx, collection):
        raise Forbidden(f"{ctx.who.username} may not add objects to {collection.alias!r}")
    result = AddResult()
    good: list[CheckedObject] = []
    for obj in objects:
        try:
            good.append(check_object(obj))
        except InvalidStixObject as exc:
            result.rejected.append(ObjectRef(exc.object_id, _raw_version(obj), exc.message))
    refs = {ref for obj in good for ref in obj.marking_refs}
    known = known_markings(ctx, collection, refs, good) if refs else {}
    # Take the collection's write lock before reading the clock, so date_added follows
    # commit order and an added_after poller never skips a row that commits late.
    ctx.db.execute(
        update(IntelCollection)
        .where(IntelCollection.id == collection.id)
        .values(alias=IntelCollection.alias)
    )
    # Always after every row already added: a clock stepped back (an NTP correction), or one
    # that has not moved, would otherwise put new rows at or behind the X-TAXII-Date-Added-Last
    # a poller already holds, and its next added_after would skip them.
    newest = ctx.db.scalar(
        select(func.max(IntelObject.date_added)).where(IntelObject.collection_id == collection.id)
    )
    now = ctx.now() if newest is None else max(ctx.now(), newest + timedelta(microseconds=1))
    default = default_marking(collection)
    admission = Admission.of(ctx, collection, good)
    submitter = admission.submitter
    prior_ids = frozenset(admission.ids_in(collection.id))
    taken: set[tuple[str, datetime]] = set()
    taken_ids: set[str] = set()
    rows: list[dict[str, Any]] = []
    for obj in good:
        # A cyber observable has no versions of its own: its id names it once and for all,
        # and it is stored under the time it was added (after any row it would collide with).
        version = obj.version or admission.free_version(obj.id, now)
        label = format_timestamp(version)
        same = admission.duplicate_here(obj, obj.version)
        again = (obj.id, version) in taken or (obj.version is None and obj.id in taken_ids)
        if same is not None or again:
            verdict = admission.duplicate(same) if same is not None else DUPLICATE
            _note(result, verdict, obj.id, label)
            continue
        try:
            level = effective_tlp(obj.marking_refs, default, known)
        except UnknownMarking as exc:
            message = f"{obj.id}: property 'object_marking_refs' has an {exc.message}"
            result.rejected.append(ObjectRef(obj.id, label, message))
            continue
        verdict = admission.judge(obj, version, level)
        if verdict.action != "store":
            _note(result, verdict, obj.id, label)
            continue
        taken.add((obj.id, version))
        taken_ids.add(obj.id)
        rows.append(
            {
                "collection_id": collection.id,
                "stix_id": obj.id,
                "type": obj.type,
                "spec_version": obj.spec_version,
                "created": obj.created,
                "modified": obj.modified,
                "version": version,
                "date_added": now,
                "created_by_ref": obj.created_by_ref,
                "markings": list(obj.marking_refs),
                "tlp": int(level),
                "owner_nation": submitter.nation,
                "owner_org": submitter.org,
                "submitted_by": submitter.name,
                "body": _dump(obj.body),
                "superseded": False,
            }
        )
        result.added.append(ObjectRef(obj.id, label))
    if rows:
        # Rows in input order: the row ids keep the envelope's order.
        insert_rows(ctx.db, IntelObject, rows)
        added = Counter(row["stix_id"] for row in rows)
        # Objects that now have more than one version here: flag all but the newest.
        _mark_superseded(ctx, collection, {i for i, n in added.items() if n > 1 or i in prior_ids})
    if result.total:
        ctx.record(
            "intel.objects.added",
            collection.id,
            collection=collection.alias,
            added=len(result.added),
            duplicates=len(result.duplicates),
            rejected=len(result.rejected),
            withheld=len(result.withheld),
            discarded=len(result.discarded),
            request=request_id,
        )
    return result


def _note(result: AddResult, verdict: Verdict, stix_id: str, label: str) -> None:
    """File an object that is not stored under its verdict."""
    ref = ObjectRef(stix_id, label, verdict.message)
    {
        "duplicate": result.duplicates,
        "reject": result.rejected,
        "withhold": result.withheld,
        "discard": result.discarded,
    }[verdict.action].append(ref)


def _dump(body: dict[str, Any]) -> str:
    """Compact JSON of an object's body (orjson; json for integers beyond 64 bits)."""
    try:
        return orjson.dumps(body).decode()
    except TypeError:
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def _newer_version_exists() -> Exists:
    """A newer version of the same object in the same collection (correlated)."""
    newer = aliased(IntelObject, name="newer_version")
    return exists().where(
        newer.collection_id == IntelObject.collection_id,
        newer.stix_id == IntelObject.stix_id,
        newer.version > IntelObject.version,
    )


def _mark_superseded(ctx: Ctx, collection: IntelCollection, ids: set[str]) -> None:
    """Flag every version of ``ids`` that a newer one (whoever may see it) follows."""
    ordered = sorted(ids)
    for at in range(0, len(ordered), 500):
        batch = ordered[at : at + 500]
        ctx.db.execute(
            update(IntelObject)
            .where(
                IntelObject.collection_id == collection.id,
                IntelObject.stix_id.in_(batch),
                IntelObject.superseded.is_(False),
                _newer_version_exists(),
            )
            .values(superseded=True)
        )


def _raw_version(obj: Any) -> str:
    if isinstance(obj, dict):
        for prop in ("modified", "created"):
            if isinstance(obj.get(prop), str):
                return str(obj[prop])
    return ""


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


class _Shape(NamedTuple):
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


def _shape(
    reader: Reader,
    collection: IntelCollection,
    filters: Filters,
    object_id: str | None,
    with_versions: bool,
) -> tuple[_Shape, dict[str, Any]]:
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
    shape = _Shape(
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
def _conditions(shape: _Shape) -> tuple[ColumnElement[bool], ...]:
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

_PAGE_COLUMNS = (
    IntelObject.seq,
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


@lru_cache(maxsize=512)
def _page_sql(shape: _Shape) -> Executable:
    # Plain columns, not ORM entities: a page of 1,000 entities costs more to build
    # than to fetch.
    return (
        select(*_PAGE_COLUMNS)
        .where(*_conditions(shape))
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
    shape, values = _shape(reader, collection, filters, object_id, with_versions)
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
            verdict = verdicts[key] = _verdict(reader, *key)
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


def delete_object(ctx: Ctx, collection: IntelCollection, object_id: str, filters: Filters) -> int:
    """Delete the matching versions of an object the caller's nation added; returns how many."""
    require(ctx.who, Perm.INTEL_WRITE)
    if not can_write(ctx, collection):
        raise Forbidden(f"{ctx.who.username} may not remove objects in {collection.alias!r}")
    scope = Filters(versions=filters.versions, spec_versions=filters.spec_versions)
    shape, values = _shape(reader_of(ctx, collection), collection, scope, object_id, True)
    # Only the holder's own rows: a partner's account deletes only what its partner sent.
    submitter = submitter_of(ctx)
    mine = (
        IntelObject.submitted_by == submitter.name
        if submitter.partner is not None
        else and_(
            IntelObject.owner_nation == submitter.nation,
            not_(IntelObject.submitted_by.startswith(PARTNER_PREFIX)),
        )
    )
    seqs = list(ctx.db.scalars(select(IntelObject.seq).where(*_conditions(shape), mine), values))
    if not seqs:
        raise ObjectNotFound(
            f"no object {object_id!r} in collection {collection.alias!r} that you may delete"
        )
    ctx.db.execute(delete(IntelObject).where(IntelObject.seq.in_(seqs)))
    # The newest version left (if any) is superseded no longer.
    ctx.db.execute(
        update(IntelObject)
        .where(
            IntelObject.collection_id == collection.id,
            IntelObject.stix_id == object_id,
            IntelObject.superseded.is_(True),
            not_(_newer_version_exists()),
        )
        .values(superseded=False)
    )
    ctx.record(
        "intel.object.deleted",
        object_id,
        collection=collection.alias,
        versions=len(seqs),
    )
    return len(seqs)


__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "AddResult",
    "Filters",
    "ObjectRef",
    "Page",
    "StoredObject",
    "add_objects",
    "allows",
    "decode_cursor",
    "delete_object",
    "encode_cursor",
    "get_object",
    "get_versions",
    "query_objects",
    "visible",
]
