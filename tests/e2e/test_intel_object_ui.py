"""The indicator page in a real Chromium: its value, neighbourhood and graph, on a desktop and
on a 390 px phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from seawall.core.node import Node
from tests.conftest import LiveServer
from tests.e2e.conftest import shoot, sign_in

pytestmark = pytest.mark.e2e


def test_the_indicator_page_names_its_neighbourhood_and_fits_a_phone(
    page: Page, browser: Browser, site: LiveServer, demo_node: Node
) -> None:
    sign_in(page, "analyst")
    page.goto("/intel/search?q=taxrefund-gov-jm.example")
    page.click("text=SAMPLE: tax refund phishing domain")
    expect(page.locator("#observables")).to_contain_text("taxrefund-gov-jm.example")
    expect(page.locator("#validity")).to_contain_text("Decay score")
    related = page.locator("#related")
    expect(related).to_contain_text("SAMPLE: Tax-refund phishing wave against Caribbean taxpayers")
    graph = page.locator("svg.intel-graph")
    expect(graph).to_be_visible()
    expect(graph).to_contain_text("report")
    expect(graph).not_to_contain_text("indicator--")
    shoot(page, "intel-object-01-neighbourhood")
    url = page.url

    context = browser.new_context(base_url=site.url, viewport={"width": 390, "height": 844})
    phone = context.new_page()
    sign_in(phone, "analyst")
    phone.goto(url)
    expect(phone.locator("svg.intel-graph")).to_be_visible()
    box = phone.locator("svg.intel-graph").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    # The page itself never scrolls sideways (a wide table scrolls inside its card).
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= 390 + 1
    shoot(phone, "intel-object-02-390px")
    context.close()
