"""Collective-defence pages: collections, search, object detail, import, log matching (the
case pages are :mod:`seawall.web.routers.intel_cases`)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse

from seawall.core.access import Perm, require
from seawall.core.paging import PageRequest, parse_limit
from seawall.db.models.intel import IntelCollection
from seawall.errors import InvalidInput, SeawallError, parse_choice
from seawall.intel import cases as casework
from seawall.intel import ingest, search
from seawall.intel.audiences import (
    audience_of,
    describe_audience,
    organisation_names,
    parse_audience,
)
from seawall.intel.collections import create_collection, get_collection
from seawall.intel.errors import UnreadableIntel, UnreadableLog
from seawall.intel.ingest import Format, ImportReport
from seawall.intel.matching import sightings
from seawall.intel.matching.logs import LogFormat
from seawall.intel.matching.sightings import MatchReport
from seawall.intel.matching.validity import Validity, parse_since
from seawall.intel.sighted import SightedOrder, sighted_page
from seawall.intel.tlp import parse_tlp
from seawall.web import listing
from seawall.web.deps import UiPage, node_of, read_form_csrf
from seawall.web.pages import attempt, page_gettext, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(read_form_csrf)])


def _home(
    request: Request, page: UiPage, status: int = 200, error: str = "", notice: str = ""
) -> HTMLResponse:
    return render(
        request,
        page,
        "intel/index.html",
        status=status,
        error=error,
        notice=notice,
        views=search.collection_views(page.ctx),
        describe=lambda row, names=organisation_names(page.ctx): describe_audience(
            audience_of(row), names
        ),
    )


@router.get("/intel", response_class=HTMLResponse)
def intel_home(request: Request, page: UiPage) -> HTMLResponse:
    """The collections the user may see, with counts, and a search box."""
    require(page.who, Perm.INTEL_READ)
    return _home(request, page)


@router.post("/intel/collections", response_class=HTMLResponse)
def intel_collection_create(
    request: Request,
    page: UiPage,
    alias: Annotated[str, Form(max_length=64)],
    title: Annotated[str, Form(max_length=200)] = "",
    audience: Annotated[str, Form(max_length=1000)] = "",
    tlp: Annotated[str, Form(max_length=16)] = "green",
) -> HTMLResponse:
    """Create a collection; errors show on the same page and change nothing."""
    with attempt(page.ctx) as tried:
        row = create_collection(page.ctx, alias, title, parse_audience([audience]), tlp)
    if tried.refused:
        return _home(request, page, status=tried.status, error=tried.error)
    created = page_gettext(request).gettext("Collection %(name)s created.")
    return _home(request, page, notice=created % {"name": row.alias})


@router.get("/intel/search", response_class=HTMLResponse)
def intel_search(request: Request, page: UiPage, q: str = "") -> HTMLResponse:
    """Objects holding a value, in every collection the user may read: filtered, sorted, paged."""
    values = listing.object_values(request)
    query = listing.object_query(values, request, text=q)
    found = search.search_page(page.ctx, query) if q.strip() else None
    return render(
        request,
        page,
        "intel/search.html",
        q=q,
        found=found,
        results=found.items if found else [],
        labels=listing.labels(page.ctx, found.items) if found else {},
        decays=listing.decays(found.items, page.ctx.now()) if found else {},
        values=values,
        params=listing.kept({"q": q.strip(), **values}),
        types=listing.types_offered(values),
        levels=listing.LEVELS,
    )


@router.get("/intel/collections/{alias}", response_class=HTMLResponse)
def intel_collection(request: Request, alias: str, page: UiPage) -> HTMLResponse:
    """The objects of one collection the user may see: filtered, sorted, paged, newest first."""
    row = get_collection(page.ctx, alias)
    values = listing.object_values(request)
    found = search.collection_page(page.ctx, row, listing.object_query(values, request))
    return render(
        request,
        page,
        "intel/collection.html",
        collection=row,
        audience=describe_audience(audience_of(row), organisation_names(page.ctx)),
        default_tlp=parse_tlp(row.default_tlp),
        found=found,
        objects=found.items,
        labels=listing.labels(page.ctx, found.items),
        decays=listing.decays(found.items, page.ctx.now()),
        type_filter=values["type"],
        values=values,
        params=listing.kept(values),
        types=listing.types_offered(values),
        levels=listing.LEVELS,
    )


def _upload(
    request: Request,
    file: UploadFile,
    name: str | None,
    refusal: Callable[[str], SeawallError],
    verb: str,
) -> bytes:
    """The uploaded file, or ``refusal`` when it is over the node's body limit, pointing at
    the CLI command for ``verb`` (``seawall intel import``), which takes any size."""
    limit = node_of(request).settings.max_body_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise refusal(f"{name} is over {limit:,} bytes; {verb} it with `seawall intel {verb}`")
    return data


def _writable(page: UiPage) -> list[IntelCollection]:
    """The collections the user may add to, for the pages' collection pickers."""
    return search.writable_collections(page.ctx)


