"""Maturity pages of a region's consented panel and of the outside indices (GCI)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from seawall.assess import benchmark, frameworks, indices
from seawall.assess.frameworks import DEFAULT_FRAMEWORK
from seawall.assess.report import charts
from seawall.core.access import Perm, require
from seawall.core.nations import nation_name, shipped_regions
from seawall.errors import InvalidInput
from seawall.web.deps import UiPage, read_form_csrf
from seawall.web.pages import page_gettext, render
from seawall.web.pillarchart import pillar_chart
from seawall.web.routers.assess import inline_svg

router = APIRouter(include_in_schema=False, dependencies=[Depends(read_form_csrf)])


def _year(text: str) -> int | None:
    """A baseline year from the form: blank for none, else four digits."""
    if not text.strip():
        return None
    if not text.strip().isdigit():
        raise InvalidInput(f"baseline {text!r}: give a year such as 2021, or leave it blank")
    return int(text)


def _region_names() -> list[tuple[str, str]]:
    return [(r.code, r.name) for r in shipped_regions()]


@router.get("/assess/region", response_class=HTMLResponse)
def region_page(
    request: Request,
    page: UiPage,
    group: str = "CARICOM",
    framework: str = DEFAULT_FRAMEWORK,
    baseline: str = "",
) -> HTMLResponse:
    """A region's consented panel, its statements linked to their rows, rankings and small
    multiples; ``baseline`` is the year "improved" compares against (blank: two latest)."""
    ctx = page.ctx
    since = _year(baseline)
    view = benchmark.region_view(ctx, group, framework, since)
    pack = frameworks.get_framework(ctx.db, view.framework_id)
    latest = benchmark.latest_rows(view.panel)
    dims = [d.id for d in pack.dimensions]
    multiples = inline_svg(
        charts.small_multiples(
            dims,
            {n: [r.dimensions.get(d, 0.0) for d in dims] for n, r in sorted(latest.items())},
            pack.stages.highest,
            highlight=ctx.who.nation,
            empty=page_gettext(request).gettext("No consented, published assessments yet"),
        )
    )
    gci = {
        r.nation: r for r in indices.edition_rows(ctx.db, indices.GCI_2024, view.group) if r.primary
    }
    return render(
        request,
        page,
        "assess/region.html",
        view=view,
        framework=pack,
        latest=latest,
        multiples=multiples,
        gci=gci,
        regions=_region_names(),
        rateable=[p for p in frameworks.available_frameworks(ctx.db).values() if p.rateable],
        dim_names={d.id: d.name for d in pack.dimensions},
        factor_names={f.id: f.name for f in pack.factors().values()},
    )


@router.get("/assess/index", response_class=HTMLResponse)
def index_page(
    request: Request, page: UiPage, edition: str = indices.GCI_2024, group: str = "CARIBBEAN"
) -> HTMLResponse:
    """An index edition: scores, tiers, pillar bars, sources and comparability."""
    ctx = page.ctx
    require(ctx.who, Perm.ASSESS_READ)
    rows = indices.edition_rows(ctx.db, edition, group or None)
    editions = indices.list_editions(ctx.db)
    info = next(e for e in editions if e.id == edition)  # edition_rows refused unknown ones
    pack = (
        frameworks.get_framework(ctx.db, info.framework_id)
        if info.framework_id in frameworks.available_frameworks(ctx.db)
        else None
    )
    words = page_gettext(request)
    pillar_names = {d.id: words.gettext(d.name) for d in pack.dimensions} if pack else {}
    bars = None
    if pack is not None and rows and any(r.pillars for r in rows):
        bars = pillar_chart(
            list(pillar_names.items()),
            rows,
            nation=ctx.who.nation,
            total_max=pack.total.max if pack.total else 100,
            tiers={t.id: t.min for t in pack.tiers},
        )
    note = ""
    if edition == indices.GCI_2020:
        note = indices.comparability_note(ctx.db, indices.GCI_2020, indices.GCI_2024)
    return render(
        request,
        page,
        "assess/indices.html",
        rows=rows,
        edition=info,
        editions=editions,
        group=group,
        regions=_region_names(),
        pack=pack,
        bars=bars,
        pillar_names=pillar_names,
        note=note,
        sources=list(dict.fromkeys(r.source for r in rows)),
        names={r.nation: nation_name(r.nation) for r in rows},
    )
