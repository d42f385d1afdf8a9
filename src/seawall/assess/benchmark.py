"""Regional benchmarking: a panel of published rounds across nations and years, and the
statements a regional coordinator publishes, each linked to the rows behind it.

Only rounds published to the region group, and not withdrawn from it, are used
(:mod:`seawall.assess.consents`): this node's own, and those other nations' nodes published to
it in signed round packages (:mod:`seawall.assess.publication`) for the group and have not
withdrawn. A round counts only
when it agrees every factor of the framework; the view lists the others apart, so a round that
agrees one factor never stands for its nation. The statements' rules are in
:mod:`seawall.assess.statements`; the view adds the ranking of nations (with their GCI 2024
tier) and of dimensions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import select

from seawall.assess.consents import published_round_ids, withdrawn_from
from seawall.assess.frameworks import DEFAULT_FRAMEWORK, Framework, get_framework
from seawall.assess.indices import GCI_2024, edition_rows
from seawall.assess.publication import received_for, withdrawals_for
from seawall.assess.rounds import PUBLISHED, agreed_stages
from seawall.assess.scoring import dimension_scores
from seawall.assess.statements import (
    IMPROVED_BY,
    IMPROVED_DIMENSIONS,
    START_UP_BELOW,
    PanelRow,
    RankedDimension,
    RankedNation,
    RowRef,
    Statement,
    dimension_means,
    latest_rows,
    rank_dimensions,
    rank_nations,
    regional_statements,
    rising_dimensions,
)
from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.core.nations import region_members
from seawall.db.models.assess import Round

__all__ = [
    "IMPROVED_BY",
    "IMPROVED_DIMENSIONS",
    "START_UP_BELOW",
    "PanelRow",
    "RankedDimension",
    "RankedNation",
    "RegionView",
    "RowRef",
    "Statement",
    "Withdrawn",
    "build_panel",
    "dimension_means",
    "latest_rows",
    "rank_dimensions",
    "rank_nations",
    "region_view",
    "regional_statements",
    "rising_dimensions",
    "split_complete",
]


@dataclass(frozen=True)
class RegionView:
    """A region group's panel and statements for one framework."""

    group: str
    framework_id: str
    members: tuple[str, ...]
    panel: tuple[PanelRow, ...]
    statements: tuple[Statement, ...]
    # Published rounds left out because they do not agree every factor of the framework.
    incomplete: tuple[PanelRow, ...] = ()
    # Rounds their nations withdrew from the group: (row, when, by whom, why).
    withdrawn: tuple[Withdrawn, ...] = ()
    # Nations by the overall score of their latest round, with their GCI 2024 tier.
    ranking: tuple[RankedNation, ...] = ()
    # Dimensions by their mean over the nations' latest rounds.
    dimension_ranking: tuple[RankedDimension, ...] = ()
    # The year "improved" compares against (None: each nation's two latest rounds).
    baseline: int | None = None


@dataclass(frozen=True)
class Withdrawn:
    """A round its nation withdrew from the group, and when, by whom and why."""

    round_id: str
    nation: str
    year: int
    at: str
    by: str
    reason: str


def build_panel(ctx: Ctx, group: str, framework_id: str = DEFAULT_FRAMEWORK) -> list[PanelRow]:
    """Published rounds of consenting members of ``group``, by nation then year (complete
    or not: :func:`split_complete` tells them apart)."""
    require(ctx.who, Perm.ASSESS_READ)
    framework = get_framework(ctx.db, framework_id)
    code = group.strip().upper()
    members = region_members(ctx.db, code)
    # Each round as recorded published to the group, and not withdrawn from it.
    published = published_round_ids(ctx.db, code)
    rounds = ctx.db.scalars(
        select(Round)
        .where(
            Round.id.in_(published),
            Round.nation.in_(members),
            Round.framework_id == framework.id,
            Round.status == PUBLISHED,
        )
        .order_by(Round.nation, Round.year)
    )
    rows: list[PanelRow] = []
    for row in rounds:
        stages = agreed_stages(ctx.db, row.id)
        scores = dimension_scores(
            stages, framework.dimension_of(), framework.stages.highest, framework.stages.lowest
        )
        rows.append(PanelRow(row.id, row.nation, row.year, row.published_at, stages, scores))
    # Rounds other nations' nodes published to this hub, as their signed packages said.
    for got in received_for(ctx, code, framework.id):
        if any(r.round_id == got.round_id for r in rows):
            continue
        stages = dict(got.stages)
        scores = dimension_scores(
            stages, framework.dimension_of(), framework.stages.highest, framework.stages.lowest
        )
        source = "entered" if got.entered else "received"
        rows.append(
            PanelRow(got.round_id, got.nation, got.year, got.published_at, stages, scores, source)
        )
    return sorted(rows, key=lambda r: (r.nation, r.year))


def split_complete(
    panel: Sequence[PanelRow], framework: Framework
) -> tuple[list[PanelRow], list[PanelRow]]:
    """The rounds that agree every factor of the framework, and those that do not. Only the
    first count in the region: a round agreeing one factor must not stand for its nation."""
    factors = set(framework.dimension_of())
    complete = [r for r in panel if factors <= set(r.factors)]
    return complete, [r for r in panel if not factors <= set(r.factors)]


def region_view(
    ctx: Ctx, group: str, framework_id: str = DEFAULT_FRAMEWORK, baseline: int | None = None
) -> RegionView:
    """The panel, statements and rankings for a region group; ``baseline`` is the year
    "improved" compares each nation's latest round against."""
    framework = get_framework(ctx.db, framework_id)
    panel, incomplete = split_complete(build_panel(ctx, group, framework.id), framework)
    code = group.strip().upper()
    members = tuple(region_members(ctx.db, code))
    received = [
        Withdrawn(r.round_id, r.nation, r.year, why["at"], why["by"], why["reason"])
        for r, why in withdrawals_for(ctx, code)
        if r.framework_id == framework.id
    ]
    own = [
        Withdrawn(
            row.id,
            row.nation,
            row.year,
            rec.withdrawn_at.isoformat() if rec.withdrawn_at else "",
            rec.withdrawn_by or "",
            rec.withdraw_reason,
        )
        for row, rec in withdrawn_from(ctx.db, code)
        if row.framework_id == framework.id
    ]
    withdrawn = tuple(sorted(received + own, key=lambda w: (w.nation, w.year)))
    latest = latest_rows(panel)
    gci = {r.nation: r for r in edition_rows(ctx.db, GCI_2024) if r.primary}
    ranking = tuple(
        replace(n, tier_id=g.tier_id, tier_name=g.tier_name, gci=g.overall)
        if (g := gci.get(n.nation))
        else n
        for n in rank_nations(latest)
    )
    return RegionView(
        group=code,
        framework_id=framework.id,
        members=members,
        panel=tuple(panel),
        statements=tuple(regional_statements(panel, framework, code, len(members), baseline)),
        incomplete=tuple(incomplete),
        withdrawn=withdrawn,
        ranking=ranking,
        dimension_ranking=tuple(rank_dimensions(latest, framework)),
        baseline=baseline,
    )
