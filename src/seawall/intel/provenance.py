"""Provenance: who made an object, and how objects from a partner enter this node's store.

The rules, for objects that arrive from a partner (a pull or an offline bundle):

- **Creator.** ``created_by_ref`` names the creator. Each nation has one identity object
  (:func:`seawall.intel.identity.nation_identity`). On the way out, a node writes its
  nation's identity into ``created_by_ref`` of objects its users submitted without one.
- **Versions.** Every version is kept. A newer ``modified`` from the object's creator is a
  new version and wins as "last". A version of an object that another creator already
  holds here is refused: the object stays that creator's, and a partner that wants to say
  more makes its own object (STIX 2.1 §3.6: only the creator may version an object).
  An object claiming to be made by *this* node's nation that this node does not hold is
  refused too.
- **Holder.** The store records the partner's nation as the holder, so the sharing
  policy treats the object as the partner's when this node's users read it.
- **TLP.** An object the partner was not allowed to send us (above the partner's
  ``max_tlp``, or AMBER and stricter from another nation) is withheld, never stored.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select

from seawall.core.access import Principal, Role
from seawall.core.context import Ctx
from seawall.db.models import Partner
from seawall.db.models.intel import IntelCollection, IntelObject
from seawall.errors import InvalidInput
from seawall.intel import store
from seawall.intel.collections import (
    ALIAS,
    Audience,
    create_collection,
    default_marking,
)
from seawall.intel.errors import UnknownMarking
from seawall.intel.identity import identity_id
from seawall.intel.outbox import PARTNER_PREFIX, partner_cap
from seawall.intel.policy import Holder, Recipient, may_share
from seawall.intel.tlp import Tlp, effective_tlp, level_of_definition
from seawall.intel.validation import SCO_TYPES, parse_timestamp

UNSTAMPED_TYPES = frozenset({"marking-definition", "identity", "extension-definition"})


def stamp_creator(body: dict[str, Any], nation: str) -> dict[str, Any]:
    """The object as it leaves the node: with this nation as creator when it names none."""
    kind = body.get("type")
    if "created_by_ref" in body or kind in UNSTAMPED_TYPES or kind in SCO_TYPES:
        return body
    if "created" not in body:
        return body
    stamped = copy.copy(body)
    stamped["created_by_ref"] = identity_id(nation)
    return stamped


def partner_principal(partner: Partner) -> Principal:
    """Who objects from a partner are stored as: the partner's nation, as analyst."""
    return Principal(
        username=f"{PARTNER_PREFIX}{partner.name}",
        nation=partner.nation,
        role=Role.ANALYST,
        source=f"{PARTNER_PREFIX}{partner.name}",
        node_operator=True,
    )


def local_collection(ctx: Ctx, alias: str, title: str, partner: Partner) -> IntelCollection:
    """The local collection that receives a partner's collection: same alias, made if absent."""
    slug = alias.strip().lower()
    if not ALIAS.match(slug):
        raise InvalidInput(
            f"partner {partner.name} sent collection name {alias!r}, which this node "
            "cannot use; ask them to give the collection an alias"
        )
    row = ctx.db.scalar(select(IntelCollection).where(IntelCollection.alias == slug))
    if row is not None:
        return row
    return create_collection(
        ctx,
        slug,
        title=f"{title or slug} (from {partner.name})",
        audience=Audience(),
        default_tlp="green",
        description=f"Received from partner {partner.name} ({partner.nation}).",
    )


@dataclass
class Received:
    """What happened to the objects a partner sent."""

    added: int = 0
    duplicates: int = 0
    rejected: list[str] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)

    def merge(self, other: Received) -> None:
        """Add another batch's counts to this one."""
        self.added += other.added
        self.duplicates += other.duplicates
        self.rejected.extend(other.rejected)
        self.withheld.extend(other.withheld)


