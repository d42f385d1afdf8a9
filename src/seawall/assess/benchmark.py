"""Regional benchmarking: a panel of published rounds across nations and years, and the
statements a regional coordinator publishes, each linked to the rows behind it.

Only rounds that are published *and* whose nation currently consents to the region group are
used: this node's own, and those other nations' nodes published to it in signed round packages
(:mod:`seawall.assess.publication`) for the group and have not withdrawn. A round counts only
when it agrees every factor of the framework; the view lists the others apart, so a round that
agrees one factor never stands for its nation. Rules, so the
statements can be checked by hand:

- A dimension is "at Start-up" when its score is below 2 (it has not fully reached Formative).
- A nation "reaches Dynamic" when any factor's agreed stage is the top stage.
- A nation "improved" when, between its two latest rounds of the framework, at least
  ``IMPROVED_DIMENSIONS`` dimensions rose by at least ``IMPROVED_BY``.
- The strongest and weakest dimensions are those with the highest and lowest mean score over
  each nation's latest round (ties are all named).
Statements other than "improved" use each nation's latest round.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from statistics import fmean

from sqlalchemy import select

from seawall.assess.frameworks import DEFAULT_FRAMEWORK, Framework, get_framework
from seawall.assess.publication import received_for, withdrawals_for
from seawall.assess.rounds import PUBLISHED, agreed_stages
from seawall.assess.scoring import dimension_scores
from seawall.catalogs import N_
from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.core.nations import region_members
from seawall.db.models.assess import PublicationConsent, Round

START_UP_BELOW = 2.0
IMPROVED_BY = 0.5
IMPROVED_DIMENSIONS = 3
_EPSILON = 1e-9


@dataclass(frozen=True)
class PanelRow:
    """One published round: its nation, year, agreed factor stages and dimension scores."""

    round_id: str
    nation: str
    year: int
    published_at: datetime | None
    factors: dict[str, int] = field(hash=False)
    dimensions: dict[str, float] = field(hash=False)
    # "here" for a round of this node, "received" for one a partner's node published to it,
    # "entered" for one entered at this hub from a file (seawall.assess.entry).
    source: str = "here"


@dataclass(frozen=True)
class RowRef:
    """A number a statement rests on: which round, which dimension or factor, what value."""

    round_id: str
    nation: str
    year: int
    item: str
    value: float


@dataclass(frozen=True)
class Statement:
    """A computed regional finding with the nations it names and the rows behind it.

    ``message`` is the sentence with ``%(name)s`` placeholders for ``values``, marked for the
    catalogs: a page or a report says it in its language as ``_(s.message, **s.values)``.
    """

    key: str
    message: str
    values: Mapping[str, str | int] = field(hash=False)
    nations: tuple[str, ...]
    rows: tuple[RowRef, ...]

    @property
    def text(self) -> str:
        """The statement in English."""
        return self.message % self.values


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
    consenting = set(
        ctx.db.scalars(
            select(PublicationConsent.nation).where(
                PublicationConsent.region_group == code,
                PublicationConsent.revoked_at.is_(None),
            )
        )
    )
    nations = [n for n in members if n in consenting]
    rounds = ctx.db.scalars(
        select(Round)
        .where(
            Round.nation.in_(nations),
            Round.framework_id == framework.id,
            Round.status == PUBLISHED,
        )
        .order_by(Round.nation, Round.year)
    )
    rows: list[PanelRow] = []
    for row in rounds:
        stages = agreed_stages(ctx.db, row.id)
        scores = dimension_scores(stages, framework.dimension_of(), framework.stages.highest)
        rows.append(PanelRow(row.id, row.nation, row.year, row.published_at, stages, scores))
    # Rounds other nations' nodes published to this hub, as their signed packages said.
    for got in received_for(ctx, code, framework.id):
        if any(r.round_id == got.round_id for r in rows):
            continue
        stages = dict(got.stages)
        scores = dimension_scores(stages, framework.dimension_of(), framework.stages.highest)
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


def latest_rows(panel: Sequence[PanelRow]) -> dict[str, PanelRow]:
    """Each nation's latest round in the panel."""
    latest: dict[str, PanelRow] = {}
    for row in panel:
        if row.nation not in latest or row.year > latest[row.nation].year:
            latest[row.nation] = row
    return latest


def _names(framework: Framework, ids: Sequence[str]) -> str:
    names = {d.id: d.name for d in framework.dimensions}
    return ", ".join(names.get(i, i) for i in ids)


def regional_statements(panel: Sequence[PanelRow], framework: Framework) -> list[Statement]:
    """The coordinator's statements over a panel (pure; see the module docstring for rules)."""
    latest = latest_rows(panel)
    return [
        start_up_statement(latest, framework),
        dynamic_statement(latest, framework),
        improved_statement(panel),
        *extreme_statements(latest, framework),
    ]


def start_up_statement(latest: Mapping[str, PanelRow], framework: Framework) -> Statement:
    """How many nations have a dimension below ``START_UP_BELOW`` in their latest round."""
    startup = [
        RowRef(r.round_id, r.nation, r.year, d, v)
        for r in latest.values()
        for d, v in sorted(r.dimensions.items())
        if v < START_UP_BELOW
    ]
    nations = tuple(sorted({ref.nation for ref in startup}))
    return Statement(
        "start_up",
        N_("%(count)s of %(total)s nations have at least one dimension at %(stage)s"),
        {"count": len(nations), "total": len(latest), "stage": framework.stages.name_of(1)},
        nations,
        tuple(startup),
    )


