"""Signed packages partner nodes deliver here, each handed to the pillar that reads its kind.

A partner node's account (a user bound to the partner record, acting with
``federation.deliver``) posts a package to ``POST /api/v1/federation/packages``. The inbox
picks the :class:`Receiver` whose package kind the bytes start with and lets it open and store
the package *as that partner's account*: the pillar then accepts only a package signed with
the key registered for that very partner, so an account can never deliver another node's
words. Each package is remembered by its SHA-256 with what became of it, so one delivered
again (its sender killed before it read the answer) gets the same answer and is stored once.

A package the pillar refuses (a bad signature, a round of another nation) is answered as
``refused`` with the error's code and kept in the inbox as such: the sender marks it refused
and does not send it again, and the hub can show what it refused. Failures of the hub itself
(its database unreachable) are errors, and the sender tries again later.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.core.federation.errors import PackageUnreadable
from seawall.core.federation.packages import PackageKind, refuse_disabled
from seawall.db.models import FederationInbox, Partner
from seawall.errors import Forbidden, SeawallError

REFUSED = "refused"
# The largest package a partner may deliver in one request.
MAX_DELIVERY_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Receiver:
    """A pillar's way in for one package kind: ``store`` opens and keeps a package as the
    delivering partner's account and says what it did (``stored``, ``replaced``, ...), or
    raises a SeawallError to refuse it."""

    kind: str
    package: PackageKind
    store: Callable[[Ctx, bytes], str]


def delivering_partner(ctx: Ctx) -> Partner:
    """The partner record of the account delivering; Forbidden for anyone else."""
    require(ctx.who, Perm.FEDERATION_DELIVER)
    partner = ctx.db.get(Partner, ctx.who.partner_id) if ctx.who.partner_id else None
    if partner is None:
        raise Forbidden(
            f"{ctx.who.username} is not a partner node's account: only a partner's node "
            "delivers packages here"
        )
    refuse_disabled(partner)
    return partner


def receive(ctx: Ctx, data: bytes, receivers: Sequence[Receiver]) -> dict[str, Any]:
    """Hand a delivered package to its pillar once; the answer for the sender."""
    partner = delivering_partner(ctx)
    digest = hashlib.sha256(data).hexdigest()
    held = ctx.db.scalar(
        select(FederationInbox).where(
            FederationInbox.partner_id == partner.id, FederationInbox.sha256 == digest
        )
    )
    if held is not None:
        return {"outcome": held.outcome, "duplicate": True, **held.detail}
    receiver = next((r for r in receivers if data.startswith(r.package.magic)), None)
    kind = receiver.kind if receiver else "unknown"
    detail: dict[str, Any] = {}
    try:
        if receiver is None:
            raise PackageUnreadable(
                "the file is not a package of a kind this node accepts; nothing was stored"
            )
        outcome = receiver.store(ctx, data)
    except SeawallError as exc:
        if exc.http_status >= 500:
            raise
        outcome, detail = REFUSED, {"error": exc.code, "message": exc.message}
    ctx.db.add(
        FederationInbox(
            partner_id=partner.id,
            kind=kind,
            sha256=digest,
            outcome=outcome,
            detail=detail,
            received_at=ctx.now(),
        )
    )
    ctx.db.flush()
    ctx.record(
        "federation.package.refused" if outcome == REFUSED else "federation.package.received",
        partner.id,
        partner=partner.name,
        kind=kind,
        outcome=outcome,
        sha256=digest,
        **detail,
    )
    return {"outcome": outcome, "duplicate": False, **detail}


def received(ctx: Ctx, *, limit: int = 100) -> list[FederationInbox]:
    """The packages partner nodes delivered, newest first (refusals too)."""
    require(ctx.who, Perm.PARTNERS_READ)
    stmt = select(FederationInbox).order_by(FederationInbox.seq.desc()).limit(limit)
    return list(ctx.db.scalars(stmt))
