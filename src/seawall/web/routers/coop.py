"""Cooperation pages: programmes (list, page, add, edit, import, share), and the coverage of
maturity gaps; partner organisations are in :mod:`seawall.web.routers.coop_orgs`.

The pages translate forms into :mod:`seawall.coop.programmes` calls and ask
:mod:`seawall.web.gap_feed` for coverage and for the roadmap items a programme funds (the
maturity pillar's records, composed at the edge).
Who may write is the pillar's rule: a viewer's change answers 403 and writes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse

from seawall.catalogs import N_
from seawall.coop import exchange, organisations, programmes, sharing
from seawall.coop.fields import ProgrammeDraft, ProgrammeStatus, parse_budget, parse_date
from seawall.core.access import Perm, require
from seawall.core.nations import nation_name, shipped_regions
from seawall.db.models.coop import Programme
from seawall.errors import InvalidInput
from seawall.web.deps import Page, UiPage, node_of, read_form_csrf
from seawall.web.gap_feed import (
    DEFAULT_FRAMEWORK,
    catalogue,
    coverage_of_group,
    coverage_of_nation,
    fund_roadmap_items,
    funded_items,
    roadmap_choices,
)
from seawall.web.pages import attempt, page_gettext, render
from seawall.web.routers import coop_orgs

router = APIRouter(include_in_schema=False, dependencies=[Depends(read_form_csrf)])
router.include_router(coop_orgs.router)
Short = Annotated[str, Form(max_length=1000)]
Text = Annotated[str, Form(max_length=4000)]
FRAMEWORKS = ("cmm-2021", "sim3-v2", "nist-csf-2.0")
# A programme's status, as the pages show it (``_(p.status)``).
STATUS_WORDS = (N_("planned"), N_("ongoing"), N_("completed"), N_("cancelled"))


def _split(value: str) -> tuple[str, ...]:
    """A form's list: values separated by ``;``, commas or new lines."""
    return tuple(
        v.strip() for v in value.replace("\n", ";").replace(",", ";").split(";") if v.strip()
    )


@router.get("/coop", response_class=HTMLResponse)
def coop_home(request: Request, page: UiPage) -> HTMLResponse:
    """The pillar's home: its records and what they cover."""
    require(page.who, Perm.COOP_READ)
    return render(request, page, "coop/index.html")


class ProgrammeForm:
    """A programme's form fields, as the add and edit forms post them."""

    def __init__(
        self,
        name: Annotated[str, Form(max_length=300)],
        # Not ``ref``: the edit route's path names its programme so.
        reference: Annotated[str, Form(max_length=64, alias="ref")] = "",
        funders: Short = "",
        implementers: Short = "",
        beneficiaries: Short = "",
        addresses: Short = "",
        start: Annotated[str, Form(max_length=10)] = "",
        end: Annotated[str, Form(max_length=10)] = "",
        budget: Annotated[str, Form(max_length=32)] = "",
        currency: Annotated[str, Form(max_length=3)] = "",
        status: Annotated[str, Form(max_length=16)] = "planned",
        outputs: Text = "",
        sources: Text = "",
        description: Text = "",
        note: Text = "",
        shareable: Annotated[str, Form(max_length=8)] = "",
    ) -> None:
        self.values: dict[str, Any] = {
            "ref": reference, "name": name, "funders": funders, "implementers": implementers,
            "beneficiaries": beneficiaries, "addresses": addresses, "start": start, "end": end,
            "budget": budget, "currency": currency, "status": status, "outputs": outputs,
            "sources": sources, "description": description, "note": note,
            "shareable": bool(shareable),
        }  # fmt: skip

    def draft(self) -> ProgrammeDraft:
        """The draft the pillar checks (a bad date or budget is refused naming its field)."""
        v = self.values
        return ProgrammeDraft(
            ref=v["ref"],
            name=v["name"],
            description=v["description"],
            funders=_split(v["funders"]),
            implementers=_split(v["implementers"]),
            beneficiaries=_split(v["beneficiaries"]),
            addresses=_split(v["addresses"]),
            start=parse_date(v["start"], "start"),
            end=parse_date(v["end"], "end"),
            budget=parse_budget(v["budget"]),
            currency=v["currency"],
            status=v["status"],
            outputs=v["outputs"],
            sources=tuple(s.strip() for s in v["sources"].splitlines() if s.strip()),
            note=v["note"],
            shareable=v["shareable"],
        )


