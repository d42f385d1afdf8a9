"""Cooperation pages of laws and CIRTs: the harmonisation matrix and the CIRT directory.

The pages translate forms into :mod:`seawall.coop.laws` and :mod:`seawall.coop.cirts` calls;
who may write which nation's records is the pillar's rule (a viewer's change answers 403 and
writes nothing). The directory's SIM3 and sharing signals are composed by
:mod:`seawall.web.coop_signals`, as for ``seawall coop cirt list``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from seawall.coop import cirts, laws
from seawall.coop.matrix import KIND_NAMES, KINDS, STATUS_MEANINGS, STATUS_NAMES, STATUSES, UNKNOWN
from seawall.coop.matrix_export import matrix_csv, matrix_html, matrix_pdf
from seawall.coop.records import CirtNotFound, may_write
from seawall.core.access import Perm, require
from seawall.core.nations import nation_name, shipped_regions
from seawall.db.models.coop_laws import LegalInstrument, NationalCirt
from seawall.errors import NotFound
from seawall.web.coop_signals import gather_signals
from seawall.web.deps import Page, UiPage, node_of, read_form_csrf
from seawall.web.pages import attempt, language_of, page_gettext, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(read_form_csrf)])
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}
DEFAULT_GROUP = "CARICOM"
Text = Annotated[str, Form(max_length=4000)]
Short = Annotated[str, Form(max_length=1000)]


def _groups() -> list[tuple[str, str]]:
    return [(r.code, r.name) for r in shipped_regions()]


def _group(value: str) -> str | None:
    return value.strip().upper() or None


def _writable(page: Page) -> list[str]:
    """The nations the caller may enter records for, of its own and the shipped regions'."""
    if not page.who.can(Perm.COOP_WRITE):
        return []
    candidates = {page.who.nation, *(n for r in shipped_regions() for n in r.members)}
    return [n for n in sorted(candidates) if may_write(page.ctx, n)]


def _words(request: Request) -> dict[str, Any]:
    gettext = page_gettext(request).gettext
    return {
        "kind_names": {k: gettext(v) for k, v in KIND_NAMES.items()},
        "status_names": {k: gettext(v) for k, v in STATUS_NAMES.items()},
        "legend": [(s, gettext(STATUS_MEANINGS[s])) for s in (*STATUSES, UNKNOWN)],
    }


def _matrix_page(
    request: Request, page: Page, group: str, status: int = 200, **values: Any
) -> HTMLResponse:
    ctx = page.ctx
    chosen = _group(group)
    matrix = laws.harmonisation_matrix(ctx, chosen)
    return render(
        request,
        page,
        "coop/laws.html",
        status,
        m=matrix,
        names={n: nation_name(n) for n in matrix.nations},
        group=chosen or "",
        groups=_groups(),
        instruments=laws.list_instruments(ctx, group=chosen)
        if chosen
        else laws.list_instruments(ctx),
        writable=_writable(page),
        kinds=KINDS,
        statuses=STATUSES,
        form=values.pop("form", {}),
        **_words(request),
        **values,
    )


@router.get("/coop/laws", response_class=HTMLResponse)
def matrix_page(request: Request, page: UiPage, group: str = "") -> HTMLResponse:
    """The harmonisation matrix (a region group's members, or every nation on record), its
    downloads, and the form to add an instrument for whoever may write."""
    require(page.who, Perm.COOP_READ)
    return _matrix_page(request, page, group)


