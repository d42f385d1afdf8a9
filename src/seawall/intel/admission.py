"""Admission: which submitted objects the store takes, under whose name, and why not.

The store asks :class:`Admission` about every valid object of a batch, for every writer
and on every path (TAXII, imports, the UI, pull, push and bundles):

- **Creator.** ``created_by_ref`` naming a nation's identity is taken only from that
  nation, and so is an identity object whose id is a nation's identity. A
  ``created_by_ref`` naming an identity this node holds only from other nations is
  refused: a writer speaks for its own nation.
- **Versions.** An object this node holds from another nation cannot be versioned, or
  sent again with other content, by anyone else (STIX 2.1 §3.6: only the creator versions
  an object). Every version keeps the ``created_by_ref`` of the versions held before it.
  Cyber observables have no creator or versions (their ids derive from their values) and
  are left out of both rules.
- **Markings.** A marking definition never changes once it is stored: a second
  definition with the same id and another body is refused, whoever sends it. Markings are
  read from what is stored first, never from a newer copy in the batch.
- **Partners.** What comes from a partner (its sync account, a pull or a bundle) is
  withheld when the partner could not have sent it (:func:`seawall.intel.sharing.may_take`).
- **Hidden objects.** When the object in the way is one the writer may not read, the
  object is reported as accepted and not stored, so that a write never confirms that a
  hidden object exists. The audit entry counts it as discarded.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select

from seawall.core.context import Ctx
from seawall.db.models import Partner
from seawall.db.models.intel import IntelCollection, IntelObject
from seawall.intel.collections import can_read, partner_reader, reader_of
from seawall.intel.errors import UnknownMarking
from seawall.intel.identity import nation_of_identity
from seawall.intel.sharing import acting_partner, may_take, partner_label, shares_with
from seawall.intel.tlp import MARKING_IDS, Tlp, level_of_definition
from seawall.intel.validation import SCO_TYPES, CheckedObject


@dataclass(frozen=True)
class Submitter:
    """Who a batch is stored as: a nation, an organisation, a name, and maybe a partner."""

    nation: str
    org: str | None
    name: str
    partner: Partner | None = None


def submitter_of(ctx: Ctx) -> Submitter:
    """The caller as a submitter; a partner's sync account submits as its partner."""
    partner = acting_partner(ctx)
    if partner is not None:
        return Submitter(partner.nation, None, partner_label(partner), partner)
    who = ctx.who
    return Submitter(who.nation, who.org_id, who.username)


class Held(NamedTuple):
    """A stored version of an object named in the batch, anywhere on this node."""

    stix_id: str
    version: datetime
    collection_id: str
    owner_nation: str
    owner_org: str | None
    submitted_by: str
    tlp: int
    created_by_ref: str | None
    seq: int


class Verdict(NamedTuple):
    """What to do with one object: ``store``, ``duplicate``, ``withhold``, ``reject`` or
    ``discard`` (accepted in the answer, not stored), with the reason for the writer."""

    action: str
    message: str = ""


STORE = Verdict("store")


def _bound(obj: CheckedObject) -> bool:
    """Whether the creator and version rules apply (not to observables or official TLP)."""
    return obj.type not in SCO_TYPES and obj.id not in MARKING_IDS


