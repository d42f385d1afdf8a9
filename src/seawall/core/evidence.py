"""Evidence records: facts one pillar records (a restore drill) and another cites (a factor)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.db.models import Evidence
from seawall.errors import InvalidInput

PILLARS = ("assess", "intel", "embassy")
OUTCOMES = ("success", "partial", "failure")


def record_evidence(
    ctx: Ctx,
    pillar: str,
    kind: str,
    summary: str,
    supports: list[str],
    outcome: str = "success",
    detail: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> Evidence:
    """Record a fact for the caller's nation; ``supports`` names framework factors (cmm:D1.2)."""
    if pillar not in PILLARS:
        raise InvalidInput(f"unknown pillar {pillar!r}: choose one of {', '.join(PILLARS)}")
    if outcome not in OUTCOMES:
        raise InvalidInput(f"unknown outcome {outcome!r}: choose one of {', '.join(OUTCOMES)}")
    row = Evidence(
        id=ctx.ids(),
        nation=ctx.who.nation,
        pillar=pillar,
        kind=kind,
        summary=summary,
        supports=sorted(set(supports)),
        detail=detail or {},
        outcome=outcome,
        occurred_at=occurred_at or ctx.now(),
        recorded_by=ctx.who.username,
    )
    ctx.db.add(row)
    ctx.db.flush()
    ctx.record("evidence.recorded", row.id, pillar=pillar, kind=kind, outcome=outcome)
    return row


def list_evidence(ctx: Ctx, supports: str | None = None, limit: int = 200) -> list[Evidence]:
    """The caller's nation's evidence, newest first, optionally for one factor."""
    require(ctx.who, Perm.NODE_READ)
    stmt = select(Evidence).where(Evidence.nation == ctx.who.nation)
    rows = ctx.db.scalars(
        stmt.order_by(Evidence.occurred_at.desc()).limit(limit * 4 if supports else limit)
    )
    if supports is None:
        return list(rows)
    return [r for r in rows if supports in r.supports][:limit]
