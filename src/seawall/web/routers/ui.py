"""The server-rendered UI: login, dashboard, admin pages and the audit view."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from seawall.core import (
    alerts,
    audit,
    evidence,
    organisations,
    partners,
    signin,
    tokens,
    users,
    websessions,
)
from seawall.core.access import Perm, Role, require
from seawall.core.nations import groups_of
from seawall.core.paging import PageRequest, parse_day, parse_limit
from seawall.db.models.alerts import Alert
from seawall.errors import InvalidInput, parse_choice
from seawall.web import audit_view
from seawall.web.deps import (
    SESSION_COOKIE,
    UiPage,
    anonymous,
    node_of,
    read_form_csrf,
)
from seawall.web.home import state_of_nation
from seawall.web.pages import attempt, page_gettext, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(read_form_csrf)])
PageDep = UiPage
LOGIN_CSRF_COOKIE = "seawall_login_csrf"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    """The sign-in page; sets a double-submit CSRF cookie for the login form."""
    token = secrets.token_urlsafe(24)
    response = render(request, None, "login.html", next=_safe_next(next), login_csrf=token)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=node_of(request).settings.cookie_secure,
        max_age=1800,
    )
    return response


def _safe_next(value: str) -> str:
    # Only local paths: an open redirect would let a phishing link bounce through us, and
    # browsers read "/\\host" as "//host".
    return value if value.startswith("/") and not value.startswith(("//", "/\\")) else "/"


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    """Check the password; on success open a session and go to ``next``."""
    node = node_of(request)
    settings = node.settings
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf_token):
        return render(
            request,
            None,
            "login.html",
            status=403,
            next=_safe_next(next),
            login_csrf=expected,
            error=page_gettext(request).gettext("The sign-in form expired; please try again."),
        )
    with node.unit(anonymous(node, request)) as ctx:
        result = signin.sign_in(ctx, username, password, signin.SignInPolicy.of(settings))
        opened = (
            websessions.open_session(ctx, result.user, timedelta(minutes=settings.session_minutes))
            if result.user
            else None
        )
    if opened is None:
        # One answer for every refusal: the reason is in the audit log only.
        return render(
            request,
            None,
            "login.html",
            status=401,
            next=_safe_next(next),
            login_csrf=expected,
            # The same words as signin.REFUSED, in the page's language.
            error=page_gettext(request).gettext(
                "Sign-in failed: check the username and password. After repeated failures "
                "each try waits longer; try again in a few minutes."
            ),
            username=username,
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        opened.cookie,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        max_age=settings.session_minutes * 60,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, page: PageDep) -> Response:
    """Close the session."""
    websessions.close_session(page.ctx, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, page: PageDep, signins: bool = False) -> HTMLResponse:
    """The state of the nation: alerts, then each pillar's figures, partners, activity."""
    ctx = page.ctx
    open_alerts = alerts.list_alerts(ctx, limit=20)
    return render(
        request,
        page,
        "dashboard.html",
        open_alerts=open_alerts,
        can_ack=_can_ack(page, open_alerts),
        home=state_of_nation(ctx, sign_ins=signins),
        signins=signins,
        groups=groups_of(ctx.db, ctx.who.nation),
        evidence=evidence.list_evidence(ctx, limit=5),
        pillars={p.key: p for p in request.app.state.pillars},
    )


def _can_ack(page: PageDep, shown: list[Alert]) -> dict[str, bool]:
    """For each alert shown, whether the signed-in user may acknowledge it."""
    return {a.id: alerts.may_acknowledge(page.who, a) for a in shown}


def _alerts(request: Request, page: PageDep, status: int = 200, error: str = "") -> HTMLResponse:
    open_alerts = alerts.list_alerts(page.ctx)
    acknowledged = alerts.list_alerts(page.ctx, acknowledged=True, limit=50)
    return render(
        request,
        page,
        "alerts.html",
        status=status,
        error=error,
        open_alerts=open_alerts,
        acknowledged=acknowledged,
        can_ack=_can_ack(page, open_alerts),
    )


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, page: PageDep) -> HTMLResponse:
    """Open alerts and those acknowledged lately."""
    return _alerts(request, page)


@router.post("/alerts/{alert_id}/ack", response_class=HTMLResponse)
def alerts_ack(
    request: Request,
    alert_id: str,
    page: PageDep,
    back: Annotated[str, Form(max_length=20)] = "/alerts",
) -> Response:
    """Acknowledge an alert, then back to the page it was acknowledged from."""
    with attempt(page.ctx) as tried:
        alerts.acknowledge(page.ctx, alert_id)
    if tried.refused:
        return _alerts(request, page, tried.status, error=tried.error)
    return RedirectResponse("/" if back == "/" else "/alerts", status_code=303)


def _users(
    request: Request, page: PageDep, status: int = 200, error: str = "", notice: str = ""
) -> HTMLResponse:
    return render(
        request,
        page,
        "users.html",
        status=status,
        error=error,
        notice=notice,
        users=users.list_users(page.ctx),
        orgs=organisations.list_orgs(page.ctx),
        roles=[r.value for r in Role],
    )


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, page: PageDep) -> HTMLResponse:
    """Users of the nation, and a form to add one."""
    return _users(request, page)


@router.post("/admin/users", response_class=HTMLResponse)
def users_add(
    request: Request,
    page: PageDep,
    username: Annotated[str, Form(max_length=64)],
    role: Annotated[str, Form(max_length=16)],
    password: Annotated[str, Form(max_length=1024)],
    display_name: Annotated[str, Form(max_length=200)] = "",
    organisation: Annotated[str, Form(max_length=200)] = "",
) -> HTMLResponse:
    """Create a user; errors show on the same page and change nothing."""
    with attempt(page.ctx) as tried:
        user = users.add_user(
            page.ctx,
            username,
            role,
            password=password,
            org=organisation or None,
            display_name=display_name,
        )
    if tried.refused:
        return _users(request, page, tried.status, error=tried.error)
    created = page_gettext(request).gettext("User %(user)s created.")
    return _users(request, page, notice=created % {"user": user.username})


