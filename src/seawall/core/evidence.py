"""Evidence records: facts one pillar records (a restore drill) and another cites (a factor)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.db.models import Evidence
from seawall.errors import InvalidInput

PILLARS = ("assess", "intel", "embassy", "coop")
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
    nation: str | None = None,
) -> Evidence:
    """Record a fact for the caller's nation; ``supports`` names framework factors (cmm:D1.2).

    ``nation`` names another nation only where the pillar has already decided that the
    caller may record for it (a hub entering a law of a nation without a node of its own).
    """
    if pillar not in PILLARS:
        raise InvalidInput(f"unknown pillar {pillar!r}: choose one of {', '.join(PILLARS)}")
    if outcome not in OUTCOMES:
        raise InvalidInput(f"unknown outcome {outcome!r}: choose one of {', '.join(OUTCOMES)}")
    row = Evidence(
        id=ctx.ids(),
        nation=nation or ctx.who.nation,
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
    stmt = stmt.order_by(Evidence.occurred_at.desc())
    if supports is None:
        return list(ctx.db.scalars(stmt.limit(limit)))
    # ``supports`` is a JSON list, which SQLite and PostgreSQL query differently: walk the
    # rows newest first until enough match, rather than guess how many to fetch.
    found: list[Evidence] = []
    rows = ctx.db.scalars(stmt.execution_options(yield_per=500))
    try:
        for row in rows:
            if supports in row.supports:
                found.append(row)
                if len(found) == limit:
                    break
    finally:
        rows.close()  # a server-side cursor on PostgreSQL when we stop early
    return found
