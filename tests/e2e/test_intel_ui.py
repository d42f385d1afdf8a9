"""A CIRT analyst browses, searches and imports intelligence in a real Chromium, under TLP."""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from seawall.core.node import Node
from seawall.intel import search
from seawall.intel.samples import load_sample_intel, sample_day
from seawall.intel.tlp import Tlp, marking_id
from tests.e2e.conftest import shoot, sign_in

pytestmark = pytest.mark.e2e
STAMP = "2026-11-20T10:00:00.000Z"


@pytest.fixture
def intel_node(demo_node: Node) -> Node:
    # The demo loads the sample intel; loading it again must add nothing.
    with demo_node.unit(demo_node.operator()) as ctx:
        added = load_sample_intel(ctx)
    assert set(added) == {"caribbean-phishing", "jm-critical-infrastructure", "public-advisories"}
    assert sum(added.values()) == 0
    return demo_node


def test_collections_search_and_object_detail(page: Page, intel_node: Node) -> None:
    sign_in(page, "analyst")
    page.click("nav >> text=Collective defence")
    expect(page.locator("h1")).to_have_text("Collective defence")
    rows = page.locator("#collections tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.filter(has_text="Caribbean phishing campaigns")).to_contain_text("CARICOM")
    expect(rows.filter(has_text="Public advisories")).to_contain_text("TLP:CLEAR")
    shoot(page, "intel-01-collections")

    # The analyst's organisation is named by the Jamaican collection, so it receives RED
    # and every looser marking.
    page.click("text=Jamaica critical infrastructure")
    objects = page.locator("#objects tbody tr")
    expect(objects.filter(has_text="ongoing incident C2")).to_contain_text("TLP:RED")
    expect(objects.filter(has_text="ransomware loader")).to_contain_text("TLP:AMBER+STRICT")
    shoot(page, "intel-02-collection")

    page.click("nav >> text=Collective defence")

    page.fill("input[name=q]", "8.8.8.8")
    page.click("button:has-text('Search')")
    result = page.locator("#objects tbody tr")
    expect(result).to_have_count(1)
    expect(result).to_contain_text("warninglist")
    shoot(page, "intel-03-search")

    page.fill("input[name=q]", "example")
    page.click("button:has-text('Search')")
    expect(page.locator("#objects tbody tr", has_text="mistaken sender")).to_contain_text("revoked")
    expect(page.locator("#objects tbody tr", has_text="retired mail relay")).to_contain_text(
        "expired"
    )
    page.click("text=SAMPLE: tax refund phishing domain")
    expect(page.locator("#markings")).to_contain_text("TLP:GREEN")
    expect(page.locator("#provenance")).to_contain_text("JaCIRT (SAMPLE)")
    expect(page.locator("#provenance")).to_contain_text("operator")
    expect(page.locator("#versions tbody tr")).to_have_count(1)
    expect(page.locator(".intel-json")).to_contain_text("taxrefund-gov-jm.example")
    shoot(page, "intel-04-object")


def test_another_organisation_sees_less(page: Page, intel_node: Node) -> None:
    sign_in(page, "viewer")
    page.goto("/intel/collections/jm-critical-infrastructure")
    objects = page.locator("#objects tbody tr")
    expect(objects.filter(has_text="SCADA scanning source")).to_contain_text("TLP:AMBER")
    expect(objects.filter(has_text="ongoing incident C2")).to_have_count(0)
    expect(objects.filter(has_text="ransomware loader")).to_have_count(0)
    shoot(page, "intel-07-other-organisation")
    page.goto("/intel/search?q=upd-telemetry-grid")
    expect(page.locator(".empty")).to_contain_text("Nothing you may see")
    expect(page.locator("a[href='/intel/import']")).to_have_count(0)  # viewers cannot import


def test_import_shows_what_was_accepted_and_refused(
    page: Page, intel_node: Node, tmp_path: Path
) -> None:
    def indicator(n: int, pattern: str) -> dict[str, object]:
        return {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--{uuid.UUID(int=n, version=4)}",
            "created": STAMP,
            "modified": STAMP,
            "name": f"uploaded {n}",
            "pattern": pattern,
            "pattern_type": "stix",
            "valid_from": STAMP,
            "object_marking_refs": [marking_id(Tlp.GREEN)],
        }

    good = indicator(1, "[domain-name:value = 'fresh-lure.example']")
    private = indicator(2, "[ipv4-addr:value = '10.1.2.3']")
    broken = indicator(3, "[domain-name:value = ]")
    path = tmp_path / "upload.json"
    path.write_text(
        json.dumps(
            {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": [good, private, broken]}
        )
    )
    sign_in(page, "analyst")
    page.goto("/intel")
    page.fill("input[name=alias]", "lab-notes")
    page.fill("input[name=title]", "Lab notes")
    page.fill("input[name=audience]", "JM")
    page.select_option("select[name=tlp]", "amber")
    page.click("text=Create collection")
    expect(page.locator(".alert-ok")).to_have_text("Collection lab-notes created.")
    expect(page.locator("#collections tbody tr", has_text="Lab notes")).to_contain_text("TLP:AMBER")
    page.fill("input[name=alias]", "lab-notes")
    page.click("text=Create collection")
    expect(page.locator(".alert-error")).to_contain_text("already exists")
    page.click("text=Import a file")
    expect(page.locator("h1")).to_have_text("Import intelligence")
    page.set_input_files("input[name=file]", str(path))
    page.select_option("select[name=collection]", "caribbean-phishing")
    page.click("button:has-text('Import')")
    report = page.locator("#import-report")
    expect(report).to_contain_text("1 added")
    expect(report).to_contain_text("1 suppressed")
    expect(report).to_contain_text("1 rejected")
    problems = page.locator("#import-problems tbody tr")
    expect(problems.filter(has_text=str(broken["id"]))).to_contain_text("'pattern' does not parse")
    expect(problems.filter(has_text=str(private["id"]))).to_contain_text("RFC 1918")
    shoot(page, "intel-05-import")

    # A broken file changes nothing and says why on the same page.
    bad = tmp_path / "broken.json"
    bad.write_text('{"type": "bundle", "objects": [')
    page.set_input_files("input[name=file]", str(bad))
    page.click("button:has-text('Import')")
    expect(page.locator(".alert-error")).to_contain_text("not valid JSON")
    shoot(page, "intel-06-import-error")

    page.goto("/intel/search?q=fresh-lure.example")
    expect(page.locator("#objects tbody tr")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"/intel/search"))


def test_a_collection_outside_the_audience_does_not_exist(page: Page, intel_node: Node) -> None:
    sign_in(page, "tt-analyst")
    page.goto("/intel")
    rows = page.locator("#collections tbody tr")
    expect(rows.filter(has_text="Caribbean phishing campaigns")).to_have_count(1)  # CARICOM
    expect(rows.filter(has_text="Jamaica critical infrastructure")).to_have_count(0)
    response = page.goto("/intel/collections/jm-critical-infrastructure")
    assert response is not None and response.status == 404
    expect(page.locator("body")).to_contain_text("no collection 'jm-critical-infrastructure'")
    # Another nation gets GREEN from the regional collection, never the AMBER kit hash.
    page.goto("/intel/collections/caribbean-phishing")
    objects = page.locator("#objects tbody tr")
    # Its sightings and relationships are named after it too: pick the indicator's own row.
    own = page.get_by_role("link", name="SAMPLE: tax refund phishing domain", exact=True)
    expect(objects.filter(has=own)).to_contain_text("TLP:GREEN")
    expect(objects.filter(has_text="phishing kit archive")).to_have_count(0)
    shoot(page, "intel-08-other-nation")


def test_a_log_matched_in_the_browser_records_a_sighting_shown_on_the_indicator(
    page: Page, intel_node: Node, tmp_path: Path
) -> None:
    now = time.time()
    log = tmp_path / "access.log"
    log.write_text(
        f"{now - 60:.3f}    134 10.20.0.7 TCP_MISS/200 1520 GET "
        "http://www.taxrefund-gov-jm.example/claim?id=7 - HIER_DIRECT/203.0.113.40 text/html\n"
        f"{now - 30:.3f}     12 10.20.0.9 TCP_MISS/200 99 GET http://quiet.example/ "
        "- HIER_DIRECT/192.0.2.10 text/html\n"
    )
    sign_in(page, "analyst")
    page.goto("/intel")
    page.click("text=Match logs")
    expect(page.locator("h1")).to_have_text("Match logs")
    page.set_input_files("input[name=file]", str(log))
    page.select_option("select[name=collection]", "caribbean-phishing")
    page.select_option("select[name=case]", label="SAMPLE: tax-refund lure reported by two nations")
    page.click("button:has-text('Match')")
    report = page.locator("#match-report")
    expect(report).to_contain_text("linked to the case")
    expect(report).to_contain_text("access.log")
    expect(report).to_contain_text("2 lines (squid)")
    expect(report).to_contain_text("1 sighting recorded in caribbean-phishing")
    row = page.locator("#match-hits tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("taxrefund-gov-jm.example")
    expect(row).to_contain_text("10.20.0.7")
    shoot(page, "intel-12-match")

    report.locator("a:has-text('the case')").click()
    expect(page.locator("#timeline tbody tr", has_text="matched in squid logs")).to_have_count(1)
    page.go_back()
    row.locator("a").click()
    # The sample sightings (Jamaica's proxy, Trinidad's DNS) and the one just recorded.
    sightings = page.locator("#sightings tbody tr")
    expect(sightings).to_have_count(3)
    # The sample proxy sighting was first seen at 09:12 two days before the samples' day.
    with intel_node.unit(intel_node.operator()) as ctx:
        proxy = sample_day(ctx) - timedelta(days=2) + timedelta(hours=9, minutes=12)
    expect(sightings.filter(has_text=f"{proxy:%d %b %Y %H:%M}")).to_have_count(1)
    expect(sightings.last).to_contain_text("TLP:GREEN")

    # The same log again records nothing new; a log that is not one says so.
    page.goto("/intel/match")
    page.set_input_files("input[name=file]", str(log))
    page.select_option("select[name=collection]", "caribbean-phishing")
    page.click("button:has-text('Match')")
    expect(page.locator("#match-report")).to_contain_text("0 sightings recorded")
    page.set_input_files("input[name=file]", str(log))
    page.select_option("select[name=format]", "zeek")
    page.click("button:has-text('Match')")
    expect(page.locator("#match-report")).to_contain_text("0 matched")


def test_a_case_opened_in_jamaica_is_worked_on_by_trinidad(page: Page, intel_node: Node) -> None:
    with intel_node.unit(intel_node.operator()) as ctx:
        (lure,) = [
            f for f in search.search(ctx, "taxrefund-gov-jm.example") if f.type == "indicator"
        ]
    sign_in(page, "analyst")
    page.goto("/intel")
    page.click("text=Cases")
    expect(page.locator("h1")).to_have_text("Incident cases")
    page.fill("input[name=title]", "Refund lure against ministries")
    page.select_option("#case-form select[name=collection]", "caribbean-phishing")
    page.fill("input[name=incident_type]", "phishing")
    page.click("button:has-text('Open case')")
    expect(page.locator("h1")).to_have_text("Refund lure against ministries")
    expect(page.locator("#case-status")).to_have_text("new")
    page.fill("#note-form textarea[name=text]", "Blocked at the national resolver")
    page.click("button:has-text('Add note')")
    page.fill("#link-form input[name=object_id]", lure.id)
    page.fill("#link-form input[name=text]", "the lure's domain")
    page.click("button:has-text('Link')")
    page.select_option("#status-form select[name=status]", "open")
    page.select_option("#status-form select[name=determination]", "confirmed")
    page.click("#status-form button:has-text('Update')")
    expect(page.locator(".alert-ok")).to_have_text("Status and determination saved.")
    expect(page.locator("#case-status")).to_have_text("open")
    expect(page.locator("#case-determination")).to_have_text("confirmed")
    expect(page.locator("#timeline tbody tr")).to_have_count(2)
    page.fill("#link-form input[name=object_id]", "indicator--not-there")
    page.click("button:has-text('Link')")
    expect(page.locator(".alert-error")).to_contain_text("no object 'indicator--not-there'")
    shoot(page, "intel-10-case")

    page.context.clear_cookies()
    sign_in(page, "tt-analyst")
    page.goto("/intel/cases")
    page.click("text=Refund lure against ministries")
    expect(page.locator("#timeline")).to_contain_text("Blocked at the national resolver")
    expect(page.locator("#timeline")).to_contain_text(lure.id)
    expect(page.locator("#status-form")).to_have_count(0)  # only Jamaica changes the status
    page.fill("#note-form textarea[name=text]", "Same lure in Port of Spain since Monday")
    page.click("button:has-text('Add note')")
    expect(page.locator("#case-nations")).to_have_text("JM, TT")
    expect(page.locator("#timeline tbody tr.case-note", has_text="Port of Spain")).to_contain_text(
        "TT"
    )
    shoot(page, "intel-11-case-other-nation")


def test_markup_typed_by_a_user_reads_as_text_on_a_translated_page(
    page: Page, intel_node: Node
) -> None:
    # A translated sentence is trusted markup; what a user typed is escaped into it.
    with intel_node.unit(intel_node.operator()) as ctx:
        (lure,) = [
            f for f in search.search(ctx, "taxrefund-gov-jm.example") if f.type == "indicator"
        ]
    planted = '<img src=x onerror="window.planted=1"><b>lure</b>'
    sign_in(page, "analyst")
    page.goto("/intel/cases?lang=es")
    page.fill("#case-form input[name=title]", f"Caso {planted}")
    page.select_option("#case-form select[name=collection]", "caribbean-phishing")
    page.click("#case-form button[type=submit]")
    expect(page.locator("h1")).to_have_text(f"Caso {planted}")
    page.fill("#link-form input[name=object_id]", lure.id)
    page.fill("#link-form input[name=text]", planted)
    page.click("#link-form button[type=submit]")
    link = page.locator("#timeline tbody tr", has_text=lure.id)
    expect(link).to_contain_text(f"{lure.id}: {planted}")  # the Spanish sentence, as text
    expect(link).not_to_contain_text("linked")
    expect(page.locator("main img, main h1 b, #timeline b")).to_have_count(0)
    assert page.evaluate("window.planted") is None


def test_the_regional_sightings_page_shows_what_two_nations_saw(
    page: Page, intel_node: Node
) -> None:
    sign_in(page, "analyst")
    page.goto("/intel")
    page.click("a.button:has-text('Sightings')")
    expect(page.locator("h1")).to_have_text("Sightings across the region")
    row = page.locator("#sighted tbody tr", has_text="tax refund phishing domain")
    expect(row).to_contain_text("JM · 14")
    expect(row).to_contain_text("TT · 5")
    shoot(page, "intel-13-sightings")
    page.fill("input[name=min_nations]", "3")
    page.click("button:has-text('Show')")
    expect(page.locator(".empty")).to_contain_text("sighted by 3 nations or more")
    page.fill("input[name=min_nations]", "")  # cleared: every sighted indicator again
    page.click("button:has-text('Show')")
    expect(page.locator("#sighted tbody tr", has_text="tax refund phishing domain")).to_have_count(
        1
    )
    # The indicator's page says where each sighting was made, not who stored it.
    page.click("#sighted a:has-text('tax refund phishing domain')")
    seen = page.locator("#sightings tbody tr")
    expect(seen.filter(has_text="TT")).to_contain_text("5")
    expect(seen.filter(has_text="JM")).to_contain_text("14")
