"""ASGI middleware that refuses bodies over the limit before they are read."""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    """Answer 413 when a body exceeds ``max_bytes``, by header or by counting.

    ``own_limit`` says (from the method and path) which requests' routes cap their bodies
    themselves: embassy shares kept for a partner are larger than any form or TAXII envelope.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        own_limit: Callable[[str, str], bool] = lambda _method, _path: False,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.own_limit = own_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.own_limit(scope["method"], scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        taxii = scope.get("path", "").startswith("/taxii2")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send, taxii)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked_send)
        except _TooLarge:
            if not started:
                await self._refuse(send, taxii)

    async def _refuse(self, send: Send, taxii: bool) -> None:
        message = f"request body is over {self.max_bytes} bytes; send less per request"
        media = b"application/json"
        document: dict[str, str] = {"error": "payload_too_large", "message": message}
        if taxii:
            # TAXII 2.1 §3.6.1: errors use the TAXII error message resource and media type.
            media = b"application/taxii+json;version=2.1"
            document = {"title": "Payload too large", "http_status": "413", "description": message}
        body = json.dumps(document).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", media),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass
