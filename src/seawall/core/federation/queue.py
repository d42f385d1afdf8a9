"""The outbound queue of signed packages, one per partner node, for every pillar.

A pillar that sends something to a partner node (a round to its regional hub) signs a
package and *enqueues* it here with its kind and key (``assess.round``, the round id). The
queue is SQL rows (``federation_outbox``), so it survives restarts and outages of any length.
A newer package with the same kind and key supersedes one still pending: only the latest
word on a round goes out, and a withdrawal queued after a publication goes after it.

A delivery pass (:mod:`~seawall.core.federation.delivery`) *claims* due rows, taking a
lease so that two overlapping passes never post the same row, posts them, and marks each
row delivered or refused by the partner's answer. A row whose post failed is tried again
after a backoff that grows with its attempts (:func:`~seawall.core.federation.retries.backoff`).
A pass killed after the partner stored a package but before it marked the row posts it
again once the lease runs out; the partner's inbox recognises it and stores nothing twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from seawall.core.context import Ctx
from seawall.core.federation.retries import backoff
from seawall.db.models import FederationOutbox, Partner

PENDING = "pending"
DELIVERED = "delivered"
REFUSED = "refused"
SUPERSEDED = "superseded"
STATES = (PENDING, DELIVERED, REFUSED, SUPERSEDED)
LEASE = timedelta(minutes=10)


@dataclass(frozen=True)
class Claimed:
    """A row leased for one delivery attempt."""

    seq: int
    kind: str
    key: str
    payload: bytes


def enqueue(ctx: Ctx, partner: Partner, kind: str, key: str, payload: bytes) -> FederationOutbox:
    """Queue ``payload`` for ``partner``; a pending package of the same kind and key is
    superseded by it."""
    ctx.db.execute(
        update(FederationOutbox)
        .where(
            FederationOutbox.partner_id == partner.id,
            FederationOutbox.kind == kind,
            FederationOutbox.key == key,
            FederationOutbox.state == PENDING,
        )
        .values(state=SUPERSEDED)
    )
    row = FederationOutbox(
        partner_id=partner.id,
        kind=kind,
        key=key,
        payload=payload,
        sha256=hashlib.sha256(payload).hexdigest(),
        state=PENDING,
        attempts=0,
        next_attempt_at=ctx.now(),
        last_error="",
        answer="",
        enqueued_at=ctx.now(),
    )
    ctx.db.add(row)
    ctx.db.flush()
    ctx.record(
        "federation.package.queued",
        partner.id,
        partner=partner.name,
        kind=kind,
        key=key,
        bytes=len(payload),
    )
    return row


# --- any queue table: rows with ``seq``, ``partner_id``, ``state``, ``attempts``,
# ``next_attempt_at`` and ``last_error`` (this one, intel's object queue) -----------------


def take_lease(ctx: Ctx, model: Any, seq: int, now: datetime, lease: timedelta = LEASE) -> bool:
    """Lease one due row of a queue table for an attempt: True when this pass took it; a
    pass that starts meanwhile then sees the row as not yet due."""
    taken = ctx.db.execute(
        update(model)
        .where(model.seq == seq, model.next_attempt_at <= now)
        .values(next_attempt_at=now + lease, attempts=model.attempts + 1)
    )
    return bool(taken.rowcount == 1)  # type: ignore[attr-defined]


def defer_rows(ctx: Ctx, model: Any, seqs: Sequence[int], error: str) -> datetime | None:
    """Rows of a queue table whose post failed: try again after a backoff that grows with
    their attempts. The latest next attempt among them (None for no rows)."""
    latest: datetime | None = None
    for row in ctx.db.scalars(select(model).where(model.seq.in_(list(seqs)))):
        row.next_attempt_at = ctx.now() + backoff(row.attempts)
        row.last_error = error[:2000]
        latest = max(latest or row.next_attempt_at, row.next_attempt_at)
    ctx.db.flush()
    return latest


def count_states(ctx: Ctx, model: Any, partner_id: str, states: Sequence[str]) -> dict[str, int]:
    """Rows of a queue table per state for a partner, every one of ``states`` named."""
    rows = ctx.db.execute(
        select(model.state, func.count())
        .where(model.partner_id == partner_id)
        .group_by(model.state)
    ).all()
    found = {state: int(n) for state, n in rows}
    return {state: found.get(state, 0) for state in states}


# --- this queue -------------------------------------------------------------------------


def claim_due(ctx: Ctx, partner_id: str, limit: int = 100) -> list[Claimed]:
    """Take a lease on up to ``limit`` due rows for the partner, oldest first."""
    now = ctx.now()
    rows = ctx.db.scalars(
        select(FederationOutbox)
        .where(
            FederationOutbox.partner_id == partner_id,
            FederationOutbox.state == PENDING,
            FederationOutbox.next_attempt_at <= now,
        )
        .order_by(FederationOutbox.seq)
        .limit(limit)
    ).all()
    claimed = [
        Claimed(row.seq, row.kind, row.key, row.payload)
        for row in rows
        if take_lease(ctx, FederationOutbox, row.seq, now)
    ]
    ctx.db.flush()
    return claimed


def _finish(ctx: Ctx, seq: int, state: str, answer: str, error: str = "") -> None:
    ctx.db.execute(
        update(FederationOutbox)
        .where(FederationOutbox.seq == seq)
        .values(state=state, answer=answer[:32], last_error=error[:2000], sent_at=ctx.now())
    )


def mark_delivered(ctx: Ctx, seq: int, answer: str) -> None:
    """The partner took the package (``answer`` is what it did with it)."""
    _finish(ctx, seq, DELIVERED, answer)


def mark_refused(ctx: Ctx, seq: int, answer: str, error: str) -> None:
    """The partner refused the package for good (not its nation's round, a bad signature):
    it is not posted again."""
    _finish(ctx, seq, REFUSED, answer, error)


def defer(ctx: Ctx, seqs: Sequence[int], error: str) -> None:
    """Rows whose post failed: try again after a backoff that grows with their attempts."""
    defer_rows(ctx, FederationOutbox, seqs, error)


def due_partners(ctx: Ctx) -> list[str]:
    """Ids of partners with pending packages."""
    return list(
        ctx.db.scalars(
            select(FederationOutbox.partner_id)
            .where(FederationOutbox.state == PENDING)
            .distinct()
            .order_by(FederationOutbox.partner_id)
        )
    )


def counts(ctx: Ctx, partner_id: str) -> dict[str, int]:
    """Rows per state for a partner."""
    return count_states(ctx, FederationOutbox, partner_id, STATES)
