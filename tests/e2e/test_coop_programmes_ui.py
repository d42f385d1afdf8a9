"""Programmes, a programme's page, the gap-coverage heat map and the partner organisations of
the demo node in a real Chromium, in English and Spanish, on a 1366 px desktop and a 390 px
phone: the page itself never scrolls sideways, uncovered gaps are marked, and the demo's two
ongoing programmes on CMM D1.2 are flagged as possible duplication."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from seawall.assess.gaps import list_items
from seawall.coop import programmes
from seawall.core.node import Node
from tests.e2e.conftest import shoot, sign_in

pytestmark = pytest.mark.e2e

WORDS = {
    "en": {
        "programmes": "Programmes",
        "coverage": "Gap coverage",
        "duplication": "possible duplication",
        "uncovered": "uncovered",
        "organisations": "Partner organisations",
        "regional": "regional body",
        "funded": "Roadmap items it funds",
    },
    "es": {
        "programmes": "Programas",
        "coverage": "Cobertura de brechas",
        "duplication": "posible duplicación",
        "uncovered": "sin cubrir",
        "organisations": "Organizaciones asociadas",
        "regional": "organismo regional",
        "funded": "Elementos de la hoja de ruta que financia",
    },
}


def _fits(page: Page, width: int) -> None:
    """The page never scrolls sideways; a wider table scrolls inside its card."""
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width + 1


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("width", [1366, 390])
def test_programmes_coverage_and_organisations_read_and_fit(
    page: Page, demo_node: Node, lang: str, width: int
) -> None:
    words = WORDS[lang]
    with demo_node.unit(demo_node.operator()) as ctx:
        csirt = next(i for i in list_items(ctx, "JM") if i.factor_id == "D1.2")
        programmes.fund_items(ctx, "SAMPLE-JM-CIRT", [csirt.id])
    page.set_viewport_size({"width": width, "height": 844})
    sign_in(page, "assessor")

    page.goto(f"/coop?lang={lang}")
    page.locator("a[href='/coop/programmes']").first.click()
    expect(page.locator("h1")).to_have_text(words["programmes"])
    expect(page.locator("#programmes tbody tr")).to_have_count(5)
    _fits(page, width)
    shoot(page, f"coop-programmes-{lang}-{width}")

    page.locator("#programmes a", has_text="JaCIRT incident handling").click()
    expect(page.locator("h1")).to_have_text("JaCIRT incident handling and SIM3 uplift")
    funded = page.locator("#funded-items")
    expect(funded.locator("h2")).to_have_text(words["funded"])
    expect(funded.locator(f"#funded-{csirt.id}")).to_contain_text("cmm-2021:D1.2")
    expect(funded.locator(f"#funded-{csirt.id}")).to_contain_text("JaCIRT")
    # The choice of roadmap items to fund stays within its card (a wide table scrolls itself).
    assert funded.evaluate("c => c.scrollWidth <= c.clientWidth + 1")
    form = page.locator("#edit-programme")
    expect(form).to_be_visible()
    # The form's wide fields take one column on a phone: nothing to scroll to in its card.
    assert form.evaluate("f => f.scrollWidth <= f.clientWidth + 1")
    _fits(page, width)
    shoot(page, f"coop-programme-{lang}-{width}")

    page.goto("/coop/coverage?nation=JM")
    expect(page.locator("h1")).to_have_text(words["coverage"])
    d12 = page.locator("#coverage td[data-factor='cmm-2021:D1.2']")
    expect(d12).to_have_class("cov cov-many")
    expect(d12).to_have_text("2")
    uncovered = page.locator("#coverage td.cov-none")
    assert uncovered.count() >= 1
    expect(uncovered.first).to_have_text("✕")
    expect(uncovered.first.locator("span")).to_have_attribute("aria-label", words["uncovered"])
    listed = page.locator("#coverage-list tr", has_text="cmm-2021:D1.2")
    expect(listed.locator(".status-warn")).to_have_text(words["duplication"])
    expect(page.locator("#coverage-list .row-uncovered .status-bad").first).to_have_text(
        words["uncovered"]
    )
    _fits(page, width)
    shoot(page, f"coop-coverage-{lang}-{width}")

    page.goto("/coop/organisations")
    expect(page.locator("h1")).to_have_text(words["organisations"])
    expect(page.locator("#organisations tbody tr")).to_have_count(6)
    page.select_option("#org-filter select[name=kind]", "regional_body")
    page.locator("#org-filter button").click()
    rows = page.locator("#organisations tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first.locator(".org-kind")).to_have_text(words["regional"])
    _fits(page, width)
    page.goto("/coop/organisations/IDB")
    expect(page.locator("#funds")).to_contain_text("JaCIRT incident handling")
    _fits(page, width)
    shoot(page, f"coop-organisation-{lang}-{width}")


def test_a_viewer_sees_the_organisations_without_a_form(page: Page) -> None:
    sign_in(page, "viewer")
    page.goto("/coop/organisations")
    expect(page.locator("#organisations")).to_be_visible()
    expect(page.locator("#org-form")).to_have_count(0)
    page.goto("/coop/programmes")
    expect(page.locator("#import-programmes")).to_have_count(0)
