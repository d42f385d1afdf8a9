"""Finding objects by value, an object's history, and exports, all read under the store's TLP.

Every query here is narrowed by :func:`seawall.intel.store.visibility.visible` (the SQL compiled
from the sharing policy) and each row is checked again with
:func:`seawall.intel.store.visibility.allows`, exactly as the store does for TAXII.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, or_, select

from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.core.paging import Page, PageRequest
from seawall.db.models.intel import IntelCollection, IntelObject
from seawall.errors import Forbidden
from seawall.intel import decay, quality
from seawall.intel.collections import (
    can_read,
    can_write,
    default_marking,
    get_collection,
    list_collections,
    reader_of,
)
from seawall.intel.errors import ObjectNotFound
from seawall.intel.exports.selection import select_live
from seawall.intel.misp.writing import stix_to_events
from seawall.intel.store.listing import ObjectQuery, holds_text, list_objects
from seawall.intel.store.reading import MAX_LIMIT, Filters, each_object
from seawall.intel.store.visibility import allows, visible
from seawall.intel.tlp import TLP2_IDS, Tlp, marking_definition

SEARCH_LIMIT = 200


@dataclass(frozen=True)
class Found:
    """One object whose newest visible version matches a search."""

    collection: str
    id: str
    type: str
    summary: str
    tlp: Tlp
    version: datetime
    date_added: datetime
    status: quality.Status
    warning: str
    score: float | None = None
    """An indicator's decay score (:func:`seawall.intel.decay.score`, age only); None for others."""
    live_until: datetime | None = None
    """When an indicator stops being in force (:func:`seawall.intel.decay.live_until`, age
    only); None for others, and for one that never does."""
    ends: tuple[str, ...] = ()
    """What a relationship links (source, target) or a sighting saw: the ids that name it."""
    kind: str = ""
    """A relationship's type (``indicates``), a sighting's count; empty for others."""

    @classmethod
    def of(
        cls,
        collection: IntelCollection,
        ref: tuple[str, str],
        body: dict[str, Any],
        tlp: Tlp,
        version: datetime,
        date_added: datetime,
        now: datetime,
    ) -> Found:
        """A stored version (``ref`` is its id and type) as a hit: its summary, and its
        quality as of ``now``."""
        return cls(
            collection=collection.alias,
            id=ref[0],
            type=ref[1],
            summary=summary_of(body),
            tlp=tlp,
            version=version,
            date_added=date_added,
            status=quality.status_of(body, now),
            warning=quality.assess(body).reason,
            score=round(decay.score(body, now), 1) if ref[1] == "indicator" else None,
            live_until=decay.live_until(body) if ref[1] == "indicator" else None,
            ends=ends_of(body),
            kind=kind_of(body),
        )


def ends_of(body: dict[str, Any]) -> tuple[str, ...]:
    """The ids a relationship or a sighting is about, when they are the strings STIX asks for."""
    props = {"relationship": ("source_ref", "target_ref"), "sighting": ("sighting_of_ref",)}
    ends = [body.get(p) for p in props.get(str(body.get("type")), ())]
    return tuple(str(e) for e in ends) if all(isinstance(e, str) and e for e in ends) else ()


def kind_of(body: dict[str, Any]) -> str:
    """A relationship's type, a sighting's count (as text); empty for other objects."""
    if body.get("type") == "relationship":
        return str(body.get("relationship_type", ""))
    if body.get("type") == "sighting" and isinstance(body.get("count"), int):
        return str(body["count"])
    return ""


@dataclass(frozen=True)
class Version:
    """One visible version of an object, with its provenance."""

    id: str
    type: str
    version: datetime
    date_added: datetime
    tlp: Tlp
    markings: tuple[str, ...]
    created_by_ref: str | None
    submitted_by: str
    owner_nation: str
    body: dict[str, Any]

    @property
    def pretty(self) -> str:
        """The object as indented JSON."""
        return json.dumps(self.body, indent=2, ensure_ascii=False)


def summary_of(body: dict[str, Any]) -> str:
    """A short human description of a STIX object."""
    for prop in ("name", "value", "pattern", "x_misp_value", "abstract", "content"):
        if isinstance(body.get(prop), str) and body[prop]:
            text: str = body[prop]
            return text if len(text) <= 140 else f"{text[:140]}…"
    return str(body.get("id", ""))


# What a Version needs of a row, read as plain rows: building ORM objects cost more than the
# query itself for an indicator with thousands of sightings.
_HELD = (
    IntelObject.stix_id,
    IntelObject.type,
    IntelObject.version,
    IntelObject.date_added,
    IntelObject.tlp,
    IntelObject.markings,
    IntelObject.created_by_ref,
    IntelObject.submitted_by,
    IntelObject.owner_nation,
    IntelObject.owner_org,
    IntelObject.body,
)


