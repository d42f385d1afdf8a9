"""Maturity pages: rounds, ratings, consensus, gaps, region and reports.

The pages translate forms into calls of ``seawall.assess`` and render what comes back; every
rule (who may rate, which stages exist, what consent publishing needs) is the core's. Charts
are the report's own SVG charts, inlined.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy import select
from starlette.datastructures import FormData

from seawall.assess import benchmark, frameworks, gaps, indices, rounds, suggestions
from seawall.assess.frameworks import DEFAULT_FRAMEWORK, Framework
from seawall.assess.report import charts, document, export
from seawall.catalogs import N_
from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.core.nations import groups_of, nation_name, normalise_nation, shipped_regions
from seawall.db.models.assess import Rating, Round
from seawall.errors import InvalidInput, SeawallError
from seawall.web.deps import UiPage, read_form_csrf
from seawall.web.pages import language_of, page_gettext, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(read_form_csrf)])

# Shown as `_(label)`: the groups' names are words of the page, not reference data.
GROUP_LABELS = {
    "government": N_("Government"),
    "critical_infrastructure": N_("Critical infrastructure"),
    "law_enforcement": N_("Law enforcement"),
    "academia": N_("Academia"),
    "private_sector": N_("Private sector"),
    "civil_society": N_("Civil society"),
}
GROUP_SHORT = {
    "government": N_("Gov."),
    "critical_infrastructure": N_("Crit. infra."),
    "law_enforcement": N_("Law enf."),
    "academia": N_("Academia"),
    "private_sector": N_("Private"),
    "civil_society": N_("Civil soc."),
}
_PROLOG = re.compile(r"^.*?(?=<svg)", re.DOTALL)


async def posted_form(request: Request) -> FormData:
    """The posted form (already parsed and cached by the CSRF dependency)."""
    return await request.form()


PostedForm = Annotated[FormData, Depends(posted_form)]


def inline_svg(svg: str) -> Markup:
    """A chart's SVG without its XML prolog, ready to sit inside the page."""
    return Markup(_PROLOG.sub("", svg, count=1))  # noqa: S704 - SVG we drew ourselves


