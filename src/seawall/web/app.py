"""The app factory: one FastAPI app per node, with its own metrics registry."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from prometheus_client import CollectorRegistry
from starlette.types import ASGIApp

from seawall import __version__
from seawall.catalogs import N_
from seawall.core.node import Node
from seawall.core.tlp import TLP_KEYS
from seawall.settings import Settings, load_settings
from seawall.web import said
from seawall.web.errors import install_error_handlers
from seawall.web.headers import SecurityHeaders
from seawall.web.humane import ago, decimal, readable, span
from seawall.web.i18n import size, when
from seawall.web.limits import BodyLimit
from seawall.web.metrics import HttpMetrics
from seawall.web.routers import (
    assess,
    assess_gaps,
    assess_region,
    assess_reports,
    assess_rounds,
    coop,
    coop_laws,
    core_api,
    embassy,
    embassy_hosting,
    federation,
    health,
    intel,
    intel_cases,
    intel_feeds,
    intel_lists,
    intel_objects,
    intel_sync,
    intel_techniques,
    taxii,
    ui,
)


@dataclass(frozen=True)
class PillarCard:
    """A pillar's place on the dashboard."""

    key: str
    title: str
    summary: str
    href: str | None


PILLARS = (
    PillarCard(
        "assess",
        N_("Maturity"),
        N_("CMM and GCI assessments, regional benchmarks, roadmaps."),
        "/assess",
    ),
    PillarCard(
        "intel",
        N_("Collective defence"),
        N_("STIX 2.1 sharing over TAXII with TLP 2.0 enforced."),
        "/intel",
    ),
    PillarCard(
        "embassy",
        N_("Data embassy"),
        N_("Encrypted, erasure-coded copies across partner sites."),
        "/embassy",
    ),
)


def _package_dir(name: str) -> Path:
    return Path(str(resources.files("seawall.web").joinpath(name)))


class SeawallApp(FastAPI):
    """The node's app, with its security headers outside every other layer."""

    def build_middleware_stack(self) -> ASGIApp:
        """Wrap Starlette's stack, whose outermost layer answers an unhandled error (500):
        middleware added inside it would never see that answer."""
        return SecurityHeaders(super().build_middleware_stack())


def create_app(settings: Settings | None = None, node: Node | None = None) -> FastAPI:
    """Build the app for a node; pass ``node`` to share one (tests inject clocks)."""
    node = node or Node(settings or load_settings())
    app = SeawallApp(
        title="Seawall",
        version=__version__,
        description="A nation's cyber-resilience node.",
        openapi_url="/api/v1/openapi.json",
        # Swagger and ReDoc pull scripts from a CDN; a node must work offline.
        docs_url=None,
        redoc_url=None,
    )
    app.state.node = node
    app.state.registry = CollectorRegistry()
    app.state.pillars = PILLARS
    templates = Jinja2Templates(directory=_package_dir("templates"))
    templates.env.globals["version"] = __version__
    templates.env.globals["tlp_choices"] = TLP_KEYS
    # `_` and `{% trans %}` in every template. render() and the error page put the request's
    # language in the context (i18n.page_words); anything rendered without it reads English.
    templates.env.add_extension("jinja2.ext.i18n")
    templates.env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    templates.env.globals["_"] = templates.env.globals["gettext"]
    templates.env.filters["when"] = when
    templates.env.filters["size"] = size
    templates.env.filters["run_summary"] = said.run_summary
    templates.env.filters["evidence_summary"] = said.evidence_summary
    templates.env.filters["pillar_name"] = said.pillar_name
    templates.env.filters.update(ago=ago, span=span, readable=readable, decimal=decimal)
    app.state.templates = templates
    install_error_handlers(app)
    # TAXII first: Starlette tries routes in order, and TAXII reads are the hot path.
    app.include_router(taxii.router)
    app.include_router(health.router)
    app.include_router(core_api.router)
    app.include_router(ui.router)
    app.include_router(embassy_hosting.ui)
    app.include_router(embassy.router)
    app.include_router(embassy_hosting.router)
    for maturity in (assess, assess_rounds, assess_gaps, assess_region, assess_reports):
        app.include_router(maturity.router)
    app.include_router(intel.router)
    app.include_router(intel_objects.router)
    app.include_router(intel_objects.api)
    app.include_router(intel_lists.api)
    app.include_router(intel_cases.router)
    app.include_router(intel_sync.router)
    app.include_router(intel_sync.api)
    app.include_router(intel_feeds.router)
    app.include_router(intel_techniques.router)
    app.include_router(intel_techniques.api)
    app.include_router(federation.router)
    app.include_router(coop.router)
    app.include_router(coop_laws.router)
    app.mount("/static", StaticFiles(directory=_package_dir("static")), name="static")
    app.add_middleware(
        BodyLimit,
        max_bytes=node.settings.max_body_bytes,
        own_limit=embassy_hosting.caps_own_body,
    )
    app.add_middleware(HttpMetrics, registry=app.state.registry)
    return app