def _newest_holding(
    ctx: Ctx, needles: tuple[str, ...], limit: int | None, types: tuple[str, ...] = ()
) -> Iterator[tuple[IntelCollection, Row[*tuple[Any, ...]]]]:
    dialect = ctx.db.get_bind().dialect.name
    matching = or_(*(holds_text(dialect, needle) for needle in needles))
    folded = [needle.lower() for needle in needles]
    for collection in list_collections(ctx):
        if not can_read(ctx, collection):
            continue
        reader = reader_of(ctx, collection)
        ids = select(IntelObject.stix_id).where(
            IntelObject.collection_id == collection.id, visible(reader), matching
        )
        if types:  # the type index narrows the rows whose bodies are scanned
            ids = ids.where(IntelObject.type.in_(types))
        rows = ctx.db.execute(
            select(*_HELD).where(
                IntelObject.collection_id == collection.id,
                IntelObject.stix_id.in_(ids if limit is None else ids.limit(limit)),
                visible(reader),
            )
        )
        newest: dict[str, Row[*tuple[Any, ...]]] = {}
        for row in rows:
            # Defence in depth: the policy itself, as allows() asks it of every store read.
            if reader.may_read(row.tlp, row.owner_nation, row.owner_org, row.submitted_by):
                held = newest.get(row.stix_id)
                if held is None or row.version > held.version:
                    newest[row.stix_id] = row
        for row in newest.values():
            body = row.body.lower()
            if row.stix_id not in needles and not any(f in body for f in folded):
                continue  # only an older version held it; the history page shows those
            yield collection, row


def search(ctx: Ctx, text: str, limit: int = SEARCH_LIMIT) -> list[Found]:
    """Objects holding ``text`` as :func:`search_page` reads it, in every collection the
    caller may read, the most recently added first (its first page)."""
    if not text.strip():
        require(ctx.who, Perm.INTEL_READ)
        return []
    return search_page(ctx, ObjectQuery(text=text.strip(), page=PageRequest(limit))).items


def search_page(ctx: Ctx, query: ObjectQuery) -> Page[Found]:
    """One page of the objects holding ``query.text`` (or, without text, every object) in
    every collection the caller may read, and how many match in all.

    An object holds the text when its id is the text, its body holds it (any case), or it
    holds the text as an observable however either is written
    (:func:`seawall.intel.observable_index.holds_observable`: ``bücher.example`` finds
    ``xn--bcher-kva.example``). The web page, the API and the CLI all search here.
    """
    return found_page(ctx, readable_collections(ctx), query)


def collection_page(ctx: Ctx, collection: IntelCollection, query: ObjectQuery) -> Page[Found]:
    """One page of a collection's objects that the query selects, and how many there are."""
    return found_page(ctx, [collection], query)


def found_page(ctx: Ctx, collections: list[IntelCollection], query: ObjectQuery) -> Page[Found]:
    """One page of :func:`~seawall.intel.store.listing.list_objects`, as search hits."""
    page = list_objects(ctx, collections, query)
    by_id = {c.id: c for c in collections}
    now = ctx.now()
    return page.map(
        lambda listed: Found.of(
            by_id[listed.collection_id],
            (listed.stored.id, listed.stored.type),
            listed.stored.as_dict(),
            listed.stored.tlp,
            listed.stored.version,
            listed.stored.date_added,
            now,
        )
    )


def holding(
    ctx: Ctx, text: str, types: tuple[str, ...] = (), limit: int | None = None
) -> list[tuple[str, Version]]:
    """The newest visible version of each object (of ``types``, if given) holding ``text``
    (an id it refers to, say), with its collection's alias, oldest first: every one, unless
    ``limit`` caps the rows read per collection (a page that counts them needs them all)."""
    return holding_any(ctx, [text], types, limit)


def holding_any(
    ctx: Ctx, texts: Iterable[str], types: tuple[str, ...] = (), limit: int | None = None
) -> list[tuple[str, Version]]:
    """:func:`holding` for several texts at once: the objects holding any of them, read in
    one scan of the bodies per collection."""
    require(ctx.who, Perm.INTEL_READ)
    needles = tuple(dict.fromkeys(t.strip() for t in texts if t.strip()))
    if not needles:
        return []
    rows = _newest_holding(ctx, needles, limit, types)
    found = [(c.alias, _version(row)) for c, row in rows]
    return sorted(found, key=lambda pair: pair[1].date_added)


def _version(row: IntelObject | Row[*tuple[Any, ...]]) -> Version:
    return Version(
        id=row.stix_id,
        type=row.type,
        version=row.version,
        date_added=row.date_added,
        tlp=Tlp(row.tlp),
        markings=tuple(row.markings),
        created_by_ref=row.created_by_ref,
        submitted_by=row.submitted_by,
        owner_nation=row.owner_nation,
        body=json.loads(row.body),
    )


def history(ctx: Ctx, collection: IntelCollection, object_id: str) -> list[Version]:
    """The versions of one object the caller may see, newest first, or ObjectNotFound."""
    require(ctx.who, Perm.INTEL_READ)
    if not can_read(ctx, collection):
        raise Forbidden(f"{ctx.who.username} may not read {collection.alias!r}")
    reader = reader_of(ctx, collection)
    rows = ctx.db.scalars(
        select(IntelObject)
        .where(
            IntelObject.collection_id == collection.id,
            IntelObject.stix_id == object_id,
            visible(reader),
        )
        .order_by(IntelObject.version.desc(), IntelObject.seq.desc())
    )
    versions = [_version(row) for row in rows if allows(reader, row)]
    if not versions:
        raise ObjectNotFound(f"no object {object_id!r} in collection {collection.alias!r}")
    return versions


