"""The object list as JSON: what the collection and search pages show, for scripts, one keyset
page at a time with the exact total."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from seawall.core.access import Perm, require
from seawall.intel import search
from seawall.intel.collections import get_collection
from seawall.intel.search import Found
from seawall.intel.store.listing import ObjectQuery
from seawall.web.deps import ApiCtx
from seawall.web.errors import ERROR_RESPONSES

api = APIRouter(prefix="/api/v1/intel", tags=["intel"], responses=ERROR_RESPONSES)

Text = Annotated[str, Query(max_length=500)]
Filter = Annotated[str, Query(max_length=300)]


class ObjectOut(BaseModel):
    """One listed object: the newest version of it the caller may see."""

    collection: str
    id: str
    type: str
    summary: str
    tlp: str
    version: datetime
    date_added: datetime
    status: str
    warning: str

    @classmethod
    def of(cls, found: Found) -> ObjectOut:
        """From a search hit."""
        return cls(
            collection=found.collection,
            id=found.id,
            type=found.type,
            summary=found.summary,
            tlp=found.tlp.label,
            version=found.version,
            date_added=found.date_added,
            status=found.status.value,
            warning=found.warning,
        )


class ObjectPage(BaseModel):
    """One page of objects, how many the whole list holds, and the cursors either side."""

    total: int
    next: str | None
    prev: str | None
    items: list[ObjectOut]


@api.get("/objects", response_model=ObjectPage)
def list_objects(
    ctx: ApiCtx,
    q: Text = "",
    collection: Annotated[str, Query(max_length=64)] = "",
    type: Filter = "",
    tlp: Filter = "",
    state: Filter = "",
    added_from: Filter = "",
    added_to: Filter = "",
    creator: Filter = "",
    sort: Filter = "",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> ObjectPage:
    """The objects the caller may read, in one collection or all: those holding ``q`` (else
    every one), filtered by type, TLP, state, date added and creator, in the order asked."""
    require(ctx.who, Perm.INTEL_READ)
    query = ObjectQuery.parse(
        q, type, tlp, state, added_from, added_to, creator, sort, limit, cursor
    )
    if collection:
        page = search.collection_page(ctx, get_collection(ctx, collection), query)
    else:
        page = search.search_page(ctx, query)
    return ObjectPage(
        total=page.total,
        next=page.next,
        prev=page.prev,
        items=[ObjectOut.of(found) for found in page.items],
    )


__all__ = ["api"]
