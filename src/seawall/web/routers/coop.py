"""Cooperation pages: programmes, partners and the coverage of maturity gaps."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from seawall.core.access import Perm, require
from seawall.web.deps import UiPage, read_form_csrf
from seawall.web.pages import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(read_form_csrf)])


@router.get("/coop", response_class=HTMLResponse)
def coop_home(request: Request, page: UiPage) -> HTMLResponse:
    """The pillar's home: its records and what they cover."""
    require(page.who, Perm.COOP_READ)
    return render(request, page, "coop/index.html")