def _import_page(
    request: Request,
    page: UiPage,
    report: ImportReport | None = None,
    status: int = 200,
    error: str = "",
) -> HTMLResponse:
    writable = _writable(page)
    return render(
        request,
        page,
        "intel/import.html",
        status=status,
        error=error,
        report=report,
        collections=writable,
        formats=[f.value for f in Format if f is not Format.MISP_FEED],
    )


@router.get("/intel/import", response_class=HTMLResponse)
def intel_import_form(request: Request, page: UiPage) -> HTMLResponse:
    """Upload a STIX bundle, MISP event JSON or MISP CSV."""
    require(page.who, Perm.INTEL_WRITE)
    return _import_page(request, page)


@router.post("/intel/import", response_class=HTMLResponse)
def intel_import(
    request: Request,
    page: UiPage,
    file: Annotated[UploadFile, File()],
    collection: Annotated[str, Form(max_length=64)],
    format: Annotated[str, Form(max_length=16)] = "",
) -> HTMLResponse:
    """Import an uploaded file; shows what was accepted and what was refused, and why."""
    require(page.who, Perm.INTEL_WRITE)
    # A plain def route: the form is already spooled, and parsing and the database work
    # run on a worker thread instead of stalling every other request.
    with attempt(page.ctx) as tried:
        data = _upload(request, file, file.filename, UnreadableIntel, "import")
        chosen = parse_choice(Format, "format", format) if format else None
        parsed = ingest.parse_bytes(file.filename or "upload", data, chosen)
        target = get_collection(page.ctx, collection)
        report = ingest.import_objects(page.ctx, target, parsed)
    if tried.refused:
        return _import_page(request, page, status=tried.status, error=tried.error)
    return _import_page(request, page, report=report)


def _match_page(
    request: Request,
    page: UiPage,
    report: MatchReport | None = None,
    status: int = 200,
    error: str = "",
) -> HTMLResponse:
    return render(
        request,
        page,
        "intel/match.html",
        status=status,
        error=error,
        report=report,
        collections=_writable(page),
        formats=[f.value for f in LogFormat],
        cases=casework.open_case_titles(page.ctx),
    )


@router.get("/intel/match", response_class=HTMLResponse)
def intel_match_form(request: Request, page: UiPage) -> HTMLResponse:
    """Upload a log to match against the indicators the user may read."""
    require(page.who, Perm.INTEL_READ)
    return _match_page(request, page)


@router.post("/intel/match", response_class=HTMLResponse)
def intel_match(
    request: Request,
    page: UiPage,
    file: Annotated[UploadFile, File()],
    format: Annotated[str, Form(max_length=16)] = "",
    collection: Annotated[str, Form(max_length=64)] = "",
    case: Annotated[str, Form(max_length=100)] = "",
    since: Annotated[str, Form(max_length=40)] = "",
    ignore_validity: Annotated[str, Form(max_length=1)] = "",
) -> HTMLResponse:
    """Match an uploaded log; optionally record sightings in a collection and link a case.
    ``since`` and ``ignore_validity`` are the retro-hunt's (see matching.validity)."""
    require(page.who, Perm.INTEL_READ)
    name = Path(file.filename or "upload.log").name or "upload.log"
    # A plain def route, as intel_import: the work stays off the event loop.
    with attempt(page.ctx) as tried:
        data = _upload(request, file, name, UnreadableLog, "match")
        if case and not collection:
            raise InvalidInput("choose where to record the sightings to link to a case")
        chosen = parse_choice(LogFormat, "log format", format) if format else None
        upload = sightings.Stream(name, io.BytesIO(data))
        hunt = Validity(
            bool(ignore_validity), parse_since(since, page.ctx.now()) if since else None
        )
        cache = sightings.cache_folder(node_of(request).settings.home)
        report = sightings.match_logs(page.ctx, [upload], chosen, cache=cache, validity=hunt)
        if collection:
            sightings.record(page.ctx, report, get_collection(page.ctx, collection))
        if case:
            sightings.link_to_case(page.ctx, report, case)
    if tried.refused:
        return _match_page(request, page, status=tried.status, error=tried.error)
    return _match_page(request, page, report=report)


@router.get("/intel/sightings", response_class=HTMLResponse)
def intel_sightings(request: Request, page: UiPage, min_nations: str = "1") -> HTMLResponse:
    """Indicators sighted across the region, by nation, the most widely sighted first."""
    # A cleared field is "any": the form's box may be left empty. Only ASCII digits count:
    # "²".isdigit() is True but int() refuses it, and int() reads "١٢" as 12.
    text = min_nations.strip()
    least = int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else 1
    values = {k: request.query_params.get(k, "").strip()[:40] for k in ("sort", "limit")}
    order = parse_choice(SightedOrder, "sort", values["sort"] or "widest")
    request_page = PageRequest(parse_limit(values["limit"]), request.query_params.get("cursor"))
    found = sighted_page(page.ctx, max(1, least), order, request_page)
    return render(
        request,
        page,
        "intel/sightings.html",
        found=found,
        rows=found.items,
        min_nations=max(1, least),
        values=values,
        params=listing.kept({"min_nations": str(max(1, least)), **values}),
    )
