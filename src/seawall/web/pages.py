"""Pages: rendering a template for a request, in its language, and a form's failures.

Every UI router renders through :func:`render`, so each page gets the signed-in principal,
the node, the CSRF token and the page's words the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from babel.support import NullTranslations
from fastapi import Request
from fastapi.responses import HTMLResponse

from seawall.catalogs import translations
from seawall.core.access import Perm
from seawall.core.context import Ctx
from seawall.core.nations import nation_name
from seawall.errors import SeawallError
from seawall.web import i18n
from seawall.web.deps import Page, node_of
from seawall.web.errors import page_message


def language_of(request: Request) -> str:
    """The language a request is answered in (see :func:`seawall.web.i18n.choose`)."""
    return i18n.choose(request, node_of(request).settings.language).language


def page_gettext(request: Request) -> NullTranslations:
    """The request's catalog, for words a router puts on its page (a notice, a chart's)."""
    return translations(language_of(request))


def render(
    request: Request, page: Page | None, template: str, status: int = 200, **values: Any
) -> HTMLResponse:
    """Render a template with the signed-in principal, nation and CSRF token."""
    node = node_of(request)
    choice = i18n.choose(request, node.settings.language)
    context: dict[str, Any] = {
        "node_name": node.settings.node_name,
        "nation": node.nation,
        "nation_name": nation_name(node.nation),
        "who": page.who if page else None,
        "csrf": page.csrf if page else "",
        "now": page.ctx.now() if page else None,  # the node's clock, for the ``ago`` filter
        "Perm": Perm,
        "path": request.url.path,
        **i18n.page_words(choice.language, request),
        **{k: _said(v, choice.language) for k, v in values.items()},
    }
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request, template, context, status_code=status
    )
    if choice.remember:
        response.set_cookie(
            i18n.COOKIE,
            choice.language,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="lax",
            secure=node.settings.cookie_secure,
        )
    return response


def _said(value: Any, language: str) -> Any:
    """A form's refusal in ``language`` (a refused permission is said in it); else ``value``."""
    return page_message(value.failure, language) if isinstance(value, Refusal) else value


def form_status(exc: SeawallError) -> int:
    """The status a form page answers a refusal with: the error's own (403, 404, 409, 422),
    as the API would, so a refused change is never reported as a mere typing mistake."""
    return exc.http_status if 400 <= exc.http_status < 500 else 422


class Refusal(str):
    """A form's refusal as a page shows it: the failure's web message, keeping the failure so
    that :func:`render` says a refused permission in the page's language."""

    failure: SeawallError

    def __new__(cls, failure: SeawallError) -> Refusal:
        """The refusal of ``failure``."""
        said = super().__new__(cls, failure.web_message)
        said.failure = failure
        return said


@dataclass
class Attempt:
    """How a form's change went: refused (with the message and status to answer) or not."""

    refused: bool = False
    error: str = ""
    status: int = 200


@contextmanager
def attempt(ctx: Ctx, *, savepoint: bool = True) -> Iterator[Attempt]:
    """Try a form's change; a refusal (a :class:`SeawallError`) is kept to show on the form::

        with attempt(page.ctx) as tried:
            row = create_collection(page.ctx, ...)
        if tried.refused:  # answer it first: what the block assigns may be unset
            return _home(request, page, status=tried.status, error=tried.error)

    The change runs in a savepoint, so a refused one leaves nothing behind while the request's
    unit of work still commits. A form whose service records its own failures (a failed run)
    passes ``savepoint=False`` so that record stays.
    """
    tried = Attempt()
    try:
        with ctx.db.begin_nested() if savepoint else nullcontext():
            yield tried
    except SeawallError as exc:
        tried.refused, tried.error, tried.status = True, Refusal(exc), form_status(exc)
