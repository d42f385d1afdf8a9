"""Consent per round and per group: the region groups a round is published to.

A nation's standing consent (:func:`seawall.assess.rounds.grant_consent`) says which groups
its rounds go to by default. Publishing a round records, for that round, each group it goes
to, who (a user of the round's nation) and when; withdrawing the round from one group records
who, when and why on the same record. The regional views of this node and the packages sent
to hubs use these records. The callers (publishing, withdrawing, revoking consent) write the
audit entries.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from seawall.assess.errors import ConsentMissing
from seawall.core.context import Ctx
from seawall.db.models.assess import Round, RoundPublication


def round_publications(db: Session, round_id: str) -> list[RoundPublication]:
    """Every group the round was published to, withdrawn or not, by group."""
    stmt = (
        select(RoundPublication)
        .where(RoundPublication.round_id == round_id)
        .order_by(RoundPublication.region_group)
    )
    return list(db.scalars(stmt))


def published_groups(db: Session, round_id: str) -> dict[str, str]:
    """The groups the round is published to now, each with who published it there."""
    return {
        p.region_group: p.published_by
        for p in round_publications(db, round_id)
        if p.withdrawn_at is None
    }


def published_round_ids(db: Session, group: str) -> set[str]:
    """The rounds of this node published to ``group`` and not withdrawn from it."""
    stmt = select(RoundPublication.round_id).where(
        RoundPublication.region_group == group.strip().upper(),
        RoundPublication.withdrawn_at.is_(None),
    )
    return set(db.scalars(stmt))


def record_publication(ctx: Ctx, row: Round, groups: Sequence[str]) -> list[str]:
    """Record the round as published to ``groups`` by the caller, now; a group it was
    withdrawn from gets it back. Returns the groups it was not published to before."""
    held = {p.region_group: p for p in round_publications(ctx.db, row.id)}
    added: list[str] = []
    for code in sorted({g.strip().upper() for g in groups}):
        record = held.get(code)
        if record is not None and record.withdrawn_at is None:
            continue
        if record is None:
            record = RoundPublication(round_id=row.id, region_group=code)
            ctx.db.add(record)
        record.published_at = ctx.now()
        record.published_by = ctx.who.username
        record.withdrawn_at = None
        record.withdrawn_by = None
        record.withdraw_reason = ""
        added.append(code)
    ctx.db.flush()
    return added


def withdraw_publication(ctx: Ctx, row: Round, group: str, reason: str) -> RoundPublication:
    """Record the round withdrawn from ``group`` (kept as it was if withdrawn already)."""
    code = group.strip().upper()
    record = ctx.db.get(RoundPublication, (row.id, code))
    if record is None:
        raise ConsentMissing(
            f"round {row.id} is not published to {code}: nothing to withdraw from it"
        )
    if record.withdrawn_at is None:
        record.withdrawn_at = ctx.now()
        record.withdrawn_by = ctx.who.username
        record.withdraw_reason = reason
        ctx.db.flush()
    return record


def withdraw_group(ctx: Ctx, nation: str, group: str, reason: str) -> list[str]:
    """Withdraw every round of ``nation`` published to ``group``; their ids, oldest first."""
    stmt = (
        select(Round)
        .join(RoundPublication, RoundPublication.round_id == Round.id)
        .where(
            Round.nation == nation,
            RoundPublication.region_group == group.strip().upper(),
            RoundPublication.withdrawn_at.is_(None),
        )
        .order_by(Round.year, Round.framework_id)
    )
    rounds = list(ctx.db.scalars(stmt))
    for row in rounds:
        withdraw_publication(ctx, row, group, reason)
    return [r.id for r in rounds]


def withdrawn_from(db: Session, group: str) -> list[tuple[Round, RoundPublication]]:
    """This node's rounds withdrawn from ``group`` (and not published to it again), each
    with its record: when, by whom and why."""
    stmt = (
        select(Round, RoundPublication)
        .join(RoundPublication, RoundPublication.round_id == Round.id)
        .where(
            RoundPublication.region_group == group.strip().upper(),
            RoundPublication.withdrawn_at.is_not(None),
        )
        .order_by(Round.nation, Round.year)
    )
    return [(row, record) for row, record in db.execute(stmt)]
