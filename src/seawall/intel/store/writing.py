"""Writing to the store: adding objects through admission, and deleting them.

Every valid object of a batch is admitted or not by :mod:`seawall.intel.admission`,
and stored as one row per (id, version). A version that a newer one follows is flagged
``superseded``, so that a read of the last versions rarely needs to look for a newer row.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import orjson
from sqlalchemy import Exists, and_, delete, exists, func, not_, select, update
from sqlalchemy.orm import aliased

from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.db.bulk import insert_rows
from seawall.db.models.intel import IntelCollection, IntelObject
from seawall.errors import Forbidden
from seawall.intel.admission import (
    DUPLICATE,
    Admission,
    Submitter,
    Verdict,
    known_markings,
    submitter_of,
)
from seawall.intel.collections import can_write, default_marking, reader_of
from seawall.intel.errors import InvalidStixObject, ObjectNotFound, UnknownMarking
from seawall.intel.observable_index import index_batch
from seawall.intel.sharing import PARTNER_PREFIX
from seawall.intel.store.lifecycle import lifecycle_of
from seawall.intel.store.reading import Filters, conditions_of, shape_of
from seawall.intel.tlp import Tlp, effective_tlp
from seawall.intel.validation import CheckedObject, check_object, format_timestamp


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
    good = _validate(objects, result)
    refs = {ref for obj in good for ref in obj.marking_refs}
    known = known_markings(ctx, collection, refs, good) if refs else {}
    now = _date_added(ctx, collection)
    admission = Admission.of(ctx, collection, good)
    prior_ids = frozenset(admission.ids_in(collection.id))
    admitted = _admit(admission, good, known, default_marking(collection), now, result)
    rows = _rows(collection, admitted, admission.submitter, now)
    if rows:
        _insert(ctx, collection, rows, prior_ids)
        index_batch(ctx.db, collection.id, now, rows)
    if result.total:
        _record(ctx, collection, result, request_id)
    return result


class _Admitted(NamedTuple):
    """A valid object the admission rules take, at its version and marking."""

    obj: CheckedObject
    version: datetime
    level: Tlp


def _validate(objects: Iterable[Any], result: AddResult) -> list[CheckedObject]:
    """The valid objects; each invalid one is filed as rejected, with the reason."""
    good: list[CheckedObject] = []
    for obj in objects:
        try:
            good.append(check_object(obj))
        except InvalidStixObject as exc:
            result.rejected.append(ObjectRef(exc.object_id, _raw_version(obj), exc.message))
    return good


def _date_added(ctx: Ctx, collection: IntelCollection) -> datetime:
    """The date_added of this batch, taken under the collection's write lock."""
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
    return ctx.now() if newest is None else max(ctx.now(), newest + timedelta(microseconds=1))


def _admit(
    admission: Admission,
    good: list[CheckedObject],
    known: dict[str, Tlp | None],
    default: Tlp,
    now: datetime,
    result: AddResult,
) -> list[_Admitted]:
    """The objects to store, in input order; every other one is filed under its verdict."""
    taken: set[tuple[str, datetime]] = set()
    taken_ids: set[str] = set()
    admitted: list[_Admitted] = []
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
        admitted.append(_Admitted(obj, version, level))
        result.added.append(ObjectRef(obj.id, label))
    return admitted


def _rows(
    collection: IntelCollection,
    admitted: list[_Admitted],
    submitter: Submitter,
    now: datetime,
) -> list[dict[str, Any]]:
    """The table rows of the admitted objects, held by ``submitter``."""
    return [
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
            **lifecycle_of(obj.body).as_row(),
        }
        for obj, version, level in admitted
    ]


def _insert(
    ctx: Ctx, collection: IntelCollection, rows: list[dict[str, Any]], prior_ids: frozenset[str]
) -> None:
    """Insert the rows, then flag the versions they supersede."""
    # Rows in input order: the row ids keep the envelope's order.
    insert_rows(ctx.db, IntelObject, rows)
    added = Counter(row["stix_id"] for row in rows)
    # Objects that now have more than one version here: flag all but the newest.
    _mark_superseded(ctx, collection, {i for i, n in added.items() if n > 1 or i in prior_ids})


def _record(ctx: Ctx, collection: IntelCollection, result: AddResult, request_id: str) -> None:
    """Audit one add request: how many objects went where."""
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


def delete_object(ctx: Ctx, collection: IntelCollection, object_id: str, filters: Filters) -> int:
    """Delete the matching versions of an object the caller's nation added; returns how many."""
    require(ctx.who, Perm.INTEL_WRITE)
    if not can_write(ctx, collection):
        raise Forbidden(f"{ctx.who.username} may not remove objects in {collection.alias!r}")
    scope = Filters(versions=filters.versions, spec_versions=filters.spec_versions)
    shape, values = shape_of(reader_of(ctx, collection), collection, scope, object_id, True)
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
    seqs = list(ctx.db.scalars(select(IntelObject.seq).where(*conditions_of(shape), mine), values))
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


__all__ = ["AddResult", "ObjectRef", "add_objects", "delete_object"]
