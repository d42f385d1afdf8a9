"""Every page fits a phone: at 390 px and at 1366 px, in English and Spanish, no page is wider
than the window (a wide table scrolls inside its card). A full-page screenshot of each page at
each width and language is kept for a person to look at."""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.conftest import LiveServer
from tests.e2e.conftest import ARTIFACTS, sign_in
from tests.e2e.pages import open_page, walk

pytestmark = pytest.mark.e2e

SCREENS = ARTIFACTS / "screens"
# Both languages at both widths: Spanish words run longer than English ones.
WINDOWS = [("en", 1366), ("en", 390), ("es", 1366), ("es", 390)]
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


def _name(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-")[:90] or "home"


def _check(page: Page, path: str, overflows: list[str], folder: Path) -> bool:
    """Open a page, note it when it is wider than the window, and keep its screenshot."""
    if not open_page(page, path):
        return False
    window = page.viewport_size["width"] if page.viewport_size else 0
    wide = page.evaluate(WIDTH)
    if wide > window + 1:
        overflows.append(f"{folder.name}: {path} is {wide} px wide ({page.evaluate(CULPRIT)})")
    overflows += [f"{folder.name}: {path} cuts {field}" for field in page.evaluate(CUT_FIELDS)]
    page.screenshot(path=str(folder / f"{_name(path)}.png"), full_page=True)
    return True


@pytest.mark.parametrize(("language", "width"), WINDOWS, ids=[f"{lang}-{w}" for lang, w in WINDOWS])
def test_no_page_is_wider_than_the_window(
    browser: Browser, demo_site: LiveServer, language: str, width: int
) -> None:
    folder = SCREENS / f"{language}-{width}"
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {folder}")
    context = browser.new_context(base_url=demo_site.url, viewport={"width": width, "height": 860})
    page = context.new_page()
    sign_in(page)
    page.goto(f"/?lang={language}")  # remembered for the rest of the walk
    overflows: list[str] = []
    paths = walk(page, partial(_check, page, overflows=overflows, folder=folder))
    context.close()
    assert overflows == []
    assert len(paths) >= 50, paths
    for expected in ("/assess", "/intel", "/embassy", "/coop", "/admin/users", "/audit"):
        assert expected in paths
