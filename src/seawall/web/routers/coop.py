"""Cooperation pages: programmes, their detail, and the coverage of maturity gaps.

The pages translate forms into :mod:`seawall.coop.programmes` calls and ask
:mod:`seawall.web.gap_feed` for coverage (the maturity pillar's gaps, composed at the edge).
Who may write is the pillar's rule: a viewer's change answers 403 and writes nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse

from seawall.catalogs import N_
from seawall.coop import programmes
from seawall.coop.fields import ProgrammeDraft, ProgrammeStatus, parse_budget, parse_date
from seawall.core.access import Perm, require
from seawall.core.nations import nation_name, shipped_regions
from seawall.web.deps import Page, UiPage, read_form_csrf
from seawall.web.gap_feed import DEFAULT_FRAMEWORK, catalogue, coverage_of_group, coverage_of_nation
from seawall.web.pages import attempt, page_gettext, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(read_form_csrf)])
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


def _programmes_page(
    request: Request,
    page: Page,
    filters: dict[str, str],
    status: int = 200,
    error: str = "",
    notice: str = "",
    form: dict[str, Any] | None = None,
) -> HTMLResponse:
    ctx = page.ctx
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
    request: Request,
    page: UiPage,
    ref: Annotated[str, Form(max_length=64)],
    name: Annotated[str, Form(max_length=300)],
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
    shareable: Annotated[str, Form(max_length=8)] = "",
) -> HTMLResponse:
    """Record a programme of the caller's nation."""
    ctx = page.ctx
    filters = {"nation": "", "partner": "", "factor": ""}
    form: dict[str, Any] = {
        "ref": ref, "name": name, "funders": funders, "implementers": implementers,
        "beneficiaries": beneficiaries, "addresses": addresses, "start": start, "end": end,
        "budget": budget, "currency": currency, "status": status, "outputs": outputs,
        "sources": sources, "description": description, "shareable": bool(shareable),
    }  # fmt: skip
    with attempt(ctx) as tried:
        draft = ProgrammeDraft(
            ref=ref,
            name=name,
            description=description,
            funders=_split(funders),
            implementers=_split(implementers),
            beneficiaries=_split(beneficiaries),
            addresses=_split(addresses),
            start=parse_date(start, "start"),
            end=parse_date(end, "end"),
            budget=parse_budget(budget),
            currency=currency,
            status=status,
            outputs=outputs,
            sources=tuple(s.strip() for s in sources.splitlines() if s.strip()),
            shareable=bool(shareable),
        )
        row, _ = programmes.save_programme(
            ctx, request.app.state.node.settings, draft, catalogue(ctx)
        )
    if tried.refused:
        return _programmes_page(request, page, filters, tried.status, tried.error, form=form)
    added = page_gettext(request).gettext("Programme %(ref)s added.") % {"ref": row.ref}
    return _programmes_page(request, page, filters, notice=added)


@router.get("/coop/programmes/{ref}", response_class=HTMLResponse)
def programme_page(request: Request, page: UiPage, ref: str) -> HTMLResponse:
    """One programme, with its source nation when a nation shared it with this hub."""
    row = programmes.get_programme(page.ctx, ref)
    return render(request, page, "coop/programme.html", p=row, nation_label=nation_name)


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
