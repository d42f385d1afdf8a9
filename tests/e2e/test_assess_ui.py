"""An assessor and an admin walk a whole maturity round in a real Chromium.

Open a round, rate as each of the six stakeholder groups, reach consensus (with dissent),
look at the gaps, give consent and publish, see the region, and download the report.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import shoot, sign_in

pytestmark = pytest.mark.e2e

GROUPS = {
    "government": "Government",
    "critical_infrastructure": "Critical infrastructure",
    "law_enforcement": "Law enforcement",
    "academia": "Academia",
    "private_sector": "Private sector",
    "civil_society": "Civil society",
}
# (D1.1, D1.2, D5.4) per group: D1.1 is two stages apart between government and academia.
STAGES = {
    "government": (4, 3, 3),
    "critical_infrastructure": (3, 3, 2),
    "law_enforcement": (3, 2, 3),
    "academia": (2, 3, 3),
    "private_sector": (3, 3, 2),
    "civil_society": (3, 2, 3),
}


def rate_sheet(page: Page, group: str) -> None:
    page.locator(".group-picker a", has_text=GROUPS[group]).click()
    expect(page.locator("h1")).to_contain_text(GROUPS[group])
    for factor_id, stage in zip(("D1.1", "D1.2", "D5.4"), STAGES[group], strict=True):
        row = page.locator(f"[id='factor-{factor_id}']")
        row.locator(f"label.stage-option.s{stage}").click()
        row.locator("textarea").fill(f"{GROUPS[group]} workshop view on {factor_id}")
    if group == "government":
        suggested = page.locator("[id='factor-D1.2'] .suggested input[type=checkbox]")
        expect(suggested.first).to_be_visible()
        suggested.first.check()
        page.locator("[id='factor-D1.2'] input[name='refs-D1.2']").fill(
            "https://example.gov.jm/ncirp-2025.pdf"
        )
        shoot(page, "assess-03-rate-government")
    page.click("text=Save ratings")
    expect(page.locator(".alert-ok")).to_have_text(f"Saved 3 ratings for {GROUPS[group]}.")


def test_a_round_from_creation_to_published_report(page: Page, tmp_path: Path) -> None:
    sign_in(page, "assessor")
    page.click("nav >> text=Maturity")
    expect(page.locator("h1")).to_have_text("Maturity")
    expect(page.locator(".stat-value")).to_have_text("58.03")
    expect(page.locator(".stat-card .tier")).to_have_text("T3 Establishing")
    expect(page.locator("#rounds tbody tr")).to_have_count(3)
    shoot(page, "assess-01-home")

    page.fill("#create-round input[name=year]", "2027")
    page.click("text=Open round")
    expect(page).to_have_url(re.compile(r"/assess/rounds/[0-9a-f-]+$"))
    expect(page.locator("h1")).to_have_text("Jamaica 2027")
    round_url = page.url
    expect(page.locator("#publish-form")).to_have_count(0)  # an assessor may not publish
    shoot(page, "assess-02-round-opened")

    # Bad input changes nothing: a stage outside the scale is refused by the core.
    page.click(".tabs >> text=Rate")
    page.evaluate("document.querySelector(\"input[name='stage-D1.1'][value='5']\").value = '7'")
    page.locator("[id='factor-D1.1'] label.stage-option.s5").click()
    page.click("text=Save ratings")
    expect(page.locator(".alert-error")).to_contain_text("outside the scale")
    page.goto(round_url)
    expect(page.locator("#groups")).to_contain_text("0/23")

    page.click(".tabs >> text=Rate")
    for group in GROUPS:
        rate_sheet(page, group)
    page.goto(round_url)
    expect(page.locator("#groups tbody tr", has_text="Academia")).to_contain_text("3/23")

    page.click(".tabs >> text=Consensus")
    d11 = page.locator("[id='row-D1.1']")
    expect(d11.locator(".flag")).to_be_visible()
    expect(d11).to_have_class(re.compile("disagree"))
    d11.locator("select[name=stage]").select_option("3")
    d11.locator("input[name=dissent]").fill("Academia: no budget line yet")
    d11.locator("button", has_text="Agree").click()
    expect(page.locator("[id='row-D1.1'] .agreed-mark")).to_have_text("✓ 3")
    for factor_id in ("D1.2", "D5.4"):
        page.locator(f"[id='row-{factor_id}'] button", has_text="Agree").click()
        expect(page.locator(f"[id='row-{factor_id}'] .agreed-mark")).to_be_visible()
    expect(page.locator("#consensus-summary")).to_have_text(
        "3 of 23 factors agreed · ⚑ 1 disagreement"
    )
    why = page.locator("[id='row-D1.2'] details.why")
    why.locator("summary").click()
    expect(why).to_contain_text("workshop view on D1.2")
    expect(why.locator("a[href='https://example.gov.jm/ncirp-2025.pdf']")).to_be_visible()
    shoot(page, "assess-04-consensus")
    page.click("text=Only disagreements")
    expect(page.locator("#consensus tbody tr")).to_have_count(1)

    page.click(".tabs >> text=Gaps")
    page.select_option("select[name=default_target]", "4")
    expect(page.locator("#gaps tbody tr")).to_have_count(3)
    page.select_option("#roadmap-form select[name=factor]", "D5.4")
    page.fill("#roadmap-form input[name=owner]", "eGov Jamaica Limited")
    page.fill("#roadmap-form input[name=action]", "Monthly restore drills from two sites")
    page.fill("#roadmap-form input[name=due]", "2027-09-30")
    page.click("text=Add item")
    expect(page.locator(".alert-ok")).to_have_text("Roadmap item added for D5.4.")
    expect(page.locator("#roadmap")).to_contain_text("Monthly restore drills from two sites")
    expect(page.locator("#gaps tbody tr")).to_have_count(3)  # the chosen target is kept
    shoot(page, "assess-05-gaps")

    page.click("text=Sign out")
    sign_in(page, "admin")
    page.goto(round_url)
    page.select_option("#consent-form select[name=group]", "CARICOM")
    page.click("text=Give consent")
    expect(page.locator(".alert-ok")).to_have_text("Consent given to CARICOM.")
    asked: list[str] = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.click("text=Publish round")  # declined: nothing is published
    expect(page.locator(".tabs .round-status")).to_have_text("open")
    assert asked and "cannot be reopened" in asked[0]
    page.once("dialog", lambda d: d.accept())
    page.click("text=Publish round")  # 3 of 23 factors agreed: refused without "partial"
    expect(page.locator(".alert-error")).to_contain_text("agrees 3 of 23 factors of cmm-2021")
    expect(page.locator(".tabs .round-status")).to_have_text("open")
    page.check("#publish-form input[name=partial]")
    page.once("dialog", lambda d: (asked.append(d.message), d.accept()))
    page.click("text=Publish round")
    assert "cannot be reopened" in asked[-1]
    expect(page.locator(".alert-ok")).to_have_text(
        "Published to CARICOM, partial: 3 of 23 factors agreed."
    )
    expect(page.locator(".tabs .round-status")).to_have_text("published")
    expect(page.locator(".tabs .round-partial")).to_have_text("partial")
    page.goto("/assess")
    expect(page.locator("#rounds .round-partial")).to_have_text("partial")
    page.goto(round_url)
    shoot(page, "assess-06-published")

    # Three of 23 factors agreed: the region keeps reading Jamaica's last complete round.
    page.goto("/assess/region?group=CARICOM")
    expect(page.locator("#panel-JM")).to_contain_text("2025")
    expect(page.locator("#left-out")).to_contain_text("JM 2027: 3 of 23 factors agreed")
    expect(page.locator("#statements > li")).to_have_count(7)
    expect(page.locator("#rank-JM")).to_contain_text("T3 Establishing")
    first = page.locator("#statements > li").first
    first.locator("summary").click()
    link = first.locator("details a[href^='#cell-']").first
    target = link.get_attribute("href")
    assert target
    link.click()
    expect(page.locator(f"[id='{target[1:]}']")).to_be_visible()
    expect(page.locator("#small-multiples svg")).to_have_count(1)
    expect(page.locator("#panel-JM")).to_contain_text("T3 Establishing")
    shoot(page, "assess-07-region")

    page.goto("/assess/index?group=CARIBBEAN")
    expect(page.locator("#index-rows tbody tr")).to_have_count(17)
    expect(page.locator("#index-rows tr", has_text="JAM")).to_contain_text("T3 Establishing")
    expect(page.locator("#gci-bars .pillar-bars > li")).to_have_count(17)
    shoot(page, "assess-08-gci")

    # Withdrawing consent takes the nation out of the region's views at once.
    page.goto(round_url)
    page.locator(".revoke-form button").click()
    expect(page.locator(".alert-ok")).to_have_text("Consent withdrawn from CARICOM.")
    page.goto("/assess/region?group=CARICOM")
    expect(page.locator("#panel-JM")).to_have_count(0)
    expect(page.locator("#panel-TT")).to_have_count(1)

    page.goto("/assess")
    with page.expect_download() as pdf_download:
        page.click("#report-pdf")
    pdf = tmp_path / "report.pdf"
    pdf_download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    with page.expect_popup() as html_report:  # the HTML report opens as a page, in a new tab
        page.click("#report-html")
    report = html_report.value
    expect(report.locator("body")).to_contain_text("Monthly restore drills from two sites")
    # Its own policy lets its styles in: a <style> the policy refused would have no sheet.
    assert report.evaluate("[...document.querySelectorAll('style')].every((s) => s.sheet)")
    report.close()

    page.goto(round_url)
    with page.expect_download() as json_download:
        page.click("#export-json")
    records = json.loads(Path(json_download.value.path()).read_text())
    d11_record = next(r for r in records if r["factor"] == "D1.1")
    assert (d11_record["agreed_stage"], d11_record["government"], d11_record["academia"]) == (
        3,
        4,
        2,
    )
    assert d11_record["dissent"] == "Academia: no budget line yet"

    # A viewer reads the same round, with its suggested evidence, but has nothing to submit.
    page.click("text=Sign out")
    sign_in(page, "viewer")
    page.goto("/assess")
    expect(page.locator("#create-round")).to_have_count(0)
    page.locator("#rounds a", has_text="2026").first.click()
    page.click(".tabs >> text=Rate")
    expect(page.locator("text=Save ratings")).to_have_count(0)
    expect(page.locator("[id='factor-D1.2'] .suggested")).to_be_visible()
    shoot(page, "assess-09-viewer-sheet")
