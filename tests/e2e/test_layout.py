"""Every page fits a phone: at 390 px and at 1366 px, in English and Spanish, no page is wider
than the window (a wide table scrolls inside its card). A full-page screenshot of each page at
each width and language is kept for a person to look at.

Every page means every GET route of the web app: the walk follows the links from the home page,
then opens the pages no link leads to (the reports, the error pages, the sign-in page, the 403
page as the viewer sees it), and a route that no walk reached fails the test unless
:data:`tests.e2e.pages.NOT_PAGES` says why it is no page.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.conftest import LiveServer
from tests.e2e.conftest import ARTIFACTS, sign_in
from tests.e2e.pages import NOT_PAGES, open_page, page_routes, unwalked, walk

pytestmark = pytest.mark.e2e

SCREENS = ARTIFACTS / "screens"
# Both languages at both widths: Spanish words run longer than English ones.
WINDOWS = [("en", 1366), ("en", 390), ("es", 1366), ("es", 390)]
# Pages no link leads to: a report opened as a page, and the error pages.
UNLINKED = (
    "/assess/report?format=html",
    "/assess/region/report.html",
    "/no-such-page",  # 404
    "/intel/cases/no-such-case",  # 404 for a record, inside the node's frame
    "/intel/search?q=lure&sort=sideways",  # 400: refused input
)
# Opened as the demo's viewer, who may not: the 403 page.
FORBIDDEN = ("/admin/users",)
WIDTH = "document.documentElement.scrollWidth"
# The outermost element that reaches past the window's right edge, to name in a failure.
CULPRIT = """() => {
  const past = [...document.querySelectorAll('body *')].filter(
    (e) => e.getBoundingClientRect().right > window.innerWidth + 1);
  const top = past.find((e) => !past.includes(e.parentElement)) || past[0];
  return top ? `${top.tagName.toLowerCase()}.${[...top.classList].join('.')}` : '';
}"""

# Form fields and buttons outside tables (which scroll by design) that stick out of their card:
# the page is no wider, but the field is cut off where the card scrolls.
CUT_FIELDS = """() => [...document.querySelectorAll('.card input, .card select, .card button')]
  .filter((e) => !e.closest('table') && e.offsetParent !== null
    && e.getBoundingClientRect().right > e.closest('.card').getBoundingClientRect().right + 1)
  .map((e) => `${e.tagName.toLowerCase()}[name=${e.name || e.id}]`)"""
# Tables whose header row is narrower than their rows: the columns no longer line up.
MISALIGNED = """() => [...document.querySelectorAll('table')]
  .filter((t) => t.tHead && t.tHead.offsetParent !== null && t.tBodies.length
    && t.tBodies[0].rows.length && t.tHead.rows[0].getBoundingClientRect().width + 2
      < t.tBodies[0].rows[0].getBoundingClientRect().width)
  .map((t) => t.id || t.className)"""
# Links that name an object by its raw STIX id instead of a name a person reads.
RAW_ID_LINKS = r"""() => [...document.querySelectorAll('main a')]
  .map((a) => a.textContent.trim())
  .filter((text) => /^[a-z][a-z0-9-]*--[0-9a-f-]{36}$/.test(text))"""
# Python's values shown as words ("previous=None", a cell reading "True"), not English ("None
# of the members").
PYTHON_WORDS = re.compile(r"(?:[=(\t]|: |^)(None|True|False)(?=[\t),;]|$)", re.M)


def _name(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-")[:90] or "home"


def _check(page: Page, path: str, faults: list[str], folder: Path, name: str = "") -> bool:
    """Open a page, note what is wrong with it, and keep its screenshot."""
    if not open_page(page, path):
        return False
    window = page.viewport_size["width"] if page.viewport_size else 0
    wide = page.evaluate(WIDTH)
    if wide > window + 1:
        faults.append(f"{folder.name}: {path} is {wide} px wide ({page.evaluate(CULPRIT)})")
    faults += [f"{folder.name}: {path} cuts {field}" for field in page.evaluate(CUT_FIELDS)]
    faults += [f"{folder.name}: {path} links a raw id {i}" for i in page.evaluate(RAW_ID_LINKS)]
    faults += [f"{folder.name}: {path} misaligns table {t}" for t in page.evaluate(MISALIGNED)]
    text = page.inner_text("main") if page.locator("main").count() else page.inner_text("body")
    faults += [f"{folder.name}: {path} shows {w}" for w in set(PYTHON_WORDS.findall(text))]
    page.screenshot(path=str(folder / f"{name or _name(path)}.png"), full_page=True)
    return True


@pytest.mark.parametrize(("language", "width"), WINDOWS, ids=[f"{lang}-{w}" for lang, w in WINDOWS])
def test_no_page_is_wider_than_the_window(
    browser: Browser, demo_site: LiveServer, language: str, width: int
) -> None:
    folder = SCREENS / f"{language}-{width}"
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {folder}")
    context = browser.new_context(base_url=demo_site.url, viewport={"width": width, "height": 860})
    # A loaded machine (the suite runs in parallel) can take longer than the default 30 s to
    # sign in (Argon2) or to render a long page.
    context.set_default_timeout(90_000)
    page = context.new_page()
    faults: list[str] = []

    def check(path: str, name: str = "") -> bool:
        return _check(page, path, faults, folder, name)

    page.goto(f"/login?lang={language}")  # remembered for the rest of the walk
    check("/login")
    sign_in(page)
    paths = ["/login", *walk(page, check, also=UNLINKED)]
    context.clear_cookies()
    page.goto(f"/login?lang={language}")
    sign_in(page, "viewer")
    for path in FORBIDDEN:
        check(path, f"forbidden-{_name(path)}")
    context.close()
    assert faults == [], "\n".join(faults)
    assert unwalked(page_routes(demo_site.server.config.app), paths) == set()
    for expected in ("/assess", "/intel", "/embassy", "/coop", "/admin/users", "/audit"):
        assert expected in paths
    # An object page of each kind the demo holds.
    objects = {re.sub(r".*/objects/([a-z-]+)--.*", r"\1", p) for p in paths if "/objects/" in p}
    assert {"indicator", "sighting", "relationship", "report", "identity", "note"} <= objects


def test_every_route_left_out_of_the_walk_is_a_route(demo_site: LiveServer) -> None:
    routes = page_routes(demo_site.server.config.app)
    assert set(NOT_PAGES) <= set(routes)
    assert "/intel/collections/{alias}/objects/{object_id}" in routes
