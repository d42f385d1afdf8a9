"""The store-and-forward queue: object versions waiting for delivery to partner nodes.

The queue is SQL rows (``intel_outbox``), so it survives restarts and outages of any
length. A sync pass first *enqueues*: it scans the local collections shared with a
partner past a per-collection row cursor and queues each version the partner may
receive. It then *claims* due rows (taking a lease, so two overlapping passes never
post the same row), posts them, and marks each row ``sent`` only once the partner's
TAXII status lists it as a success. A failed post pushes the rows' next attempt back
with exponential backoff (:func:`seawall.core.federation.retries.backoff`).

What may go is decided by :func:`seawall.intel.sharing.may_send`, which is the sharing
policy (:func:`seawall.intel.policy.may_share`, with the partner as a partner-node
recipient that is never named) capped by the partner's ``max_tlp``. It is asked when a row is
queued and again when it is claimed, so lowering a partner's ``max_tlp`` holds back
rows already queued.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, update

from seawall.core.context import Ctx
from seawall.core.federation.queue import count_states, defer_rows, take_lease
from seawall.db.models import Partner
from seawall.db.models.intel import IntelCollection, IntelObject
from seawall.db.models.intel_sync import IntelOutbox, IntelSyncCursor
from seawall.intel.policy import Holder
from seawall.intel.sharing import may_send, originated_here, shares_with
from seawall.intel.tlp import Tlp

PENDING = "pending"
SENT = "sent"
REFUSED = "refused"
WITHHELD = "withheld"
SCAN_BATCH = 2000
# Delivered rows are deleted this long after delivery. The push cursor, not the row, keeps a
# version from being queued again, and a busy feed would otherwise leave millions of rows.
SENT_KEPT = timedelta(days=30)


@dataclass(frozen=True)
class QueuedObject:
    """A claimed row with the object body to send."""

    seq: int
    collection_alias: str
    stix_id: str
    version: datetime
    body: str


def new_cursor(
    ctx: Ctx, partner_id: str, direction: str, collection: str, local_collection_id: str
) -> IntelSyncCursor:
    """A fresh sync cursor for one (partner, direction, collection): nothing read or sent yet."""
    cursor = IntelSyncCursor(
        partner_id=partner_id,
        direction=direction,
        collection=collection,
        local_collection_id=local_collection_id,
        added_after="",
        next_page="",
        run_last="",
        last_seq=0,
        count=0,
        updated_at=ctx.now(),
    )
    ctx.db.add(cursor)
    ctx.db.flush()
    return cursor


def _push_cursor(ctx: Ctx, partner: Partner, collection: IntelCollection) -> IntelSyncCursor:
    cursor = ctx.db.get(IntelSyncCursor, (partner.id, "push", collection.id))
    if cursor is None:
        cursor = new_cursor(ctx, partner.id, "push", collection.id, collection.id)
    return cursor


def enqueue(ctx: Ctx, partner: Partner, nation: str) -> int:
    """Queue every new version, submitted in ``nation``, that ``partner`` may receive."""
    if not partner.push or partner.disabled:
        return 0
    queued = 0
    collections = ctx.db.scalars(select(IntelCollection).order_by(IntelCollection.alias))
    for collection in [c for c in collections if shares_with(ctx.db, c, partner)]:
        cursor = _push_cursor(ctx, partner, collection)
        while True:
            # Rows of one collection commit in seq order (the store takes the collection's
            # write lock before inserting), so a row cursor never skips a late commit.
            rows = ctx.db.execute(
                select(
                    IntelObject.seq,
                    IntelObject.stix_id,
                    IntelObject.version,
                    IntelObject.tlp,
                    IntelObject.owner_nation,
                    IntelObject.owner_org,
                    IntelObject.submitted_by,
                )
                .where(
                    IntelObject.collection_id == collection.id,
                    IntelObject.seq > cursor.last_seq,
                )
                .order_by(IntelObject.seq)
                .limit(SCAN_BATCH)
            ).all()
            if not rows:
                break
            already = set(
                ctx.db.scalars(
                    select(IntelOutbox.object_seq).where(
                        IntelOutbox.partner_id == partner.id,
                        IntelOutbox.object_seq.in_([r.seq for r in rows]),
                    )
                )
            )
            new = []
            for row in rows:
                # A node forwards what its own nation submitted, never what partners sent.
                if row.seq in already or not originated_here(
                    row.owner_nation, row.submitted_by, row.stix_id, nation
                ):
                    continue
                if not may_send(Tlp(row.tlp), Holder(row.owner_nation, row.owner_org), partner):
                    continue
                new.append(
                    {
                        "partner_id": partner.id,
                        "object_seq": row.seq,
                        "collection_alias": collection.alias,
                        "stix_id": row.stix_id,
                        "version": row.version,
                        "tlp": row.tlp,
                        "state": PENDING,
                        "attempts": 0,
                        "next_attempt_at": ctx.now(),
                        "last_error": "",
                        "remote_status": "",
                        "enqueued_at": ctx.now(),
                    }
                )
            if new:
                ctx.db.execute(insert(IntelOutbox), new)
                queued += len(new)
            cursor.last_seq = rows[-1].seq
            cursor.count += len(new)
            cursor.updated_at = ctx.now()
            ctx.db.flush()
    if queued:
        ctx.record("intel.outbox.queued", partner.id, partner=partner.name, objects=queued)
    return queued


def claim_due(ctx: Ctx, partner: Partner, limit: int) -> list[QueuedObject]:
    """Take a lease on up to ``limit`` due rows the partner may still receive, oldest first."""
    now = ctx.now()
    stmt = (
        select(IntelOutbox, IntelObject)
        .join(IntelObject, IntelObject.seq == IntelOutbox.object_seq)
        .where(
            IntelOutbox.partner_id == partner.id,
            IntelOutbox.state == PENDING,
            IntelOutbox.remote_status == "",
            IntelOutbox.next_attempt_at <= now,
        )
        .order_by(IntelOutbox.seq)
        .limit(limit)
    )
    claimed: list[QueuedObject] = []
    for item, obj in ctx.db.execute(stmt).all():
        if not may_send(Tlp(obj.tlp), Holder(obj.owner_nation, obj.owner_org), partner):
            item.state = WITHHELD
            item.last_error = f"withheld: {Tlp(obj.tlp).label} may not go to {partner.name}"
            continue
        # The lease: a second pass that starts meanwhile sees the row as not yet due.
        if not take_lease(ctx, IntelOutbox, item.seq, now):
            continue
        claimed.append(
            QueuedObject(item.seq, item.collection_alias, obj.stix_id, obj.version, obj.body)
        )
    ctx.db.flush()
    return claimed


def mark_sent(ctx: Ctx, seqs: Sequence[int], status_id: str) -> None:
    """Rows the partner's status lists as successes."""
    if seqs:
        ctx.db.execute(
            update(IntelOutbox)
            .where(IntelOutbox.seq.in_(list(seqs)))
            .values(state=SENT, sent_at=ctx.now(), remote_status=status_id, last_error="")
        )