@dataclass
class Admission:
    """The admission rules for one batch into one collection, with what they looked up."""

    ctx: Ctx
    collection: IntelCollection
    submitter: Submitter
    held: dict[str, list[Held]] = field(default_factory=dict)
    identities: dict[str, set[str]] = field(default_factory=dict)
    first_creator: dict[str, str] = field(default_factory=dict)
    definitions: dict[str, str] = field(default_factory=dict)
    seen: dict[tuple[str, int], bool] = field(default_factory=dict)

    @classmethod
    def of(cls, ctx: Ctx, collection: IntelCollection, batch: Sequence[CheckedObject]) -> Admission:
        """Look up, in two queries, what the rules need to know about ``batch``."""
        admission = cls(ctx, collection, submitter_of(ctx))
        ids = {obj.id for obj in batch}
        if ids:
            stmt = select(
                IntelObject.stix_id,
                IntelObject.version,
                IntelObject.collection_id,
                IntelObject.owner_nation,
                IntelObject.owner_org,
                IntelObject.submitted_by,
                IntelObject.tlp,
                IntelObject.created_by_ref,
                IntelObject.seq,
            ).where(IntelObject.stix_id.in_(ids))
            for row in ctx.db.execute(stmt):
                admission.held.setdefault(row.stix_id, []).append(Held(*row))
        creators = {obj.created_by_ref for obj in batch if obj.created_by_ref}
        creators -= {ref for ref in creators if nation_of_identity(ref) is not None}
        if creators:
            owners = select(IntelObject.stix_id, IntelObject.owner_nation).where(
                IntelObject.stix_id.in_(creators)
            )
            for stix_id, nation in ctx.db.execute(owners):
                admission.identities.setdefault(stix_id, set()).add(nation)
        return admission

    def duplicate_here(self, obj: CheckedObject, version: datetime) -> Held | None:
        """The row of this collection holding the same (id, version), if any."""
        for row in self.held.get(obj.id, ()):
            if row.collection_id == self.collection.id and row.version == version:
                return row
        return None

    def judge(self, obj: CheckedObject, version: datetime, level: Tlp) -> Verdict:
        """The verdict on one valid object at ``version`` that would be marked ``level``."""
        partner = self.submitter.partner
        if partner is not None and not may_take(level, partner):
            return Verdict("withhold", f"{obj.id}: {level.label} may not come from {partner.name}")
        refusal, in_the_way = self._refusal(obj, version)
        if refusal:
            if in_the_way and not any(self._sees(row) for row in in_the_way):
                return Verdict("discard")
            return Verdict("reject", refusal)
        if obj.created_by_ref and _bound(obj):
            self.first_creator.setdefault(obj.id, obj.created_by_ref)
        if obj.type == "marking-definition":
            self.definitions.setdefault(obj.id, _canonical(obj.body))
        return STORE

    def duplicate(self, row: Held) -> Verdict:
        """A duplicate in this collection: said as such only when the writer may see it."""
        if self._sees(row):
            return Verdict("duplicate", "already in the collection; not added again")
        return Verdict("discard")

    def _refusal(self, obj: CheckedObject, version: datetime) -> tuple[str, list[Held]]:
        """Why ``obj`` may not be stored (empty when it may), and the rows in its way."""
        me = self.submitter.nation
        creator = obj.created_by_ref
        speaks_for = nation_of_identity(creator)
        if speaks_for is not None and speaks_for != me:
            return f"{obj.id}: created_by_ref names {speaks_for}'s identity; {me} may not", []
        named = nation_of_identity(obj.id)
        if named is not None and named != me:
            return f"{obj.id}: this is {named}'s identity; only {named} may send it", []
        if creator and speaks_for is None:
            holders = self.identities.get(creator, set())
            if holders and me not in holders:
                owner = sorted(holders)[0]
                return f"{obj.id}: created_by_ref {creator} is {owner}'s identity", []
        if not _bound(obj):
            return "", []
        rows = self.held.get(obj.id, [])
        others = [row for row in rows if row.owner_nation != me]
        same_version = [row for row in others if row.version == version]
        if others and not same_version:
            owner = others[0].owner_nation
            return (
                f"{obj.id}: belongs to {owner}; only its creator may version it "
                "(make a new object that is derived-from it)",
                others,
            )
        if same_version and any(self._body(row) != _canonical(obj.body) for row in same_version):
            owner = same_version[0].owner_nation
            return f"{obj.id}: belongs to {owner}; this copy differs from the one held", others
        first = self.first_creator.get(obj.id)
        creators = {row.created_by_ref for row in rows if row.created_by_ref}
        if first:
            creators.add(first)
        if creator and creators - {creator}:
            owner = sorted(creators - {creator})[0]
            return (
                f"{obj.id}: belongs to {owner}; a version from {creator} is not accepted "
                "(make a new object that is derived-from it)",
                [row for row in rows if row.created_by_ref != creator],
            )
        if obj.type == "marking-definition":
            return self._redefined(obj, rows)
        return "", []

    def _redefined(self, obj: CheckedObject, rows: list[Held]) -> tuple[str, list[Held]]:
        body = _canonical(obj.body)
        earlier = self.definitions.get(obj.id)
        changed = [row for row in rows if self._body(row) != body]
        if changed or (earlier is not None and earlier != body):
            return (
                f"{obj.id}: this marking definition is defined already, and a marking "
                "definition never changes; define a new one with a new id",
                changed,
            )
        return "", []

    def _body(self, row: Held) -> str:
        body = self.ctx.db.scalar(select(IntelObject.body).where(IntelObject.seq == row.seq))
        return _canonical(json.loads(body or "{}"))

    def _sees(self, row: Held) -> bool:
        """Whether the writer may read a stored row (a partner as its sync account would)."""
        key = (row.collection_id, row.seq)
        if key not in self.seen:
            self.seen[key] = self._may_read(row)
        return self.seen[key]

    def _may_read(self, row: Held) -> bool:
        collection = self.ctx.db.get(IntelCollection, row.collection_id)
        if collection is None:
            return False
        partner = self.submitter.partner
        if partner is not None:
            if not shares_with(self.ctx.db, collection, partner):
                return False
            reader = partner_reader(partner)
        else:
            if not can_read(self.ctx, collection):
                return False
            reader = reader_of(self.ctx, collection)
        return reader.may_read(row.tlp, row.owner_nation, row.owner_org, row.submitted_by)


def _canonical(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def known_markings(
    ctx: Ctx, collection: IntelCollection, refs: set[str], batch: Sequence[CheckedObject]
) -> dict[str, Tlp | None]:
    """The levels of the marking definitions ``refs`` names: as first stored in the
    collection, else as the batch defines them (a redefinition in the batch is refused)."""
    known: dict[str, Tlp | None] = {}
    stmt = (
        select(IntelObject.stix_id, IntelObject.body)
        .where(
            IntelObject.collection_id == collection.id,
            IntelObject.type == "marking-definition",
            IntelObject.stix_id.in_(refs),
        )
        .order_by(IntelObject.date_added, IntelObject.seq)
    )
    stored = [(stix_id, json.loads(body)) for stix_id, body in ctx.db.execute(stmt)]
    batch_defs = [(obj.id, obj.body) for obj in batch if obj.type == "marking-definition"]
    for stix_id, body in [*stored, *batch_defs]:
        if stix_id in known:
            continue  # the first definition stands: a marking never changes
        try:
            known[stix_id] = level_of_definition(body)
        except UnknownMarking:
            continue  # a TLP definition without a level: objects citing it are refused
    return known
