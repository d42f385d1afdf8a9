"""On a 390 px phone, in each of the four languages: the search box says all of its hint, and
the GCI pillar chart fits the screen in type a person can read."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.conftest import LiveServer
from tests.e2e.conftest import shoot, sign_in

pytestmark = pytest.mark.e2e

LANGS = ("en", "es", "fr", "nl")
# The placeholder's drawn width against the room inside the box, in CSS pixels.
PLACEHOLDER_ROOM = """(input) => {
  const style = getComputedStyle(input);
  const ctx = document.createElement('canvas').getContext('2d');
  ctx.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return [ctx.measureText(input.placeholder).width, room];
}"""


@pytest.fixture(scope="module")
def phone(browser: Browser, demo_site: LiveServer) -> Iterator[Page]:
    context = browser.new_context(base_url=demo_site.url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    sign_in(page)
    yield page
    context.close()


@pytest.mark.parametrize("lang", LANGS)
def test_the_search_box_says_its_whole_hint_on_a_phone(phone: Page, lang: str) -> None:
    for path in ("/intel", "/intel/search?q=lure"):
        phone.goto(f"{path}{'&' if '?' in path else '?'}lang={lang}")
        box = phone.locator("form.intel-search input[type=search]")
        drawn, room = box.evaluate(PLACEHOLDER_ROOM)
        assert drawn <= room, (lang, path, box.get_attribute("placeholder"), drawn, room)
        assert phone.evaluate("document.scrollingElement.scrollWidth") <= 390 + 1


@pytest.mark.parametrize("lang", LANGS)
def test_the_gci_pillar_chart_fits_a_phone_in_readable_type(phone: Page, lang: str) -> None:
    phone.goto(f"/assess/index?edition=gci-2024&group=CARIBBEAN&lang={lang}")
    chart = phone.locator("#gci-bars")
    box = chart.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= 390 + 1
    # Every word on the chart (legend, nations, totals, tiers) is at least 12 px high.
    sizes = chart.evaluate(
        """(el) => [...el.querySelectorAll('*')]
             .filter((n) => [...n.childNodes].some((c) => c.nodeType === 3 && c.textContent.trim()))
             .map((n) => parseFloat(getComputedStyle(n).fontSize))"""
    )
    assert len(sizes) > 17 and min(sizes) >= 12, sizes
    # Each legend entry sits inside the screen: none is cut off.
    for entry in chart.locator(".pillar-legend li").all():
        b = entry.bounding_box()
        assert b is not None and b["x"] >= 0 and b["x"] + b["width"] <= 390
    shoot(phone, f"gci-pillars-{lang}-390")
