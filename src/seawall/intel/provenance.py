"""Provenance: who made an object, and how objects from a partner enter this node's store.

- **Creator.** ``created_by_ref`` names the creator. Each nation has one identity object
  (:func:`seawall.intel.identity.nation_identity`). On the way out, a node writes its
  nation's identity into ``created_by_ref`` of objects its users submitted without one.
- **Arrival.** What a partner sends (a pull, a push to our TAXII server by its sync
  account, or an offline bundle) is stored as the partner's: the partner's nation is the
  holder and ``partner:<name>`` the submitter, so the sharing policy treats it as the
  partner's and this node never relays it. The store's admission rules
  (:mod:`seawall.intel.admission`) apply as to every writer: only the creator versions an
  object, nobody speaks for another nation, marking definitions never change, and
  anything the partner could not have sent us (above its ``max_tlp``, or AMBER and
  stricter from another nation) is withheld, never stored.
- **Where it lands.** A partner's collection is received into the local collection with
  the same alias. When there is none, one is made whose audience is this node's nation
  and the sending partner: never wider than the audience the partner shared it with.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select

from seawall.core.access import Principal, Role
from seawall.core.context import Ctx
from seawall.db.models import Partner
from seawall.db.models.intel import IntelCollection
from seawall.errors import InvalidInput
from seawall.intel.audiences import Audience
from seawall.intel.collections import ALIAS, create_collection
from seawall.intel.errors import CollectionNotShared
from seawall.intel.identity import identity_id
from seawall.intel.sharing import partner_label, shares_with
from seawall.intel.store import writing
from seawall.intel.validation import SCO_TYPES

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
        username=partner_label(partner),
        nation=partner.nation,
        role=Role.ANALYST,
        source=partner_label(partner),
        partner_id=partner.id,
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
        if not shares_with(ctx.db, row, partner):
            # Its audience decides who reads what lands in it: the partner must be named.
            raise CollectionNotShared(
                f"partner {partner.name}'s collection {slug!r} would land in this node's "
                f"{slug!r}, whose audience does not name {partner.name}, {partner.nation} or "
                f"its region: add partner:{partner.name} to that audience, or rename it"
            )
        return row
    # Never wider than the partner shared it: this node's nation (the partner shared it with
    # us) and the partner itself. Organisations and groups do not carry across nodes.
    return create_collection(
        ctx,
        slug,
        title=f"{title or slug} (from {partner.name})",
        audience=Audience.of(nations=[partner.owner_nation], partners=[partner.name]),
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


def receive(
    ctx: Ctx,
    partner: Partner,
    collection: IntelCollection,
    objects: list[dict[str, Any]],
    request_id: str,
) -> Received:
    """Store what ``partner`` sent into ``collection``, as the partner's."""
    result = Received()
    as_partner = replace(ctx, who=partner_principal(partner))
    added = writing.add_objects(as_partner, collection, objects, request_id=request_id)
    result.added += len(added.added)
    result.duplicates += len(added.duplicates) + len(added.discarded)
    result.rejected.extend(ref.message or ref.id for ref in added.rejected)
    result.withheld.extend(ref.message or ref.id for ref in added.withheld)
    return result
