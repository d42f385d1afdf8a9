"""``/api/v1/embassy/hosting``: the opaque shares a guest partner's node keeps here.

Every route is called as the guest partner's account (its token); the core
(:mod:`seawall.embassy.hosting.objects`) finds the agreement of that partner, applies quota,
bandwidth, expiry and retention, and records refusals. The routes only translate.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict

from seawall.core.clock import as_utc
from seawall.embassy.hosting import agreements, objects
from seawall.embassy.hosting.store import HostedBlobs, hosted_root
from seawall.errors import InvalidInput, PayloadTooLarge
from seawall.web.deps import UiPage, node_of, read_form_csrf
from seawall.web.errors import ERROR_RESPONSES, ErrorBody
from seawall.web.pages import render
from seawall.web.routers.taxii import as_caller

OCTETS = "application/octet-stream"
router = APIRouter(
    prefix="/api/v1/embassy/hosting",
    tags=["embassy-hosting"],
    responses={
        **ERROR_RESPONSES,
        429: {"model": ErrorBody, "description": "Over the agreement's daily bandwidth"},
        507: {"model": ErrorBody, "description": "Over the agreement's quota"},
    },
)
# The host admin's page; included before the embassy pages, whose /embassy/{name} would take it.
ui = APIRouter(include_in_schema=False, dependencies=[Depends(read_form_csrf)])
AsOf = Annotated[
    str | None,
    Query(alias="as-of", description="read the objects as they were at this ISO 8601 time"),
]


def caps_own_body(method: str, path: str) -> bool:
    """Whether a request is an object put, whose route caps its body at MAX_OBJECT_BYTES
    instead of the node's ``max_body_bytes`` (shares are larger than any form)."""
    return method == "PUT" and path.startswith(router.prefix + "/") and "/objects/" in path


class SignedRelease(BaseModel):
    """Permission to purge versions superseded by ``before`` once retention allows."""

    model_config = ConfigDict(extra="forbid", strict=True)

    before: str
    public_key: str
    signature: str


class SignedPurge(BaseModel):
    """A request to purge one version now (refused while it is retained)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    version: str
    public_key: str
    signature: str


class AuditChallenges(BaseModel):
    """Challenges of a guest's audit: ``[name, nonce hex]`` pairs (at most 1000)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    challenges: list[list[str]]


def parse_time(value: str | None, what: str = "as-of") -> datetime | None:
    """An ISO 8601 time (UTC when no offset is given)."""
    if value is None or not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(
            f"{what} {value!r} is not an ISO 8601 time such as 2026-12-01T00:00Z"
        ) from None
    as_utc(when, what)  # refuses a time with no UTC equivalent, which no column can hold
    # Its own offset kept: a signed release covers ``before`` exactly as the guest wrote it.
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _blobs(request: Request) -> HostedBlobs:
    return HostedBlobs(hosted_root(node_of(request).settings))


def _answer(result: Any) -> Any:
    if isinstance(result, objects.Refused):
        raise result.error
    return result


@router.get("/{agreement}")
async def agreement_status(request: Request, agreement: str) -> dict[str, Any]:
    """The agreement's terms and how full it is, for its guest."""
    return await as_caller(request, lambda ctx: objects.status(ctx, agreement))


@router.get("/{agreement}/objects")
async def list_objects(
    request: Request, agreement: str, prefix: str = "", as_of: AsOf = None
) -> dict[str, Any]:
    """Names and sizes shown now, or as of a past time."""
    when = parse_time(as_of)
    found = await as_caller(request, lambda ctx: objects.listing(ctx, agreement, prefix, when))
    return {"objects": [[name, size] for name, size in found]}


@router.get(
    "/{agreement}/objects/{name:path}",
    response_class=Response,
    responses={200: {"content": {OCTETS: {}}}},
)
async def get_object(request: Request, agreement: str, name: str, as_of: AsOf = None) -> Response:
    """An object's bytes, now or as of a past time."""
    when = parse_time(as_of)
    blobs = _blobs(request)
    data = await as_caller(request, lambda ctx: objects.get(ctx, blobs, agreement, name, when))
    return Response(data, media_type=OCTETS)


