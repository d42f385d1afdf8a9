"""Liveness and metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from seawall import __version__
from seawall.web.deps import node_of
from seawall.web.errors import ERROR_RESPONSES

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """Whether the node can serve."""

    status: str
    nation: str
    version: str
    database: str


@router.get("/healthz", response_model=Health, responses={503: ERROR_RESPONSES[503]})
def healthz(request: Request) -> Health:
    """Check the database answers and the schema is current."""
    node = node_of(request)
    node.check_ready()
    return Health(
        status="ok", nation=node.nation, version=__version__, database=node.engine.dialect.name
    )


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def metrics(request: Request) -> Response:
    """Prometheus exposition."""
    return Response(generate_latest(request.app.state.registry), media_type=CONTENT_TYPE_LATEST)
