"""The nation report: data gathered from the services, rendered to HTML and to PDF.

A report shows a nation's latest round as a radar, its trend across rounds, the region's
consented rounds as small multiples, the GCI pillars of its peers, the gap table and the
roadmap. Charts are embedded as SVG data URIs, so the HTML is one self-contained file and
WeasyPrint renders the same document to PDF. A report is written in any of the node's
languages; reference data (the framework's dimensions, factors and stages, the index's
tiers) keeps the names it is published under.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from babel.dates import format_date
from jinja2 import Environment
from markupsafe import Markup
from sqlalchemy import distinct, func, select

from seawall.assess.benchmark import RegionView, latest_rows, region_view
from seawall.assess.frameworks import (
    DEFAULT_FRAMEWORK,
    Framework,
    get_framework,
    shipped_frameworks,
)
from seawall.assess.gaps import Gap, list_items, round_gaps, targets_of
from seawall.assess.indices import GCI_2024, IndexRow, edition_rows
from seawall.assess.report import charts, narrative
from seawall.assess.report.marking import (
    COLOURS,
    NATION_DEFAULT,
    NOTICES,
    classification,
    sample_rounds,
)
from seawall.assess.rounds import (
    GROUP_NAMES,
    PUBLISHED,
    FactorConsensus,
    agreed_stages,
    consensus_view,
    round_dimension_scores,
)
from seawall.assess.samples import NOTE
from seawall.catalogs import N_, translations
from seawall.core.access import Perm, require, require_nation
from seawall.core.context import Ctx
from seawall.core.documents import document_environment
from seawall.core.documents import render_pdf as render_pdf  # the edges render reports here
from seawall.core.nations import nation_name, normalise_nation
from seawall.core.tlp import Tlp
from seawall.db.models.assess import Rating, RoadmapItem, Round

FORMATS = ("html", "pdf")


@dataclass(frozen=True)
class RoundSummary:
    """A round's year, status and the scores of the dimensions it assesses (a dimension
    without an agreed factor is absent: not assessed, never 0)."""

    id: str
    year: int
    status: str
    scores: dict[str, float] = field(hash=False)
    partial: bool = False
    agreed: int = 0
    created_at: datetime | None = None
    published_at: datetime | None = None
    published_by: str = ""

    @property
    def mean(self) -> float | None:
        """The mean of the assessed dimensions' scores, or None when none is assessed."""
        return sum(self.scores.values()) / len(self.scores) if self.scores else None

    @property
    def strongest(self) -> str | None:
        """The dimension scoring highest (ties: the later id), or None."""
        scores = self.scores
        return max(scores, key=lambda d: (scores[d], d)) if scores else None

    @property
    def weakest(self) -> str | None:
        """The dimension scoring lowest (ties: the earlier id), or None."""
        scores = self.scores
        return min(scores, key=lambda d: (scores[d], d)) if scores else None


@dataclass(frozen=True)
class Participation:
    """What one stakeholder group contributed to a round: its ratings, its raters, when."""

    group: str
    ratings: int
    raters: int
    first: datetime
    last: datetime


@dataclass(frozen=True)
class NationReport:
    """Everything a nation report shows."""

    nation: str
    nation_name: str
    framework: Framework
    generated_at: datetime
    # Published rounds, oldest first: what the report speaks of.
    rounds: tuple[RoundSummary, ...]
    # Open rounds, shown apart as drafts and used nowhere else.
    drafts: tuple[RoundSummary, ...]
    factors: tuple[FactorConsensus, ...]
    gaps: tuple[Gap, ...]
    roadmap: tuple[RoadmapItem, ...]
    region: RegionView | None
    index_rows: tuple[IndexRow, ...]
    classification: Tlp = NATION_DEFAULT
    # Whether any round the report uses is sample data: every page is then marked SAMPLE.
    sample: bool = False
    participants: tuple[Participation, ...] = ()
    # The agreed stages of the published round before the latest, by factor.
    previous_stages: dict[str, int] = field(default_factory=dict, hash=False)
    has_targets: bool = False

    @property
    def latest(self) -> RoundSummary | None:
        """The most recent published round, if any."""
        return self.rounds[-1] if self.rounds else None


