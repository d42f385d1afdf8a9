"""The object page: the value readably, validity, the neighbourhood and its graph, correlated
objects, and the holder's actions (revoke, re-mark, extend validity, add to a case)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from seawall.core.context import Ctx
from seawall.core.paging import PageRequest
from seawall.errors import InvalidInput
from seawall.intel import cases as casework
from seawall.intel import correlation, decay, revisions, search, techniques
from seawall.intel.admission import holder_key, submitter_of
from seawall.intel.collections import can_write, get_collection
from seawall.intel.errors import InvalidStixObject
from seawall.intel.matching import sightings
from seawall.intel.neighbourhood import (
    SIGHTINGS_PAGE,
    Ref,
    named,
    neighbourhood,
    sightings_page,
)
from seawall.intel.quality import Status, assess, status_of
from seawall.intel.search import Version
from seawall.intel.tlp import MARKING_IDS, Tlp
from seawall.intel.validation import parse_timestamp
from seawall.web.deps import ApiCtx, UiPage, read_form_csrf
from seawall.web.errors import ERROR_RESPONSES
from seawall.web.listing import Decay, labels
from seawall.web.pages import attempt, page_gettext, render
from seawall.web.relationgraph import colour_of, graph_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(read_form_csrf)])
api = APIRouter(
    prefix="/api/v1/intel/collections/{alias}/objects/{object_id}",
    tags=["intel"],
    responses=ERROR_RESPONSES,
)
ACTIONS = ("revoke", "remark", "extend", "case")


def _moment(value: object) -> datetime | None:
    """A STIX timestamp from an object's body, for the ``when`` filter (None if it is none)."""
    try:
        return parse_timestamp(value, "", "") if isinstance(value, str) else None
    except InvalidStixObject:
        return None


def _creators(ctx: Ctx, versions: list[Version]) -> dict[str, Ref]:
    """The versions' creator identities the reader may see, in any collection, by id."""
    refs = named(ctx, {v.created_by_ref for v in versions if v.created_by_ref})
    return {i: ref for i, ref in refs.items() if ref.href is not None and ref.type == "identity"}


def _object_page(
    request: Request,
    page: UiPage,
    alias: str,
    object_id: str,
    status: int = 200,
    error: str = "",
) -> HTMLResponse:
    ctx = page.ctx
    row = get_collection(ctx, alias)
    versions = search.history(ctx, row, object_id)
    newest = versions[0]
    refs = [str(r) for r in newest.body.get("object_marking_refs") or []]
    around = neighbourhood(ctx, row.alias, newest)
    holds = (
        can_write(ctx, row)
        and holder_key(newest.owner_nation, newest.submitted_by) == submitter_of(ctx).key
        and "modified" in newest.body
    )
    now = ctx.now()
    last_sighted = decay.last_sightings((s.body for _, s in around.sightings), now).get(newest.id)
    live_until = decay.live_until(newest.body, last_sighted)
    state = status_of(newest.body, now)
    seen = sightings_page(around, PageRequest(SIGHTINGS_PAGE, request.query_params.get("cursor")))
    words = page_gettext(request)
    notice = {
        "revoke": words.gettext("Revoked."),
        "remark": words.gettext("Re-marked."),
        "extend": words.gettext("Validity extended."),
        "case": words.gettext("Added to the case."),
    }.get(request.query_params.get("updated", ""), "")
    return render(
        request,
        page,
        "intel/object.html",
        status=status,
        error=error,
        notice=notice,
        collection=row,
        obj=newest,
        label=labels(ctx, [newest]).get(newest.id),
        versions=versions,
        markings=[(ref, MARKING_IDS.get(ref)) for ref in refs],
        creators=_creators(ctx, versions),
        state=state,
        verdict=assess(newest.body),
        observables=around.correlation.observables,  # parsed once, by correlation
        around=around,
        graph=graph_of(around),
        colour_of=colour_of,
        sightings=[
            (where, s, sightings.sighted_in(s.body, s.created_by_ref)) for where, s in seen.items
        ],
        sightings_found=seen,
        decay=Decay.of(
            decay.score(newest.body, now, last_sighted),
            live_until,
            now,
            own_end=isinstance(newest.body.get("valid_until"), str),
            active=state is Status.ACTIVE,
        ),
        live=decay.is_live(newest.body, now, last_sighted),
        live_until=live_until,
        may_revise=holds and newest.body.get("revoked") is not True,
        stricter=[level for level in Tlp if level >= newest.tlp],
        cases=casework.open_case_titles(ctx) if page.who.nation else [],
        moment=_moment,
        techniques=techniques.techniques_of(ctx, newest.id),
    )


