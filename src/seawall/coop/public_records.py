"""Laws and CIRT entries at the hub: what a nation's node shares of them, and how the hub
keeps them.

Laws and CIRT directories are public facts, so a nation's node shares every instrument and
CIRT entry of its own nation that is not sample data, with no ``shareable`` flag: a regional
coordinator expects the whole of a member's word. A record turned into sample data is
withdrawn. The packages are :mod:`seawall.coop.sharing`'s, of type ``law`` or ``cirt``.

**At the hub.** A received record is kept read-only with its source nation
(``received_at``); a newer package replaces it, an older or the same one changes nothing, and
a withdrawal keeps a tombstone (``withdrawn_at``, left out of every list, the matrix and the
directory). **The nation's word replaces the hub's:** a received instrument replaces one the
hub entered for that nation with the same kind and title, and in a matrix cell received
instruments outrank those entered at the hub (:mod:`seawall.coop.matrix`); a received CIRT
entry replaces the one the hub entered for that nation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from seawall.coop import cirts, laws
from seawall.coop.errors import ForeignRecord
from seawall.coop.sharing import changes_nothing
from seawall.core.context import Ctx
from seawall.db.models.coop_laws import LegalInstrument, NationalCirt
from seawall.errors import SeawallError

Held = LegalInstrument | NationalCirt


@dataclass(frozen=True)
class Stamp:
    """Who delivered a package, under which key, its digest and when it was signed."""

    partner: str
    key_id: str
    digest: str
    signed_at: datetime


def receive(
    ctx: Ctx,
    kind: str,
    action: str,
    record: dict[str, Any],
    nation: str,
    stamp: Stamp,
    refuse: Callable[[str], SeawallError],
) -> str:
    """Keep (or withdraw) a law or CIRT entry a nation's node shared; the outcome."""
    record_id = str(record["id"])
    model: type[LegalInstrument] | type[NationalCirt] = (
        LegalInstrument if kind == "law" else NationalCirt
    )
    held: Held | None = (
        ctx.db.get(LegalInstrument, record_id)
        if kind == "law"
        else ctx.db.get(NationalCirt, record_id)
    )
    if changes_nothing(held, kind, nation, stamp.digest, stamp.signed_at):
        return "unchanged"
    if action == "withdraw":
        if held is None or held.withdrawn_at is not None:
            return "not_held"
        held.withdrawn_at = ctx.now()
        if isinstance(held, LegalInstrument):
            held.title = f"~{held.id}"  # frees the kind and title for a later instrument
        _stamp(ctx, held, stamp)
        ctx.record(f"coop.{kind}.withdrawal_received", record_id, nation=nation)
        return "withdrawn"
    try:
        if kind == "law":
            values = {k: record.get(k, "") for k in laws.COLUMNS}
            fields: dict[str, Any] = vars(laws.check_fields(values))
        else:
            fields = cirts.check_fields({k: record.get(k, "") for k in cirts.COLUMNS})
    except SeawallError as exc:
        raise refuse(f"its record does not check: {exc.message}") from None
    if fields["nation"] != nation:
        raise ForeignRecord(f"{kind} {record_id} names {fields['nation']}, not {nation}")
    _make_room(ctx, model, fields, record_id)
    row: Held = held if held is not None else model(id=record_id, created_at=ctx.now())
    for key, value in fields.items():
        setattr(row, key, value)
    row.entered_by, row.entered_as, row.withdrawn_at = stamp.partner, nation, None
    if held is None:
        ctx.db.add(row)
    _stamp(ctx, row, stamp)
    outcome = "replaced" if held is not None else "stored"
    ctx.record(f"coop.{kind}.received", record_id, nation=nation, outcome=outcome)
    return outcome


def _make_room(
    ctx: Ctx,
    model: type[LegalInstrument] | type[NationalCirt],
    fields: dict[str, Any],
    record_id: str,
) -> None:
    """Drop what the received record replaces: the hub's own entry for the nation (its CIRT
    entry, or its instrument of the same kind and title), or an older received one."""
    with ctx.db.no_autoflush:
        if model is LegalInstrument:
            stmt: Any = select(LegalInstrument).where(
                LegalInstrument.nation == fields["nation"],
                LegalInstrument.kind == fields["kind"],
                LegalInstrument.title == fields["title"],
                LegalInstrument.id != record_id,
            )
        else:
            stmt = select(NationalCirt).where(
                NationalCirt.nation == fields["nation"], NationalCirt.id != record_id
            )
        for clash in list(ctx.db.scalars(stmt)):
            how = "received" if clash.received_at is not None else "entered"
            ctx.record(f"coop.{_audit_kind(model)}.replaced", clash.id, by=record_id, was=how)
            ctx.db.delete(clash)
    ctx.db.flush()


def _audit_kind(model: type[LegalInstrument] | type[NationalCirt]) -> str:
    return "law" if model is LegalInstrument else "cirt"


def _stamp(ctx: Ctx, row: Held, stamp: Stamp) -> None:
    row.received_at = row.updated_at = ctx.now()
    row.sender_key_id, row.package_sha256 = stamp.key_id, stamp.digest
    row.signed_at = stamp.signed_at
    ctx.db.flush()
