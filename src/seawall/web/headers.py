"""Security headers on every response: pages, the API, TAXII, static files and errors."""

from __future__ import annotations

import base64
import hashlib

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The one <style> element matplotlib writes into every SVG chart the maturity pages inline.
# Any other <style> element, and every stylesheet from elsewhere, is refused.
CHART_STYLE = "*{stroke-linejoin: round; stroke-linecap: butt}"


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


# Scripts only from our own files: no inline script, no handlers in attributes, no eval.
# Style attributes stay allowed (style-src-attr): the inline SVG charts style each shape in
# one, and the pages draw their bars' widths in one. A style attribute can neither run code
# nor load from elsewhere (img-src and font-src are 'self'); a <style> element, which could
# read a page through selectors, is refused unless it is the charts' own.
POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        f"style-src 'self' {_sha256(CHART_STYLE)}",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "content-security-policy": POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",  # frame-ancestors, for browsers that predate it
}


class SecurityHeaders:
    """Add :data:`HEADERS` to every HTTP response, keeping any a route set itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    if name not in headers:
                        headers.append(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
