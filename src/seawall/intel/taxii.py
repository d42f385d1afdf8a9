"""The TAXII 2.1 service layer: resources, negotiation and envelopes, without HTTP.

The web router turns requests into these calls and their results into responses.
Media types, status resources, error bodies and paging follow TAXII 2.1
(OASIS Committee Specification 01).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.db.models.intel import IntelCollection, IntelStatus
from seawall.errors import MalformedBody, PayloadTooLarge, SeawallError
from seawall.intel.collections import can_read, can_write, get_collection, list_collections
from seawall.intel.errors import (
    NotAcceptable,
    NotAnEnvelope,
    StatusNotFound,
    UnsupportedMediaType,
)
from seawall.intel.store import reading, writing
from seawall.intel.store.reading import Filters, Page
from seawall.intel.store.writing import ObjectRef
from seawall.intel.validation import STIX_MEDIA_TYPE, format_timestamp

MEDIA_TYPE = "application/taxii+json;version=2.1"
API_ROOT = "api"
DATE_ADDED_FIRST = "X-TAXII-Date-Added-First"
DATE_ADDED_LAST = "X-TAXII-Date-Added-Last"

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    406: "Not acceptable",
    409: "Conflict",
    413: "Request entity too large",
    415: "Unsupported media type",
    422: "Unprocessable entity",
    423: "Locked",
    503: "Service unavailable",
}


def _media_params(item: str) -> tuple[str, dict[str, str]]:
    kind, *params = (part.strip() for part in item.split(";"))
    values: dict[str, str] = {}
    for param in params:
        name, _, value = param.partition("=")
        values[name.strip().lower()] = value.strip().strip('"')
    return kind.lower(), values


def _is_taxii21(kind: str, params: Mapping[str, str]) -> bool:
    return kind == "application/taxii+json" and params.get("version", "2.1") == "2.1"


def check_accept(header: str | None) -> None:
    """Raise NotAcceptable unless the Accept header allows the TAXII 2.1 media type."""
    if not header or not header.strip():
        return
    for item in header.split(","):
        kind, params = _media_params(item)
        if params.get("q", "1").strip() in ("0", "0.0", "0.00", "0.000"):
            continue
        if _is_taxii21(kind, params) or kind in ("*/*", "application/*"):
            return
    raise NotAcceptable(f"cannot answer in {header!r}: send 'Accept: {MEDIA_TYPE}'")


def check_content_type(header: str | None) -> None:
    """Raise UnsupportedMediaType unless the body is declared as TAXII 2.1."""
    kind, params = _media_params(header or "")
    if not _is_taxii21(kind, params):
        shown = header or "no Content-Type"
        raise UnsupportedMediaType(
            f"cannot read a body sent as {shown!r}: send 'Content-Type: {MEDIA_TYPE}'"
        )


def error_body(exc: SeawallError) -> dict[str, Any]:
    """A TAXII 2.1 error message resource for a failure."""
    return {
        "title": _TITLES.get(exc.http_status, "Error"),
        "description": exc.message,
        "error_code": exc.code,
        "http_status": str(exc.http_status),
    }


def discovery(title: str, description: str, contact: str, base: str) -> dict[str, Any]:
    """The discovery resource: this node has one API root."""
    root = f"{base.rstrip('/')}/{API_ROOT}/"
    return {
        "title": title,
        "description": description,
        "contact": contact,
        "default": root,
        "api_roots": [root],
    }


def api_root(title: str, max_content_length: int) -> dict[str, Any]:
    """The API root resource."""
    return {
        "title": title,
        "description": "STIX 2.1 collections shared under TLP 2.0",
        "versions": [MEDIA_TYPE],
        "max_content_length": max_content_length,
    }


def _collection_resource(ctx: Ctx, row: IntelCollection) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "description": row.description,
        "alias": row.alias,
        "can_read": can_read(ctx, row),
        "can_write": can_write(ctx, row),
        "media_types": [STIX_MEDIA_TYPE],
    }


def collections(ctx: Ctx) -> dict[str, Any]:
    """The collections resource: those the caller is in the audience of."""
    rows = list_collections(ctx)
    if not rows:
        return {}
    return {"collections": [_collection_resource(ctx, row) for row in rows]}


def collection(ctx: Ctx, collection_id: str) -> dict[str, Any]:
    """One collection resource."""
    return _collection_resource(ctx, get_collection(ctx, collection_id))


@dataclass(frozen=True)
class Rendered:
    """A response body (already JSON) and the TAXII headers that go with it."""

    body: str
    headers: dict[str, str] = field(default_factory=dict)


def _page_headers(page: Page) -> dict[str, str]:
    first, last = page.date_added_first, page.date_added_last
    if first is None or last is None:
        return {}
    return {DATE_ADDED_FIRST: format_timestamp(first), DATE_ADDED_LAST: format_timestamp(last)}


def _paged(page: Page, key: str, items: list[str]) -> str:
    # Stored bodies are compact JSON already; splice them instead of re-encoding.
    parts = ['{"more":', "true" if page.more else "false"]
    if page.next is not None:
        parts.append(f',"next":{json.dumps(page.next)}')
    if items:
        parts.append(f',"{key}":[{",".join(items)}]')
    parts.append("}")
    return "".join(parts)


def get_objects(ctx: Ctx, collection_id: str, filters: Filters) -> Rendered:
    """Get Objects (§5.4): an envelope of the visible objects matching the filters."""
    row = get_collection(ctx, collection_id)
    page = reading.query_objects(ctx, row, filters)
    return Rendered(_paged(page, "objects", [o.body for o in page.objects]), _page_headers(page))


def get_object(ctx: Ctx, collection_id: str, object_id: str, filters: Filters) -> Rendered:
    """Get An Object (§5.6): an envelope of the matching versions of one object."""
    row = get_collection(ctx, collection_id)
    page = reading.get_object(ctx, row, object_id, filters)
    return Rendered(_paged(page, "objects", [o.body for o in page.objects]), _page_headers(page))


def get_versions(ctx: Ctx, collection_id: str, object_id: str, filters: Filters) -> Rendered:
    """Get Object Versions (§5.8): the versions of one object, oldest added first."""
    row = get_collection(ctx, collection_id)
    page = reading.get_versions(ctx, row, object_id, filters)
    items = [json.dumps(format_timestamp(o.version)) for o in page.objects]
    return Rendered(_paged(page, "versions", items), _page_headers(page))


def get_manifest(ctx: Ctx, collection_id: str, filters: Filters) -> Rendered:
    """Get Object Manifests (§5.3): id, date added, version and media type per object."""
    row = get_collection(ctx, collection_id)
    page = reading.query_objects(ctx, row, filters)
    items = [
        json.dumps(
            {
                "id": o.id,
                "date_added": format_timestamp(o.date_added),
                "version": format_timestamp(o.version),
                "media_type": STIX_MEDIA_TYPE,
            },
            separators=(",", ":"),
        )
        for o in page.objects
    ]
    return Rendered(_paged(page, "objects", items), _page_headers(page))


def delete_object(ctx: Ctx, collection_id: str, object_id: str, filters: Filters) -> int:
    """Delete An Object (§5.7): remove the matching versions; returns how many."""
    row = get_collection(ctx, collection_id)
    return writing.delete_object(ctx, row, object_id, filters)


def parse_envelope(body: bytes, max_bytes: int) -> list[Any]:
    """The objects of a TAXII envelope, or a typed failure (413, 400, 422)."""
    if len(body) > max_bytes:
        raise PayloadTooLarge(
            f"request body is {len(body)} bytes, over this API root's "
            f"max_content_length of {max_bytes}; send fewer objects per request"
        )
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedBody(
            f"request body is not valid JSON ({exc}); send a TAXII envelope"
        ) from None
    if not isinstance(parsed, dict):
        raise NotAnEnvelope('request body must be a TAXII envelope: {"objects": [...]}')
    if parsed.get("type") == "bundle":
        raise NotAnEnvelope(
            "request body is a STIX bundle; TAXII 2.1 takes an envelope: "
            'send {"objects": [...]} with the bundle\'s objects'
        )
    if "objects" not in parsed and "type" in parsed:
        raise NotAnEnvelope(
            "request body is a single STIX object; TAXII 2.1 takes an envelope: "
            'send {"objects": [<the object>]}'
        )
    objects = parsed.get("objects", [])
    if not isinstance(objects, list):
        raise NotAnEnvelope("envelope 'objects' must be a list of STIX objects")
    return objects


def _details(refs: list[ObjectRef]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for ref in refs:
        detail: dict[str, Any] = {"id": ref.id, "version": ref.version}
        if ref.message:
            detail["message"] = ref.message
        out.append(detail)
    return out


def _status_resource(row: IntelStatus) -> dict[str, Any]:
    return {
        "id": row.id,
        "status": "complete" if not row.pendings else "pending",
        "request_timestamp": format_timestamp(row.request_timestamp),
        "total_count": row.total_count,
        "success_count": len(row.successes),
        "successes": row.successes,
        "failure_count": len(row.failures),
        "failures": row.failures,
        "pending_count": len(row.pendings),
        "pendings": row.pendings,
    }


def add_objects(ctx: Ctx, collection_id: str, body: bytes, max_bytes: int) -> dict[str, Any]:
    """Add Objects (§5.5): store what is valid, and answer with a status resource.

    A duplicate of a stored (id, version) counts as a success, as Add Objects requires,
    with a message saying it was not added again.
    """
    require(ctx.who, Perm.INTEL_WRITE)
    objects = parse_envelope(body, max_bytes)
    row = get_collection(ctx, collection_id)
    status_id = ctx.ids()
    result = writing.add_objects(ctx, row, objects, request_id=status_id)
    status = IntelStatus(
        id=status_id,
        collection_id=row.id,
        owner_nation=ctx.who.nation,
        submitted_by=ctx.who.username,
        request_timestamp=ctx.now(),
        total_count=result.total,
        successes=_details(result.accepted),
        failures=_details(result.refused),
        pendings=[],
    )
    ctx.db.add(status)
    ctx.db.flush()
    return _status_resource(status)


def get_status(ctx: Ctx, status_id: str) -> dict[str, Any]:
    """Get Status (§4.3): the outcome of an add request, for the client that made it.

    Only the submitting user (or the node operator) reads a status: it names every object
    of the request, and a colleague may not be allowed to see them all.
    """
    require(ctx.who, Perm.INTEL_READ)
    row = ctx.db.get(IntelStatus, status_id)
    if row is None:
        raise StatusNotFound(f"no status {status_id!r}; it is named in the POST's answer")
    if not ctx.who.node_operator and row.submitted_by != ctx.who.username:
        raise StatusNotFound(f"no status {status_id!r} visible to {ctx.who.username}")
    return _status_resource(row)
