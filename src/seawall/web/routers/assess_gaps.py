"""Maturity pages of a round's gaps: factors below target, the targets, and the roadmap with
the programmes that fund each item (cooperation's, through :mod:`seawall.web.gap_feed`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse

from seawall.assess import frameworks, gaps, rounds
from seawall.core.nations import nation_name
from seawall.errors import InvalidInput
from seawall.web.deps import UiPage, read_form_csrf
from seawall.web.gap_feed import funders_of
from seawall.web.pages import attempt, page_gettext, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(read_form_csrf)])


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
        funders=funders_of(ctx, [i.id for i in items]),
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
    with attempt(ctx) as tried:
        gaps.set_target(ctx, row.nation, row.framework_id, factor, stage)
    if tried.refused:
        return _gaps(request, page, round_id, shown, tried.status, tried.error)
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
    with attempt(ctx) as tried:
        gaps.add_item(ctx, row.nation, row.framework_id, factor, action, owner, due, status)
    if tried.refused:
        return _gaps(request, page, round_id, shown, tried.status, tried.error)
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
    with attempt(ctx) as tried:
        item = gaps.update_item(ctx, item_id, status or None, percent, note)
    if tried.refused:
        return _gaps(request, page, round_id, shown, tried.status, tried.error)
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
