"""One translator from failures to HTTP: JSON for the API, a page for people."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from seawall.catalogs import translations
from seawall.core.access import Perm
from seawall.core.logs import log
from seawall.core.nations import nation_name
from seawall.errors import Forbidden, SeawallError
from seawall.intel import taxii
from seawall.web import i18n


class ErrorBody(BaseModel):
    """Every API error: a stable code and a sentence saying what to do."""

    error: str
    message: str


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in {
        400: "Malformed request body",
        401: "Not authenticated",
        403: "Not allowed",
        404: "Not found",
        409: "Conflict",
        413: "Body too large",
        422: "Invalid input",
        503: "Database unavailable",
    }.items()
}


class LoginRequired(Exception):
    """A UI page was asked for without a live session."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def _wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/taxii2", "/healthz", "/metrics")):
        return False
    return "text/html" in request.headers.get("accept", "") or request.method == "GET"


def _taxii_error(status: int, code: str, message: str) -> Response:
    """An error outside the TAXII routes' own handling (no such route or method) as TAXII."""
    failure = SeawallError(message)
    failure.http_status, failure.code = status, code
    return JSONResponse(taxii.error_body(failure), status_code=status, media_type=taxii.MEDIA_TYPE)


def page_message(failure: SeawallError, language: str) -> str:
    """What a web page says of a failure: a refused permission in the page's language, else
    the failure's web message (English, pointing to pages rather than commands)."""
    if isinstance(failure, Forbidden) and failure.role and failure.action:
        words = translations(language)
        said = words.gettext("Your role (%(role)s) cannot %(action)s.") % {
            "role": failure.role,
            "action": words.gettext(failure.action),
        }
        ask = words.gettext("Ask a node admin for a role that allows it.")
        return f"{said} {ask}"
    return failure.web_message


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    failure: SeawallError | None = None,
) -> Response:
    """Render an error for whoever asked: JSON for clients, a page for browsers.

    Under ``/taxii2`` every answer is a TAXII error message in the TAXII media type
    (TAXII 2.1 §1.6.8), also for a path or method that no TAXII route serves. A page keeps
    the layout and navigation of whoever is signed in.
    """
    if request.url.path.startswith("/taxii2"):
        return _taxii_error(status, code, message)
    if _wants_html(request):
        from seawall.web.deps import signed_in  # deps needs LoginRequired from here

        templates = request.app.state.templates
        node = request.app.state.node
        language = i18n.choose(request, node.settings.language).language
        # A fragment asked for by htmx gets the bare card, never a second layout inside the page.
        fragment = bool(request.headers.get("hx-request"))
        who, csrf = (None if fragment else signed_in(request)) or (None, "")
        page: Response = templates.TemplateResponse(
            request,
            "error.html",
            {
                "status": status,
                "message": page_message(failure, language) if failure else message,
                "code": code,
                "who": who,
                "csrf": csrf,
                "Perm": Perm,
                "path": request.url.path,
                "node_name": node.settings.node_name,
                "nation": node.nation,
                "nation_name": nation_name(node.nation),
                **i18n.page_words(language, request),
            },
            status_code=status,
        )
        return page
    return JSONResponse({"error": code, "message": message}, status_code=status)


def _validation_message(exc: RequestValidationError) -> tuple[int, str, str]:
    first = exc.errors()[0] if exc.errors() else {}
    if first.get("type") == "json_invalid":
        reason = first.get("ctx", {}).get("error", "invalid JSON")
        return (
            400,
            "malformed_body",
            f"request body is not valid JSON ({reason}); send a JSON object",
        )
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "request"
    return 422, "invalid_input", f"{where}: {first.get('msg', 'invalid value')}"


def install_error_handlers(app: FastAPI) -> None:
    """Register the translators on an app."""

    @app.exception_handler(SeawallError)
    async def _seawall(request: Request, exc: SeawallError) -> Response:
        return error_response(request, exc.http_status, exc.code, exc.message, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        status, code, message = _validation_message(exc)
        return error_response(request, status, code, message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        response = error_response(request, exc.status_code, code, str(exc.detail))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": "/login"})
        where = urlencode({"next": exc.next_path}, safe="/")
        return Response(status_code=303, headers={"Location": f"/login?{where}"})

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> Response:
        ref = uuid.uuid4().hex[:12]
        log.exception("web.unhandled", ref=ref, path=request.url.path)
        return error_response(
            request, 500, "internal", f"internal error (ref {ref}); the node log has details"
        )
