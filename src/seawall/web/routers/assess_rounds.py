"""Maturity pages of one round: its overview, the groups' rating sheets, the consensus, consent
and publication."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup
from starlette.datastructures import FormData

from seawall.assess import (
    consents,
    frameworks,
    participants,
    publication,
    roster,
    rounds,
    suggestions,
)
from seawall.assess.frameworks import Framework
from seawall.assess.report import charts
from seawall.assess.rounds import GROUP_NAMES
from seawall.catalogs import N_
from seawall.core.context import Ctx
from seawall.core.nations import groups_of, nation_name
from seawall.db.models.assess import Round
from seawall.errors import InvalidInput
from seawall.web.deps import UiPage, node_of, read_form_csrf
from seawall.web.pages import attempt, page_gettext, render
from seawall.web.routers.assess import inline_svg, scores_by_round

router = APIRouter(include_in_schema=False, dependencies=[Depends(read_form_csrf)])


GROUP_SHORT = {
    "government": N_("Gov."),
    "critical_infrastructure": N_("Crit. infra."),
    "law_enforcement": N_("Law enf."),
    "academia": N_("Academia"),
    "private_sector": N_("Private"),
    "civil_society": N_("Civil soc."),
}


async def posted_form(request: Request) -> FormData:
    """The posted form (already parsed and cached by the CSRF dependency)."""
    return await request.form()


PostedForm = Annotated[FormData, Depends(posted_form)]


def _radar(ctx: Ctx, row: Round, framework: Framework) -> Markup | None:
    history = [(r, s) for r, s in scores_by_round(ctx, row.nation, row.framework_id) if s]
    history = [(r, s) for r, s in history if r.year <= row.year][-2:]
    if not history:
        return None
    series = {
        f"{r.year}" + (" (agreed so far)" if r.status == rounds.OPEN else ""): [
            # not assessed: a gap in the outline, never a point at 0
            s.get(d.id, math.nan)
            for d in framework.dimensions
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
    # A group whose stages are hidden from the caller has still rated.
    rated = {g: sum(g in f.ratings or g in f.hidden for f in view) for g in GROUP_NAMES}
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
        groups=GROUP_NAMES,
        agreed=sum(f.agreed_stage is not None for f in view),
        flagged=sum(f.disagreement for f in view),
        scores=rounds.round_dimension_scores(ctx.db, row),
        radar=_radar(ctx, row, framework),
        consenting=rounds.consenting_groups(ctx.db, row.nation),
        member_of=groups_of(ctx.db, row.nation),
        nation_label=nation_name(row.nation),
        publications=consents.round_publications(ctx.db, row.id),
        lead=roster.lead_of(row),
        invited=roster.invited(ctx.db, row.id),
        people=participants.list_participants(ctx, row.id),
        may_lead=row.status == rounds.OPEN and roster.may_lead(ctx.who, row),
        may_reveal=row.status == rounds.OPEN and roster.may_lead(ctx.who, row, admin=False),
        may_rate={
            g: row.status == rounds.OPEN and roster.may_rate(ctx, row, g) for g in GROUP_NAMES
        },
        sees_all=roster.sees_every_stage(ctx, row),
    )


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
    existing = {r.factor_id: r for r in rounds.group_ratings(ctx, row.id, who_for.value)}
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
        groups=GROUP_NAMES,
        values=values,
        rated=len(existing),
        may_rate=row.status == rounds.OPEN and roster.may_rate(ctx, row, who_for.value),
        suggested=suggestions.suggested_evidence(ctx, row.id),
        nation_label=nation_name(row.nation),
    )


@router.get("/assess/rounds/{round_id}/rate", response_class=RedirectResponse)
def own_sheet(round_id: str, page: UiPage) -> RedirectResponse:
    """The caller's own rating sheet: the group they rate for in the round, else the first
    group they may rate for, else the first group's (to read)."""
    ctx = page.ctx
    row = rounds.get_round(ctx, round_id)
    own = roster.rater_group(ctx.db, row.id, ctx.who.username)
    may = (g for g in GROUP_NAMES if roster.may_rate(ctx, row, g))
    group = own or next(may, next(iter(GROUP_NAMES)))
    return RedirectResponse(f"/assess/rounds/{row.id}/rate/{group}", status_code=303)


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
        for r in rounds.group_ratings(ctx, row.id, who_for.value)
    }
    changed = 0
    with attempt(ctx) as tried:
        roster.check_may_rate(ctx, row, who_for.value)  # an empty sheet is refused too
        for factor, v in sheet.items():
            if not isinstance(v["stage"], int):
                raise InvalidInput(f"stage for {factor} {v['stage']!r} is not a whole number")
            if existing.get(factor) == (v["stage"], v["rationale"], v["evidence"]):
                continue
            rounds.rate(
                ctx, row.id, who_for.value, factor, v["stage"], v["rationale"], v["evidence"]
            )
            changed += 1
    if tried.refused:
        return _rating_sheet(
            request, page, round_id, group, tried.status, tried.error, submitted=sheet
        )
    words = page_gettext(request)
    label = words.gettext(GROUP_NAMES[who_for.value])
    saved = words.ngettext(
        "Saved %(num)s rating for %(group)s.", "Saved %(num)s ratings for %(group)s.", changed
    )
    return _rating_sheet(
        request, page, round_id, group, notice=saved % {"num": changed, "group": label}
    )


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
        groups=GROUP_NAMES,
        short=GROUP_SHORT,
        nation_label=nation_name(row.nation),
        may_agree=row.status == rounds.OPEN and roster.may_agree(ctx, row),
        sees_all=roster.sees_every_stage(ctx, row),
    )


