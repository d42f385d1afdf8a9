"""The technique heat map page, and the techniques and heat map as JSON."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from seawall.core.access import Perm, require
from seawall.intel import heatmap, techniques
from seawall.web.deps import ApiCtx, UiPage
from seawall.web.errors import ERROR_RESPONSES
from seawall.web.pages import attempt, render

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1/intel", tags=["intel"], responses=ERROR_RESPONSES)


@router.get("/intel/techniques", response_class=HTMLResponse)
def intel_techniques(
    request: Request, page: UiPage, nation: str = "", domain: str = ""
) -> HTMLResponse:
    """The tactic x technique grid, coloured by what a nation (or the region) linked."""
    require(page.who, Perm.INTEL_READ)
    found = None
    status, error = 200, ""
    with attempt(page.ctx) as tried:
        found = heatmap.heatmap(page.ctx, nation.strip() or None, domain.strip() or None)
    if tried.refused:
        status, error = tried.status, tried.error
    return render(
        request,
        page,
        "intel/techniques.html",
        status=status,
        error=error,
        found=found,
        shades=heatmap.SHADES,
        domains=sorted(heatmap.DOMAINS),
    )


class SubtechniqueOut(BaseModel):
    """A sub-technique with a score, inside its parent's cell."""

    attack_id: str
    name: str
    score: int


class CellOut(BaseModel):
    """One technique: objects linked to it and sightings of them."""

    attack_id: str
    name: str
    objects: int
    sightings: int
    score: int
    subtechniques: list[SubtechniqueOut]
    nations: dict[str, int]


class TacticOut(BaseModel):
    """One tactic column, with its scored techniques."""

    tactic: str
    name: str
    attack_id: str
    techniques: list[CellOut]


class HeatMapOut(BaseModel):
    """The heat map of one nation (``nation``) or the region (``nation`` null)."""

    domain: str
    matrix: str
    nation: str | None
    nations: list[str]
    top: int
    tactics: list[TacticOut]
    unplaced: list[CellOut]


class LinkedTechniqueOut(BaseModel):
    """A technique an object is linked to, and how."""

    attack_id: str
    name: str
    how: list[str]
    url: str


class TechniquesOut(BaseModel):
    """The techniques and tactics an object is linked to."""

    techniques: list[LinkedTechniqueOut]
    tactics: list[str]


@api.get("/techniques", response_model=HeatMapOut)
def techniques_heatmap(ctx: ApiCtx, nation: str = "", domain: str = "") -> HeatMapOut:
    """The technique heat map, as the caller may see it."""
    found = heatmap.heatmap(ctx, nation.strip() or None, domain.strip() or None)
    return HeatMapOut.model_validate(found.as_json())


@api.get("/objects/{object_id}/techniques", response_model=TechniquesOut)
def object_techniques(ctx: ApiCtx, object_id: str) -> TechniquesOut:
    """The techniques and tactics one object is linked to, as the caller may see them."""
    return TechniquesOut.model_validate(techniques.techniques_of(ctx, object_id).as_json())
