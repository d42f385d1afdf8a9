"""Partner sync status pages and the node-to-node sync endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from seawall.core.access import Perm, require
from seawall.intel.identity import identity_proof, load_node_key
from seawall.intel.sync import partner_statuses
from seawall.web.deps import UiPage, node_of, read_form_csrf
from seawall.web.routers.ui import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(read_form_csrf)])

Challenge = Annotated[str, Query(min_length=16, max_length=200, pattern=r"^[A-Za-z0-9_\-]+$")]


@router.get("/api/v1/intel/sync/identity")
def sync_identity(request: Request, challenge: Challenge) -> JSONResponse:
    """Prove this node's nation to a partner: sign its challenge with the node key."""
    proof = identity_proof(node_of(request).settings, challenge)
    return JSONResponse(proof, headers={"Cache-Control": "no-store"})


@router.get("/intel/sync", response_class=HTMLResponse)
def sync_page(request: Request, page: UiPage) -> HTMLResponse:
    """Partners with their last pull and push, queue depth and last error."""
    require(page.who, Perm.PARTNERS_READ)
    key = load_node_key(node_of(request).settings)
    return render(
        request,
        page,
        "intel/sync.html",
        statuses=partner_statuses(page.ctx),
        public_key=key.public_text,
        key_id=key.key_id,
    )
