"""Admission: which submitted objects the store takes, under whose name, and why not.

The store asks :class:`Admission` about every valid object of a batch, for every writer
and on every path (TAXII, imports, the UI, pull, push and bundles). An object is *held* by
the writer that first stored it: this node's nation for what its own users submitted, or
``partner:<name>`` for what a partner node sent (two nodes of one nation hold apart).

- **Creator.** ``created_by_ref`` naming a nation's identity is taken only from that
  nation, and so is an identity object whose id is a nation's identity. A sighting's
  ``where_sighted_refs`` may name no other nation's identity. A ``created_by_ref`` naming an
  identity that another holder stored first is refused: a writer speaks for itself.
- **Versions.** An object another holder holds cannot be versioned, or sent again with
  other content, by anyone else (STIX 2.1 §3.6: only the creator versions an object).
  Every version keeps the creator of the versions before it; a version stored without
  ``created_by_ref`` was made by its holder's nation, as it is stamped on the way out.
  Cyber observables have no creator or versions (their ids derive from their values) and
  are left out of both rules.
- **Markings.** A marking definition never changes once it is stored: a second
  definition with the same id and another body is refused, whoever sends it. When a
  collection and a batch hold several definitions of one id, an object citing it takes the
  strictest level among them, so no definition can loosen another.
- **Partners.** What comes from a partner (its sync account, a pull or a bundle) is
  withheld when the partner could not have sent it (:func:`seawall.intel.sharing.may_take`).
- **Hidden objects.** When the object in the way is one the writer may not read, the
  object is reported as accepted and not stored, so that a write never confirms that a
  hidden object exists; a cyber observable that collides with a hidden one is stored as the
  writer's own. The audit entry counts what was discarded.

Everything a batch needs is read in three queries, and each rule looks up a dictionary,
so a batch of many versions of one id costs no more than as many new objects.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import select

from seawall.core.context import Ctx
from seawall.db.models import Partner
from seawall.db.models.intel import IntelCollection, IntelObject
from seawall.intel.collections import Reader, can_read, partner_reader, reader_of
from seawall.intel.errors import UnknownMarking
from seawall.intel.identity import identity_id, nation_of_identity
from seawall.intel.sharing import (
    PARTNER_PREFIX,
    acting_partner,
    may_take,
    partner_label,
    shares_with,
)
from seawall.intel.tlp import MARKING_IDS, Tlp, level_of_definition
from seawall.intel.validation import SCO_TYPES, CheckedObject


def holder_key(nation: str, submitted_by: str) -> str:
    """Who holds a row: ``partner:<name>`` for a partner's, else the submitting nation."""
    return submitted_by if submitted_by.startswith(PARTNER_PREFIX) else nation


@dataclass(frozen=True)
class Submitter:
    """Who a batch is stored as: a nation, an organisation, a name, and maybe a partner."""

    nation: str
    org: str | None
    name: str
    partner: Partner | None = None

    @property
    def key(self) -> str:
        """The holder this submitter stores as."""
        return holder_key(self.nation, self.name)


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

    @property
    def holder(self) -> str:
        """Who holds this row."""
        return holder_key(self.owner_nation, self.submitted_by)

    @property
    def creator(self) -> str:
        """The creator: as given, else the holder's nation (as stamped on the way out)."""
        return self.created_by_ref or identity_id(self.owner_nation)


_COLUMNS = (
    IntelObject.stix_id,
    IntelObject.version,
    IntelObject.collection_id,
    IntelObject.owner_nation,
    IntelObject.owner_org,
    IntelObject.submitted_by,
    IntelObject.tlp,
    IntelObject.created_by_ref,
    IntelObject.seq,
)


class Verdict(NamedTuple):
    """What to do with one object: ``store``, ``duplicate``, ``withhold``, ``reject`` or
    ``discard`` (accepted in the answer, not stored), with the reason for the writer."""

    action: str
    message: str = ""


STORE = Verdict("store")
DUPLICATE = Verdict("duplicate", "already in the collection; not added again")


@dataclass
class _Known:
    """What the rules know about one id: its rows by version, its first holder, creators."""

    rows: list[Held] = field(default_factory=list)
    by_version: dict[datetime, list[Held]] = field(default_factory=dict)
    first: Held | None = None
    creators: set[str] = field(default_factory=set)


def _bound(obj: CheckedObject) -> bool:
    """Whether the creator and version rules apply (not to observables or official TLP)."""
    return obj.type not in SCO_TYPES and obj.id not in MARKING_IDS