def mark_refused(ctx: Ctx, seq: int, message: str, status_id: str) -> None:
    """A row the partner refused for good (its status lists it as a failure)."""
    ctx.db.execute(
        update(IntelOutbox)
        .where(IntelOutbox.seq == seq)
        .values(state=REFUSED, remote_status=status_id, last_error=message[:2000])
    )


def mark_awaiting(ctx: Ctx, seqs: Sequence[int], status_id: str) -> None:
    """Rows the partner has yet to process: ask for their status on the next pass.

    An empty ``status_id`` forgets the status, so the rows are posted again.
    """
    if seqs:
        ctx.db.execute(
            update(IntelOutbox)
            .where(IntelOutbox.seq.in_(list(seqs)))
            .values(remote_status=status_id, next_attempt_at=ctx.now())
        )


def defer(ctx: Ctx, seqs: Sequence[int], error: str) -> datetime | None:
    """Rows whose post failed: try again after a backoff that grows with their attempts; the
    latest next attempt among them."""
    return defer_rows(ctx, IntelOutbox, seqs, error)


def awaiting_status(ctx: Ctx, partner: Partner) -> dict[str, list[int]]:
    """Pending rows posted earlier whose status the partner had not finished: by status id."""
    rows = ctx.db.execute(
        select(IntelOutbox.remote_status, IntelOutbox.seq).where(
            IntelOutbox.partner_id == partner.id,
            IntelOutbox.state == PENDING,
            IntelOutbox.remote_status != "",
        )
    ).all()
    out: dict[str, list[int]] = {}
    for status_id, seq in rows:
        out.setdefault(status_id, []).append(seq)
    return out


def prune_sent(ctx: Ctx, partner: Partner) -> int:
    """Delete the partner's rows delivered more than :data:`SENT_KEPT` ago; how many."""
    done = ctx.db.execute(
        delete(IntelOutbox).where(
            IntelOutbox.partner_id == partner.id,
            IntelOutbox.state == SENT,
            IntelOutbox.sent_at < ctx.now() - SENT_KEPT,
        )
    )
    pruned = int(done.rowcount or 0)  # type: ignore[attr-defined]
    if pruned:
        ctx.record("intel.outbox.pruned", partner.id, partner=partner.name, rows=pruned)
    return pruned


def depth(ctx: Ctx, partner_id: str) -> int:
    """How many rows wait for a partner."""
    count = ctx.db.scalar(
        select(func.count())
        .select_from(IntelOutbox)
        .where(IntelOutbox.partner_id == partner_id, IntelOutbox.state == PENDING)
    )
    return int(count or 0)


def counts(ctx: Ctx, partner_id: str) -> dict[str, int]:
    """Rows per state for a partner."""
    return count_states(ctx, IntelOutbox, partner_id, (PENDING, SENT, REFUSED, WITHHELD))
