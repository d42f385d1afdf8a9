"""``/api/v1/intel/feeds``: the sensor feeds (Zeek intel, Suricata rules and lists, RPZ) by URL.

A sensor polls with an API token holding ``intel.feed`` and the ``ETag`` it last got in
``If-None-Match``; an unchanged feed answers 304 with no body.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response

from seawall.intel.exports import feeds
from seawall.web.deps import ApiCtx
from seawall.web.errors import ERROR_RESPONSES

router = APIRouter(prefix="/api/v1/intel/feeds", tags=["intel"], responses=ERROR_RESPONSES)

FeedName = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,32}$")]


def _etags(header: str | None) -> frozenset[str]:
    """The entity tags an ``If-None-Match`` header names (RFC 9110 §13.1.2), unquoted."""
    if not header:
        return frozenset()
    tags = (t.strip().removeprefix("W/").strip('"') for t in header.split(","))
    return frozenset(t for t in tags if t)


@router.get(
    "/{feed}",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}, "text/dns": {}}, "description": "the feed file"},
        304: {"description": "unchanged since the ETag sent in If-None-Match"},
    },
)
def intel_feed(
    feed: FeedName,
    ctx: ApiCtx,
    collection: Annotated[str | None, Query(max_length=64)] = None,
    max_tlp: Annotated[str | None, Query(max_length=16)] = None,
    if_none_match: Annotated[str | None, Header(max_length=1000)] = None,
) -> Response:
    """One sensor feed of the live indicators the token's user may read, at or under
    ``max_tlp`` (default ``amber+strict``; ``red`` only when asked)."""
    known = _etags(if_none_match)
    got = feeds.feed_file(ctx, feed, collection, feeds.parse_max_tlp(max_tlp), known)
    headers = {"ETag": f'"{got.etag}"', "Cache-Control": "no-cache"}
    if not got.changed:
        return Response(status_code=304, headers=headers)
    return Response(got.text, media_type=got.media_type, headers=headers)
