"""Shareable records travel to the hub: signed cooperation packages over the partner link.

A **cooperation package** is core's signed package (:mod:`seawall.core.federation.packages`)
of its own kind: the magic line ``SEAWALL-COOP-RECORD/1`` and the signing prefix
``seawall-coop-record/1``. Its payload is JSON::

    {"action": "share" | "withdraw", "type": "programme" | "organisation" | "law" | "cirt",
     "record": {...the record as ``--json`` shows it...}}      (withdraw: id and nation only)

Laws and CIRT entries (``law``, ``cirt``: the record in its import's columns, with its id)
are public facts, so every one of the nation's own that is not sample data is shared, with no
flag; :mod:`seawall.coop.public_records` keeps them at the hub.

Whenever a nation's node adds or changes a shareable record, it queues a package with the
record for the hub of every region group the nation belongs to (a partner whose ``hub_for``
names the group); a record made private, or removed, queues a withdrawal. The queue keeps only
the latest package of a record still waiting. The hub opens a package only when it is signed
with the key registered for a partner of the record's own nation, delivered by that partner's
account (:mod:`seawall.core.federation.inbox`); it keeps the record with its source nation,
read-only, and a newer package replaces it, an older one changes nothing. A withdrawal keeps
a tombstone, so that an older package cannot bring the record back.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

from sqlalchemy import select

from seawall.coop.errors import ForeignRecord
from seawall.coop.fields import (
    OrganisationDraft,
    apply_organisation,
    apply_programme,
    check_organisation,
    check_programme,
    organisation_doc,
    programme_doc,
    programme_from_doc,
)
from seawall.core.access import Perm, Principal
from seawall.core.context import Ctx
from seawall.core.federation import queue
from seawall.core.federation.identity import load_node_key
from seawall.core.federation.inbox import Receiver, delivering_partner
from seawall.core.federation.packages import PackageKind, open_package, seal_package, sender_of
from seawall.core.nations import groups_of
from seawall.core.partners import list_partners
from seawall.db.models import Partner
from seawall.db.models.coop import CoopOrganisation, Programme
from seawall.db.models.coop_laws import LegalInstrument, NationalCirt
from seawall.errors import SeawallError
from seawall.settings import Settings

COOP_PACKAGE = PackageKind(
    magic=b"SEAWALL-COOP-RECORD/1\n",
    signing_prefix=b"seawall-coop-record/1\n",
    name="Seawall cooperation package",
    noun="cooperation package",
)
QUEUE_KIND = "coop.record"
SHARE = "share"
WITHDRAW = "withdraw"
RecordType = Literal["programme", "organisation", "law", "cirt"]
PUBLIC_TYPES = ("law", "cirt")
Record = Programme | CoopOrganisation
R = TypeVar("R", Programme, CoopOrganisation)


def may_edit(who: Principal, row: Record) -> bool:
    """Whether ``who`` may change ``row`` here: a writer of its nation, on the node that entered
    it (a record received from a nation's node is read-only at the hub)."""
    return row.received_at is None and row.nation == who.nation and who.can(Perm.COOP_WRITE)


def type_of(row: Record) -> RecordType:
    """The package type of a record."""
    return "programme" if isinstance(row, Programme) else "organisation"


def new_record(ctx: Ctx, model: type[R], nation: str) -> R:
    """A new record of ``nation``, made and last changed now by the caller (not yet added)."""
    return model(
        id=ctx.ids(),
        nation=nation,
        created_at=ctx.now(),
        created_by=ctx.who.username,
        updated_at=ctx.now(),
        updated_by=ctx.who.username,
    )


def queue_public(
    ctx: Ctx,
    settings: Settings | None,
    kind: RecordType,
    row: LegalInstrument | NationalCirt,
    doc: dict[str, Any],
    was_shared: bool,
) -> None:
    """Queue a change to a law or CIRT entry of this node's own nation (with ``settings``)
    for its hubs: every one that is not sample data is shared (see
    :mod:`seawall.coop.public_records`)."""
    if settings is None or row.received_at is not None or row.nation != ctx.who.nation:
        return
    queue_package(ctx, settings, kind, row.id, row.nation, doc, not row.sample, was_shared)


def hubs_of(ctx: Ctx, nation: str) -> list[Partner]:
    """The enabled partners that serve as hub for a region group ``nation`` belongs to."""
    groups = set(groups_of(ctx.db, nation))
    return [
        p
        for p in list_partners(ctx)
        if not p.disabled and groups & {g.upper() for g in (p.hub_for or [])}
    ]


def _doc(row: Record) -> dict[str, Any]:
    return programme_doc(row) if isinstance(row, Programme) else organisation_doc(row)


def seal_record(ctx: Ctx, settings: Settings, row: Record, action: str) -> bytes:
    """A package of one record (or of its withdrawal) signed by this node."""
    return _seal(ctx, settings, type_of(row), row.id, row.nation, action, _doc(row))


def _seal(
    ctx: Ctx,
    settings: Settings,
    kind: str,
    record_id: str,
    nation: str,
    action: str,
    doc: dict[str, Any],
) -> bytes:
    key = load_node_key(settings)
    record = doc if action == SHARE else {"id": record_id, "nation": nation}
    payload = {"action": action, "type": kind, "record": record}
    header = {
        "sender": sender_of(settings, key),
        "record": record_id,
        "action": action,
        "signed_at": ctx.now().isoformat(),
    }
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return seal_package(COOP_PACKAGE, key, header, body)


def queue_record(ctx: Ctx, settings: Settings, row: Record, was_shared: bool) -> list[str]:
    """Queue what a change means for the hubs: the record when it is shareable, its
    withdrawal when it was shared and no longer is; the names of the hubs queued for."""
    if row.received_at is not None:
        return []
    return queue_package(
        ctx, settings, type_of(row), row.id, row.nation, _doc(row), row.shareable, was_shared
    )


def queue_package(
    ctx: Ctx,
    settings: Settings,
    kind: RecordType,
    record_id: str,
    nation: str,
    doc: dict[str, Any],
    shared: bool,
    was_shared: bool,
) -> list[str]:
    """Queue a record of any type (``doc`` as a share carries it) for the hubs of its nation's
    groups: shared, or withdrawn when it was shared and is no longer; the hubs' names."""
    if not (shared or was_shared):
        return []
    action = SHARE if shared else WITHDRAW
    hubs = hubs_of(ctx, nation)
    if not hubs:
        return []
    data = _seal(ctx, settings, kind, record_id, nation, action, doc)
    for hub in hubs:
        queue.enqueue(ctx, hub, QUEUE_KIND, f"{kind}:{record_id}", data)
    names = sorted(h.name for h in hubs)
    ctx.record(f"coop.{kind}.queued", record_id, package=action, hubs=names)
    return names


# -- at the hub -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """What a hub did with one cooperation package."""

    record_id: str
    nation: str
    type: str
    outcome: str  # stored, replaced, unchanged, withdrawn, not_held


def _refuse(why: str) -> SeawallError:
    return COOP_PACKAGE.refuse(why)


def receive_record(ctx: Ctx, data: bytes) -> Received:
    """Keep a record a partner's node delivered (or drop what it withdraws), as that
    partner's account."""
    partner = delivering_partner(ctx)
    opened = open_package(COOP_PACKAGE, data, [partner])
    try:
        payload = json.loads(opened.payload)
        action, kind, record = payload["action"], payload["type"], payload["record"]
        record_id, nation = str(record["id"]), str(record["nation"]).upper()
        signed_at = datetime.fromisoformat(str(opened.header["signed_at"]))
    except (ValueError, KeyError, TypeError):
        raise _refuse("its contents are not a cooperation record") from None
    if action not in (SHARE, WITHDRAW) or kind not in ("programme", "organisation", *PUBLIC_TYPES):
        raise _refuse("its action or record type is not one this node knows")
    if nation != opened.sender_nation:
        raise ForeignRecord(
            f"the package is signed by {opened.sender_nation}'s node but holds a record of "
            f"{nation}: a node shares only its own nation's records"
        )
    digest = hashlib.sha256(data).hexdigest()
    if kind in PUBLIC_TYPES:
        # Imported here: public_records builds on this module (the package and its queue).
        from seawall.coop import public_records

        stamp = public_records.Stamp(partner.name, _key_id(opened.header), digest, signed_at)
        outcome = public_records.receive(ctx, kind, action, record, nation, stamp, _refuse)
        return Received(record_id, nation, kind, outcome)
    held: Record | None = (
        ctx.db.get(Programme, record_id)
        if kind == "programme"
        else ctx.db.get(CoopOrganisation, record_id)
    )
    if changes_nothing(held, kind, nation, digest, signed_at):
        return Received(record_id, nation, kind, "unchanged")
    if action == WITHDRAW:
        if held is None or held.withdrawn_at is not None:
            return Received(record_id, nation, kind, "not_held")
        held.withdrawn_at = ctx.now()
        # A tombstone frees its reference or name for a record the nation adds later.
        if isinstance(held, Programme):
            held.ref = f"~{held.id}"
        else:
            held.name = f"~{held.id}"
        _stamp(ctx, held, partner, opened.header, digest, signed_at)
        ctx.record(f"coop.{kind}.withdrawal_received", record_id, nation=nation)
        return Received(record_id, nation, kind, "withdrawn")
    try:
        if kind == "programme":
            programme = check_programme(programme_from_doc(record, _refuse), nation)
            _move_aside(ctx, Programme, Programme.ref, programme.ref, nation, record_id)
        else:
            organisation = check_organisation(_org_draft(record))
            _move_aside(
                ctx, CoopOrganisation, CoopOrganisation.name, organisation.name, nation, record_id
            )
    except SeawallError as exc:
        raise _refuse(f"its record does not check: {exc.message}") from None
    row: Record
    if kind == "programme":
        row = held if isinstance(held, Programme) else Programme(id=record_id, nation=nation)
        apply_programme(row, programme)
    else:
        row = held if isinstance(held, CoopOrganisation) else CoopOrganisation(id=record_id)
        row.nation = nation
        apply_organisation(row, organisation)
    if held is None:
        row.created_at = ctx.now()
    row.shareable, row.withdrawn_at = True, None
    row.created_by = row.created_by or f"{partner.name}"
    if held is None:
        ctx.db.add(row)
    _stamp(ctx, row, partner, opened.header, digest, signed_at)
    outcome = "replaced" if held is not None else "stored"
    ctx.record(f"coop.{kind}.received", record_id, nation=nation, outcome=outcome)
    return Received(record_id, nation, kind, outcome)


def changes_nothing(
    held: Record | LegalInstrument | NationalCirt | None,
    kind: str,
    nation: str,
    digest: str,
    signed_at: datetime,
) -> bool:
    """Whether a package of ``nation``'s changes nothing of the record held under its id: it
    is the package held, or older. Refuses one whose id this node holds as its own record or
    another nation's."""
    if held is None:
        return False
    if held.nation != nation or held.received_at is None:
        raise ForeignRecord(f"{kind} {held.id} is held here as another nation's record")
    return held.signed_at is not None and (
        held.package_sha256 == digest or held.signed_at > signed_at
    )


def _org_draft(record: dict[str, Any]) -> OrganisationDraft:
    try:
        return OrganisationDraft(
            name=str(record["name"]),
            kind=str(record["kind"]),
            acronym=str(record.get("acronym") or ""),
            country=str(record.get("country") or ""),
            website=str(record.get("website") or ""),
            contact=str(record.get("contact") or ""),
            note=str(record.get("note") or ""),
        )
    except KeyError as exc:
        raise _refuse(f"its record has no {exc.args[0]}") from None


def _move_aside(
    ctx: Ctx,
    model: type[Programme] | type[CoopOrganisation],
    column: Any,
    value: str,
    nation: str,
    record_id: str,
) -> None:
    """Move aside a record received earlier under the same reference or name: the nation's
    node keeps them unique, so the older one was replaced there."""
    with ctx.db.no_autoflush:
        stmt = select(model).where(model.nation == nation, column == value, model.id != record_id)
        clashes: list[Record] = list(ctx.db.scalars(stmt))
        for clash in clashes:
            if clash.received_at is None:
                raise ForeignRecord(f"{value!r} is held here as this node's own record")
            if isinstance(clash, Programme):
                clash.ref = f"~{clash.id}"
            else:
                clash.name = f"~{clash.id}"
    ctx.db.flush()


def _stamp(
    ctx: Ctx,
    row: Record,
    partner: Partner,
    header: dict[str, Any],
    digest: str,
    signed_at: datetime,
) -> None:
    row.received_at = ctx.now()
    row.updated_at, row.updated_by = ctx.now(), partner.name
    row.sender_key_id = _key_id(header)
    row.package_sha256, row.signed_at = digest, signed_at
    ctx.db.flush()


def _key_id(header: dict[str, Any]) -> str:
    return str(header.get("sender", {}).get("key_id", ""))[:64]


def _store(ctx: Ctx, data: bytes) -> str:
    return receive_record(ctx, data).outcome


COOP_RECEIVER = Receiver(QUEUE_KIND, COOP_PACKAGE, _store)
"""How a hub's inbox takes the cooperation packages nations' nodes deliver."""
