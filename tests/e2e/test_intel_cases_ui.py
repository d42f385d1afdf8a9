"""An analyst works a case in a real Chromium on a 390 px phone, in English, Spanish, French
and Dutch: the filtered list, linking by search, tasks, and nothing scrolls sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from seawall.core.node import Node
from seawall.intel import cases
from seawall.intel.cases import Severity
from tests.e2e.conftest import shoot, sign_in

pytestmark = pytest.mark.e2e

WORDS = {
    "en": ("Incident cases", "Tasks", "critical"),
    "es": ("Casos de incidentes", "Tareas", "crítica"),
    "fr": ("Dossiers d'incident", "Tâches", "critique"),
    "nl": ("Incidentzaken", "Taken", "kritiek"),
}


def _fits(page: Page, width: int) -> None:
    """The page never scrolls sideways; a wider table scrolls inside its card."""
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width + 1


def test_a_case_is_worked_on_a_phone_in_each_language(page: Page, demo_node: Node) -> None:
    with demo_node.unit(demo_node.operator()) as ctx:
        case = cases.open_case(
            ctx, "caribbean-phishing", "Refund lure at the ministries", severity=Severity.CRITICAL
        )
        cases.assign(ctx, case.id, "analyst")
        cases.add_task(ctx, case.id, "Block the refund domains at the national resolver")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "analyst")

    for lang, (heading, tasks, critical) in WORDS.items():
        page.goto(f"/intel/cases?lang={lang}&mine=1&severity=critical")
        expect(page.locator("h1")).to_have_text(heading)
        row = page.locator("#cases tbody tr", has_text="Refund lure at the ministries")
        expect(row).to_contain_text(critical)
        expect(row).to_contain_text("Kemar Campbell")
        _fits(page, 390)
        row.locator("a").click()
        expect(page.locator("#case-tasks h2")).to_have_text(tasks)
        expect(page.locator("#case-severity")).to_have_text(critical)
        _fits(page, 390)
        shoot(page, f"intel-case-{lang}-390")

    page.fill("#search-form input[name=q]", "taxrefund")
    page.click("#search-form button[type=submit]")
    hits = page.locator("#hits tbody tr")
    expect(hits.first).to_be_visible()
    _fits(page, 390)
    hits.first.locator("input[type=checkbox]").check()
    page.click("#hits-form button[type=submit]")
    expect(page.locator("#timeline tbody tr.case-link")).to_have_count(1)
    page.locator("#tasks li").first.locator("form").first.locator("button").click()
    expect(page.locator("#tasks li.done")).to_have_count(1)
    _fits(page, 390)
    shoot(page, "intel-case-worked-390")