@router.get("/coop/laws/matrix.{fmt}")
def matrix_download(
    request: Request, page: UiPage, fmt: Literal["csv", "html", "pdf"], group: str = ""
) -> Response:
    """The matrix as CSV, a self-contained HTML document or a landscape PDF, in the page's
    language, as a download."""
    ctx = page.ctx
    chosen = _group(group)
    matrix = laws.harmonisation_matrix(ctx, chosen)
    if fmt == "csv":
        data = matrix_csv(matrix)
    else:
        html = matrix_html(matrix, ctx.now(), chosen, language_of(request))
        data = html.encode() if fmt == "html" else matrix_pdf(html)
    name = f"harmonisation-matrix{'-' + chosen.lower() if chosen else ''}.{fmt}"
    # Each is a download: the HTML document carries its own <style>, which this site's
    # Content-Security-Policy would refuse if it were opened here.
    return Response(
        data,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _flag(value: str) -> bool:
    return value.strip().lower() in ("on", "true", "1", "yes")


@router.post("/coop/laws", response_class=HTMLResponse)
def matrix_add(
    request: Request,
    page: UiPage,
    nation: Annotated[str, Form(max_length=60)],
    kind: Annotated[str, Form(max_length=40)],
    title: Annotated[str, Form(max_length=300)],
    status: Annotated[str, Form(max_length=20)],
    source: Short,
    date: Annotated[str, Form(max_length=20)] = "",
    note: Text = "",
    sample: Annotated[str, Form(max_length=10)] = "",
    group: Annotated[str, Form(max_length=20)] = "",
) -> HTMLResponse:
    """Record an instrument, as ``seawall coop law add`` does."""
    values: dict[str, Any] = {"nation": nation, "kind": kind, "title": title, "status": status}
    values |= {"date": date, "source": source, "note": note, "sample": _flag(sample)}
    with attempt(page.ctx) as tried:
        row = laws.add_instrument(page.ctx, settings=node_of(request).settings, **values)
    if tried.refused:
        return _matrix_page(request, page, group, tried.status, error=tried.error, form=values)
    said = page_gettext(request).gettext("Added %(title)s (%(nation)s).")
    return _matrix_page(
        request, page, group, notice=said % {"title": row.title, "nation": row.nation}
    )


def _instrument_page(
    request: Request, page: Page, row: LegalInstrument, status: int = 200, **values: Any
) -> HTMLResponse:
    return render(
        request,
        page,
        "coop/laws_instrument.html",
        status,
        row=row,
        can_edit=may_write(page.ctx, row.nation),
        statuses=STATUSES,
        **_words(request),
        **values,
    )


@router.get("/coop/laws/{instrument_id}", response_class=HTMLResponse)
def instrument_page(request: Request, page: UiPage, instrument_id: str) -> HTMLResponse:
    """One instrument, and the form to change it for whoever may write its nation's."""
    return _instrument_page(request, page, laws.get_instrument(page.ctx, instrument_id))


@router.post("/coop/laws/{instrument_id}", response_class=HTMLResponse)
def instrument_update(
    request: Request,
    page: UiPage,
    instrument_id: str,
    title: Annotated[str, Form(max_length=300)],
    status: Annotated[str, Form(max_length=20)],
    source: Short,
    date: Annotated[str, Form(max_length=20)] = "",
    note: Text = "",
) -> HTMLResponse:
    """Change an instrument's title, status, date, source or note, as ``law update`` does."""
    ctx = page.ctx
    changes = {"title": title, "status": status, "date": date, "source": source, "note": note}
    with attempt(ctx) as tried:
        laws.update_instrument(ctx, instrument_id, settings=node_of(request).settings, **changes)
    row = laws.get_instrument(ctx, instrument_id)
    if tried.refused:
        return _instrument_page(request, page, row, tried.status, error=tried.error)
    said = page_gettext(request).gettext("Saved %(title)s.")
    return _instrument_page(request, page, row, notice=said % {"title": row.title})


def _directory_page(
    request: Request, page: Page, group: str, status: int = 200, **values: Any
) -> HTMLResponse:
    ctx = page.ctx
    chosen = _group(group) or DEFAULT_GROUP
    signals = gather_signals(ctx, chosen)
    entries = cirts.list_cirts(ctx, chosen)
    figures = cirts.directory_figures(ctx, chosen, signals)
    listed = {e.nation for e in entries}
    return render(
        request,
        page,
        "coop/cirts.html",
        status,
        entries=entries,
        signals=signals,
        figures=figures,
        group=chosen,
        groups=_groups(),
        missing=[n for n in figures.members if n not in listed],
        writable=_writable(page),
        categories=cirts.SIM3_CATEGORIES,
        **values,
    )


@router.get("/coop/cirts", response_class=HTMLResponse)
def directory_page(request: Request, page: UiPage, group: str = DEFAULT_GROUP) -> HTMLResponse:
    """A region group's national CIRTs, each with its latest SIM3 self-assessment and whether
    its nation shares intelligence, and the group's figures."""
    require(page.who, Perm.COOP_READ)
    return _directory_page(request, page, group)


def _entry_form(row: NationalCirt | None, nation: str) -> dict[str, Any]:
    if row is None:
        return {"nation": nation}
    record = cirts.cirt_record(row)
    contacts = record.pop("contacts")
    return {**record, **contacts, "services": "\n".join(record["services"])}


def _entry_page(
    request: Request,
    page: Page,
    nation: str,
    status: int = 200,
    form: dict[str, Any] | None = None,
    **values: Any,
) -> HTMLResponse:
    ctx = page.ctx
    try:
        row: NationalCirt | None = cirts.get_cirt(ctx, nation)
    except NotFound:
        row = None
    code = row.nation if row else nation.strip().upper()
    can_edit = may_write(ctx, code)
    if row is None and not can_edit and not form:
        raise CirtNotFound(f"no CIRT entry for {nation!r} in the directory")
    return render(
        request,
        page,
        "coop/cirts_entry.html",
        status,
        row=row,
        code=code,
        can_edit=can_edit,
        form=form or _entry_form(row, code),
        statuses=cirts.STATUSES,
        ti_statuses=cirts.TI_STATUSES,
        **values,
    )


@router.get("/coop/cirts/{nation}", response_class=HTMLResponse)
def entry_page(request: Request, page: UiPage, nation: str) -> HTMLResponse:
    """A nation's CIRT entry, and the form to add or replace it for whoever may write it."""
    require(page.who, Perm.COOP_READ)
    return _entry_page(request, page, nation)


@router.post("/coop/cirts", response_class=HTMLResponse)
def entry_save(
    request: Request,
    page: UiPage,
    nation: Annotated[str, Form(max_length=60)],
    name: Annotated[str, Form(max_length=200)],
    status: Annotated[str, Form(max_length=20)],
    source: Short,
    established: Annotated[str, Form(max_length=20)] = "",
    mandate: Text = "",
    constituency: Text = "",
    services: Text = "",
    email: Annotated[str, Form(max_length=254)] = "",
    phone: Annotated[str, Form(max_length=60)] = "",
    website: Short = "",
    pgp_fingerprint: Annotated[str, Form(max_length=100)] = "",
    first_url: Short = "",
    ti_url: Short = "",
    ti_status: Annotated[str, Form(max_length=20)] = "",
    note: Text = "",
    sample: Annotated[str, Form(max_length=10)] = "",
) -> HTMLResponse:
    """Add a nation's CIRT entry or replace it, as ``seawall coop cirt add`` does."""
    values: dict[str, Any] = {
        "nation": nation,
        "name": name,
        "status": status,
        "source": source,
        "established": established,
        "mandate": mandate,
        "constituency": constituency,
        # one service a line in the form; the pillar reads them separated by ";"
        "services": [s.strip() for s in services.splitlines() if s.strip()],
        "email": email,
        "phone": phone,
        "website": website,
        "pgp_fingerprint": pgp_fingerprint,
        "first_url": first_url,
        "ti_url": ti_url,
        "ti_status": ti_status,
        "note": note,
        "sample": _flag(sample),
    }
    with attempt(page.ctx) as tried:
        row, outcome = cirts.save_cirt(page.ctx, settings=node_of(request).settings, **values)
    if tried.refused:
        form = {**values, "services": services}
        return _entry_page(request, page, nation, tried.status, form=form, error=tried.error)
    gettext = page_gettext(request).gettext
    said = {
        "added": gettext("Added %(name)s to the directory."),
        "updated": gettext("Saved %(name)s."),
        "unchanged": gettext("Nothing changed in %(name)s."),
    }[outcome]
    return _entry_page(request, page, row.nation, notice=said % {"name": row.name})
