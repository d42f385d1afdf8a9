"""The technique heat map in a real Chromium: the Enterprise matrix with a shaded cell on a
desktop, and on a 390 px phone the grid scrolls inside its card, never the page."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from seawall.core.node import Node
from seawall.intel import attack
from seawall.intel.collections import get_collection
from seawall.intel.store import writing
from tests import stix
from tests.conftest import LiveServer
from tests.e2e.conftest import shoot, sign_in

pytestmark = pytest.mark.e2e

DATA = Path(__file__).parents[1] / "data" / "attack"


def test_the_heat_map_shades_linked_techniques_and_fits_a_phone(
    page: Page, browser: Browser, site: LiveServer, demo_node: Node
) -> None:
    objects = attack.read_bundle((DATA / "enterprise-attack-slice.json").read_bytes())
    phishing = next(o["id"] for o in objects if attack.attack_id(o) == "T1566.001")
    lure = stix.indicator(
        0,
        stix.domain("lure.example"),
        None,
        id="indicator--7d0c1a1e-0b55-4c8e-9d44-3c1f6f3a5a01",
        name="Phishing lure",
    )
    link = stix.relationship(
        0,
        lure["id"],
        "indicates",
        phishing,
        None,
        id="relationship--7d0c1a1e-0b55-4c8e-9d44-3c1f6f3a5a02",
    )
    with demo_node.unit(demo_node.operator()) as ctx:
        attack.import_attack(ctx, objects)
        writing.add_objects(ctx, get_collection(ctx, "public-advisories"), [lure, link])

    sign_in(page, "analyst")
    page.goto("/intel/techniques")
    expect(page.locator("h2").first).to_contain_text("Enterprise ATT&CK")
    expect(page.locator(".tactic-column")).to_have_count(14)
    shaded = page.locator(".technique-cell.heat-4")
    expect(shaded).to_have_count(1)
    expect(shaded).to_contain_text("Phishing")
    shoot(page, "intel-techniques-01-heatmap")

    context = browser.new_context(base_url=site.url, viewport={"width": 390, "height": 844})
    phone = context.new_page()
    sign_in(phone, "analyst")
    phone.goto("/intel/techniques?lang=es")
    expect(phone.locator("h1")).to_contain_text("Técnicas de ATT&CK")
    # The page never scrolls sideways; the grid scrolls inside its card.
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= 390 + 1
    grid = phone.locator(".technique-grid-wrap")
    assert grid.evaluate("e => e.scrollWidth > e.clientWidth")
    shoot(phone, "intel-techniques-02-390px")
    context.close()
