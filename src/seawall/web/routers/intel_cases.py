"""Case pages: the filtered, paged list, and one case with its search-to-link box, the
opener's status and severity, the nation's assignee and tasks, and the timeline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from seawall.core.access import Perm, require
from seawall.core.paging import PageRequest, parse_limit
from seawall.errors import InvalidInput
from seawall.intel import cases as casework
from seawall.intel import search, techniques
from seawall.intel.cases import CaseQuery, Severity, Sort, Status, TaskState
from seawall.intel.tlp import Tlp
from seawall.web.deps import UiPage, read_form_csrf
from seawall.web.pages import attempt, page_gettext, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(read_form_csrf)])

FILTERS = (
    "status",
    "severity",
    "assignee",
    "mine",
    "tlp",
    "nation",
    "opened_from",
    "opened_until",
    "sort",
    "limit",
)


def _query(params: dict[str, str]) -> CaseQuery:
    """The list's filters from the query string (unknown words are refused, empty ones
    mean any)."""
    return CaseQuery.parse(
        params.get("status", ""),
        params.get("severity", ""),
        params.get("assignee", ""),
        params.get("mine") == "1",
        params.get("tlp", ""),
        params.get("nation", ""),
        params.get("opened_from", ""),
        params.get("opened_until", ""),
        params.get("sort", ""),
    )


def _cases_page(request: Request, page: UiPage, status: int = 200, error: str = "") -> HTMLResponse:
    params = {k: v.strip() for k, v in request.query_params.items() if k in FILTERS and v.strip()}
    listed = None
    with attempt(page.ctx) as tried:
        request_page = PageRequest(
            parse_limit(params.get("limit")), request.query_params.get("cursor") or None
        )
        listed = casework.find_cases(page.ctx, _query(params), request_page)
    if tried.refused:
        status, error = tried.status, tried.error
    return render(
        request,
        page,
        "intel/cases.html",
        status=status,
        error=error,
        listed=listed,
        params=params,
        statuses=[s.value for s in Status],
        severities=[s.value for s in Severity],
        levels=list(Tlp),
        sorts=[s.value for s in Sort],
        people=casework.assignable_users(page.ctx),
        collections=search.writable_collections(page.ctx),
    )


@router.get("/intel/cases", response_class=HTMLResponse)
def intel_cases(request: Request, page: UiPage) -> HTMLResponse:
    """The cases the user may see, filtered, sorted and paged, and a form to open one."""
    require(page.who, Perm.INTEL_READ)
    return _cases_page(request, page)


@router.post("/intel/cases", response_class=HTMLResponse, response_model=None)
def intel_case_open(
    request: Request,
    page: UiPage,
    title: Annotated[str, Form(max_length=200)],
    collection: Annotated[str, Form(max_length=64)],
    description: Annotated[str, Form(max_length=4000)] = "",
    incident_type: Annotated[str, Form(max_length=100)] = "",
    severity: Annotated[str, Form(max_length=16)] = "medium",
) -> HTMLResponse | RedirectResponse:
    """Open a case; errors show on the list page and change nothing."""
    with attempt(page.ctx) as tried:
        types = tuple(t for t in [incident_type.strip()] if t)
        level = casework.parse_severity(severity or "medium")
        opened = casework.open_case(page.ctx, collection, title, description, types, severity=level)
    if tried.refused:
        return _cases_page(request, page, status=tried.status, error=tried.error)
    return RedirectResponse(f"/intel/cases/{opened.id}", status_code=303)


def _case_page(
    request: Request, page: UiPage, ref: str, status: int = 200, error: str = ""
) -> HTMLResponse:
    found = casework.show_case(page.ctx, ref)
    words = page_gettext(request)
    # After a change the page is reached by redirect; ?updated= says what changed.
    notice = {
        "note": words.gettext("Note added."),
        "link": words.gettext("Linked."),
        "status": words.gettext("Status and determination saved."),
        "assign": words.gettext("Assignee saved."),
        "task": words.gettext("Tasks saved."),
    }.get(request.query_params.get("updated", ""), "")
    text = request.query_params.get("q", "").strip()[:200]
    hits = None
    if text and page.who.can(Perm.INTEL_WRITE):
        with attempt(page.ctx) as tried:
            hits = casework.search_linkable(page.ctx, found.id, text)
        if tried.refused:
            status, error = tried.status, tried.error
    return render(
        request,
        page,
        "intel/case.html",
        status=status,
        error=error,
        notice=notice,
        case=found,
        q=text,
        hits=hits,
        people=casework.assignable_users(page.ctx),
        statuses=[s.value for s in Status],
        determinations=[d.value for d in casework.Determination],
        severities=[s.value for s in Severity],
        techniques=techniques.case_techniques(
            page.ctx, [e.target_id for e in found.timeline if e.target_name]
        ),
    )


@router.get("/intel/cases/{ref}", response_class=HTMLResponse)
def intel_case(request: Request, ref: str, page: UiPage) -> HTMLResponse:
    """One case: its state, the nations on it, the nation's work, and its timeline; ``?q=``
    searches for objects to link."""
    return _case_page(request, page, ref)


@router.post("/intel/cases/{ref}", response_class=HTMLResponse, response_model=None)
def intel_case_change(
    request: Request,
    ref: str,
    page: UiPage,
    action: Annotated[str, Form(max_length=16)],
    text: Annotated[str, Form(max_length=4000)] = "",
    object_id: Annotated[list[str] | None, Form(max_length=300)] = None,
    tlp: Annotated[str, Form(max_length=16)] = "",
    status: Annotated[str, Form(max_length=16)] = "",
    determination: Annotated[str, Form(max_length=16)] = "",
    severity: Annotated[str, Form(max_length=16)] = "",
    assignee: Annotated[str, Form(max_length=64)] = "",
    task: Annotated[str, Form(max_length=36)] = "",
    title: Annotated[str, Form(max_length=200)] = "",
) -> HTMLResponse | RedirectResponse:
    """Add a note or links, change the status or severity, assign the case, or work its
    tasks; errors show on the case page and change nothing."""
    ctx = page.ctx
    with attempt(ctx) as tried:
        if action == "note":
            changed = casework.add_note(ctx, ref, text, tlp or None)
        elif action == "link":
            chosen = [o for o in object_id or [] if o.strip()][:100]
            if not chosen:
                raise InvalidInput("choose what to link: tick a search hit or give an id")
            changed = casework.link_objects(ctx, ref, chosen, text)
        elif action == "status":
            changed = casework.set_status(
                ctx,
                ref,
                casework.parse_status(status) if status else None,
                casework.parse_determination(determination) if determination else None,
                casework.parse_severity(severity) if severity else None,
            )
        elif action == "assign":
            changed = casework.assign(ctx, ref, assignee or None)
        elif action == "task_add":
            changed = casework.add_task(ctx, ref, title, assignee or None)
        elif action in ("task_done", "task_reopen"):
            to = TaskState.DONE if action == "task_done" else TaskState.OPEN
            changed = casework.set_task_state(ctx, ref, task, to)
        elif action in ("task_up", "task_down"):
            changed = casework.shift_task(ctx, ref, task, -1 if action == "task_up" else 1)
        elif action == "task_delete":
            changed = casework.delete_task(ctx, ref, task)
        else:
            raise InvalidInput(f"unknown action {action!r}: note, link, status, assign or a task's")
    if tried.refused:
        return _case_page(request, page, ref, status=tried.status, error=tried.error)
    said = "task" if action.startswith("task_") else action
    return RedirectResponse(f"/intel/cases/{changed.id}?updated={said}", status_code=303)