def latest_objects(
    ctx: Ctx, collection: IntelCollection, include_inactive: bool = False
) -> list[dict[str, Any]]:
    """The newest visible version of every object, read page by page through the store.

    Revoked, expired and decayed indicators are left out unless ``include_inactive``
    (:func:`~seawall.intel.exports.selection.select_live`, as for the sensor feeds), so an
    export never hands them on as active.
    """
    if include_inactive:
        return [s.as_dict() for s in each_object(ctx, collection, Filters(limit=MAX_LIMIT))]
    return [body for _, body in select_live(ctx, collection).live]


def stix_bundle(
    ctx: Ctx, collections: list[IntelCollection], include_inactive: bool = False
) -> dict[str, Any]:
    """A STIX 2.1 bundle of the collections, with the TLP marking definitions it uses."""
    objects: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for collection in collections:
        for body in latest_objects(ctx, collection, include_inactive):
            key = (str(body.get("id")), str(body.get("modified") or body.get("created")))
            if key not in seen:
                seen.add(key)
                objects.append(body)
    used = {ref for o in objects for ref in o.get("object_marking_refs") or []}
    held = {str(o.get("id")) for o in objects}
    definitions = [
        marking_definition(level)
        for level, ref in TLP2_IDS.items()
        if ref in used and ref not in held
    ]
    return {
        "type": "bundle",
        "id": f"bundle--{ctx.ids()}",
        "objects": [*definitions, *objects],
    }


def misp_events(
    ctx: Ctx,
    collections: list[IntelCollection],
    org_name: str,
    include_inactive: bool = False,
) -> dict[str, Any]:
    """MISP event JSON (``{"response": [{"Event": ...}]}``) that MISP can import."""
    events: list[dict[str, Any]] = []
    for collection in collections:
        objects = [_for_misp(o) for o in latest_objects(ctx, collection, include_inactive)]
        events += stix_to_events(
            objects,
            org_name,
            default=default_marking(collection),
            fallback_info=f"{collection.title} (Seawall collection {collection.alias})",
        )
    return {"response": events}


def _for_misp(body: dict[str, Any]) -> dict[str, Any]:
    # A warninglisted indicator goes to MISP as not-for-detection, with the reason.
    verdict = quality.assess(body)
    if not verdict.hits:
        return body
    labels = [str(x) for x in body.get("labels") or [] if not str(x).startswith("misp:to_ids=")]
    note = f"Seawall warninglist: {verdict.reason}"
    described = f"{body['description']} ({note})" if body.get("description") else note
    return {**body, "labels": [*labels, 'misp:to_ids="False"'], "description": described}


@dataclass(frozen=True)
class Export:
    """An export's document and how many events or objects it holds."""

    document: dict[str, Any]
    count: int


def export(
    ctx: Ctx,
    fmt: str,
    collections: list[IntelCollection],
    org_name: str,
    destination: str,
    include_inactive: bool = False,
) -> Export:
    """The collections as a STIX bundle (``stix``) or MISP events (``misp``), audited: an
    export takes what the caller may read (RED included) off the node's access control."""
    if fmt == "misp":
        document = misp_events(ctx, collections, org_name, include_inactive)
        count = len(document["response"])
    else:
        document = stix_bundle(ctx, collections, include_inactive)
        count = len(document["objects"])
    ctx.record(
        "intel.exported",
        fmt,
        collections=[c.alias for c in collections],
        count=count,
        include_inactive=include_inactive,
        destination=destination,
    )
    return Export(document, count)


def readable_collections(ctx: Ctx, ref: str | None = None) -> list[IntelCollection]:
    """One named collection, or every collection the caller may read."""
    if ref:
        return [get_collection(ctx, ref)]
    return [c for c in list_collections(ctx) if can_read(ctx, c)]


def writable_collections(ctx: Ctx) -> list[IntelCollection]:
    """Every collection the caller may add to (for pickers: nothing is counted)."""
    return [c for c in list_collections(ctx) if can_write(ctx, c)]


@dataclass(frozen=True)
class CollectionView:
    """A collection as the caller sees it: how many objects, the last addition."""

    collection: IntelCollection
    objects: int
    last_added: datetime | None
    can_write: bool


def collection_views(ctx: Ctx) -> list[CollectionView]:
    """Every collection the caller is in the audience of, with what the caller may see of it."""
    views: list[CollectionView] = []
    for collection in list_collections(ctx):
        count, last = 0, None
        if can_read(ctx, collection):
            reader = reader_of(ctx, collection)
            count, last = ctx.db.execute(
                select(
                    func.count(func.distinct(IntelObject.stix_id)), func.max(IntelObject.date_added)
                ).where(IntelObject.collection_id == collection.id, visible(reader))
            ).one()
        views.append(CollectionView(collection, int(count or 0), last, can_write(ctx, collection)))
    return views
