"""The node's pages, found as a person finds them: by following the links from the home page.

A page found this way is in every walk that uses :func:`walk`, so a new page is checked as soon
as something links to it. Pages of one shape (``/assess/rounds/<id>/gaps`` for every round) are
visited once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from playwright.sync_api import Error, Page

SKIP = ("/logout", "/static/", "/taxii2", "/api/", "/metrics")
DOWNLOADS = ("export", "/report", ".csv", ".json", ".pdf")
# An SVG link's href is an SVGAnimatedString, not a string: resolve its text the same way.
HREFS = "els => els.map(e => new URL(e.getAttribute('href'), document.baseURI).href)"
# A path segment that names one record (a UUID, a STIX id, a number, a code such as a nation's
# or a programme's) rather than a page.
_RECORD = re.compile(r"\d|--|^[0-9a-f]{8,}$|^[A-Z][A-Z-]+$")


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
        if any(d in path for d in DOWNLOADS):
            continue
        found.append(path)
    return found


def shape(path: str) -> str:
    """The page a path shows, whichever record it is about: ``/intel/cases/<>`` for every case."""
    parts = urlsplit(path)
    segments = ["<>" if _RECORD.search(s) else s for s in parts.path.split("/")]
    return "/".join(segments) + ("?" if parts.query else "")


def open_page(page: Page, path: str) -> bool:
    """Open a path in the page; False when it answers a download (an attachment) instead."""
    try:
        page.goto(path)
    except Error as exc:
        if "Download is starting" in exc.message:
            return False
        raise
    return True


def walk(page: Page, visit: Callable[[str], bool], start: str = "/", limit: int = 150) -> list[str]:
    """Visit each page shape once, breadth first from ``start``; ``visit`` opens a path in
    ``page`` (see :func:`open_page`) and checks what it likes, and answers False for a
    download. Answers the pages visited, in order."""
    seen: set[str] = set()
    shapes: set[str] = set()
    visited: list[str] = []
    queue = [start]
    while queue and len(visited) < limit:
        path = queue.pop(0)
        if path in seen or shape(path) in shapes:
            continue
        seen.add(path)
        shapes.add(shape(path))
        if not visit(path):
            continue
        visited.append(path)
        queue += [link for link in links(page) if link not in seen]
    return visited
