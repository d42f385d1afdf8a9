"""The regional report of a group: the coordinator's statements with the figures behind them.

It is built from :func:`seawall.assess.benchmark.region_view` and adds where each round came
from (this node's own, received signed from the nation's node, or entered at this hub from a
file with its source) and whether any is sample data (:mod:`seawall.assess.samples`), which
marks every page SAMPLE. It is rendered with the nation report's machinery: the same Jinja
environment and catalogs, house charts and WeasyPrint (:func:`.document.render_pdf`).
Published, consented data only, so it is classified TLP:CLEAR.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from babel.dates import format_date
from markupsafe import Markup
from sqlalchemy import select

from seawall.assess.benchmark import RegionView, latest_rows, region_view
from seawall.assess.frameworks import DEFAULT_FRAMEWORK, Framework, get_framework
from seawall.assess.report import charts

# The nation report's Jinja environment and CSS page-footer helper: one machinery for both.
from seawall.assess.report.document import _css_content, _data_uri, _environment
from seawall.assess.samples import NOTE
from seawall.catalogs import translations
from seawall.core.context import Ctx
from seawall.db.models import RegionGroup
from seawall.db.models.assess import Consensus, Rating, ReceivedRound, Round

FORMATS = ("html", "pdf")
CLASSIFICATION = "TLP:CLEAR"
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
    classification: str = CLASSIFICATION

    @property
    def sample(self) -> bool:
        """Whether any round in the report is sample data."""
        return any(o.sample for o in self.origins)

    @property
    def reporting(self) -> int:
        """Consenting members with a complete round (the statements' denominator)."""
        return len(latest_rows(self.view.panel))


def _is_sample(texts: Iterable[str]) -> bool:
    return any(NOTE in text for text in texts)


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
    notes: dict[str, list[str]] = {}
    for round_id, text in (
        *ctx.db.execute(
            select(Consensus.round_id, Consensus.dissent).where(Consensus.round_id.in_(own))
        ),
        *ctx.db.execute(select(Rating.round_id, Rating.rationale).where(Rating.round_id.in_(own))),
    ):
        notes.setdefault(round_id, []).append(text)
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
                    _is_sample([held.source, *held.dissent.values()]),
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
                    _is_sample(notes.get(row.id, ())),
                )
            )
    return tuple(sorted(out, key=lambda o: (o.nation, o.year)))


def build_regional_report(
    ctx: Ctx, group: str, framework_id: str = DEFAULT_FRAMEWORK, baseline: int | None = None
) -> RegionalReport:
    """Gather a group's regional report: its region view and the origin of every round."""
    view = region_view(ctx, group, framework_id, baseline)
    known = ctx.db.get(RegionGroup, view.group)
    return RegionalReport(
        view=view,
        framework=get_framework(ctx.db, view.framework_id),
        group_name=known.name if known else view.group,
        generated_at=ctx.now(),
        origins=_origins(ctx, view),
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
    gettext = translations(language).gettext
    at = report.generated_at.astimezone(UTC)
    framework = report.framework
    context: dict[str, Any] = {
        "r": report,
        "v": report.view,
        "lang": language,
        "date": format_date(at, "long", locale=language),
        "generated": f"{format_date(at, 'long', locale=language)}, {at:%H:%M} UTC",
        "page_footer": _css_content(gettext("Page {page} of {pages}")),
        # A plain word in a <style>: quoted as a CSS string.
        "page_header": Markup(json.dumps(report.classification)),  # noqa: S704
        "charts": regional_charts(report, gettext),
        "dimension_names": {d.id: d.name for d in framework.dimensions},
        "factor_names": {f.id: f.name for f in framework.factors().values()},
        "factor_count": len(framework.factors()),
        "origin": {o.round_id: o for o in report.origins},
        "latest": sorted(latest_rows(report.view.panel).values(), key=lambda r: r.nation),
        "note": NOTE,
    }
    return _environment(language).get_template("region.html").render(**context)
