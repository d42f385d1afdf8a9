"""Evidence from the other pillars, suggested on the factors it supports.

Pillars record facts as core evidence records (an embassy restore drill, intel sharing
activity) and name the factors they support as ``<framework>:<factor>``, where ``<framework>``
is a framework id (``cmm-2021:D1.2``) or a framework kind (``cmm:D1.2``, which matches every
cmm framework). Assessors see them beside the factor and may cite them as evidence references.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from seawall.assess.frameworks import get_framework
from seawall.assess.rounds import get_round
from seawall.core.context import Ctx
from seawall.db.models import Evidence

SCAN_LIMIT = 1000


@dataclass(frozen=True)
class Suggestion:
    """One evidence record offered for a factor."""

    evidence_id: str
    factor_id: str
    pillar: str
    kind: str
    summary: str
    outcome: str
    occurred_at: datetime


def suggested_evidence(ctx: Ctx, round_id: str) -> dict[str, list[Suggestion]]:
    """The round's nation's evidence records by the factor they support, newest first."""
    row = get_round(ctx, round_id)
    framework = get_framework(ctx.db, row.framework_id)
    factors = framework.factors()
    prefixes = {framework.id, framework.kind}
    records = ctx.db.scalars(
        select(Evidence)
        .where(Evidence.nation == row.nation)
        .order_by(Evidence.occurred_at.desc(), Evidence.id)
        .limit(SCAN_LIMIT)
    )
    found: dict[str, list[Suggestion]] = {}
    for record in records:
        for claim in record.supports:
            prefix, _, factor = claim.partition(":")
            if prefix in prefixes and factor in factors:
                found.setdefault(factor, []).append(
                    Suggestion(
                        record.id,
                        factor,
                        record.pillar,
                        record.kind,
                        record.summary,
                        record.outcome,
                        record.occurred_at,
                    )
                )
    return found