def _download(body: str | bytes, media_type: str, filename: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# ---------------------------------------------------------------------------- home


def _scores_by_round(
    ctx: Ctx, nation: str, framework_id: str
) -> list[tuple[Round, dict[str, float]]]:
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
        for r, s in _scores_by_round(ctx, nation, cmm.id)
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
    try:
        with page.ctx.db.begin_nested():
            row = rounds.create_round(page.ctx, nation, framework, year)
    except SeawallError as exc:
        return _home(request, page, status=exc.http_status, error=exc.message)
    return RedirectResponse(f"/assess/rounds/{row.id}", status_code=303)


# ---------------------------------------------------------------------------- one round


def _radar(ctx: Ctx, row: Round, framework: Framework) -> Markup | None:
    history = [(r, s) for r, s in _scores_by_round(ctx, row.nation, row.framework_id) if s]
    history = [(r, s) for r, s in history if r.year <= row.year][-2:]
    if not history:
        return None
    series = {
        f"{r.year}" + (" (agreed so far)" if r.status == rounds.OPEN else ""): [
            s.get(d.id, 0.0) for d in framework.dimensions
        ]
        for r, s in history
    }
    return inline_svg(
        charts.radar_chart([d.name for d in framework.dimensions], series, framework.stages.highest)
    )


@router.get("/assess/rounds/{round_id}", response_class=HTMLResponse)
def round_page(request: Request, round_id: str, page: UiPage) -> HTMLResponse:
    """A round: progress of each group, dimension scores, consent and publication."""
    return _round_page(request, page, round_id)


def _round_page(
    request: Request,
    page: UiPage,
    round_id: str,
    status: int = 200,
    error: str = "",
    notice: str = "",
) -> HTMLResponse:
    ctx = page.ctx
    row = rounds.get_round(ctx, round_id)
    framework = frameworks.get_framework(ctx.db, row.framework_id)
    view = rounds.consensus_view(ctx, row.id)
    rated = {g: sum(g in f.ratings for f in view) for g in GROUP_LABELS}
    return render(
        request,
        page,
        "assess/round.html",
        status=status,
        error=error,
        notice=notice,
        r=row,
        framework=framework,
        view=view,
        rated=rated,
        groups=GROUP_LABELS,
        agreed=sum(f.agreed_stage is not None for f in view),
        flagged=sum(f.disagreement for f in view),
        scores=rounds.round_dimension_scores(ctx.db, row),
        radar=_radar(ctx, row, framework),
        consenting=rounds.consenting_groups(ctx.db, row.nation),
        member_of=groups_of(ctx.db, row.nation),
        nation_label=nation_name(row.nation),
    )


# ---------------------------------------------------------------------------- rating


def _ratings(ctx: Ctx, row: Round, group: str) -> list[Rating]:
    stmt = select(Rating).where(Rating.round_id == row.id, Rating.stakeholder_group == group)
    return list(ctx.db.scalars(stmt))


def _rating_sheet(
    request: Request,
    page: UiPage,
    round_id: str,
    group: str,
    status: int = 200,
    error: str = "",
    notice: str = "",
    submitted: dict[str, dict[str, Any]] | None = None,
) -> HTMLResponse:
    ctx = page.ctx
    row = rounds.get_round(ctx, round_id)
    who_for = rounds.parse_group(group)
    framework = frameworks.get_framework(ctx.db, row.framework_id)
    existing = {r.factor_id: r for r in _ratings(ctx, row, who_for.value)}
    values: dict[str, dict[str, Any]] = {
        f: {"stage": r.stage, "rationale": r.rationale, "evidence": list(r.evidence_refs)}
        for f, r in existing.items()
    }
    values.update(submitted or {})
    return render(
        request,
        page,
        "assess/rate.html",
        status=status,
        error=error,
        notice=notice,
        r=row,
        framework=framework,
        group=who_for.value,
        groups=GROUP_LABELS,
        values=values,
        rated=len(existing),
        suggested=suggestions.suggested_evidence(ctx, row.id),
        nation_label=nation_name(row.nation),
    )


@router.get("/assess/rounds/{round_id}/rate/{group}", response_class=HTMLResponse)
def rate_page(request: Request, round_id: str, group: str, page: UiPage) -> HTMLResponse:
    """The rating sheet of one stakeholder group: a stage, a rationale and evidence per factor."""
    return _rating_sheet(request, page, round_id, group)


def _read_sheet(form: FormData, framework: Framework) -> dict[str, dict[str, Any]]:
    sheet: dict[str, dict[str, Any]] = {}
    for factor in framework.factors():
        stage_text = str(form.get(f"stage-{factor}", "")).strip()
        if not stage_text:
            continue
        try:
            stage: Any = int(stage_text)
        except ValueError:
            stage = stage_text
        refs = [str(v) for v in form.getlist(f"evidence-{factor}")]
        refs += re.split(r"[\s,]+", str(form.get(f"refs-{factor}", "")))
        sheet[factor] = {
            "stage": stage,
            "rationale": str(form.get(f"rationale-{factor}", "")).strip(),
            "evidence": sorted({r.strip() for r in refs if r.strip()}),
        }
    return sheet


@router.post("/assess/rounds/{round_id}/rate/{group}", response_class=HTMLResponse)
def rate_submit(
    request: Request, round_id: str, group: str, page: UiPage, form: PostedForm
) -> HTMLResponse:
    """Save the sheet: every changed factor, all or nothing."""
    ctx = page.ctx
    row = rounds.get_round(ctx, round_id)
    framework = frameworks.get_framework(ctx.db, row.framework_id)
    sheet = _read_sheet(form, framework)
    who_for = rounds.parse_group(group)
    existing = {
        r.factor_id: (r.stage, r.rationale, sorted(r.evidence_refs))
        for r in _ratings(ctx, row, who_for.value)
    }
    changed = 0
    try:
        with ctx.db.begin_nested():
            for factor, v in sheet.items():
                if not isinstance(v["stage"], int):
                    raise InvalidInput(f"stage for {factor} {v['stage']!r} is not a whole number")
                if existing.get(factor) == (v["stage"], v["rationale"], v["evidence"]):
                    continue
                rounds.rate(
                    ctx, row.id, who_for.value, factor, v["stage"], v["rationale"], v["evidence"]
                )
                changed += 1
    except SeawallError as exc:
        return _rating_sheet(
            request, page, round_id, group, exc.http_status, exc.message, submitted=sheet
        )
    words = page_gettext(request)
    label = words.gettext(GROUP_LABELS[who_for.value])
    saved = words.ngettext(
        "Saved %(num)s rating for %(group)s.", "Saved %(num)s ratings for %(group)s.", changed
    )
    return _rating_sheet(
        request, page, round_id, group, notice=saved % {"num": changed, "group": label}
    )


# ---------------------------------------------------------------------------- consensus


@router.get("/assess/rounds/{round_id}/consensus", response_class=HTMLResponse)
def consensus_page(
    request: Request, round_id: str, page: UiPage, flagged: bool = False
) -> HTMLResponse:
    """Every factor with the groups' stages, spread, disagreement flag and agreed stage."""
    return _consensus(request, page, round_id, flagged)


def _consensus(
    request: Request,
    page: UiPage,
    round_id: str,
    flagged: bool = False,
    status: int = 200,
    error: str = "",
    notice: str = "",
) -> HTMLResponse:
    ctx = page.ctx
    row = rounds.get_round(ctx, round_id)
    framework = frameworks.get_framework(ctx.db, row.framework_id)
    view = rounds.consensus_view(ctx, row.id)
    shown = [f for f in view if f.disagreement] if flagged else view
    return render(
        request,
        page,
        "assess/consensus.html",
        status=status,
        error=error,
        notice=notice,
        r=row,
        framework=framework,
        view=shown,
        total=len(view),
        agreed=sum(f.agreed_stage is not None for f in view),
        disagreements=sum(f.disagreement for f in view),
        flagged=flagged,
        groups=GROUP_LABELS,
        short=GROUP_SHORT,
        nation_label=nation_name(row.nation),
    )


@router.post("/assess/rounds/{round_id}/agree", response_class=HTMLResponse)
def agree_submit(
    request: Request,
    round_id: str,
    page: UiPage,
    factor: Annotated[str, Form(max_length=32)],
    stage: Annotated[int, Form()],
    dissent: Annotated[str, Form(max_length=10_000)] = "",
) -> HTMLResponse:
    """Record an agreed stage; htmx swaps just the factor's row."""
    ctx = page.ctx
    error = ""
    try:
        with ctx.db.begin_nested():
            rounds.agree(ctx, round_id, factor, stage, dissent)
    except SeawallError as exc:
        error = exc.message
        if not request.headers.get("hx-request"):
            return _consensus(request, page, round_id, status=exc.http_status, error=error)
    if not request.headers.get("hx-request"):
        agreed = page_gettext(request).gettext("Agreed %(factor)s at stage %(stage)s.")
        return _consensus(
            request, page, round_id, notice=agreed % {"factor": factor, "stage": stage}
        )
    row = rounds.get_round(ctx, round_id)
    framework = frameworks.get_framework(ctx.db, row.framework_id)
    f = next(x for x in rounds.consensus_view(ctx, round_id) if x.factor_id == factor)
    # htmx swaps only 2xx responses: the row carries its own error line.
    response = render(
        request,
        page,
        "assess/partials/consensus_row.html",
        r=row,
        f=f,
        framework=framework,
        groups=GROUP_LABELS,
        row_error=error,
        just_agreed=not error,
    )
    if not error:
        response.headers["HX-Trigger"] = "consensus-changed"
    return response


@router.get("/assess/rounds/{round_id}/consensus/summary", response_class=HTMLResponse)
def consensus_summary(request: Request, round_id: str, page: UiPage) -> HTMLResponse:
    """The agreed and disagreement counts (htmx refreshes them after each agreement)."""
    view = rounds.consensus_view(page.ctx, round_id)
    return render(
        request,
        page,
        "assess/partials/consensus_summary.html",
        total=len(view),
        agreed=sum(f.agreed_stage is not None for f in view),
        disagreements=sum(f.disagreement for f in view),
    )


# ---------------------------------------------------------------------------- consent, publish


@router.post("/assess/rounds/{round_id}/consent", response_class=HTMLResponse)
def consent_submit(
    request: Request,
    round_id: str,
    page: UiPage,
    group: Annotated[str, Form(max_length=16)],
    revoke: Annotated[bool, Form()] = False,
) -> HTMLResponse:
    """Record (or withdraw) the round's nation's consent to publish to a region group."""
    ctx = page.ctx
    row = rounds.get_round(ctx, round_id)
    try:
        with ctx.db.begin_nested():
            if revoke:
                rounds.revoke_consent(ctx, row.nation, group)
            else:
                rounds.grant_consent(ctx, row.nation, group)
    except SeawallError as exc:
        return _round_page(request, page, round_id, exc.http_status, exc.message)
    words = page_gettext(request)
    said = (
        words.gettext("Consent withdrawn from %(group)s.")
        if revoke
        else words.gettext("Consent given to %(group)s.")
    )
    return _round_page(request, page, round_id, notice=said % {"group": group.upper()})


@router.post("/assess/rounds/{round_id}/publish", response_class=HTMLResponse)
def publish_submit(request: Request, round_id: str, page: UiPage) -> HTMLResponse:
    """Publish the round to the region groups its nation consents to."""
    try:
        with page.ctx.db.begin_nested():
            row = rounds.publish(page.ctx, round_id)
    except SeawallError as exc:
        return _round_page(request, page, round_id, exc.http_status, exc.message)
    groups = ", ".join(rounds.consenting_groups(page.ctx.db, row.nation))
    published = page_gettext(request).gettext("Published to %(groups)s.")
    return _round_page(request, page, round_id, notice=published % {"groups": groups})


# ---------------------------------------------------------------------------- gaps, roadmap


@router.get("/assess/rounds/{round_id}/gaps", response_class=HTMLResponse)
def gaps_page(
    request: Request, round_id: str, page: UiPage, default_target: int | None = None
) -> HTMLResponse:
    """Factors below target, the targets, and the roadmap with its progress."""
    return _gaps(request, page, round_id, default_target)


def _default_target(text: str) -> int | None:
    try:
        return int(text) if text.strip() else None
    except ValueError:
        raise InvalidInput(f"default target {text!r} is not a stage number") from None


def _gaps(
    request: Request,
    page: UiPage,
    round_id: str,
    default_target: int | None = None,
    status: int = 200,
    error: str = "",
    notice: str = "",
) -> HTMLResponse:
    ctx = page.ctx
    row = rounds.get_round(ctx, round_id)
    framework = frameworks.get_framework(ctx.db, row.framework_id)
    items = gaps.list_items(ctx, row.nation, framework.id)
    return render(
        request,
        page,
        "assess/gaps.html",
        status=status,
        error=error,
        notice=notice,
        r=row,
        framework=framework,
        gaps=gaps.round_gaps(ctx, row.id, default_target),
        default_target=default_target,
        targets=gaps.targets_of(ctx, row.nation, framework.id),
        agreed=rounds.agreed_stages(ctx.db, row.id),
        items=items,
        history={i.id: gaps.history(ctx, i.id) for i in items},
        statuses=[s.value for s in gaps.ItemStatus],
        nation_label=nation_name(row.nation),
    )


@router.post("/assess/rounds/{round_id}/targets", response_class=HTMLResponse)
def target_submit(
    request: Request,
    round_id: str,
    page: UiPage,
    factor: Annotated[str, Form(max_length=32)],
    stage: Annotated[int, Form()],
    default_target: Annotated[str, Form(max_length=2)] = "",
) -> HTMLResponse:
    """Set the stage the nation aims for on a factor."""
    ctx = page.ctx
    row = rounds.get_round(ctx, round_id)
    shown = _default_target(default_target)
    try:
        with ctx.db.begin_nested():
            gaps.set_target(ctx, row.nation, row.framework_id, factor, stage)
    except SeawallError as exc:
        return _gaps(request, page, round_id, shown, exc.http_status, exc.message)
    return _gaps(
        request,
        page,
        round_id,
        shown,
        notice=page_gettext(request).gettext("Target for %(factor)s set to stage %(stage)s.")
        % {"factor": factor, "stage": stage},
    )


@router.post("/assess/rounds/{round_id}/roadmap", response_class=HTMLResponse)
def roadmap_add(
    request: Request,
    round_id: str,
    page: UiPage,
    factor: Annotated[str, Form(max_length=32)],
    action: Annotated[str, Form(max_length=2000)],
    owner: Annotated[str, Form(max_length=200)],
    due: Annotated[date, Form()],
    status: Annotated[str, Form(max_length=16)] = "planned",
    default_target: Annotated[str, Form(max_length=2)] = "",
) -> HTMLResponse:
    """Add a roadmap action for a factor of the round's nation."""
    ctx = page.ctx
    row = rounds.get_round(ctx, round_id)
    shown = _default_target(default_target)
    try:
        with ctx.db.begin_nested():
            gaps.add_item(ctx, row.nation, row.framework_id, factor, action, owner, due, status)
    except SeawallError as exc:
        return _gaps(request, page, round_id, shown, exc.http_status, exc.message)
    added = page_gettext(request).gettext("Roadmap item added for %(factor)s.")
    return _gaps(request, page, round_id, shown, notice=added % {"factor": factor})


@router.post("/assess/rounds/{round_id}/roadmap/{item_id}", response_class=HTMLResponse)
def roadmap_update(
    request: Request,
    round_id: str,
    item_id: str,
    page: UiPage,
    status: Annotated[str, Form(max_length=16)] = "",
    progress: Annotated[str, Form(max_length=8)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
    default_target: Annotated[str, Form(max_length=2)] = "",
) -> HTMLResponse:
    """Record progress on a roadmap item."""
    ctx = page.ctx
    shown = _default_target(default_target)
    try:
        percent = int(progress) if progress.strip() else None
    except ValueError:
        return _gaps(request, page, round_id, shown, 422, f"progress {progress!r} is not a number")
    try:
        with ctx.db.begin_nested():
            item = gaps.update_item(ctx, item_id, status or None, percent, note)
    except SeawallError as exc:
        return _gaps(request, page, round_id, shown, exc.http_status, exc.message)
    words = page_gettext(request)
    return _gaps(
        request,
        page,
        round_id,
        shown,
        notice=words.gettext("Updated %(factor)s: %(status)s, %(progress)s%%.")
        % {
            "factor": item.factor_id,
            "status": words.gettext(item.status.replace("_", " ")),
            "progress": item.progress,
        },
    )


# ---------------------------------------------------------------------------- region, index


def _region_names() -> list[tuple[str, str]]:
    return [(r.code, r.name) for r in shipped_regions()]


@router.get("/assess/region", response_class=HTMLResponse)
def region_page(
    request: Request, page: UiPage, group: str = "CARICOM", framework: str = DEFAULT_FRAMEWORK
) -> HTMLResponse:
    """A region's consented panel, its statements linked to their rows, small multiples."""
    ctx = page.ctx
    view = benchmark.region_view(ctx, group, framework)
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
    bars = None
    if pack is not None and rows and any(r.pillars for r in rows):
        bars = inline_svg(
            charts.pillar_bars(
                [(d.id, d.name) for d in pack.dimensions],
                [(r.iso3 if r.primary else f"{r.iso3} (alt.)", r.pillars) for r in rows],
                highlight=next((r.iso3 for r in rows if r.nation == ctx.who.nation), None),
                total_max=pack.total.max if pack.total else 100,
                tiers=[(t.id, t.min) for t in pack.tiers],
            )
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
        note=note,
        sources=list(dict.fromkeys(r.source for r in rows)),
        names={r.nation: nation_name(r.nation) for r in rows},
    )


# ---------------------------------------------------------------------------- downloads


@router.get("/assess/report")
def report_download(
    request: Request,
    page: UiPage,
    nation: str = "",
    format: str = "pdf",
    framework: str = DEFAULT_FRAMEWORK,
    region: str = "CARICOM",
) -> Response:
    """The nation's report as PDF or HTML."""
    if format not in document.FORMATS:
        raise InvalidInput(f"report format {format!r}: choose pdf or html")
    iso2 = normalise_nation(nation or page.who.nation)
    built = document.build_report(page.ctx, iso2, framework, region or None)
    html = document.render_html(built, language_of(request))
    name = f"seawall-{iso2.lower()}-{framework}-report"
    if format == "pdf":
        return _download(document.render_pdf(html), "application/pdf", f"{name}.pdf")
    return _download(html, "text/html; charset=utf-8", f"{name}.html")


def _export(data: Any, fmt: str, name: str) -> Response:
    if fmt == "csv":
        return _download(export.to_csv(data), "text/csv; charset=utf-8", f"{name}.csv")
    if fmt == "json":
        return _download(export.to_json(data), "application/json", f"{name}.json")
    raise InvalidInput(f"export format {fmt!r}: choose csv or json")


@router.get("/assess/rounds/{round_id}/export.{fmt}")
def round_export(round_id: str, fmt: str, page: UiPage) -> Response:
    """A round as one record per factor, CSV or JSON."""
    row = rounds.get_round(page.ctx, round_id)
    data = export.round_records(page.ctx, row.id)
    return _export(data, fmt, f"seawall-{row.nation.lower()}-{row.framework_id}-{row.year}")


@router.get("/assess/index/export.{fmt}")
def index_export(
    fmt: str, page: UiPage, edition: str = indices.GCI_2024, group: str = ""
) -> Response:
    """An index edition's rows with tiers and sources, CSV or JSON."""
    require(page.who, Perm.ASSESS_READ)
    rows = indices.edition_rows(page.ctx.db, edition, group or None)
    suffix = f"-{group.lower()}" if group else ""
    return _export(export.index_records(rows), fmt, f"seawall-{edition}{suffix}")


@router.get("/assess/region/export.{fmt}")
def region_export(
    fmt: str, page: UiPage, group: str = "CARICOM", framework: str = DEFAULT_FRAMEWORK
) -> Response:
    """A region view: JSON with the panel and statements, or CSV of the statements' rows."""
    data: Any = export.region_data(benchmark.region_view(page.ctx, group, framework))
    if fmt == "csv":
        data = [
            {"statement": s["key"], "text": s["text"], **ref}
            for s in data["statements"]
            for ref in s["rows"]
        ]
    return _export(data, fmt, f"seawall-region-{group.lower()}-{framework}")
