"""The regional statements: pure rules over a panel of complete rounds, each statement with
its denominator, the nations it names and the figures behind it.

The denominator of every statement (``total``) is the number of the group's members that
consent to it and have a complete published round in the panel; ``members`` is the size of
the group, so a statement reads "3 of the 6 consenting members with a complete round
(CARICOM: 15 members) ...". Rules, so the statements can be checked by hand:

- ``start_up``: a dimension is at the scale's lowest stage ("Start-up" in the CMM, "Not
  available" in SIM3) when its score is below the next stage (below 2 in the CMM: it has not
  fully reached Formative).
- ``dynamic``: a dimension is "at Dynamic" when every factor of it is agreed at the top stage
  (the CMM puts a dimension at a stage when its factors are there; equivalently, its score is
  the top stage).
- ``dynamic_factor``: a nation has at least one factor agreed at the top stage.
- ``improved``: at least ``IMPROVED_DIMENSIONS`` dimensions rose by at least ``IMPROVED_BY``,
  between a nation's two latest rounds, or, given a baseline year, between its latest round
  in that year or before and its latest round (which must be later). Its denominator
  ``compared`` is the nations that have such a pair.
- ``leaders``: the top three nations by overall score (the mean of their dimension scores),
  with everyone tied at third place.
- ``strongest``, ``weakest``: the dimensions with the highest and lowest mean score over the
  nations (ties are all named), and the top and bottom three dimensions with their means.
Statements other than ``improved`` use each nation's latest round.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from statistics import fmean

from seawall.assess.frameworks import Framework
from seawall.catalogs import N_

# A dimension scoring below the lowest stage plus this is "at" the lowest stage (CMM: < 2).
START_UP_BELOW = 1.0
IMPROVED_BY = 0.5
IMPROVED_DIMENSIONS = 3
LEADERS = 3
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

    @property
    def overall(self) -> float:
        """The mean of the round's dimension scores (0 when it has none)."""
        return fmean(self.dimensions.values()) if self.dimensions else 0.0


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
    ``values`` always holds ``count``, ``total`` (consenting members with a complete round),
    ``members`` (the group's size) and ``group``.
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
class RankedNation:
    """A nation's place by the overall score of its latest round, with its GCI 2024 tier."""

    rank: int
    nation: str
    year: int
    round_id: str
    overall: float
    tier_id: str | None = None
    tier_name: str | None = None
    gci: float | None = None


@dataclass(frozen=True)
class RankedDimension:
    """A dimension's place by its mean score over each nation's latest round."""

    rank: int
    dimension: str
    name: str
    mean: float


def latest_rows(panel: Sequence[PanelRow]) -> dict[str, PanelRow]:
    """Each nation's latest round in the panel."""
    latest: dict[str, PanelRow] = {}
    for row in panel:
        if row.nation not in latest or row.year > latest[row.nation].year:
            latest[row.nation] = row
    return latest


def _ranks(scores: Sequence[float]) -> list[int]:
    """Competition ranks ("1, 2, 2, 4") of scores sorted from the highest."""
    ranks: list[int] = []
    for n, score in enumerate(scores):
        tied = n and abs(score - scores[n - 1]) < _EPSILON
        ranks.append(ranks[-1] if tied else n + 1)
    return ranks


def rank_nations(latest: Mapping[str, PanelRow]) -> list[RankedNation]:
    """Nations by the overall score of their latest round, highest first (ties share a rank,
    then by code)."""
    rows = sorted(latest.values(), key=lambda r: (-round(r.overall, 9), r.nation))
    ranks = _ranks([r.overall for r in rows])
    return [
        RankedNation(rank, r.nation, r.year, r.round_id, r.overall)
        for rank, r in zip(ranks, rows, strict=True)
    ]


def dimension_means(rows: Iterable[PanelRow]) -> dict[str, float]:
    """The mean score of each dimension over the given rounds."""
    values: dict[str, list[float]] = {}
    for row in rows:
        for d, v in row.dimensions.items():
            values.setdefault(d, []).append(v)
    return {d: fmean(v) for d, v in sorted(values.items())}


def rank_dimensions(latest: Mapping[str, PanelRow], framework: Framework) -> list[RankedDimension]:
    """Dimensions by their mean over the latest rounds, highest first (ties share a rank)."""
    names = {d.id: d.name for d in framework.dimensions}
    means = sorted(dimension_means(latest.values()).items(), key=lambda m: (-round(m[1], 9), m[0]))
    ranks = _ranks([m for _, m in means])
    return [
        RankedDimension(rank, d, names.get(d, d), m)
        for rank, (d, m) in zip(ranks, means, strict=True)
    ]


def regional_statements(
    panel: Sequence[PanelRow],
    framework: Framework,
    group: str,
    members: int,
    baseline: int | None = None,
) -> list[Statement]:
    """The coordinator's statements over a panel of complete rounds of ``group``, which has
    ``members`` members (pure; see the module docstring for the rules)."""
    latest = latest_rows(panel)
    scope: dict[str, str | int] = {"total": len(latest), "members": members, "group": group}
    return [
        start_up_statement(latest, framework, scope),
        dynamic_statement(latest, framework, scope),
        dynamic_factor_statement(latest, framework, scope),
        improved_statement(panel, scope, baseline),
        *leaders_statements(latest, scope),
        *extreme_statements(latest, framework, scope),
    ]


def _named(refs: Iterable[RowRef]) -> tuple[str, ...]:
    return tuple(sorted({ref.nation for ref in refs}))


def start_up_statement(
    latest: Mapping[str, PanelRow], framework: Framework, scope: Mapping[str, str | int]
) -> Statement:
    """How many nations have a dimension still at the lowest stage in their latest round."""
    below = framework.stages.lowest + START_UP_BELOW
    startup = [
        RowRef(r.round_id, r.nation, r.year, d, v)
        for r in latest.values()
        for d, v in sorted(r.dimensions.items())
        if v < below
    ]
    nations = _named(startup)
    return Statement(
        "start_up",
        N_(
            "%(count)s of the %(total)s consenting members with a complete round "
            "(%(group)s: %(members)s members) have at least one dimension at %(stage)s"
        ),
        {
            **scope,
            "count": len(nations),
            "stage": framework.stages.name_of(framework.stages.lowest),
        },
        nations,
        tuple(startup),
    )


def dynamic_statement(
    latest: Mapping[str, PanelRow], framework: Framework, scope: Mapping[str, str | int]
) -> Statement:
    """How many nations have a dimension with every factor at the top stage."""
    top = framework.stages.highest
    dynamic = [
        RowRef(r.round_id, r.nation, r.year, f.id, r.factors[f.id])
        for r in latest.values()
        for d in framework.dimensions
        if d.factors and all(r.factors.get(f.id, 0) >= top for f in d.factors)
        for f in d.factors
    ]
    nations = _named(dynamic)
    message = (
        N_(
            "%(count)s of the %(total)s consenting members with a complete round "
            "(%(group)s: %(members)s members) have at least one dimension at %(stage)s"
        )
        if nations
        else N_(
            "None of the %(total)s consenting members with a complete round "
            "(%(group)s: %(members)s members) has a dimension at %(stage)s"
        )
    )
    values = {**scope, "count": len(nations), "stage": framework.stages.name_of(top)}
    return Statement("dynamic", message, values, nations, tuple(dynamic))


def dynamic_factor_statement(
    latest: Mapping[str, PanelRow], framework: Framework, scope: Mapping[str, str | int]
) -> Statement:
    """How many nations have a factor at the top stage in their latest round."""
    top = framework.stages.highest
    dynamic = [
        RowRef(r.round_id, r.nation, r.year, f, s)
        for r in latest.values()
        for f, s in sorted(r.factors.items())
        if s >= top
    ]
    nations = _named(dynamic)
    message = (
        N_(
            "%(count)s of the %(total)s consenting members with a complete round "
            "(%(group)s: %(members)s members) have at least one factor at %(stage)s"
        )
        if nations
        else N_(
            "None of the %(total)s consenting members with a complete round "
            "(%(group)s: %(members)s members) has a factor at %(stage)s"
        )
    )
    values = {**scope, "count": len(nations), "stage": framework.stages.name_of(top)}
    return Statement("dynamic_factor", message, values, nations, tuple(dynamic))


def rising_dimensions(before: PanelRow, after: PanelRow) -> list[str]:
    """The dimensions that rose by at least ``IMPROVED_BY`` from ``before`` to ``after``."""
    return [
        d
        for d in sorted(after.dimensions)
        if d in before.dimensions
        and after.dimensions[d] - before.dimensions[d] >= IMPROVED_BY - _EPSILON
    ]


def compared_rounds(
    rows: Sequence[PanelRow], baseline: int | None
) -> tuple[PanelRow, PanelRow] | None:
    """A nation's (before, after) rounds: its two latest, or its latest in ``baseline`` or
    before and its latest; None when it has no such pair."""
    ordered = sorted(rows, key=lambda r: r.year)
    if baseline is None:
        return (ordered[-2], ordered[-1]) if len(ordered) >= 2 else None
    before = [r for r in ordered if r.year <= baseline]
    if not before or ordered[-1].year <= before[-1].year:
        return None
    return before[-1], ordered[-1]


def improved_statement(
    panel: Sequence[PanelRow], scope: Mapping[str, str | int], baseline: int | None = None
) -> Statement:
    """How many nations improved on enough dimensions since their previous round (or since
    the baseline year)."""
    improved_refs: list[RowRef] = []
    improved: list[str] = []
    compared = 0
    by_nation: dict[str, list[PanelRow]] = {}
    for row in panel:
        by_nation.setdefault(row.nation, []).append(row)
    for nation, rows in sorted(by_nation.items()):
        pair = compared_rounds(rows, baseline)
        if pair is None:
            continue
        compared += 1
        before, after = pair
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
    values: dict[str, str | int] = {
        **scope,
        "count": len(improved),
        "compared": compared,
        "by": str(IMPROVED_BY),
        "dimensions": IMPROVED_DIMENSIONS,
    }
    if baseline is None:
        message = N_(
            "%(count)s of the %(compared)s consenting members with two complete rounds "
            "(of %(total)s with a complete round; %(group)s: %(members)s members) improved "
            "by %(by)s or more in at least %(dimensions)s dimensions between their two "
            "latest rounds"
        )
    else:
        values["baseline"] = baseline
        message = N_(
            "%(count)s of the %(compared)s consenting members with a complete round in "
            "%(baseline)s or before and a later one (of %(total)s with a complete round; "
            "%(group)s: %(members)s members) improved by %(by)s or more in at least "
            "%(dimensions)s dimensions between that round and their latest"
        )
    return Statement("improved", message, values, tuple(improved), tuple(improved_refs))


def leaders_statements(
    latest: Mapping[str, PanelRow], scope: Mapping[str, str | int]
) -> list[Statement]:
    """The top ``LEADERS`` nations by overall score, ties at the last place included (none if
    the panel is empty)."""
    ranking = rank_nations(latest)
    if not ranking:
        return []
    leaders = [n for n in ranking if n.rank <= LEADERS]
    refs = tuple(
        RowRef(n.round_id, n.nation, n.year, d, v)
        for n in leaders
        for d, v in sorted(latest[n.nation].dimensions.items())
    )
    return [
        Statement(
            "leaders",
            N_(
                "Leaders of the %(total)s consenting members with a complete round "
                "(%(group)s: %(members)s members), by mean dimension score: %(names)s"
            ),
            {
                **scope,
                "count": len(leaders),
                "names": ", ".join(f"{n.nation} {n.overall:.2f}" for n in leaders),
            },
            _named(refs),
            refs,
        )
    ]


def extreme_statements(
    latest: Mapping[str, PanelRow], framework: Framework, scope: Mapping[str, str | int]
) -> list[Statement]:
    """The strongest and weakest dimensions by mean over the latest rounds (none if empty)."""
    ranking = rank_dimensions(latest, framework)
    if not ranking:
        return []
    bottom = sorted(ranking, key=lambda d: (round(d.mean, 9), d.dimension))
    return [
        _extreme_statement(
            "strongest",
            N_("Strongest dimension(s): %(names)s (mean %(mean)s); top 3: %(top)s"),
            ranking,
            latest,
            scope,
        ),
        _extreme_statement(
            "weakest",
            N_("Weakest dimension(s): %(names)s (mean %(mean)s); bottom 3: %(top)s"),
            bottom,
            latest,
            scope,
        ),
    ]


def _extreme_statement(
    key: str,
    message: str,
    ordered: Sequence[RankedDimension],
    latest: Mapping[str, PanelRow],
    scope: Mapping[str, str | int],
) -> Statement:
    target = ordered[0].mean
    tied = [d for d in ordered if abs(d.mean - target) < _EPSILON]  # ties are all named
    refs = tuple(
        RowRef(r.round_id, r.nation, r.year, d.dimension, r.dimensions[d.dimension])
        for d in tied
        for r in latest.values()
        if d.dimension in r.dimensions
    )
    return Statement(
        key,
        message,
        {
            **scope,
            "count": len(tied),
            "names": ", ".join(d.name for d in tied),
            "mean": f"{target:.2f}",
            "top": ", ".join(f"{d.dimension} {d.mean:.2f}" for d in ordered[:3]),
        },
        _named(refs),
        refs,
    )