def build_report(
    ctx: Ctx,
    nation: str,
    framework_id: str = DEFAULT_FRAMEWORK,
    region: str | None = "CARICOM",
    index_group: str = "CARIBBEAN",
    default_target: int | None = None,
    tlp: str | Tlp | None = None,
) -> NationReport:
    """Gather a nation's report from its rounds, the region's panel and the GCI figures,
    marked ``tlp`` (default TLP:AMBER, :mod:`.marking`)."""
    level = classification(tlp, NATION_DEFAULT)
    require(ctx.who, Perm.ASSESS_READ)
    iso2 = normalise_nation(nation)
    require_nation(ctx.who, iso2, f"nation {iso2} report")
    framework = get_framework(ctx.db, framework_id)
    rows = ctx.db.scalars(
        select(Round)
        .where(Round.nation == iso2, Round.framework_id == framework.id)
        .order_by(Round.year)
    )
    summaries = [_summary(ctx, r) for r in rows]
    rounds = tuple(s for s in summaries if s.status == PUBLISHED)
    latest = rounds[-1] if rounds else None
    factors = tuple(consensus_view(ctx, latest.id)) if latest else ()
    gaps = tuple(round_gaps(ctx, latest.id, default_target)) if latest else ()
    previous = agreed_stages(ctx.db, rounds[-2].id) if len(rounds) > 1 else {}
    targets = default_target is not None or bool(targets_of(ctx, iso2, framework.id))
    return NationReport(
        nation=iso2,
        nation_name=nation_name(iso2),
        framework=framework,
        generated_at=ctx.now(),
        rounds=rounds,
        drafts=tuple(s for s in summaries if s.status != PUBLISHED),
        factors=factors,
        gaps=gaps,
        roadmap=tuple(list_items(ctx, iso2, framework.id)),
        region=region_view(ctx, region, framework.id) if region else None,
        index_rows=tuple(edition_rows(ctx.db, GCI_2024, index_group)),
        classification=level,
        sample=bool(sample_rounds(ctx.db, [r.id for r in rounds])),
        participants=participation(ctx, latest.id) if latest else (),
        previous_stages=previous,
        has_targets=targets,
    )


def _summary(ctx: Ctx, row: Round) -> RoundSummary:
    scores = round_dimension_scores(ctx.db, row)
    agreed = len(agreed_stages(ctx.db, row.id))
    return RoundSummary(
        row.id,
        row.year,
        row.status,
        scores,
        row.partial,
        agreed,
        row.created_at,
        row.published_at,
        row.published_by or "",
    )


def participation(ctx: Ctx, round_id: str) -> tuple[Participation, ...]:
    """Each stakeholder group that rated the round: how many ratings, by how many raters."""
    stmt = (
        select(
            Rating.stakeholder_group,
            func.count(),
            func.count(distinct(Rating.rater)),
            func.min(Rating.rated_at),
            func.max(Rating.rated_at),
        )
        .where(Rating.round_id == round_id)
        .group_by(Rating.stakeholder_group)
    )
    found = {
        g: Participation(g, n, raters, first, last)
        for g, n, raters, first, last in ctx.db.execute(stmt)
    }
    # In the framework's order of groups, as every table of the report lists them.
    return tuple(found[g] for g in GROUP_NAMES if g in found)


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def report_charts(
    report: NationReport, gettext: Callable[[str], str] = lambda message: message
) -> dict[str, str]:
    """The report's charts as SVG data URIs, by name, their words in ``gettext``'s language."""
    framework = report.framework
    dims = [d.id for d in framework.dimensions]
    names = [d.name for d in framework.dimensions]
    top = framework.stages.highest
    out: dict[str, str] = {}
    scored = [r for r in report.rounds if r.scores]
    if scored:
        recent = scored[-2:]
        # A dimension not assessed is a gap in the outline (NaN), never a point at 0.
        series = {str(r.year): [r.scores.get(d, math.nan) for d in dims] for r in recent}
        out["radar"] = _data_uri(charts.radar_chart(names, series, top))
        points = {d: [(r.year, r.scores[d]) for r in scored if d in r.scores] for d in dims}
        out["trend"] = _data_uri(
            charts.trend_chart(
                dict(zip(dims, names, strict=True)), points, top, axis_label=gettext("Score")
            )
        )
    if report.region is not None:
        latest = latest_rows(report.region.panel)
        panels = {
            n: [r.dimensions.get(d, math.nan) for d in dims] for n, r in sorted(latest.items())
        }
        out["region"] = _data_uri(
            charts.small_multiples(
                dims,
                panels,
                top,
                highlight=report.nation,
                empty=gettext("No consented, published assessments yet"),
            )
        )
    if report.index_rows:
        gci = shipped_frameworks()[GCI_2024]
        pillars = [(d.id, d.name) for d in gci.dimensions]
        alternative = gettext("%(nation)s (alt.)")
        bars = [
            (r.iso3 if r.primary else alternative % {"nation": r.iso3}, r.pillars)
            for r in report.index_rows
        ]
        highlight = next((r.iso3 for r in report.index_rows if r.nation == report.nation), None)
        out["gci"] = _data_uri(
            charts.pillar_bars(
                pillars,
                bars,
                highlight=highlight,
                tiers=[(t.id, t.min) for t in gci.tiers],
            )
        )
    return out