@router.post("/admin/partners/{ref}/{change}", response_class=HTMLResponse)
def partners_toggle(request: Request, ref: str, change: str, page: PageDep) -> HTMLResponse:
    """Disable or enable a partner (htmx swaps the row)."""
    if change not in ("disable", "enable"):
        raise InvalidInput(f"unknown change {change!r}: disable or enable")
    partner = partners.set_partner_disabled(page.ctx, ref, change == "disable")
    return render(request, page, "partials/partner_row.html", p=partner)


@router.post("/admin/users/{ref}/disable", response_class=HTMLResponse)
def users_disable(request: Request, ref: str, page: PageDep) -> HTMLResponse:
    """Disable a user (htmx swaps the row)."""
    user = users.set_disabled(page.ctx, ref, True)
    return render(request, page, "partials/user_row.html", u=user)


def _tokens(
    request: Request,
    page: PageDep,
    status: int = 200,
    error: str = "",
    issued: tokens.IssuedToken | None = None,
) -> HTMLResponse:
    return render(
        request,
        page,
        "tokens.html",
        status=status,
        error=error,
        issued=issued,
        tokens=tokens.list_tokens(page.ctx),
        scopes=sorted(p.value for p in page.who.permissions),
    )


@router.get("/admin/tokens", response_class=HTMLResponse)
def tokens_page(request: Request, page: PageDep) -> HTMLResponse:
    """The caller's tokens (the nation's for admins)."""
    return _tokens(request, page)


@router.post("/admin/tokens", response_class=HTMLResponse)
def tokens_create(
    request: Request,
    page: PageDep,
    name: Annotated[str, Form(max_length=100)],
    days: Annotated[int, Form(ge=1, le=3650)] = 90,
    scopes: Annotated[list[str] | None, Form()] = None,
) -> HTMLResponse:
    """Issue a token and show it once."""
    with attempt(page.ctx) as tried:
        issued = tokens.create_token(page.ctx, name, scopes or [], days)
    if tried.refused:
        return _tokens(request, page, tried.status, tried.error)
    return _tokens(request, page, 201, issued=issued)


@router.post("/admin/tokens/{token_id}/revoke", response_class=HTMLResponse)
def tokens_revoke(request: Request, token_id: str, page: PageDep) -> HTMLResponse:
    """Revoke a token (htmx swaps the row)."""
    row = tokens.revoke_token(page.ctx, token_id)
    owner = users.get_user(page.ctx, row.user_id)
    return render(request, page, "partials/token_row.html", t=row, owner=owner.username)


def _partners(
    request: Request, page: PageDep, status: int = 200, error: str = "", notice: str = ""
) -> HTMLResponse:
    return render(
        request,
        page,
        "partners.html",
        status=status,
        error=error,
        notice=notice,
        partners=partners.list_partners(page.ctx),
    )


@router.get("/admin/partners", response_class=HTMLResponse)
def partners_page(request: Request, page: PageDep) -> HTMLResponse:
    """Partner nodes and their trust settings."""
    return _partners(request, page)


@router.post("/admin/partners", response_class=HTMLResponse)
def partners_add(
    request: Request,
    page: PageDep,
    name: Annotated[str, Form(max_length=64)],
    nation: Annotated[str, Form(max_length=3)],
    url: Annotated[str, Form(max_length=500)],
    trust: Annotated[str, Form(max_length=16)] = "limited",
    max_tlp: Annotated[str, Form(max_length=16)] = "green",
    embassy_host: Annotated[bool, Form()] = False,
) -> HTMLResponse:
    """Register a partner node."""
    with attempt(page.ctx) as tried:
        p = partners.add_partner(
            page.ctx, name, nation, url, trust, max_tlp, embassy_host=embassy_host
        )
    if tried.refused:
        return _partners(request, page, tried.status, error=tried.error)
    added = page_gettext(request).gettext("Partner %(name)s added.")
    return _partners(request, page, 201, notice=added % {"name": p.name})


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, page: PageDep) -> HTMLResponse:
    """The audit log with filters, one page at a time; htmx reloads just the list."""
    fields = ("actor", "action", "target", "since", "until", "sort", "limit")
    values = {k: request.query_params.get(k, "").strip()[:200] for k in fields}
    found = audit.page(
        page.ctx,
        audit.AuditFilter(
            actor=values["actor"] or None,
            action=values["action"] or None,
            target=values["target"] or None,
            since=parse_day(values["since"], "since"),
            until=parse_day(values["until"], "until", day_end=True),
        ),
        PageRequest(parse_limit(values["limit"], 100), request.query_params.get("cursor")),
        parse_choice(audit.Order, "sort", values["sort"] or "newest").sort,
    )
    template = "partials/audit_list.html" if request.headers.get("hx-request") else "audit.html"
    return render(
        request,
        page,
        template,
        found=found,
        entries=found.items,
        targets=audit_view.targets(page.ctx.db, (e.target for e in found.items)),
        actor=values["actor"],
        action=values["action"],
        values=values,
        params={k: v for k, v in values.items() if v},
    )


@router.post("/audit/verify", response_class=HTMLResponse)
def audit_verify(request: Request, page: PageDep) -> HTMLResponse:
    """Walk the chain and show the verdict (htmx fragment)."""
    require(page.who, Perm.AUDIT_READ)
    result = audit.verify(page.ctx.db, node_of(request).audit_key)
    return render(request, page, "partials/audit_verdict.html", result=result)
