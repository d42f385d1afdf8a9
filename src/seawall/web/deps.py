"""Request-scoped dependencies: the node, the unit of work and who is calling."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from seawall.core import tokens, websessions
from seawall.core.access import Principal, Role
from seawall.core.context import Ctx
from seawall.core.node import Node
from seawall.core.users import principal_of
from seawall.errors import AuthenticationFailed, Forbidden, SeawallError
from seawall.web.errors import LoginRequired

SESSION_COOKIE = "seawall_session"
CSRF_HEADER = "x-csrf-token"


def node_of(request: Request) -> Node:
    """The node this app serves."""
    node: Node = request.app.state.node
    return node


def client_source(request: Request) -> str:
    """Where the request came from, for the audit log."""
    return request.client.host if request.client else "unknown"


def anonymous(node: Node, request: Request) -> Principal:
    """A caller not signed in, at the request's client address."""
    return Principal(
        "anonymous", node.nation, Role.VIEWER, scopes=frozenset(), source=client_source(request)
    )


def api_ctx(request: Request) -> Iterator[Ctx]:
    """A unit of work acting as the API caller (Bearer token, or Basic user:token)."""
    node = node_of(request)
    with node.unit(anonymous(node, request)) as ctx:
        ctx.who = authenticate_header(ctx, request.headers.get("authorization", ""))
        yield ctx


def authenticate_header(ctx: Ctx, header: str) -> Principal:
    """Resolve an Authorization header to a principal, or raise 401 with the reason."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value:
        return tokens.authenticate_token(ctx, value)
    if scheme.lower() == "basic" and value:
        try:
            user, _, secret = base64.b64decode(value, validate=True).decode().partition(":")
        except ValueError:  # binascii.Error, UnicodeDecodeError, and non-ASCII text
            raise AuthenticationFailed("malformed Basic credentials") from None
        return tokens.authenticate_token(ctx, secret, username=user)
    raise AuthenticationFailed(
        "authentication required: send 'Authorization: Bearer <token>' "
        "(create one with `seawall token create`)"
    )


@dataclass
class Page:
    """A signed-in UI request: its unit of work and the session's CSRF token."""

    ctx: Ctx
    csrf: str

    @property
    def who(self) -> Principal:
        """The signed-in principal."""
        return self.ctx.who


def ui_page(request: Request) -> Iterator[Page]:
    """A unit of work for a signed-in browser; checks CSRF on every state change."""
    node = node_of(request)
    cookie = request.cookies.get(SESSION_COOKIE, "")
    with node.unit(anonymous(node, request)) as ctx:
        found = websessions.resolve_session(ctx, cookie) if cookie else None
        if found is None:
            query = f"?{request.url.query}" if request.url.query else ""
            raise LoginRequired(request.url.path + query)  # back to the same page and query
        user, session = found
        ctx.who = principal_of(user, source=client_source(request))
        if request.method not in ("GET", "HEAD"):
            presented = request.headers.get(CSRF_HEADER) or getattr(request.state, "form_csrf", "")
            if not presented or not secrets.compare_digest(presented, session.csrf_token):
                raise Forbidden(
                    "the form has expired or did not come from this site; reload the page"
                )
        request.state.signed_in = (ctx.who, session.csrf_token)  # for an error page's layout
        yield Page(ctx, session.csrf_token)


def signed_in(request: Request) -> tuple[Principal, str] | None:
    """Who is signed in and the session's CSRF token, for a page that no route rendered (an
    error): kept by :func:`ui_page`, else read from the session cookie; None when nobody is."""
    kept: tuple[Principal, str] | None = getattr(request.state, "signed_in", None)
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if kept is not None or not cookie:
        return kept
    node = node_of(request)
    try:
        with node.unit(anonymous(node, request)) as ctx:
            found = websessions.resolve_session(ctx, cookie)
            if found is None:
                return None
            user, session = found
            return principal_of(user, source=client_source(request)), session.csrf_token
    except SeawallError:  # the database is what failed: the error page goes without the layout
        return None


async def read_form_csrf(request: Request) -> None:
    """Lift ``csrf_token`` out of a posted form so ``ui_page`` can check it."""
    if request.method == "POST" and "form" in request.headers.get("content-type", ""):
        form = await request.form()
        request.state.form_csrf = str(form.get("csrf_token", ""))


# scope="function": commit before the response is sent, so a client never acts on a change
# that is not yet durable (FastAPI's default "request" scope commits after sending).
ApiCtx = Annotated[Ctx, Depends(api_ctx, scope="function")]
UiPage = Annotated[Page, Depends(ui_page, scope="function")]
