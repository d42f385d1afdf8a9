"""Maturity pages: the assessment home, where rounds are listed and opened.

The pages translate forms into calls of ``seawall.assess`` and render what comes back; every
rule (who may rate, which stages exist, what consent publishing needs) is the core's. Charts
are the report's own SVG charts, inlined. The other maturity pages are routers of their own:
``assess_rounds`` (a round, its ratings, consensus, consent and publication), ``assess_gaps``
(gaps, targets, roadmap), ``assess_region`` (region and index) and ``assess_reports``
(report and export downloads).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from seawall.assess import frameworks, indices, rounds
from seawall.assess.frameworks import DEFAULT_FRAMEWORK
from seawall.assess.report import charts
from seawall.core.context import Ctx
from seawall.db.models.assess import Round
from seawall.web.deps import UiPage, read_form_csrf
from seawall.web.pages import attempt, page_gettext, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(read_form_csrf)])


_PROLOG = re.compile(r"^.*?(?=<svg)", re.DOTALL)


def inline_svg(svg: str) -> Markup:
    """A chart's SVG without its XML prolog, ready to sit inside the page."""
    return Markup(_PROLOG.sub("", svg, count=1))  # noqa: S704 - SVG we drew ourselves


def scores_by_round(
    ctx: Ctx, nation: str, framework_id: str
) -> list[tuple[Round, dict[str, float]]]:
    """A nation's rounds of a framework, oldest first, with their dimension scores."""
    rows = [
        r for r in rounds.list_rounds(ctx) if r.nation == nation and r.framework_id == framework_id
    ]
    return [
        (r, rounds.round_dimension_scores(ctx.db, r)) for r in sorted(rows, key=lambda r: r.year)
    ]


@router.get("/assess", response_class=HTMLResponse)
def assess_home(request: Request, page: UiPage) -> HTMLResponse:
    """Rounds, a form to open one, the nation's GCI 2024 figures and its trend."""
    return _home(request, page)


def _home(
    request: Request, page: UiPage, status: int = 200, error: str = "", **values: Any
) -> HTMLResponse:
    ctx = page.ctx
    listed = rounds.list_rounds(ctx)
    packs = frameworks.available_frameworks(ctx.db)
    agreed = {r.id: len(rounds.agreed_stages(ctx.db, r.id)) for r in listed}
    nation = ctx.who.nation
    gci = [r for r in indices.edition_rows(ctx.db, indices.GCI_2024) if r.nation == nation]
    cmm = packs[DEFAULT_FRAMEWORK]
    scored = [
        (r, s)
        for r, s in scores_by_round(ctx, nation, cmm.id)
        if s and r.status == rounds.PUBLISHED
    ]
    trend = None
    if len(scored) > 1:
        points = {d.id: [(r.year, s[d.id]) for r, s in scored if d.id in s] for d in cmm.dimensions}
        gettext = page_gettext(request).gettext
        trend = inline_svg(
            charts.trend_chart(
                {d.id: d.name for d in cmm.dimensions},
                points,
                cmm.stages.highest,
                axis_label=gettext("Score"),
            )
        )
    return render(
        request,
        page,
        "assess/index.html",
        status=status,
        error=error,
        rounds=listed,
        agreed=agreed,
        packs=packs,
        rateable=[p for p in packs.values() if p.rateable],
        gci=gci[0] if gci else None,
        gci_pack=packs[indices.GCI_2024],
        trend=trend,
        this_year=ctx.now().year,
        **values,
    )


@router.post("/assess/rounds", response_class=HTMLResponse)
def round_create(
    request: Request,
    page: UiPage,
    nation: Annotated[str, Form(max_length=3)],
    framework: Annotated[str, Form(max_length=64)],
    year: Annotated[int, Form()],
) -> Response:
    """Open a round, then go to it; errors show on the list and change nothing."""
    with attempt(page.ctx) as tried:
        row = rounds.create_round(page.ctx, nation, framework, year)
    if tried.refused:
        return _home(request, page, status=tried.status, error=tried.error)
    return RedirectResponse(f"/assess/rounds/{row.id}", status_code=303)
