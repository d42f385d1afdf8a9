"""TAXII 2.1 at ``/taxii2/``: a thin translation onto :mod:`seawall.intel.taxii`.

Every answer, errors included, is ``application/taxii+json;version=2.1``; errors
use the TAXII error-message body. Callers authenticate with a Bearer token or
HTTP Basic (username and API token).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Iterator
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from seawall.core.access import Principal, Role
from seawall.core.context import Ctx
from seawall.core.node import Node
from seawall.errors import AuthenticationFailed, PayloadTooLarge, SeawallError
from seawall.intel import taxii
from seawall.intel.errors import BadFilter
from seawall.intel.store.reading import Filters
from seawall.web.deps import authenticate_header, client_source, node_of

ROOT = f"/{taxii.API_ROOT}"
COLLECTION = f"{ROOT}/collections/{{collection_id}}"


class TaxiiJSON(JSONResponse):
    """A response in the TAXII 2.1 media type; pre-rendered JSON text passes through."""

    media_type = taxii.MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        """Encode ``content``: JSON text as is, anything else as compact JSON."""
        if isinstance(content, bytes):
            return content
        if isinstance(content, str):
            return content.encode()
        return json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode()


def taxii_response(
    content: str | dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A response in the TAXII 2.1 media type."""
    return TaxiiJSON(content, status_code=status, headers=headers)


def taxii_error(exc: SeawallError) -> Response:
    """A failure as a TAXII error message."""
    headers = {}
    if isinstance(exc, AuthenticationFailed) and exc.http_status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="seawall", Bearer'
    return taxii_response(taxii.error_body(exc), exc.http_status, headers)


class Resource(BaseModel):
    """A TAXII resource: extra (custom) properties are allowed."""

    model_config = ConfigDict(extra="allow")


class TaxiiErrorOut(Resource):
    """The TAXII error message resource."""

    title: str
    description: str | None = None
    error_id: str | None = None
    error_code: str | None = None
    http_status: str | None = None
    external_details: str | None = None
    details: dict[str, Any] | None = None


class DiscoveryOut(Resource):
    """The discovery resource."""

    title: str
    description: str | None = None
    contact: str | None = None
    default: str | None = None
    api_roots: list[str] | None = None


class ApiRootOut(Resource):
    """The API root resource."""

    title: str
    description: str | None = None
    versions: list[str]
    max_content_length: int


class CollectionOut(Resource):
    """A collection resource."""

    id: str
    title: str
    description: str | None = None
    alias: str | None = None
    can_read: bool
    can_write: bool
    media_types: list[str] | None = None


class CollectionsOut(Resource):
    """The collections resource."""

    collections: list[CollectionOut] | None = None


class EnvelopeOut(Resource):
    """An envelope of STIX objects."""

    more: bool | None = None
    next: str | None = None
    objects: list[dict[str, Any]] | None = None


class ManifestRecordOut(Resource):
    """One manifest record."""

    id: str
    date_added: str
    version: str
    media_type: str | None = None


class ManifestOut(Resource):
    """The manifest resource."""

    more: bool | None = None
    next: str | None = None
    objects: list[ManifestRecordOut] | None = None


class VersionsOut(Resource):
    """The versions resource."""

    more: bool | None = None
    next: str | None = None
    versions: list[str] | None = None


class StatusDetailsOut(Resource):
    """One object's outcome in a status resource."""

    id: str
    version: str
    message: str | None = None


class StatusOut(Resource):
    """The status resource."""

    id: str
    status: str
    request_timestamp: str | None = None
    total_count: int
    success_count: int
    successes: list[StatusDetailsOut] | None = None
    failure_count: int
    failures: list[StatusDetailsOut] | None = None
    pending_count: int
    pendings: list[StatusDetailsOut] | None = None


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    described = {
        400: "Bad filter, cursor or JSON",
        401: "Not authenticated",
        403: "Not allowed",
        404: "No such resource visible to the caller",
        406: "Accept does not allow the TAXII 2.1 media type",
        413: "Body over max_content_length",
        415: "Content-Type is not the TAXII 2.1 media type",
        422: "Body is not a TAXII envelope",
    }
    declared: dict[int | str, dict[str, Any]] = {
        status: {"model": TaxiiErrorOut, "description": described[status]}
        for status in (400, 401, 403, 404, 406, *statuses)
    }
    # Every failure on these routes is a TAXII error message, whatever its status.
    declared["4XX"] = {"model": TaxiiErrorOut, "description": "Another client error"}
    return declared


