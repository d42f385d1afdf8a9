"""Revising an object the caller's nation holds: revoke, re-mark, extend validity.

Each revision is a new version of the object (STIX 2.1 §3.6: same id, a later
``modified``), stored through :func:`seawall.intel.store.writing.add_objects`, so
admission, the index and the outbox see it as any other version. The rules are checked
here, before the store is asked:

- only the object's holder (the nation whose users stored it, or the partner that sent
  it) versions it, and only where it may write to the collection;
- a revoked object is final;
- nobody versions an object over a newer version they may not read (a colleague's TLP:RED
  one): it would be superseded by a looser, older body;
- a re-marking never widens TLP: the new marking is the same or stricter;
- validity is only extended: ``valid_until`` moves later, never earlier.

Each revision is audited (``intel.object.revoked``, ``.remarked``, ``.extended``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.db.models.intel import IntelCollection, IntelObject
from seawall.errors import Forbidden, InvalidInput
from seawall.intel import cases as casework
from seawall.intel.admission import holder_key, submitter_of
from seawall.intel.collections import can_write, get_collection
from seawall.intel.errors import (
    InvalidStixObject,
    MarkingWouldWiden,
    NotObjectHolder,
    ObjectRevoked,
)
from seawall.intel.search import Version, history
from seawall.intel.store.writing import add_objects
from seawall.intel.tlp import MARKING_IDS, marking_id, parse_tlp
from seawall.intel.validation import parse_timestamp


def _stamp(value: datetime) -> str:
    """A STIX timestamp with millisecond precision (STIX 2.1 §3.2)."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _newer_exists(ctx: Ctx, collection: IntelCollection, seen: Version) -> bool:
    """Whether the collection holds a version of the object later than ``seen``, whoever may
    read it: a revision built on ``seen`` would supersede it (a looser marking, lost work)."""
    later = select(IntelObject.seq).where(
        IntelObject.collection_id == collection.id,
        IntelObject.stix_id == seen.id,
        IntelObject.version > seen.version,
    )
    return ctx.db.scalar(later.limit(1)) is not None


def _revise(
    ctx: Ctx,
    collection_ref: str,
    object_id: str,
    change: Callable[[Version], dict[str, Any]],
    action: str,
    **detail: Any,
) -> Version:
    """Store ``change(newest)`` as the object's next version, after the holder's checks."""
    require(ctx.who, Perm.INTEL_WRITE)
    collection = get_collection(ctx, collection_ref)
    if not can_write(ctx, collection):
        raise Forbidden(f"{ctx.who.username} may not change objects in {collection.alias!r}")
    newest = history(ctx, collection, object_id)[0]
    if holder_key(newest.owner_nation, newest.submitted_by) != submitter_of(ctx).key:
        holder = newest.submitted_by if ":" in newest.submitted_by else newest.owner_nation
        raise NotObjectHolder(f"{object_id} is held by {holder}: only its holder may change it")
    # Only the holder's own users learn that such a version exists.
    if _newer_exists(ctx, collection, newest):
        raise Forbidden(
            f"{object_id} has a newer version you may not see (a stricter marking): "
            "only someone who reads it may change the object"
        )
    if "modified" not in newest.body:
        raise InvalidInput(f"{object_id} is a cyber observable: it has no versions to change")
    if newest.body.get("revoked") is True:
        raise ObjectRevoked(f"{object_id} is revoked: a revoked object takes no new version")
    body = change(newest)
    modified = parse_timestamp(newest.body["modified"], object_id, "modified")
    body["modified"] = _stamp(max(ctx.now(), modified + timedelta(milliseconds=1)))
    result = add_objects(ctx, collection, [body])
    if not result.added:
        refusal = (result.refused or result.duplicates or result.accepted)[0]
        raise InvalidInput(refusal.message or f"{object_id} was not changed")
    ctx.record(action, object_id, collection=collection.alias, **detail)
    return history(ctx, collection, object_id)[0]


def revoke(ctx: Ctx, collection_ref: str, object_id: str) -> Version:
    """Revoke an object: a last version with ``revoked: true`` that matching and exports skip."""
    return _revise(
        ctx,
        collection_ref,
        object_id,
        lambda v: {**v.body, "revoked": True},
        "intel.object.revoked",
    )


def remark(ctx: Ctx, collection_ref: str, object_id: str, tlp: str) -> Version:
    """Re-mark an object with a TLP level that is the same as or stricter than its marking."""
    level = parse_tlp(tlp)

    def change(newest: Version) -> dict[str, Any]:
        if level < newest.tlp:
            raise MarkingWouldWiden(
                f"{object_id} is {newest.tlp.label}: re-marking it {level.label} would widen it"
            )
        if level == newest.tlp and marking_id(level) in newest.markings:
            raise InvalidInput(f"{object_id} is {level.label} already")
        kept = [r for r in newest.body.get("object_marking_refs") or [] if r not in MARKING_IDS]
        return {**newest.body, "object_marking_refs": [*kept, marking_id(level)]}

    return _revise(ctx, collection_ref, object_id, change, "intel.object.remarked", tlp=level.label)


def extend(ctx: Ctx, collection_ref: str, object_id: str, until: str) -> Version:
    """Move an indicator's ``valid_until`` later (to a STIX timestamp)."""
    try:
        when = parse_timestamp(until.strip(), object_id, "valid_until")
    except InvalidStixObject:
        raise InvalidInput(
            f"valid_until {until[:40]!r} is not a timestamp like 2027-01-31T00:00:00Z"
        ) from None

    def change(newest: Version) -> dict[str, Any]:
        if newest.type != "indicator":
            raise InvalidInput(f"{object_id} is a {newest.type}: only indicators have validity")
        body = newest.body
        current = body.get("valid_until")
        if current is None:
            raise InvalidInput(f"{object_id} has no valid_until: it is valid until revoked")
        if when <= parse_timestamp(current, object_id, "valid_until"):
            raise InvalidInput(f"{object_id} is valid until {current}: extend it to a later time")
        return {**body, "valid_until": _stamp(when)}

    return _revise(
        ctx, collection_ref, object_id, change, "intel.object.extended", valid_until=_stamp(when)
    )


def add_to_case(ctx: Ctx, case_ref: str, object_id: str, why: str = "") -> casework.Case:
    """Link an object the caller may read to a case (the cases pillar's own rules apply)."""
    return casework.link_objects(ctx, case_ref, [object_id], why)


__all__ = ["add_to_case", "extend", "remark", "revoke"]