@router.get("/{agreement}/stat/{name:path}")
async def stat_object(
    request: Request, agreement: str, name: str, as_of: AsOf = None
) -> dict[str, Any]:
    """An object's size, now or as of a past time (``size`` null when it shows none)."""
    when = parse_time(as_of)
    size = await as_caller(request, lambda ctx: objects.stat(ctx, agreement, name, when))
    return {"name": name, "size": size}


@router.put(
    "/{agreement}/objects/{name:path}",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {OCTETS: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def put_object(request: Request, agreement: str, name: str) -> dict[str, Any]:
    """Keep a new version of an object; the version it replaces stays retained."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > objects.MAX_OBJECT_BYTES:
        raise PayloadTooLarge(f"an object is at most {objects.MAX_OBJECT_BYTES} bytes")
    data = await request.body()
    if len(data) > objects.MAX_OBJECT_BYTES:
        raise PayloadTooLarge(f"an object is at most {objects.MAX_OBJECT_BYTES} bytes")
    blobs = _blobs(request)
    result = await as_caller(request, lambda ctx: objects.put(ctx, blobs, agreement, name, data))
    return dict(_answer(result))


@router.delete("/{agreement}/objects/{name:path}")
async def delete_object(request: Request, agreement: str, name: str) -> dict[str, Any]:
    """Hide an object behind a delete marker; its last version stays retained."""
    blobs = _blobs(request)
    return await as_caller(request, lambda ctx: objects.delete(ctx, blobs, agreement, name))


@router.get("/{agreement}/versions")
async def list_versions(request: Request, agreement: str, prefix: str = "") -> dict[str, Any]:
    """Every version kept, with when its retention ends."""
    found = await as_caller(request, lambda ctx: objects.versions(ctx, agreement, prefix))
    return {"versions": found}


@router.post("/{agreement}/release")
async def release_versions(request: Request, agreement: str, body: SignedRelease) -> dict[str, Any]:
    """Let the host purge what was superseded by ``before``, once retention allows."""
    before = parse_time(body.before, "before")
    if before is None:
        raise InvalidInput("before is empty: give the ISO 8601 time the release covers up to")
    blobs = _blobs(request)
    result = await as_caller(
        request,
        lambda ctx: objects.release(ctx, blobs, agreement, before, body.public_key, body.signature),
    )
    return dict(_answer(result))


@router.post("/{agreement}/audit")
async def audit_objects(request: Request, agreement: str, body: AuditChallenges) -> dict[str, Any]:
    """Keyed hashes of the named objects' bytes as kept on this host's disk, one per challenge
    (``null`` for a name that shows nothing or whose bytes are gone)."""
    blobs = _blobs(request)
    if any(len(pair) != 2 for pair in body.challenges):
        raise InvalidInput("each challenge is [name, nonce hex]")
    challenges = [(pair[0], pair[1]) for pair in body.challenges]
    answers = await as_caller(request, lambda ctx: objects.audit(ctx, blobs, agreement, challenges))
    return {"answers": answers}


@router.post("/{agreement}/purge")
async def purge_version(request: Request, agreement: str, body: SignedPurge) -> dict[str, Any]:
    """Purge one version now; refused with retention_locked while it is retained."""
    blobs = _blobs(request)
    result = await as_caller(
        request,
        lambda ctx: objects.purge_version(
            ctx, blobs, agreement, body.version, body.public_key, body.signature
        ),
    )
    return dict(_answer(result))


@ui.get("/embassy/hosting", response_class=HTMLResponse)
def hosting_page(request: Request, page: UiPage) -> HTMLResponse:
    """What this node hosts, for whom and how much, when each guest last wrote and checked,
    and what it refused."""
    ctx = page.ctx
    hosted = agreements.hosted(ctx)
    refused = agreements.refusals(ctx, limit=50)
    names = {h.agreement.id: h.agreement.name for h in hosted}
    return render(
        request, page, "embassy/hosting.html", hosted=hosted, refused=refused, names=names
    )