READ_ERRORS = _errors()
# A route whose success has no body answers in plain Response; its errors are still TAXII.
BODILESS_READ_ERRORS = {
    status: {
        "description": entry["description"],
        "content": {taxii.MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/TaxiiErrorOut"}}},
    }
    for status, entry in READ_ERRORS.items()
}
WRITE_ERRORS = _errors(413, 415, 422)
ENVELOPE_BODY = {
    "requestBody": {
        "required": True,
        "content": {taxii.MEDIA_TYPE: {"schema": EnvelopeOut.model_json_schema()}},
    }
}


class TaxiiRoute(APIRoute):
    """A route that checks Accept first and answers every failure as TAXII."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap FastAPI's handler with negotiation and the TAXII error body."""
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                taxii.check_accept(request.headers.get("accept"))
                return await handler(request)
            except SeawallError as exc:
                return taxii_error(exc)
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {}
                where = ".".join(str(p) for p in first.get("loc", ()))
                return taxii_error(BadFilter(f"{where}: {first.get('msg', 'invalid value')}"))

        return route


router = APIRouter(
    prefix="/taxii2",
    tags=["taxii"],
    route_class=TaxiiRoute,
    default_response_class=TaxiiJSON,
)


def taxii_ctx(request: Request) -> Iterator[Ctx]:
    """A unit of work acting as the TAXII caller (Bearer token, or Basic user:token)."""
    node = node_of(request)
    anonymous = Principal(
        "anonymous", node.nation, Role.VIEWER, scopes=frozenset(), source=client_source(request)
    )
    with node.unit(anonymous) as ctx:
        ctx.who = authenticate_header(ctx, request.headers.get("authorization", ""))
        yield ctx


T = TypeVar("T")


def _in_unit(node: Node, source: str, authorization: str, work: Callable[[Ctx], T]) -> T:
    anonymous = Principal("anonymous", node.nation, Role.VIEWER, scopes=frozenset(), source=source)
    with node.unit(anonymous) as ctx:
        ctx.who = authenticate_header(ctx, authorization)
        return work(ctx)


async def as_caller(request: Request, work: Callable[[Ctx], T]) -> T:
    """Authenticate, run ``work`` and commit, all in one worker-thread hop.

    The same unit of work as :func:`taxii_ctx`, for the hot read routes: a sync
    dependency plus a sync endpoint cost three thread hops a request, which under
    load is more than the query itself.
    """
    authorization = request.headers.get("authorization", "")
    return await run_in_threadpool(
        _in_unit, node_of(request), client_source(request), authorization, work
    )


async def read_as_caller(request: Request, read: Callable[[Ctx], taxii.Rendered]) -> Response:
    """Run a TAXII read as the caller and answer with its body and date-added headers."""
    rendered = await as_caller(request, read)
    return taxii_response(rendered.body, headers=rendered.headers)


async def taxii_body(request: Request) -> bytes:
    """The request body, once its media type and size are acceptable."""
    taxii.check_content_type(request.headers.get("content-type"))
    limit = node_of(request).settings.max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(
            f"request body is over max_content_length ({limit} bytes); send fewer objects"
        )
    return await request.body()


# scope="function": commit before the response is sent, so a client never reads before
# its own write is durable (FastAPI's default "request" scope commits after sending).
CtxDep = Annotated[Ctx, Depends(taxii_ctx, scope="function")]
BodyDep = Annotated[bytes, Depends(taxii_body)]
AddedAfter = Annotated[str | None, Query(alias="added_after")]
Limit = Annotated[str | None, Query(alias="limit")]
Next = Annotated[str | None, Query(alias="next")]
MatchId = Annotated[str | None, Query(alias="match[id]")]
MatchType = Annotated[str | None, Query(alias="match[type]")]
MatchVersion = Annotated[str | None, Query(alias="match[version]")]
MatchSpec = Annotated[str | None, Query(alias="match[spec_version]")]


async def collection_filters(
    added_after: AddedAfter = None,
    limit: Limit = None,
    next: Next = None,
    match_id: MatchId = None,
    match_type: MatchType = None,
    match_version: MatchVersion = None,
    match_spec_version: MatchSpec = None,
) -> Filters:
    """The filters of a read across a collection (the manifest and objects endpoints).

    Async, so parsing them costs no worker-thread hop (see :func:`as_caller`).
    """
    return Filters.parse(
        added_after, match_id, match_type, match_version, match_spec_version, limit, next
    )


async def object_filters(
    added_after: AddedAfter = None,
    limit: Limit = None,
    next: Next = None,
    match_version: MatchVersion = None,
    match_spec_version: MatchSpec = None,
) -> Filters:
    """The filters of a read of one object (§5.6)."""
    return Filters.parse(added_after, None, None, match_version, match_spec_version, limit, next)


async def version_filters(
    added_after: AddedAfter = None,
    limit: Limit = None,
    next: Next = None,
    match_spec_version: MatchSpec = None,
) -> Filters:
    """The filters of a read of one object's version list (§5.8), which lists them all."""
    return Filters.parse(added_after, None, None, "all", match_spec_version, limit, next)


CollectionFilters = Annotated[Filters, Depends(collection_filters)]
ObjectFilters = Annotated[Filters, Depends(object_filters)]
VersionFilters = Annotated[Filters, Depends(version_filters)]


@router.get("/", response_model=DiscoveryOut, responses=READ_ERRORS)
def discovery(request: Request, ctx: CtxDep) -> Response:
    """Server discovery (§4.1)."""
    settings = node_of(request).settings
    # From the node's public URL, never the Host header: a forged Host would otherwise send
    # the client's next requests (and its credentials) wherever the header names.
    base = settings.public_url.rstrip("/") + request.app.url_path_for("discovery").rstrip("/")
    return taxii_response(
        taxii.discovery(
            title=f"Seawall TAXII: {settings.node_name}",
            description=f"Collective defence node for {settings.nation}",
            contact=settings.public_url,
            base=base,
        )
    )


@router.get(f"{ROOT}/", response_model=ApiRootOut, responses=READ_ERRORS)
def api_root(request: Request, ctx: CtxDep) -> Response:
    """API root information (§4.2)."""
    settings = node_of(request).settings
    return taxii_response(taxii.api_root(settings.node_name, settings.max_body_bytes))


@router.get(f"{ROOT}/status/{{status_id}}/", response_model=StatusOut, responses=READ_ERRORS)
@router.get(f"{ROOT}/status/{{status_id}}", include_in_schema=False)
def get_status(status_id: str, ctx: CtxDep) -> Response:
    """The status of an add request (§4.3)."""
    return taxii_response(taxii.get_status(ctx, status_id))


@router.get(f"{ROOT}/collections/", response_model=CollectionsOut, responses=READ_ERRORS)
def get_collections(ctx: CtxDep) -> Response:
    """The collections the caller may see (§5.1)."""
    return taxii_response(taxii.collections(ctx))


@router.get(f"{COLLECTION}/", response_model=CollectionOut, responses=READ_ERRORS)
def get_collection(collection_id: str, ctx: CtxDep) -> Response:
    """One collection (§5.2)."""
    return taxii_response(taxii.collection(ctx, collection_id))


@router.get(f"{COLLECTION}/manifest/", response_model=ManifestOut, responses=READ_ERRORS)
async def get_manifest(
    request: Request, collection_id: str, filters: CollectionFilters
) -> Response:
    """Object manifests (§5.3)."""
    return await read_as_caller(
        request, lambda ctx: taxii.get_manifest(ctx, collection_id, filters)
    )


@router.get(f"{COLLECTION}/objects/", response_model=EnvelopeOut, responses=READ_ERRORS)
async def get_objects(request: Request, collection_id: str, filters: CollectionFilters) -> Response:
    """Objects of a collection (§5.4)."""
    return await read_as_caller(request, lambda ctx: taxii.get_objects(ctx, collection_id, filters))


@router.post(
    f"{COLLECTION}/objects/",
    status_code=202,
    response_model=StatusOut,
    responses=WRITE_ERRORS,
    openapi_extra=ENVELOPE_BODY,
)
def add_objects(request: Request, collection_id: str, ctx: CtxDep, body: BodyDep) -> Response:
    """Add objects (§5.5); answers with a status resource."""
    limit = node_of(request).settings.max_body_bytes
    return taxii_response(taxii.add_objects(ctx, collection_id, body, limit), 202)


@router.get(
    f"{COLLECTION}/objects/{{object_id}}/", response_model=EnvelopeOut, responses=READ_ERRORS
)
async def get_object(
    request: Request, collection_id: str, object_id: str, filters: ObjectFilters
) -> Response:
    """One object's versions (§5.6)."""
    return await read_as_caller(
        request, lambda ctx: taxii.get_object(ctx, collection_id, object_id, filters)
    )


@router.delete(
    f"{COLLECTION}/objects/{{object_id}}/",
    response_model=None,
    response_class=Response,
    responses={200: {"description": "Deleted; no body"}, **BODILESS_READ_ERRORS},
)
def delete_object(
    collection_id: str,
    object_id: str,
    ctx: CtxDep,
    match_version: MatchVersion = None,
    match_spec_version: MatchSpec = None,
) -> Response:
    """Delete an object (§5.7); every version unless match[version] narrows it."""
    filters = Filters.parse(
        None, None, None, match_version, match_spec_version, default_versions=("all",)
    )
    taxii.delete_object(ctx, collection_id, object_id, filters)
    return Response(status_code=200, media_type=taxii.MEDIA_TYPE)


@router.get(
    f"{COLLECTION}/objects/{{object_id}}/versions/",
    response_model=VersionsOut,
    responses=READ_ERRORS,
)
def get_versions(
    collection_id: str, object_id: str, ctx: CtxDep, filters: VersionFilters
) -> Response:
    """The versions of one object (§5.8)."""
    rendered = taxii.get_versions(ctx, collection_id, object_id, filters)
    return taxii_response(rendered.body, headers=rendered.headers)