@router.post("/assess/rounds/{round_id}/agree", response_class=HTMLResponse)
def agree_submit(
    request: Request,
    round_id: str,
    page: UiPage,
    factor: Annotated[str, Form(max_length=32)],
    stage: Annotated[int, Form()],
    dissent: Annotated[str, Form(max_length=10_000)] = "",
    reason: Annotated[str, Form(max_length=10_000)] = "",
) -> HTMLResponse:
    """Record an agreed stage; htmx swaps just the factor's row."""
    ctx = page.ctx
    error = ""
    with attempt(ctx) as tried:
        rounds.agree(ctx, round_id, factor, stage, dissent, reason)
    if tried.refused:
        error = tried.error
        if not request.headers.get("hx-request"):
            return _consensus(request, page, round_id, status=tried.status, error=error)
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
        groups=GROUP_NAMES,
        row_error=error,
        just_agreed=not error,
        may_agree=roster.may_agree(ctx, row),
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
    with attempt(ctx) as tried:
        if revoke:
            publication.revoke_consent(ctx, node_of(request).settings, row.nation, group)
        else:
            rounds.grant_consent(ctx, row.nation, group)
    if tried.refused:
        return _round_page(request, page, round_id, tried.status, tried.error)
    words = page_gettext(request)
    said = (
        words.gettext("Consent withdrawn from %(group)s.")
        if revoke
        else words.gettext("Consent given to %(group)s.")
    )
    return _round_page(request, page, round_id, notice=said % {"group": group.upper()})


@router.post("/assess/rounds/{round_id}/publish", response_class=HTMLResponse)
def publish_submit(
    request: Request,
    round_id: str,
    page: UiPage,
    form: PostedForm,
    partial: Annotated[bool, Form()] = False,
) -> HTMLResponse:
    """Publish the round to the ticked region groups (by default those its nation consents
    to; as partial when the box is ticked and not every factor is agreed)."""
    ticked = [str(g)[:32] for g in form.getlist("groups")]
    with attempt(page.ctx) as tried:
        row, _sent = publication.publish_round(
            page.ctx, node_of(request).settings, round_id, partial, ticked
        )
    if tried.refused:
        return _round_page(request, page, round_id, tried.status, tried.error)
    groups = ", ".join(sorted(consents.published_groups(page.ctx.db, row.id)))
    words = page_gettext(request)
    if row.partial:
        framework = frameworks.get_framework(page.ctx.db, row.framework_id)
        said = words.gettext(
            "Published to %(groups)s, partial: %(agreed)d of %(total)d factors agreed."
        )
        notice = said % {
            "groups": groups,
            "agreed": len(rounds.agreed_stages(page.ctx.db, row.id)),
            "total": len(framework.factors()),
        }
    else:
        notice = words.gettext("Published to %(groups)s.") % {"groups": groups}
    return _round_page(request, page, round_id, notice=notice)


def _names(text: str) -> list[str]:
    return [n for n in re.split(r"[\s,]+", text) if n]


@router.post("/assess/rounds/{round_id}/invite", response_class=HTMLResponse)
def invite_submit(
    request: Request,
    round_id: str,
    page: UiPage,
    group: Annotated[str, Form(max_length=32)],
    raters: Annotated[str, Form(max_length=2_000)] = "",
    facilitators: Annotated[str, Form(max_length=2_000)] = "",
) -> HTMLResponse:
    """Invite a stakeholder group with its named raters and facilitators (the round's lead)."""
    with attempt(page.ctx) as tried:
        found = participants.invite(page.ctx, round_id, group, _names(raters), _names(facilitators))
    if tried.refused:
        return _round_page(request, page, round_id, tried.status, tried.error)
    words = page_gettext(request)
    label = words.gettext(GROUP_NAMES[found[0].stakeholder_group])
    said = words.gettext("Invited %(group)s: %(names)s.")
    names = ", ".join(p.username for p in found)
    return _round_page(request, page, round_id, notice=said % {"group": label, "names": names})


@router.post("/assess/rounds/{round_id}/uninvite", response_class=HTMLResponse)
def uninvite_submit(
    request: Request,
    round_id: str,
    page: UiPage,
    group: Annotated[str, Form(max_length=32)],
    username: Annotated[str, Form(max_length=100)],
) -> HTMLResponse:
    """Remove a rater or facilitator from a group of the round (the round's lead)."""
    with attempt(page.ctx) as tried:
        participants.remove_participant(page.ctx, round_id, group, username)
    if tried.refused:
        return _round_page(request, page, round_id, tried.status, tried.error)
    said = page_gettext(request).gettext("Removed %(name)s.")
    return _round_page(request, page, round_id, notice=said % {"name": username})


@router.post("/assess/rounds/{round_id}/reveal", response_class=HTMLResponse)
def reveal_submit(request: Request, round_id: str, page: UiPage) -> HTMLResponse:
    """Show every group's stages to everyone who may see the round (the round's lead)."""
    with attempt(page.ctx) as tried:
        participants.reveal(page.ctx, round_id)
    if tried.refused:
        return _round_page(request, page, round_id, tried.status, tried.error)
    said = page_gettext(request).gettext("Every group's stages are now shown.")
    return _round_page(request, page, round_id, notice=said)


@router.post("/assess/rounds/{round_id}/lead", response_class=HTMLResponse)
def lead_submit(
    request: Request,
    round_id: str,
    page: UiPage,
    username: Annotated[str, Form(max_length=100)],
) -> HTMLResponse:
    """Hand the round's lead to another assessor of its nation."""
    with attempt(page.ctx) as tried:
        row = participants.set_lead(page.ctx, round_id, username)
    if tried.refused:
        return _round_page(request, page, round_id, tried.status, tried.error)
    said = page_gettext(request).gettext("%(name)s now leads the round.")
    return _round_page(request, page, round_id, notice=said % {"name": row.lead})