def form_of(row: Programme) -> dict[str, Any]:
    """A stored programme as the edit form shows it."""
    return {
        "ref": row.ref, "name": row.name, "funders": "; ".join(row.funders),
        "implementers": "; ".join(row.implementers),
        "beneficiaries": "; ".join(row.beneficiaries), "addresses": "; ".join(row.addresses),
        "start": row.start.isoformat() if row.start else "",
        "end": row.end.isoformat() if row.end else "",
        "budget": "" if row.budget is None else f"{row.budget:.2f}", "currency": row.currency,
        "status": row.status, "outputs": row.outputs, "sources": "\n".join(row.sources),
        "description": row.description, "note": row.note, "shareable": row.shareable,
    }  # fmt: skip


def _programmes_page(
    request: Request,
    page: Page,
    filters: dict[str, str] | None = None,
    status: int = 200,
    error: str = "",
    notice: str = "",
    form: dict[str, Any] | None = None,
    import_error: str = "",
) -> HTMLResponse:
    ctx = page.ctx
    filters = filters or {"nation": "", "partner": "", "factor": ""}
    rows = programmes.list_programmes(
        ctx,
        nation=filters["nation"] or None,
        partner=filters["partner"] or None,
        factor=filters["factor"] or None,
    )
    every = programmes.list_programmes(ctx)
    return render(
        request,
        page,
        "coop/programmes.html",
        status=status,
        error=error,
        notice=notice,
        import_error=import_error,
        rows=rows,
        filters=filters,
        partners=programmes.partners_named(every),
        nations=sorted({n for r in every for n in r.beneficiaries}),
        factors=sorted({a for r in every for a in r.addresses}),
        statuses=[s.value for s in ProgrammeStatus],
        form=form or {},
        nation_label=nation_name,
    )


@router.get("/coop/programmes", response_class=HTMLResponse)
def programmes_page(
    request: Request, page: UiPage, nation: str = "", partner: str = "", factor: str = ""
) -> HTMLResponse:
    """Programmes, filtered by beneficiary nation, partner and factor."""
    filters = {"nation": nation[:64], "partner": partner[:200], "factor": factor[:100]}
    return _programmes_page(request, page, filters)


@router.post("/coop/programmes", response_class=HTMLResponse)
def programme_add(
    request: Request, page: UiPage, posted: Annotated[ProgrammeForm, Depends()]
) -> HTMLResponse:
    """Record a programme of the caller's nation."""
    ctx = page.ctx
    with attempt(ctx) as tried:
        row, _ = programmes.save_programme(
            ctx, node_of(request).settings, posted.draft(), catalogue(ctx)
        )
    if tried.refused:
        return _programmes_page(
            request, page, status=tried.status, error=tried.error, form=posted.values
        )
    added = page_gettext(request).gettext("Programme %(ref)s added.") % {"ref": row.ref}
    return _programmes_page(request, page, notice=added)


@router.post("/coop/programmes/import", response_class=HTMLResponse)
def programmes_import(
    request: Request,
    page: UiPage,
    file: Annotated[UploadFile, File()],
    format: Annotated[str, Form(max_length=8)] = "",
) -> HTMLResponse:
    """Add or update the caller's nation's programmes from a CSV or JSON file: whole or
    nothing, the first bad row named on the form."""
    ctx = page.ctx
    name = Path(file.filename or "programmes.csv").name or "programmes.csv"
    chosen = format.strip().lower() or ("json" if name.lower().endswith(".json") else "csv")
    limit = node_of(request).settings.max_body_bytes
    with attempt(ctx) as tried:
        require(page.who, Perm.COOP_WRITE)
        data = file.file.read(limit + 1)
        if len(data) > limit:
            raise InvalidInput(
                f"{name} is over {limit:,} bytes; import it with `seawall coop programme import`"
            )
        try:
            done = exchange.import_programmes(
                ctx, node_of(request).settings, data, chosen, catalogue(ctx)
            )
        except InvalidInput as exc:
            raise type(exc)(f"{name}: {exc.message}") from None
    if tried.refused:
        return _programmes_page(request, page, status=tried.status, import_error=tried.error)
    notice = page_gettext(request).gettext(
        "Imported %(file)s: %(added)s added, %(updated)s updated, %(unchanged)s unchanged."
    ) % {
        "file": name,
        "added": len(done.added),
        "updated": len(done.updated),
        "unchanged": len(done.unchanged),
    }
    return _programmes_page(request, page, notice=notice)


def _organisation_ids(page: Page) -> dict[str, str]:
    """The partner organisations the caller may read, by name and acronym (any case)."""
    found: dict[str, str] = {}
    for org in organisations.list_organisations(page.ctx):
        for key in (org.name, org.acronym):
            # The caller's nation's record wins over one a nation shared with this hub.
            if key and (org.nation == page.who.nation or key.casefold() not in found):
                found[key.casefold()] = org.id
    return found


