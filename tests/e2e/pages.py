"""The node's pages, found as a person finds them: by following the links from the home page.

A page found this way is in every walk that uses :func:`walk`, so a new page is checked as soon
as something links to it. Pages of one shape (``/assess/rounds/<id>/gaps`` for every round) are
visited once; an object page once for each STIX type. :func:`page_routes` lists every page the
web app can answer, so a test can tell which of them no walk reached.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from fastapi.routing import APIRoute
from playwright.sync_api import Error, Page

SKIP = ("/logout", "/static/", "/taxii2", "/api/", "/metrics")
# A download: an export, a report (not a STIX report's page), a file by its extension.
DOWNLOAD = re.compile(r"/(export|report)(\.[a-z]+)?(\?|$)|\.(csv|json|pdf)(\?|$)")
# An SVG link's href is an SVGAnimatedString, not a string: resolve its text the same way.
HREFS = "els => els.map(e => new URL(e.getAttribute('href'), document.baseURI).href)"
# A path segment that names one record (a UUID, a STIX id, a number, a code such as a nation's
# or a programme's) rather than a page.
_RECORD = re.compile(r"\d|--|^[0-9a-f]{8,}$|^[A-Z][A-Z-]+$")
# A STIX id: its type makes a page of its own shape (a sighting's page is not an indicator's).
_STIX_ID = re.compile(r"^([a-z][a-z0-9-]*)--[0-9a-f-]{36}$")
# Routes that are no page to look at, and why; every other GET route must be walked.
NOT_PAGES = {
    "/healthz": "a probe's JSON for a load balancer",
    "/metrics": "Prometheus text for a scraper",
    "/assess/rounds/{round_id}/export.{fmt}": "a CSV or JSON download",
    "/assess/index/export.{fmt}": "a CSV or JSON download",
    "/assess/region/export.{fmt}": "a CSV or JSON download",
    "/assess/region/panel.{fmt}": "a CSV or JSON download",
    "/coop/laws/matrix.{fmt}": "a CSV or JSON download",
    "/assess/rounds/{round_id}/consensus/summary": "an htmx fragment of the consensus page",
}


def links(page: Page) -> list[str]:
    """The page's links to other pages of this node (no downloads, sign-out or language links)."""
    hrefs: list[str] = page.eval_on_selector_all("a[href]", HREFS)
    here = urlsplit(page.url)
    found = []
    for href in hrefs:
        parts = urlsplit(href)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if parts.netloc != here.netloc or path.startswith(SKIP) or "lang=" in parts.query:
            continue
        if DOWNLOAD.search(path):
            continue
        found.append(path)
    return found


def shape(path: str) -> str:
    """The page a path shows, whichever record it is about: ``/intel/cases/<>`` for every case."""
    parts = urlsplit(path)
    segments = parts.path.split("/")
    # A collection's alias and a rating sheet's group name a record too: one stands for all.
    segments = [
        "<>" if i and segments[i - 1] in ("collections", "rate") else _segment_shape(s)
        for i, s in enumerate(segments)
    ]
    return "/".join(segments) + ("?" if parts.query else "")


def _segment_shape(segment: str) -> str:
    stix = _STIX_ID.match(segment)
    if stix:
        return f"<{stix.group(1)}>"
    return "<>" if _RECORD.search(segment) else segment


def page_routes(app: Any) -> dict[str, re.Pattern[str]]:
    """Every GET route of the web app that is not the API, TAXII or a static file, with the
    pattern of the paths it answers: the pages a person can open."""
    routes: list[Any] = []
    pending = list(app.routes)
    while pending:
        route = pending.pop()
        # FastAPI keeps each included router's routes in it.
        pending += getattr(getattr(route, "original_router", None), "routes", [])
        if isinstance(route, APIRoute) and "GET" in route.methods:
            routes.append(route)
    return {
        route.path: route.path_regex
        for route in routes
        if not route.path.startswith(("/api/", "/taxii2"))
    }


def unwalked(routes: dict[str, re.Pattern[str]], paths: Iterable[str]) -> set[str]:
    """The routes none of ``paths`` reached, less those that are no page (:data:`NOT_PAGES`)."""
    reached = {
        route
        for path in paths
        for route, pattern in routes.items()
        if pattern.match(urlsplit(path).path)
    }
    return set(routes) - reached - set(NOT_PAGES)


def open_page(page: Page, path: str) -> bool:
    """Open a path in the page; False when it answers a download (an attachment) instead."""
    try:
        page.goto(path)
    except Error as exc:
        if "Download is starting" in exc.message:
            return False
        raise
    return True


def walk(
    page: Page,
    visit: Callable[[str], bool],
    start: str = "/",
    limit: int = 150,
    also: Iterable[str] = (),
) -> list[str]:
    """Visit each page shape once, breadth first from ``start``, then each of ``also`` (pages
    no link leads to, visited whatever their shape) and what they link to; ``visit`` opens a
    path in ``page`` (see :func:`open_page`) and checks what it likes, and answers False for
    a download. Answers the pages visited, in order."""
    seen: set[str] = set()
    shapes: set[str] = set()
    visited: list[str] = []
    asked = list(also)
    queue = [start]
    while (queue or asked) and len(visited) < limit:
        if queue:
            path = queue.pop(0)
            if path in seen or shape(path) in shapes:
                continue
        else:
            path = asked.pop(0)
        seen.add(path)
        shapes.add(shape(path))
        if not visit(path):
            continue
        visited.append(path)
        queue += [link for link in links(page) if link not in seen]
    return visited