def dynamic_statement(latest: Mapping[str, PanelRow], framework: Framework) -> Statement:
    """How many nations have a factor at the top stage in their latest round."""
    top = framework.stages.highest
    dynamic = [
        RowRef(r.round_id, r.nation, r.year, f, s)
        for r in latest.values()
        for f, s in sorted(r.factors.items())
        if s >= top
    ]
    nations = tuple(sorted({ref.nation for ref in dynamic}))
    message = (
        N_("%(count)s of %(total)s nations reach %(stage)s in at least one factor")
        if nations
        else N_("No nation reaches %(stage)s in any factor")
    )
    values: dict[str, str | int] = {
        "count": len(nations),
        "total": len(latest),
        "stage": framework.stages.name_of(top),
    }
    return Statement("dynamic", message, values, nations, tuple(dynamic))


def rising_dimensions(before: PanelRow, after: PanelRow) -> list[str]:
    """The dimensions that rose by at least ``IMPROVED_BY`` from ``before`` to ``after``."""
    return [
        d
        for d in sorted(after.dimensions)
        if d in before.dimensions
        and after.dimensions[d] - before.dimensions[d] >= IMPROVED_BY - _EPSILON
    ]


def improved_statement(panel: Sequence[PanelRow]) -> Statement:
    """How many nations improved on enough dimensions between their two latest rounds."""
    improved_refs: list[RowRef] = []
    improved: list[str] = []
    by_nation: dict[str, list[PanelRow]] = {}
    for row in panel:
        by_nation.setdefault(row.nation, []).append(row)
    for nation, rows in sorted(by_nation.items()):
        if len(rows) < 2:
            continue
        before, after = sorted(rows, key=lambda r: r.year)[-2:]
        rising = rising_dimensions(before, after)
        if len(rising) >= IMPROVED_DIMENSIONS:
            improved.append(nation)
            for d in rising:
                improved_refs.append(
                    RowRef(before.round_id, nation, before.year, d, before.dimensions[d])
                )
                improved_refs.append(
                    RowRef(after.round_id, nation, after.year, d, after.dimensions[d])
                )
    return Statement(
        "improved",
        N_(
            "%(count)s nations improved by %(by)s or more in at least %(dimensions)s "
            "dimensions between their two latest assessments"
        ),
        {"count": len(improved), "by": str(IMPROVED_BY), "dimensions": IMPROVED_DIMENSIONS},
        tuple(improved),
        tuple(improved_refs),
    )


def extreme_statements(latest: Mapping[str, PanelRow], framework: Framework) -> list[Statement]:
    """The strongest and weakest dimensions by mean over the latest rounds (none if empty)."""
    means = dimension_means(latest.values())
    if not means:
        return []
    return [
        _extreme_statement(
            "strongest",
            N_("Strongest dimension(s): %(names)s (mean %(mean)s)"),
            max(means.values()),
            means,
            latest,
            framework,
        ),
        _extreme_statement(
            "weakest",
            N_("Weakest dimension(s): %(names)s (mean %(mean)s)"),
            min(means.values()),
            means,
            latest,
            framework,
        ),
    ]


def _extreme_statement(
    key: str,
    message: str,
    target: float,
    means: Mapping[str, float],
    latest: Mapping[str, PanelRow],
    framework: Framework,
) -> Statement:
    dims = [d for d, m in means.items() if abs(m - target) < _EPSILON]  # ties are all named
    refs = tuple(
        RowRef(r.round_id, r.nation, r.year, d, r.dimensions[d])
        for d in dims
        for r in latest.values()
        if d in r.dimensions
    )
    return Statement(
        key,
        message,
        {"names": _names(framework, dims), "mean": f"{target:.2f}"},
        tuple(sorted({ref.nation for ref in refs})),
        refs,
    )


def dimension_means(rows: Iterable[PanelRow]) -> dict[str, float]:
    """The mean score of each dimension over the given rounds."""
    values: dict[str, list[float]] = {}
    for row in rows:
        for d, v in row.dimensions.items():
            values.setdefault(d, []).append(v)
    return {d: fmean(v) for d, v in sorted(values.items())}


def region_view(ctx: Ctx, group: str, framework_id: str = DEFAULT_FRAMEWORK) -> RegionView:
    """The panel and statements for a region group."""
    framework = get_framework(ctx.db, framework_id)
    panel, incomplete = split_complete(build_panel(ctx, group, framework.id), framework)
    code = group.strip().upper()
    withdrawn = tuple(
        Withdrawn(r.round_id, r.nation, r.year, why["at"], why["by"], why["reason"])
        for r, why in withdrawals_for(ctx, code)
        if r.framework_id == framework.id
    )
    return RegionView(
        group=code,
        framework_id=framework.id,
        members=tuple(region_members(ctx.db, code)),
        panel=tuple(panel),
        statements=tuple(regional_statements(panel, framework)),
        incomplete=tuple(incomplete),
        withdrawn=withdrawn,
    )
