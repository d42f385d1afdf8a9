"""The home page on a phone and on a laptop: the state of the nation fits the screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from seawall.core.federation import links
from seawall.core.federation.errors import PartnerUnreachable
from seawall.core.node import Node
from seawall.core.partners import get_partner
from tests.e2e.conftest import shoot, sign_in

pytestmark = pytest.mark.e2e


def _fits(page: Page, width: int) -> None:
    """The page itself never scrolls sideways, and every card stays on the screen."""
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width + 1
    cards = page.locator("main .card").all()
    assert cards, "no card on the page"
    for card in cards:
        box = card.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1


@pytest.mark.parametrize("width", [390, 1366])
def test_the_home_page_tells_the_state_of_the_nation_and_fits_the_screen(
    page: Page, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 844 if width == 390 else 860})
    sign_in(page)
    expect(page.locator("#assess .score-bars li")).to_have_count(5)
    expect(page.locator("#open-round")).to_contain_text("9 of 23 factors agreed")
    expect(page.locator("#gci")).to_contain_text("T3 Establishing")
    expect(page.locator("#new-indicators")).to_contain_text("9 new indicators")
    expect(page.locator("#repo-gov-records .site-dot-up")).to_have_count(5)
    expect(page.locator("#activity")).not_to_contain_text("auth.login")
    _fits(page, width)
    shoot(page, f"dashboard-{width}")

    page.click("#signins-toggle")
    expect(page.locator("#activity")).to_contain_text("auth.login")
    _fits(page, width)


def test_the_spanish_home_page_on_a_phone(page: Page, demo_node: Node) -> None:
    with demo_node.unit(demo_node.operator()) as ctx:
        partner = get_partner(ctx, "tt-national")
        links.record_failure(ctx, partner, PartnerUnreachable("tt-national did not answer"))
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "viewer")
    page.goto("/?lang=es")
    expect(page.locator("#attention")).to_contain_text("sincronización en espera")
    expect(page.locator("#new-indicators")).to_contain_text("7 indicadores nuevos")
    expect(page.locator("#open-round")).to_contain_text("9 de 23 factores acordados")
    _fits(page, 390)
    shoot(page, "dashboard-390-es")