def _known_levels(
    ctx: Ctx, collection: IntelCollection, objects: Iterable[dict[str, Any]]
) -> dict[str, Tlp | None]:
    known: dict[str, Tlp | None] = {}
    refs: set[str] = set()
    for obj in objects:
        marks = obj.get("object_marking_refs")
        if isinstance(marks, list):
            refs.update(m for m in marks if isinstance(m, str))
        if obj.get("type") == "marking-definition" and isinstance(obj.get("id"), str):
            try:
                known[obj["id"]] = level_of_definition(obj)
            except UnknownMarking:
                continue
    if refs:
        stmt = select(IntelObject.stix_id, IntelObject.body).where(
            IntelObject.collection_id == collection.id,
            IntelObject.type == "marking-definition",
            IntelObject.stix_id.in_(refs),
        )
        for stix_id, body in ctx.db.execute(stmt):
            try:
                known.setdefault(stix_id, level_of_definition(json.loads(body)))
            except UnknownMarking:
                continue
    return known


def _level(obj: dict[str, Any], default: Tlp, known: dict[str, Tlp | None]) -> Tlp | None:
    refs = list(obj.get("object_marking_refs") or [])
    for granular in obj.get("granular_markings") or []:
        if isinstance(granular, dict) and isinstance(granular.get("marking_ref"), str):
            refs.append(granular["marking_ref"])
    try:
        return effective_tlp([r for r in refs if isinstance(r, str)], default, known)
    except UnknownMarking:
        return None  # the store refuses it with the reason


def _version_of(obj: dict[str, Any]) -> Any:
    for prop in ("modified", "created"):
        try:
            return parse_timestamp(obj.get(prop))
        except InvalidInput:
            continue
    return None


def receive(
    ctx: Ctx,
    nation: str,
    partner: Partner,
    collection: IntelCollection,
    objects: list[dict[str, Any]],
    request_id: str,
) -> Received:
    """Store what ``partner`` sent into ``collection`` under the rules above."""
    result = Received()
    me = Recipient(nation=nation, organisation=None, is_partner_node=True, in_community=True)
    sender = Holder(partner.nation, None)
    cap = partner_cap(partner)
    default = default_marking(collection)
    known = _known_levels(ctx, collection, objects)
    ids = {o["id"] for o in objects if isinstance(o.get("id"), str)}
    creators: dict[str, set[str]] = {}
    held: set[tuple[str, Any]] = set()
    if ids:
        stmt = select(IntelObject.stix_id, IntelObject.created_by_ref, IntelObject.version).where(
            IntelObject.stix_id.in_(ids)
        )
        for stix_id, creator, version in ctx.db.execute(stmt):
            held.add((stix_id, version))
            if creator:
                creators.setdefault(stix_id, set()).add(creator)
    mine = identity_id(nation)
    accepted: list[dict[str, Any]] = []
    for obj in objects:
        stix_id = str(obj.get("id", ""))
        level = _level(obj, default, known)
        if level is not None and not (level <= cap and may_share(level, sender, me)):
            result.withheld.append(f"{stix_id}: {level.label} may not come from {partner.name}")
            continue
        creator = obj.get("created_by_ref")
        if isinstance(creator, str):
            if creator == mine and (stix_id, _version_of(obj)) not in held:
                result.rejected.append(
                    f"{stix_id}: claims to be made by this node's nation, which does not hold it"
                )
                continue
            others = creators.get(stix_id, set()) - {creator}
            if others:
                result.rejected.append(
                    f"{stix_id}: belongs to {sorted(others)[0]}; a version from {creator} "
                    "is not accepted (make a new object that is derived-from it)"
                )
                continue
        if isinstance(creator, str):
            # Within one batch too, the first creator of an object keeps it.
            creators.setdefault(stix_id, set()).add(creator)
        accepted.append(obj)
    if accepted:
        as_partner = replace(ctx, who=partner_principal(partner))
        added = store.add_objects(as_partner, collection, accepted, request_id=request_id)
        result.added += len(added.added)
        result.duplicates += len(added.duplicates)
        result.rejected.extend(ref.message or ref.id for ref in added.rejected)
    return result
