"""The demo repository's schedules and restore-drill chart, in English and French, on a
desktop and on a 390 px phone; a custodian runs what is due and adds a drill from the page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from seawall.core.node import Node
from seawall.embassy import schedules
from seawall.embassy.samples import load_sample_schedules
from tests.e2e.conftest import shoot, sign_in

pytestmark = pytest.mark.e2e


def _open(page: Page, role: str) -> None:
    sign_in(page, role)
    page.click("nav >> text=Data embassy")
    page.locator("#repos a", has_text="gov-records").click()


def _fits(page: Page, width: int) -> None:
    """The page itself never scrolls sideways; a wide table scrolls inside its card."""
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width + 1
    card = page.locator("#schedule-card")
    box = card.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1


def test_the_demo_repository_shows_its_schedules_and_drill_chart(
    page: Page, demo_node: Node
) -> None:
    # Loading the demo again adds no second set of schedules.
    unit = lambda: demo_node.unit(demo_node.operator("demo"))  # noqa: E731
    assert load_sample_schedules(unit, demo_node.settings, demo_node.clock) == []
    _open(page, "custodian")
    rows = page.locator("#schedules tbody tr")
    expect(rows).to_have_count(3)
    backup = page.locator("#schedules tr.schedule-backup")
    expect(backup).to_contain_text("0 2 * * *")
    expect(backup).to_contain_text("America/Jamaica")
    expect(backup).to_contain_text("RPO 1d")
    expect(backup).to_contain_text("Within RPO")
    expect(page.locator("#schedules tr.schedule-check")).to_contain_text("reads 10% of the shares")
    drill = page.locator("#schedules tr.schedule-drill")
    expect(drill).to_contain_text("RTO 1h")
    expect(drill).to_contain_text("passed")
    expect(page.locator("#schedules tr.schedule-drill .status").first).to_have_text("passed")
    # One recorded drill: a green bar, left of its RTO target's tick.
    expect(page.locator("#drill-chart .drill-pass")).to_have_count(1)
    bar = page.locator("#drill-chart .drill-bar").bounding_box()
    tick = page.locator("#drill-chart .drill-target").bounding_box()
    assert bar is not None and tick is not None and bar["x"] + bar["width"] < tick["x"]
    expect(page.locator("#last-drill")).to_contain_text("passed")
    shoot(page, "embassy-schedules-01-demo")

    page.click("#run-due-form button")
    expect(page.locator(".alert-ok")).to_have_text("Nothing was due.")

    page.select_option("#schedule-form select[name=kind]", "audit")
    page.fill("#schedule-form input[name=every]", "1w")
    page.fill("#schedule-form input[name=read_data]", "5")
    page.click("#schedule-form button")
    expect(page.locator(".alert-ok")).to_contain_text("Scheduled: audit of gov-records")
    expect(page.locator("#schedules tr.schedule-audit")).to_contain_text("reads 5% of the shares")
    audit = page.locator("#schedules tr.schedule-audit")
    audit.locator("button", has_text="Disable").click()
    expect(page.locator(".alert-ok")).to_contain_text("disabled")
    expect(page.locator("#schedules tr.schedule-audit")).to_contain_text("disabled")
    page.locator("#schedules tr.schedule-audit button", has_text="Remove").click()
    expect(page.locator("#schedules tbody tr")).to_have_count(3)
    with demo_node.unit(demo_node.operator()) as ctx:
        kinds = sorted(row.kind for row, _ in schedules.list_schedules(ctx, "gov-records"))
    assert kinds == ["backup", "check", "drill"]


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_schedules_fit_a_390_px_phone(page: Page, demo_node: Node, lang: str) -> None:
    sign_in(page, "custodian")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/embassy/gov-records?lang={lang}")
    heading = {"en": "Schedules", "fr": "Planifications"}[lang]
    expect(page.locator("#schedule-card h2")).to_have_text(heading)
    expect(page.locator("#schedules tbody tr")).to_have_count(3)
    drill = page.locator("#schedules tr.schedule-drill")
    expect(drill).to_contain_text({"en": "passed", "fr": "réussi"}[lang])
    # The measured time is written as the language writes decimals.
    measured = {"en": r"\d\.\d s", "fr": r"\d,\d s"}[lang]
    expect(drill).to_contain_text(re.compile(measured))
    expect(page.locator("#drill-chart svg text").last).to_have_text(re.compile(measured))
    expect(page.locator("#schedules tr.schedule-backup")).to_contain_text(
        {"en": "Within RPO", "fr": "Dans le RPO"}[lang]
    )
    expect(page.locator("#drill-chart svg")).to_be_visible()
    chart = page.locator("#drill-chart svg").bounding_box()
    assert chart is not None and chart["x"] + chart["width"] <= 390
    _fits(page, 390)
    page.locator("#schedule-form").scroll_into_view_if_needed()
    _fits(page, 390)
    shoot(page, f"embassy-schedules-02-390px-{lang}")


def test_a_viewer_sees_the_schedules_but_no_forms(page: Page, demo_node: Node) -> None:
    _open(page, "viewer")
    expect(page.locator("#schedules tbody tr")).to_have_count(3)
    expect(page.locator("#drill-chart .drill-bar")).to_have_count(1)
    expect(page.locator("#schedule-form")).to_have_count(0)
    expect(page.locator("#run-due-form")).to_have_count(0)
    expect(page.locator("#schedules button")).to_have_count(0)