def _environment(language: str) -> Environment:
    return document_environment("seawall.assess", "report/templates", language)


def _css_content(text: str) -> Markup:
    """``Page {page} of {pages}`` as a CSS ``content`` value: quoted words and counters."""
    parts = re.split(r"\{(pages?)\}", text)
    values = [
        f"counter({part})" if odd else json.dumps(part, ensure_ascii=False)
        for odd, part in ((n % 2 == 1, part) for n, part in enumerate(parts))
        if odd or part
    ]
    # The words are the catalog's own (shipped in the package), and a <style> is raw text.
    return Markup(" ".join(values).replace("<", "\\3c "))  # noqa: S704


def _css_string(text: str) -> Markup:
    """Plain words as a quoted CSS string (for a ``content`` value in a <style>)."""
    return Markup(json.dumps(text, ensure_ascii=False).replace("<", "\\3c "))  # noqa: S704


def page_marks(title: str, tlp: Tlp, gettext: Callable[[str], str]) -> dict[str, str]:
    """The page header and footer of a report: its title, TLP label and page counter."""
    return {
        "page_title": _css_string(title),
        "page_marking": _css_string(tlp.label),
        "page_footer": _css_content(gettext("Page {page} of {pages}")),
        "tlp_colour": Markup(COLOURS[tlp]),  # noqa: S704 (a constant of ours)
        "tlp_notice": NOTICES[tlp],
    }


PRIORITY_NAMES = {
    narrative.HIGH: N_("High"),
    narrative.MEDIUM: N_("Medium"),
    narrative.LOW: N_("Low"),
}


class Marked(Protocol):
    """What :func:`base_context` reads of a report."""

    @property
    def generated_at(self) -> datetime: ...
    @property
    def classification(self) -> Tlp: ...


def base_context(
    report: Marked, framework: Framework, title: str, language: str, gettext: Callable[[str], str]
) -> dict[str, Any]:
    """What every report's template reads (``_base.html``): its dates, page marks and names."""
    at = report.generated_at.astimezone(UTC)
    day = format_date(at, "long", locale=language)
    return {
        "r": report,
        "lang": language,
        "date": day,
        "generated": f"{day}, {at:%H:%M} UTC",
        **page_marks(title, report.classification, gettext),
        "dimension_names": {d.id: d.name for d in framework.dimensions},
        "factor_names": {f.id: f.name for f in framework.factors().values()},
        "stage_name": framework.stages.name_of,
        "priority_names": PRIORITY_NAMES,
        "note": NOTE,
    }


def render_html(report: NationReport, language: str = "en") -> str:
    """The report as one self-contained HTML document, written in ``language``."""
    catalog = translations(language)
    gettext = catalog.gettext
    at = report.generated_at.astimezone(UTC)
    latest = report.latest
    title = gettext("%(nation)s: cybersecurity maturity report") % {"nation": report.nation_name}
    context: dict[str, Any] = {
        **base_context(report, report.framework, title, language, gettext),
        "charts": report_charts(report, gettext),
        "group_names": GROUP_NAMES,
        "sources": list(dict.fromkeys(r.source for r in report.index_rows)),
        "summary": narrative.executive_summary(report, catalog),
        "findings": narrative.findings(report),
        "previous_year": report.rounds[-2].year if len(report.rounds) > 1 else None,
        "recommendations": narrative.recommendations(report.gaps, report.roadmap, at.date()),
        "today": at.date(),
        "mean": latest.mean if latest else None,
        "strongest": latest.strongest if latest else None,
        "weakest": latest.weakest if latest else None,
    }
    return _environment(language).get_template("nation.html").render(**context)
