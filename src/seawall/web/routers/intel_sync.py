"""Partner sync status pages and the node-to-node sync endpoints."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from seawall.core.access import Perm, Principal, Role, require
from seawall.core.federation.identity import load_node_key
from seawall.errors import AuthenticationFailed
from seawall.intel import witness
from seawall.intel.errors import AuditHeadConflict
from seawall.intel.identity import identity_proof
from seawall.intel.sync import partner_statuses
from seawall.web.deps import (
    ApiCtx,
    UiPage,
    authenticate_header,
    client_source,
    node_of,
    read_form_csrf,
)
from seawall.web.errors import ERROR_RESPONSES, ErrorBody
from seawall.web.pages import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(read_form_csrf)])
# The witness endpoints are part of the documented API (a partner's sync account calls them).
api = APIRouter(prefix="/api/v1/intel/sync", tags=["intel"], responses=ERROR_RESPONSES)

Challenge = Annotated[str, Query(min_length=16, max_length=200, pattern=r"^[A-Za-z0-9_\-]+$")]
Since = Annotated[int | None, Query(ge=0, le=2**62)]
Hex64 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
KeyId = Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]


@router.get("/api/v1/intel/sync/identity")
def sync_identity(request: Request, challenge: Challenge, since: Since = None) -> JSONResponse:
    """Prove this node's nation to a partner: sign its challenge with the node key.

    A caller with a token that may read intel (a partner's sync account) also gets this
    node's signed audit head, linked to the head at ``since``, to witness.
    """
    node = node_of(request)
    proof: dict[str, Any] = identity_proof(node.settings, challenge)
    header = request.headers.get("authorization", "")
    if header:
        caller = Principal(
            "anonymous", node.nation, Role.VIEWER, scopes=frozenset(), source=client_source(request)
        )
        with node.unit(caller) as ctx:
            # The proof of identity needs no token; the head does.
            with contextlib.suppress(AuthenticationFailed):
                ctx.who = authenticate_header(ctx, header)
            head = witness.head_for_caller(ctx, node.settings, since)
        if head is not None:
            proof["audit_head"] = head
    return JSONResponse(proof, headers={"Cache-Control": "no-store"})


class HeadIn(BaseModel):
    """A signed audit head, with the entry hashes that link it to the head at ``since``."""

    model_config = ConfigDict(extra="forbid")

    nation: str = Field(pattern=r"^[A-Z]{2}$")
    key_id: KeyId
    count: int = Field(ge=0, le=2**62)
    hash: Hex64
    root: Hex64
    at: str = Field(max_length=40)
    signature: str = Field(min_length=1, max_length=200)
    since: int | None = Field(default=None, ge=0, le=2**62)
    proof: list[Hex64] = Field(default_factory=list, max_length=witness.MAX_PROOF)


class HeadOut(BaseModel):
    """A signed audit head as a witness holds it."""

    nation: str
    key_id: str
    count: int
    hash: str
    root: str
    at: str
    signature: str


class HeldOut(BaseModel):
    """The head this node witnesses for the caller, or null."""

    head: HeadOut | None


class WitnessedOut(BaseModel):
    """What this node did with a published head, and the head it holds afterwards."""

    outcome: str
    count: int
    hash: str
    message: str


@api.get("/witness", response_model=HeldOut)
def witnessed_head(
    request: Request,
    ctx: ApiCtx,
    key_id: Annotated[str, Query(pattern=r"^[0-9a-f]{16}$")],
) -> HeldOut:
    """The newest audit head of the calling partner (signed with ``key_id``) held here."""
    found = witness.held_for_caller(ctx, node_of(request).settings, key_id)
    return HeldOut(head=HeadOut(**found) if found else None)


@api.post(
    "/witness",
    response_model=WitnessedOut,
    responses={409: {"model": ErrorBody, "description": "The head contradicts the one held"}},
)
def witness_head(request: Request, ctx: ApiCtx, body: HeadIn) -> Any:
    """Witness the calling partner's signed audit head."""
    kept = witness.witness_for_caller(ctx, node_of(request).settings, body.model_dump())
    if kept.outcome == witness.REFUSED:
        # Answered, not raised: the refused head and its audit entry must commit.
        return JSONResponse(
            {"error": AuditHeadConflict.code, "message": kept.message}, status_code=409
        )
    return WitnessedOut(**kept.as_dict())


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
