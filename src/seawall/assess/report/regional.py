"""The regional report of a group: the coordinator's statements with the figures behind them.

It is built from :func:`seawall.assess.benchmark.region_view` and adds where each round came
from (this node's own, received signed from the nation's node, or entered at this hub from a
file with its source) and whether any is sample data (:mod:`seawall.assess.samples`), which
marks every page SAMPLE. It is rendered with the nation report's machinery: the same Jinja
environment and catalogs, house charts and WeasyPrint (:func:`.document.render_pdf`).
Published, consented data only, so it is classified TLP:CLEAR unless its writer marks it
otherwise (:mod:`.marking`). Its executive summary, findings by dimension (with the change since
each member's previous round) and recommendations (the region's weakest factors) are written
from the figures, in the report's language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from gettext import NullTranslations
from typing import Any

from sqlalchemy import select

from seawall.assess.benchmark import RegionView, latest_rows, region_view
from seawall.assess.frameworks import DEFAULT_FRAMEWORK, Framework, get_framework
from seawall.assess.indices import GCI_2024, edition_rows
from seawall.assess.report import charts
from seawall.assess.report.document import _data_uri, _environment, base_context
from seawall.assess.report.marking import (
    REGION_DEFAULT,
    classification,
    is_sample,
    sample_rounds,
)
from seawall.assess.report.narrative import HIGH, LOW, MEDIUM
from seawall.assess.statements import PanelRow, compared_rounds
from seawall.catalogs import N_, translations
from seawall.core.context import Ctx
from seawall.core.tlp import Tlp
from seawall.db.models import RegionGroup
from seawall.db.models.assess import ReceivedRound, Round

FORMATS = ("html", "pdf")
CLASSIFICATION = REGION_DEFAULT.label
# How many of the region's weakest factors the recommendations name.
PRIORITIES = 6
MEMBER_STATUS = {
    "reporting": N_("Reporting"),
    "incomplete": N_("Left out: incomplete round"),
    "withdrawn": N_("Left out: round withdrawn"),
    "absent": N_("No consented, published round"),
}
HERE, RECEIVED, ENTERED = "here", "received", "entered"


@dataclass(frozen=True)
class RoundOrigin:
    """Where a round in the report came from, who published or entered it, and when."""

    round_id: str
    nation: str
    year: int
    source: str  # HERE, RECEIVED or ENTERED
    by: str
    at: datetime | None
    # ENTERED: where its figures come from; RECEIVED: the key that signed it.
    detail: str
    sample: bool


@dataclass(frozen=True)
class RegionalReport:
    """Everything a regional report shows."""

    view: RegionView
    framework: Framework
    group_name: str
    generated_at: datetime
    origins: tuple[RoundOrigin, ...] = field(hash=False)
    classification: Tlp = REGION_DEFAULT
    # Where the ranking's GCI 2024 figures come from: their publishers.
    index_sources: tuple[str, ...] = ()

    @property
    def sample(self) -> bool:
        """Whether any round in the report is sample data."""
        return any(o.sample for o in self.origins)

    @property
    def reporting(self) -> int:
        """Consenting members with a complete round (the statements' denominator)."""
        return len(latest_rows(self.view.panel))


def _origins(ctx: Ctx, view: RegionView) -> tuple[RoundOrigin, ...]:
    """The origin of every round in the panel, left out as incomplete, or withdrawn."""
    ids = [r.round_id for r in (*view.panel, *view.incomplete)] + [
        w.round_id for w in view.withdrawn
    ]
    received = {
        r.round_id: r
        for r in ctx.db.scalars(select(ReceivedRound).where(ReceivedRound.round_id.in_(ids)))
    }
    own = {r.id: r for r in ctx.db.scalars(select(Round).where(Round.id.in_(ids)))}
    sampled = sample_rounds(ctx.db, own)
    out: list[RoundOrigin] = []
    for round_id in dict.fromkeys(ids):
        if (held := received.get(round_id)) is not None:
            entered = held.entered
            out.append(
                RoundOrigin(
                    round_id,
                    held.nation,
                    held.year,
                    ENTERED if entered else RECEIVED,
                    held.entered_by if entered else held.published_by,
                    held.received_at if entered else held.signed_at,
                    held.source if entered else held.sender_key_id,
                    is_sample([held.source, *held.dissent.values()]),
                )
            )
        elif (row := own.get(round_id)) is not None:
            out.append(
                RoundOrigin(
                    row.id,
                    row.nation,
                    row.year,
                    HERE,
                    row.published_by or "",
                    row.published_at,
                    "",
                    row.id in sampled,
                )
            )
    return tuple(sorted(out, key=lambda o: (o.nation, o.year)))


def build_regional_report(
    ctx: Ctx,
    group: str,
    framework_id: str = DEFAULT_FRAMEWORK,
    baseline: int | None = None,
    tlp: str | Tlp | None = None,
) -> RegionalReport:
    """Gather a group's regional report: its region view and the origin of every round,
    marked ``tlp`` (default TLP:CLEAR)."""
    level = classification(tlp, REGION_DEFAULT)
    view = region_view(ctx, group, framework_id, baseline)
    known = ctx.db.get(RegionGroup, view.group)
    return RegionalReport(
        view=view,
        framework=get_framework(ctx.db, view.framework_id),
        group_name=known.name if known else view.group,
        generated_at=ctx.now(),
        origins=_origins(ctx, view),
        classification=level,
        index_sources=_index_sources(ctx, view),
    )


def _index_sources(ctx: Ctx, view: RegionView) -> tuple[str, ...]:
    ranked = {n.nation for n in view.ranking if n.gci is not None}
    rows = edition_rows(ctx.db, GCI_2024)
    return tuple(dict.fromkeys(r.source for r in rows if r.primary and r.nation in ranked))


@dataclass(frozen=True)
class DimensionChange:
    """A dimension's regional mean now, and its mean change over the members that have an
    earlier complete round (None: no member has one)."""

    dimension_id: str
    name: str
    rank: int
    mean: float
    change: float | None
    compared: int


@dataclass(frozen=True)
class Member:
    """A member of the group and where it stands in the report."""

    nation: str
    status: str  # "reporting", "incomplete", "withdrawn" or "absent"
    year: int | None
    origin: str


@dataclass(frozen=True)
class Priority:
    """One of the region's weakest factors: its mean over the latest rounds, and how many
    members are at the two lowest stages on it."""

    priority: int
    factor_id: str
    factor_name: str
    dimension_id: str
    mean: float
    low: int
    members: int


def _pairs(report: RegionalReport) -> list[tuple[PanelRow, PanelRow]]:
    """Each reporting member's (earlier, latest) complete rounds, as 'improved' compares them."""
    by_nation: dict[str, list[PanelRow]] = {}
    for row in report.view.panel:
        by_nation.setdefault(row.nation, []).append(row)
    return [
        pair
        for rows in by_nation.values()
        if (pair := compared_rounds(rows, report.view.baseline)) is not None
    ]


def dimension_changes(report: RegionalReport) -> list[DimensionChange]:
    """The dimensions by regional mean, each with its mean change since the members' earlier
    complete rounds."""
    pairs = _pairs(report)
    out: list[DimensionChange] = []
    for d in report.view.dimension_ranking:
        deltas = [
            after.dimensions[d.dimension] - before.dimensions[d.dimension]
            for before, after in pairs
            if d.dimension in before.dimensions and d.dimension in after.dimensions
        ]
        change = sum(deltas) / len(deltas) if deltas else None
        out.append(DimensionChange(d.dimension, d.name, d.rank, d.mean, change, len(deltas)))
    return out


def members(report: RegionalReport) -> list[Member]:
    """Every member of the group: reporting, left out (incomplete, withdrawn) or absent."""
    view = report.view
    latest = latest_rows(view.panel)
    incomplete = {r.nation: r.year for r in view.incomplete}
    withdrawn = {w.nation: w.year for w in view.withdrawn}
    origin = {(o.nation, o.year): o.source for o in report.origins}
    out: list[Member] = []
    for nation in sorted(view.members):
        if nation in latest:
            year: int | None = latest[nation].year
            status = "reporting"
        elif nation in incomplete:
            year, status = incomplete[nation], "incomplete"
        elif nation in withdrawn:
            year, status = withdrawn[nation], "withdrawn"
        else:
            year, status = None, "absent"
        out.append(Member(nation, status, year, origin.get((nation, year), "") if year else ""))
    return out


def priorities(report: RegionalReport, count: int = PRIORITIES) -> list[Priority]:
    """The region's weakest factors over the members' latest complete rounds, weakest first.

    High: a mean below the second stage; medium: below the third; low: the rest."""
    latest = list(latest_rows(report.view.panel).values())
    if not latest:
        return []
    framework = report.framework
    dimension_of = framework.dimension_of()
    second = framework.stages.lowest + 1
    rows: list[Priority] = []
    for factor in framework.factors().values():
        stages = [r.factors[factor.id] for r in latest if factor.id in r.factors]
        if not stages:
            continue
        mean = sum(stages) / len(stages)
        priority = HIGH if mean < second else MEDIUM if mean < second + 1 else LOW
        low = sum(1 for s in stages if s <= second)
        rows.append(
            Priority(
                priority, factor.id, factor.name, dimension_of[factor.id], mean, low, len(stages)
            )
        )
    rows.sort(key=lambda p: (p.mean, -p.low, p.factor_id))
    return rows[:count]


def regional_summary(report: RegionalReport, catalog: NullTranslations) -> list[str]:
    """Three to six sentences from the region's figures, in ``catalog``'s language."""
    gettext, ngettext = catalog.gettext, catalog.ngettext
    view = report.view
    out = [
        ngettext(
            "%(num)d of the %(members)d members of %(group)s has a complete, published round "
            "it consents to share.",
            "%(num)d of the %(members)d members of %(group)s have a complete, published round "
            "they consent to share.",
            report.reporting,
        )
        % {"num": report.reporting, "members": len(view.members), "group": view.group}
    ]
    top = report.framework.stages.highest
    if view.ranking:
        means = [n.overall for n in view.ranking]
        first, last = view.ranking[0], view.ranking[-1]
        out.append(
            gettext(
                "Their mean score is %(mean).2f of %(top)s, from %(high).2f (%(leader)s) to "
                "%(low).2f (%(last)s)."
            )
            % {
                "mean": sum(means) / len(means),
                "top": top,
                "high": first.overall,
                "leader": first.nation,
                "low": last.overall,
                "last": last.nation,
            }
        )
    if len(view.dimension_ranking) > 1:
        strong, weak = view.dimension_ranking[0], view.dimension_ranking[-1]
        out.append(
            gettext(
                "The strongest dimension is %(strong)s (%(strong_score).2f); the weakest "
                "is %(weak)s (%(weak_score).2f)."
            )
            % {
                "strong": f"{strong.dimension} {strong.name}",
                "strong_score": strong.mean,
                "weak": f"{weak.dimension} {weak.name}",
                "weak_score": weak.mean,
            }
        )
    out.append(_regional_change(report, catalog))
    start_up = next((s for s in view.statements if s.key == "start_up"), None)
    if start_up is not None and report.reporting:
        out.append(
            ngettext(
                "%(num)d member has at least one dimension at %(stage)s.",
                "%(num)d members have at least one dimension at %(stage)s.",
                int(start_up.values["count"]),
            )
            % {"num": start_up.values["count"], "stage": start_up.values["stage"]}
        )
    left_out = len(view.incomplete) + len(view.withdrawn)
    if left_out:
        out.append(
            ngettext(
                "Caveat: %(num)d published round is left out: %(partial)d incomplete "
                "(published as partial) and %(withdrawn)d withdrawn.",
                "Caveat: %(num)d published rounds are left out: %(partial)d incomplete "
                "(published as partial) and %(withdrawn)d withdrawn.",
                left_out,
            )
            % {
                "num": left_out,
                "partial": len(view.incomplete),
                "withdrawn": len(view.withdrawn),
            }
        )
    return out[:6]


def _regional_change(report: RegionalReport, catalog: NullTranslations) -> str:
    pairs = _pairs(report)
    if not pairs:
        return catalog.gettext(
            "No member has an earlier complete round: this is the first regional reading."
        )
    change = sum(after.overall - before.overall for before, after in pairs) / len(pairs)
    values = {"num": len(pairs), "change": abs(change)}
    if change >= 0.005:
        return (
            catalog.ngettext(
                "For the %(num)d member with an earlier complete round, the mean score rose by "
                "%(change).2f.",
                "For the %(num)d members with an earlier complete round, the mean score rose by "
                "%(change).2f on average.",
                len(pairs),
            )
            % values
        )
    if change <= -0.005:
        return (
            catalog.ngettext(
                "For the %(num)d member with an earlier complete round, the mean score fell by "
                "%(change).2f.",
                "For the %(num)d members with an earlier complete round, the mean score fell by "
                "%(change).2f on average.",
                len(pairs),
            )
            % values
        )
    return (
        catalog.ngettext(
            "For the %(num)d member with an earlier complete round, the mean score is unchanged.",
            "For the %(num)d members with an earlier complete round, the mean score is unchanged "
            "on average.",
            len(pairs),
        )
        % values
    )


def regional_charts(
    report: RegionalReport, gettext: Callable[[str], str] = lambda message: message
) -> dict[str, str]:
    """The report's charts as SVG data URIs: the small multiples of the latest rounds."""
    dims = [d.id for d in report.framework.dimensions]
    latest = latest_rows(report.view.panel)
    panels = {n: [r.dimensions.get(d, 0.0) for d in dims] for n, r in sorted(latest.items())}
    svg = charts.small_multiples(
        dims,
        panels,
        report.framework.stages.highest,
        empty=gettext("No consented, published assessments yet"),
    )
    return {"region": _data_uri(svg)}


def render_regional_html(report: RegionalReport, language: str = "en") -> str:
    """The regional report as one self-contained HTML document, written in ``language``."""
    catalog = translations(language)
    gettext = catalog.gettext
    framework = report.framework
    title = gettext("%(group)s: regional cybersecurity maturity report") % {
        "group": report.view.group
    }
    context: dict[str, Any] = {
        **base_context(report, framework, title, language, gettext),
        "v": report.view,
        "charts": regional_charts(report, gettext),
        "factor_count": len(framework.factors()),
        "origin": {o.round_id: o for o in report.origins},
        "latest": sorted(latest_rows(report.view.panel).values(), key=lambda r: r.nation),
        "summary": regional_summary(report, catalog),
        "dimensions": dimension_changes(report),
        "members": members(report),
        "priorities": priorities(report),
        "member_status": MEMBER_STATUS,
        "regional_mean": (
            sum(n.overall for n in report.view.ranking) / len(report.view.ranking)
            if report.view.ranking
            else None
        ),
    }
    return _environment(language).get_template("region.html").render(**context)