def _programme_page(
    request: Request,
    page: Page,
    ref: str,
    status: int = 200,
    error: str = "",
    notice: str = "",
    form: dict[str, Any] | None = None,
) -> HTMLResponse:
    row = programmes.get_programme(page.ctx, ref)
    return render(
        request,
        page,
        "coop/programme.html",
        status=status,
        error=error,
        notice=notice,
        p=row,
        funded=funded_items(page.ctx, row),
        choices=roadmap_choices(page.ctx, row),
        orgs=_organisation_ids(page),
        can_edit=sharing.may_edit(page.who, row),
        form=form or form_of(row),
        statuses=[s.value for s in ProgrammeStatus],
        nation_label=nation_name,
    )


@router.get("/coop/programmes/{ref}", response_class=HTMLResponse)
def programme_page(request: Request, page: UiPage, ref: str) -> HTMLResponse:
    """One programme, the roadmap items it funds, and for its nation's writers the form to
    change it and the share button."""
    return _programme_page(request, page, ref)


@router.post("/coop/programmes/{ref}", response_class=HTMLResponse)
def programme_edit(
    request: Request, page: UiPage, ref: str, posted: Annotated[ProgrammeForm, Depends()]
) -> HTMLResponse:
    """Change a programme of the caller's nation; its reference stays."""
    ctx = page.ctx
    with attempt(ctx) as tried:
        row, _ = programmes.update_programme(
            ctx, node_of(request).settings, ref, posted.draft(), catalogue(ctx)
        )
    if tried.refused:
        return _programme_page(request, page, ref, tried.status, tried.error, form=posted.values)
    saved = page_gettext(request).gettext("Programme %(ref)s saved.") % {"ref": row.ref}
    return _programme_page(request, page, row.id, notice=saved)


@router.post("/coop/programmes/{ref}/fund", response_class=HTMLResponse)
def programme_fund(
    request: Request,
    page: UiPage,
    ref: str,
    item: Annotated[list[str], Form(max_length=64)],
) -> HTMLResponse:
    """Name roadmap items of the programme's nation that it funds."""
    with attempt(page.ctx) as tried:
        row = fund_roadmap_items(page.ctx, ref, item[:100])
    if tried.refused:
        return _programme_page(request, page, ref, tried.status, tried.error)
    words = page_gettext(request).ngettext(
        "Programme %(ref)s funds %(num)s roadmap item.",
        "Programme %(ref)s funds %(num)s roadmap items.",
        len(row.funds_items),
    )
    notice = words % {"ref": row.ref, "num": len(row.funds_items)}
    return _programme_page(request, page, row.id, notice=notice)


def _share(request: Request, page: Page, ref: str, shareable: bool) -> HTMLResponse:
    ctx = page.ctx
    with attempt(ctx) as tried:
        row = programmes.set_shareable(ctx, node_of(request).settings, ref, shareable)
    if tried.refused:  # a programme the caller may not see answers 404 from get_programme
        return _programme_page(request, page, ref, tried.status, tried.error)
    gettext = page_gettext(request).gettext
    words = (
        gettext("Programme %(ref)s is shared with the nation's hubs.")
        if shareable
        else gettext("Programme %(ref)s is private.")
    )
    return _programme_page(request, page, row.id, notice=words % {"ref": row.ref})


@router.post("/coop/programmes/{ref}/share", response_class=HTMLResponse)
def programme_share(request: Request, page: UiPage, ref: str) -> HTMLResponse:
    """Share a programme with the hubs of the nation's groups."""
    return _share(request, page, ref, True)


@router.post("/coop/programmes/{ref}/unshare", response_class=HTMLResponse)
def programme_unshare(request: Request, page: UiPage, ref: str) -> HTMLResponse:
    """Make a programme private: its withdrawal goes to the hubs."""
    return _share(request, page, ref, False)


@router.get("/coop/coverage", response_class=HTMLResponse)
def coverage_page(
    request: Request,
    page: UiPage,
    nation: str = "",
    group: str = "",
    framework: str = DEFAULT_FRAMEWORK,
    default_target: str = "",
) -> HTMLResponse:
    """A heat map of nations against factors: uncovered gaps marked, duplication flagged."""
    ctx = page.ctx
    require(page.who, Perm.COOP_READ)
    target = int(default_target) if default_target.strip().isdigit() else None
    chosen_group = group.strip().upper()[:16]
    if chosen_group:
        coverage = coverage_of_group(ctx, chosen_group, framework[:64], target)
    else:
        coverage = coverage_of_nation(
            ctx, nation.strip()[:64] or page.who.nation, framework[:64], target
        )
    return render(
        request,
        page,
        "coop/coverage.html",
        coverage=coverage,
        chosen={
            "nation": nation,
            "group": chosen_group,
            "framework": framework,
            "default_target": default_target,
        },
        groups=[(r.code, r.name) for r in shipped_regions()],
        frameworks=FRAMEWORKS,
        nation_label=nation_name,
    )
