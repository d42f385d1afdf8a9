"""``/api/v1/federation``: signed packages partner nodes deliver to this node.

The route only translates: the core's inbox (:mod:`seawall.core.federation.inbox`) decides
who may deliver and remembers what arrived; each pillar's receiver opens and stores its kind.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from seawall.assess.publication import ROUND_RECEIVER
from seawall.coop.sharing import COOP_RECEIVER
from seawall.core.federation import inbox
from seawall.core.federation.delivery import PACKAGE_MEDIA_TYPE
from seawall.errors import InvalidInput, PayloadTooLarge
from seawall.web.errors import ERROR_RESPONSES
from seawall.web.routers.taxii import as_caller

router = APIRouter(prefix="/api/v1/federation", tags=["federation"], responses=ERROR_RESPONSES)

# The package kinds this node takes, one receiver per pillar.
RECEIVERS = (ROUND_RECEIVER, COOP_RECEIVER)


class DeliveredOut(BaseModel):
    """What became of a delivered package."""

    model_config = ConfigDict(extra="allow")

    outcome: str
    duplicate: bool
    error: str | None = None
    message: str | None = None


@router.post(
    "/packages",
    response_model=DeliveredOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {PACKAGE_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def deliver_package(request: Request) -> Any:
    """Take a signed package from a partner node's account: stored once, or refused with the
    error's code (a refusal is an answer, not an error, so the sender stops sending it)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != PACKAGE_MEDIA_TYPE:
        raise InvalidInput(f"send the package as {PACKAGE_MEDIA_TYPE}, not {kind or 'nothing'}")
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > inbox.MAX_DELIVERY_BYTES:
        raise PayloadTooLarge(f"a package is at most {inbox.MAX_DELIVERY_BYTES} bytes")
    data = await request.body()
    if len(data) > inbox.MAX_DELIVERY_BYTES:
        raise PayloadTooLarge(f"a package is at most {inbox.MAX_DELIVERY_BYTES} bytes")
    # Authenticated and received in one worker-thread hop, as TAXII writes are.
    return await as_caller(request, lambda ctx: inbox.receive(ctx, data, RECEIVERS))