@dataclass
class Admission:
    """The admission rules for one batch into one collection, with what they looked up."""

    ctx: Ctx
    collection: IntelCollection
    submitter: Submitter
    known: dict[str, _Known] = field(default_factory=dict)
    identities: dict[str, Held] = field(default_factory=dict)
    first_creator: dict[str, str] = field(default_factory=dict)
    definitions: dict[str, str] = field(default_factory=dict)
    seen: dict[int, bool] = field(default_factory=dict)
    readers: dict[str, Reader | None] = field(default_factory=dict)
    bodies: dict[int, str] = field(default_factory=dict)

    @classmethod
    def of(cls, ctx: Ctx, collection: IntelCollection, batch: Sequence[CheckedObject]) -> Admission:
        """Look up what the rules need to know about ``batch``."""
        admission = cls(ctx, collection, submitter_of(ctx))
        ids = {obj.id for obj in batch}
        if ids:
            stmt = select(*_COLUMNS).where(IntelObject.stix_id.in_(ids)).order_by(IntelObject.seq)
            for row in ctx.db.execute(stmt):
                admission._learn(Held(*row))
        creators = {obj.created_by_ref for obj in batch if obj.created_by_ref}
        creators -= {ref for ref in creators if nation_of_identity(ref) is not None}
        if creators:
            stmt = select(*_COLUMNS).where(IntelObject.stix_id.in_(creators))
            for row in ctx.db.execute(stmt.order_by(IntelObject.seq)):
                admission.identities.setdefault(row.stix_id, Held(*row))  # the first holder
        return admission

    def _learn(self, row: Held) -> None:
        known = self.known.setdefault(row.stix_id, _Known())
        known.rows.append(row)
        known.by_version.setdefault(row.version, []).append(row)
        known.first = known.first or row
        known.creators.add(row.creator)

    def ids_in(self, collection_id: str) -> set[str]:
        """The batch's ids that ``collection_id`` already holds."""
        return {
            stix_id
            for stix_id, known in self.known.items()
            if any(row.collection_id == collection_id for row in known.rows)
        }

    def free_version(self, stix_id: str, now: datetime) -> datetime:
        """``now``, or just after it when this collection holds the id at that instant."""
        known = self.known.get(stix_id)
        taken = (
            {r.version for r in known.rows if r.collection_id == self.collection.id}
            if known
            else set()
        )
        version = now
        while version in taken:
            version += timedelta(microseconds=1)
        return version

    def duplicate_here(self, obj: CheckedObject, version: datetime | None) -> Held | None:
        """The row of this collection that already holds ``obj`` at ``version``, if any.

        A cyber observable (``version`` None) is one object whatever its version; one the
        writer may not read is not in the way (the writer stores its own).
        """
        known = self.known.get(obj.id)
        if known is None:
            return None
        if version is not None:
            rows = known.by_version.get(version, [])
            return next((r for r in rows if r.collection_id == self.collection.id), None)
        here = [r for r in known.rows if r.collection_id == self.collection.id]
        return next((r for r in here if self._sees(r)), None)

    def duplicate(self, row: Held) -> Verdict:
        """A duplicate in this collection: said as such only when the writer may see it."""
        return DUPLICATE if self._sees(row) else Verdict("discard")

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
        if _bound(obj):
            self.first_creator.setdefault(obj.id, obj.created_by_ref or self._own_identity)
        if obj.type == "marking-definition":
            self.definitions.setdefault(obj.id, _canonical(obj.body))
        return STORE

    @property
    def _own_identity(self) -> str:
        return identity_id(self.submitter.nation)

    def _refusal(self, obj: CheckedObject, version: datetime) -> tuple[str, list[Held]]:
        """Why ``obj`` may not be stored (empty when it may), and the rows in its way."""
        me = self.submitter
        creator = obj.created_by_ref
        speaks_for = nation_of_identity(creator)
        if speaks_for is not None and speaks_for != me.nation:
            return (
                f"{obj.id}: created_by_ref names {speaks_for}'s identity; {me.nation} may not",
                [],
            )
        named = nation_of_identity(obj.id)
        if named is not None and named != me.nation:
            return f"{obj.id}: this is {named}'s identity; only {named} may send it", []
        for place in obj.body.get("where_sighted_refs") or () if obj.type == "sighting" else ():
            seen_in = nation_of_identity(place) if isinstance(place, str) else None
            if seen_in is not None and seen_in != me.nation:
                return f"{obj.id}: where_sighted_refs names {seen_in}; {me.nation} may not", []
        if creator and speaks_for is None:
            first = self.identities.get(creator)
            if first is not None and first.holder != me.key:
                return f"{obj.id}: created_by_ref {creator} is another holder's identity", [first]
        if not _bound(obj):
            return "", []
        known = self.known.get(obj.id)
        if known is None or known.first is None:
            return self._within_batch(obj)
        owner = known.first
        same_version = known.by_version.get(version, [])
        if owner.holder != me.key:
            body = _canonical(obj.body)
            if not same_version or any(self._body(row) != body for row in same_version):
                return (
                    f"{obj.id}: belongs to {owner.owner_nation}; only its creator may version "
                    "it (make a new object that is derived-from it)",
                    known.rows,
                )
            return "", []  # the very same version again: a copy, not a new version
        mine = creator or self._own_identity
        others = known.creators - {mine}
        if others:
            return (
                f"{obj.id}: belongs to {sorted(others)[0]}; a version from {mine} is not "
                "accepted (make a new object that is derived-from it)",
                [row for row in known.rows if row.creator != mine],
            )
        if obj.type == "marking-definition":
            return self._redefined(obj, known.rows)
        return self._within_batch(obj)

    def _within_batch(self, obj: CheckedObject) -> tuple[str, list[Held]]:
        """The rules again against what this batch already took (the first creator keeps it)."""
        first = self.first_creator.get(obj.id)
        mine = obj.created_by_ref or self._own_identity
        if first is not None and first != mine:
            return f"{obj.id}: belongs to {first}; a version from {mine} is not accepted", []
        earlier = self.definitions.get(obj.id)
        if earlier is not None and earlier != _canonical(obj.body):
            return f"{obj.id}: this marking definition is defined already and never changes", []
        return "", []

    def _redefined(self, obj: CheckedObject, rows: list[Held]) -> tuple[str, list[Held]]:
        body = _canonical(obj.body)
        changed = [row for row in rows if self._body(row) != body]
        if changed:
            return (
                f"{obj.id}: this marking definition is defined already, and a marking "
                "definition never changes; define a new one with a new id",
                changed,
            )
        return self._within_batch(obj)

    def _body(self, row: Held) -> str:
        if row.seq not in self.bodies:
            # Only rows in a conflict get here: held by another, or a marking definition.
            seqs = [r.seq for k in self.known.values() for r in k.rows if r.seq not in self.bodies]
            stmt = select(IntelObject.seq, IntelObject.body).where(IntelObject.seq.in_(seqs))
            for seq, body in self.ctx.db.execute(stmt):
                self.bodies[seq] = _canonical(json.loads(body))
        return self.bodies.get(row.seq, "")

    def _sees(self, row: Held) -> bool:
        """Whether the writer may read a stored row (a partner as its sync account would)."""
        if row.seq not in self.seen:
            self.seen[row.seq] = self._may_read(row)
        return self.seen[row.seq]

    def _may_read(self, row: Held) -> bool:
        if row.collection_id not in self.readers:
            self.readers[row.collection_id] = self._reader_in(row.collection_id)
        reader = self.readers[row.collection_id]
        if reader is None:
            return False
        return reader.may_read(row.tlp, row.owner_nation, row.owner_org, row.submitted_by)

    def _reader_in(self, collection_id: str) -> Reader | None:
        """The writer as a reader of a collection, or None when it may not read it at all."""
        collection = self.ctx.db.get(IntelCollection, collection_id)
        if collection is None:
            return None
        partner = self.submitter.partner
        if partner is not None:
            return (
                partner_reader(partner) if shares_with(self.ctx.db, collection, partner) else None
            )
        return reader_of(self.ctx, collection) if can_read(self.ctx, collection) else None


def _canonical(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def known_markings(
    ctx: Ctx, collection: IntelCollection, refs: set[str], batch: Sequence[CheckedObject]
) -> dict[str, Tlp | None]:
    """The levels of the marking definitions ``refs`` names: the strictest among those the
    collection holds and the batch brings, so that no definition can loosen another."""
    known: dict[str, Tlp | None] = {}
    stmt = select(IntelObject.stix_id, IntelObject.body).where(
        IntelObject.collection_id == collection.id,
        IntelObject.type == "marking-definition",
        IntelObject.stix_id.in_(refs),
    )
    stored = [(stix_id, json.loads(body)) for stix_id, body in ctx.db.execute(stmt)]
    batch_defs = [(obj.id, obj.body) for obj in batch if obj.type == "marking-definition"]
    for stix_id, body in [*stored, *batch_defs]:
        try:
            level = level_of_definition(body)
        except UnknownMarking:
            continue  # a TLP definition without a level: objects citing it are refused
        if stix_id not in known:
            known[stix_id] = level
        elif level is not None:
            earlier = known[stix_id]
            known[stix_id] = level if earlier is None else max(earlier, level)
    return known