@router.get("/intel/collections/{alias}/objects/{object_id}", response_class=HTMLResponse)
def intel_object(request: Request, alias: str, object_id: str, page: UiPage) -> HTMLResponse:
    """One object: its value, validity, markings, provenance, versions, related and
    correlated objects, the graph of its neighbourhood, and the holder's actions."""
    return _object_page(request, page, alias, object_id)


@router.post(
    "/intel/collections/{alias}/objects/{object_id}",
    response_class=HTMLResponse,
    response_model=None,
)
def intel_object_change(
    request: Request,
    alias: str,
    object_id: str,
    page: UiPage,
    action: Annotated[str, Form(max_length=16)],
    tlp: Annotated[str, Form(max_length=16)] = "",
    valid_until: Annotated[str, Form(max_length=40)] = "",
    case: Annotated[str, Form(max_length=100)] = "",
    why: Annotated[str, Form(max_length=4000)] = "",
) -> HTMLResponse | RedirectResponse:
    """Revoke, re-mark, extend or add to a case; a refusal shows on the page, changing nothing."""
    ctx = page.ctx
    with attempt(ctx) as tried:
        if action == "revoke":
            revisions.revoke(ctx, alias, object_id)
        elif action == "remark":
            revisions.remark(ctx, alias, object_id, tlp)
        elif action == "extend":
            revisions.extend(ctx, alias, object_id, _until(valid_until))
        elif action == "case":
            revisions.add_to_case(ctx, case, object_id, why)
        else:
            raise InvalidInput(f"unknown action {action!r}: {', '.join(ACTIONS)}")
    if tried.refused:
        return _object_page(request, page, alias, object_id, tried.status, tried.error)
    target = f"/intel/collections/{alias}/objects/{object_id}?updated={action}"
    return RedirectResponse(target, status_code=303)


def _until(value: str) -> str:
    """A form's ``datetime-local`` value (``2027-01-31T00:00``, read as UTC) as STIX time."""
    text = value.strip()
    if len(text) == 16 and text[10] == "T":
        return f"{text}:00Z"
    return text


class ObservableOut(BaseModel):
    """One normalised observable."""

    kind: str
    value: str


class CorrelatedOut(BaseModel):
    """Another object sharing a value, as the caller may see it."""

    collection: str
    id: str
    type: str
    name: str
    tlp: str
    nation: str
    shared: list[ObservableOut]


class CorrelationOut(BaseModel):
    """The object's observables and the objects sharing them (``more``: some left out)."""

    observables: list[ObservableOut]
    objects: list[CorrelatedOut]
    more: bool


class RevisedOut(BaseModel):
    """The object's new version."""

    id: str
    version: str
    tlp: str
    object: dict[str, Any]


class RemarkIn(BaseModel):
    """A TLP level: the object's own or stricter."""

    model_config = ConfigDict(extra="forbid")

    tlp: str = Field(max_length=16)


class ExtendIn(BaseModel):
    """The new ``valid_until``, a STIX timestamp later than the current one."""

    model_config = ConfigDict(extra="forbid")

    valid_until: str = Field(max_length=40)


def _revised(version: Version) -> RevisedOut:
    return RevisedOut(
        id=version.id,
        version=str(version.body.get("modified", "")),
        tlp=version.tlp.label,
        object=version.body,
    )


@api.get("/correlations", response_model=CorrelationOut)
def object_correlations(ctx: ApiCtx, alias: str, object_id: str) -> CorrelationOut:
    """The other objects the caller may read that hold a value this object holds."""
    newest = search.history(ctx, get_collection(ctx, alias), object_id)[0]
    found = correlation.correlated(ctx, newest)
    return CorrelationOut(
        observables=[ObservableOut(kind=o.kind.value, value=o.value) for o in found.observables],
        objects=[
            CorrelatedOut(
                collection=c.collection,
                id=c.id,
                type=c.type,
                name=c.name,
                tlp=c.tlp.label,
                nation=c.owner_nation,
                shared=[ObservableOut(kind=o.kind.value, value=o.value) for o in c.shared],
            )
            for c in found.objects
        ],
        more=found.more,
    )


@api.post("/revoke", response_model=RevisedOut)
def object_revoke(ctx: ApiCtx, alias: str, object_id: str) -> RevisedOut:
    """Revoke an object the caller's nation holds."""
    return _revised(revisions.revoke(ctx, alias, object_id))


@api.post("/remark", response_model=RevisedOut)
def object_remark(ctx: ApiCtx, alias: str, object_id: str, body: RemarkIn) -> RevisedOut:
    """Re-mark an object the caller's nation holds, with its TLP or a stricter one."""
    return _revised(revisions.remark(ctx, alias, object_id, body.tlp))


@api.post("/extend", response_model=RevisedOut)
def object_extend(ctx: ApiCtx, alias: str, object_id: str, body: ExtendIn) -> RevisedOut:
    """Move an indicator's ``valid_until`` later."""
    return _revised(revisions.extend(ctx, alias, object_id, body.valid_until))
