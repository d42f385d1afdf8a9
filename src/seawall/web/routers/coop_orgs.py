"""Cooperation pages of partner organisations: the list by kind, an organisation's page with
the programmes it funds and implements, and the add and edit forms.

The pages translate forms into :mod:`seawall.coop.organisations` calls; who may write is the
pillar's rule (a viewer's change answers 403 and writes nothing). :mod:`seawall.web.routers.coop`
includes this router.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse

from seawall.catalogs import N_
from seawall.coop import organisations, programmes, sharing
from seawall.coop.fields import OrganisationDraft, OrgKind
from seawall.core.nations import nation_name
from seawall.db.models.coop import CoopOrganisation
from seawall.web.deps import Page, UiPage, node_of, read_form_csrf
from seawall.web.pages import attempt, page_gettext, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(read_form_csrf)])
# What each kind reads as on the pages.
KIND_WORDS = {
    OrgKind.DEVELOPMENT_PARTNER: N_("development partner"),
    OrgKind.REGIONAL_BODY: N_("regional body"),
    OrgKind.TRAINING_PROVIDER: N_("training provider"),
    OrgKind.CIRT: N_("CIRT"),
    OrgKind.GOVERNMENT: N_("government"),
    OrgKind.PRIVATE_SECTOR: N_("private sector"),
    OrgKind.ACADEMIA: N_("academia"),
    OrgKind.CIVIL_SOCIETY: N_("civil society"),
}


class OrganisationForm:
    """An organisation's form fields, as the add and edit forms post them."""

    def __init__(
        self,
        kind: Annotated[str, Form(max_length=32)],
        name: Annotated[str, Form(max_length=200)] = "",
        acronym: Annotated[str, Form(max_length=32)] = "",
        country: Annotated[str, Form(max_length=64)] = "",
        website: Annotated[str, Form(max_length=500)] = "",
        contact: Annotated[str, Form(max_length=200)] = "",
        note: Annotated[str, Form(max_length=4000)] = "",
        shareable: Annotated[str, Form(max_length=8)] = "",
    ) -> None:
        self.values: dict[str, Any] = {
            "name": name, "kind": kind, "acronym": acronym, "country": country,
            "website": website, "contact": contact, "note": note, "shareable": bool(shareable),
        }  # fmt: skip

    def draft(self) -> OrganisationDraft:
        """The draft the pillar checks."""
        return OrganisationDraft(**self.values)


def _kinds(request: Request) -> dict[str, str]:
    gettext = page_gettext(request).gettext
    return {kind.value: gettext(words) for kind, words in KIND_WORDS.items()}


def form_of(row: CoopOrganisation) -> dict[str, Any]:
    """A stored organisation as the edit form shows it."""
    return {
        "name": row.name, "kind": row.kind, "acronym": row.acronym, "country": row.country,
        "website": row.website, "contact": row.contact, "note": row.note,
        "shareable": row.shareable,
    }  # fmt: skip


def _list_page(
    request: Request,
    page: Page,
    kind: str = "",
    status: int = 200,
    error: str = "",
    notice: str = "",
    form: dict[str, Any] | None = None,
) -> HTMLResponse:
    kinds = _kinds(request)
    chosen = kind if kind in kinds else ""
    return render(
        request,
        page,
        "coop/organisations.html",
        status=status,
        error=error,
        notice=notice,
        rows=organisations.list_organisations(page.ctx, chosen or None),
        kind=chosen,
        kinds=kinds,
        form=form or {"kind": OrgKind.DEVELOPMENT_PARTNER.value},
        nation_label=nation_name,
    )


@router.get("/coop/organisations", response_class=HTMLResponse)
def organisations_page(request: Request, page: UiPage, kind: str = "") -> HTMLResponse:
    """The partner organisations, of one kind or all, and the form to add one."""
    return _list_page(request, page, kind[:32])


@router.post("/coop/organisations", response_class=HTMLResponse)
def organisation_add(
    request: Request, page: UiPage, posted: Annotated[OrganisationForm, Depends()]
) -> HTMLResponse:
    """Record a partner organisation of the caller's nation."""
    with attempt(page.ctx) as tried:
        row, _ = organisations.save_organisation(
            page.ctx, node_of(request).settings, posted.draft()
        )
    if tried.refused:
        return _list_page(request, page, status=tried.status, error=tried.error, form=posted.values)
    added = page_gettext(request).gettext("Partner organisation %(name)s added.")
    return _list_page(request, page, notice=added % {"name": row.name})


def _organisation_page(
    request: Request,
    page: Page,
    ref: str,
    status: int = 200,
    error: str = "",
    notice: str = "",
    form: dict[str, Any] | None = None,
) -> HTMLResponse:
    row = organisations.get_organisation(page.ctx, ref)
    funds, implements = programmes.of_partner(page.ctx, [row.name, row.acronym])
    return render(
        request,
        page,
        "coop/organisation.html",
        status=status,
        error=error,
        notice=notice,
        o=row,
        funds=funds,
        implements=implements,
        kinds=_kinds(request),
        can_edit=sharing.may_edit(page.who, row),
        form=form or form_of(row),
        nation_label=nation_name,
    )


@router.get("/coop/organisations/{ref}", response_class=HTMLResponse)
def organisation_page(request: Request, page: UiPage, ref: str) -> HTMLResponse:
    """An organisation (by id, name or acronym): the programmes it funds and implements."""
    return _organisation_page(request, page, ref)


@router.post("/coop/organisations/{ref}", response_class=HTMLResponse)
def organisation_edit(
    request: Request, page: UiPage, ref: str, posted: Annotated[OrganisationForm, Depends()]
) -> HTMLResponse:
    """Change a partner organisation of the caller's nation; its name stays."""
    with attempt(page.ctx) as tried:
        row, _ = organisations.update_organisation(
            page.ctx, node_of(request).settings, ref, posted.draft()
        )
    if tried.refused:
        return _organisation_page(request, page, ref, tried.status, tried.error, form=posted.values)
    saved = page_gettext(request).gettext("%(name)s saved.")
    return _organisation_page(request, page, row.id, notice=saved % {"name": row.name})
