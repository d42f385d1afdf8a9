"""A round bound to its participants, walked in a real Chromium by the people in it.

The lead invites the government group (a rater and a facilitator) and academia (a rater); the
government rater rates for government only; academia's rater sees government's stage on a
factor once academia has rated it, or once the lead reveals the round; the facilitator agrees
the stages, with a reason where no group rated. The round page fits a phone, the forms speak
French, and the report downloads take the TLP marking chosen beside them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from playwright.sync_api import Browser, Page, expect

from seawall.core import users
from seawall.core.node import Node
from seawall.demo import DEMO_PASSWORD
from tests.conftest import LiveServer
from tests.e2e.conftest import shoot, sign_in

pytestmark = pytest.mark.e2e

PEOPLE = (("jm-gov", "Government rater"), ("jm-facil", "Facilitator"), ("jm-acad", "Academic"))


@pytest.fixture
def people(demo_node: Node) -> None:
    """Three more assessors of Jamaica, beside the demo's admin, assessor and viewer."""
    with demo_node.unit(demo_node.operator()) as ctx:
        for username, display in PEOPLE:
            users.add_user(ctx, username, "assessor", password=DEMO_PASSWORD, display_name=display)


@pytest.fixture
def signed_in(browser: Browser, site: LiveServer, people: None) -> Iterator[Callable[..., Page]]:
    """A page signed in as a user, each in its own browser context (its own cookies)."""
    contexts = []

    def open_as(username: str, width: int = 1366) -> Page:
        context = browser.new_context(
            base_url=site.url, viewport={"width": width, "height": 860}, accept_downloads=True
        )
        contexts.append(context)
        page = context.new_page()
        sign_in(page, username)
        expect(page.locator("text=Sign out")).to_be_visible()
        return page

    yield open_as
    for context in contexts:
        context.close()


def cell(page: Page, factor: str, column: int) -> str:
    """The text of a consensus row's cell (column 1 is government's stage)."""
    return page.locator(f"[id='row-{factor}'] > td").nth(column).inner_text().strip()


def forged_post(page: Page, url: str, fields: dict[str, str]) -> int:
    """POST a form from the signed-in page with its own CSRF token, as a hand-made request."""
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    status: int = page.evaluate(
        """async ([url, fields]) => {
            const answer = await fetch(url, {method: "POST", body: new URLSearchParams(fields)});
            return answer.status;
        }""",
        [url, {"csrf_token": token or "", **fields}],
    )
    return status


def pdf_text(path: Path) -> str:
    pdf = pdfium.PdfDocument(str(path))
    try:
        return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    finally:
        pdf.close()


def test_the_participants_rate_see_and_agree_as_the_round_binds_them(
    signed_in: Callable[..., Page], tmp_path: Path
) -> None:
    lead = signed_in("assessor")
    lead.goto("/assess")
    lead.fill("#create-round input[name=year]", "2027")
    lead.click("text=Open round")
    expect(lead).to_have_url(re.compile(r"/assess/rounds/[0-9a-f-]+$"))
    round_url = lead.url
    expect(lead.locator("#participants")).to_contain_text("Led by assessor.")
    expect(lead.locator("#participants")).to_contain_text("open to every assessor of Jamaica")

    invite = lead.locator("#invite-form")
    invite.locator("select[name=group]").select_option("government")
    invite.locator("input[name=raters]").fill("jm-gov")
    invite.locator("input[name=facilitators]").fill("jm-facil")
    invite.locator("button", has_text="Invite").click()
    expect(lead.locator(".alert-ok")).to_have_text("Invited Government: jm-gov, jm-facil.")
    lead.goto(round_url)
    people = lead.locator("#people tbody tr")
    expect(people).to_have_count(2)
    expect(people.filter(has_text="jm-gov")).to_contain_text("rater")
    expect(people.filter(has_text="jm-facil")).to_contain_text("facilitator")
    expect(lead.locator("#reveal-form")).to_be_visible()

    # The round page in French: the participants' forms, their labels and their answers.
    lead.goto(f"{round_url}?lang=fr")
    invite = lead.locator("#invite-form")
    expect(invite).to_contain_text("Groupe")
    expect(invite).to_contain_text("Évaluateurs")
    expect(invite).to_contain_text("Facilitateurs")
    expect(invite.locator("button[type=submit]")).to_have_text("Inviter")
    expect(lead.locator("#reveal-form button")).to_have_text(
        "Révéler les étapes de tous les groupes"
    )
    expect(lead.locator("#lead-form")).to_contain_text("Transmettre la direction à")
    expect(lead.locator("#people thead")).to_contain_text("Rôle")
    invite.locator("select[name=group]").select_option("academia")
    invite.locator("input[name=raters]").fill("jm-acad")
    invite.locator("button[type=submit]").click()
    expect(lead.locator(".alert-ok")).to_contain_text("invité : jm-acad.")
    expect(lead.locator("#people tbody tr")).to_have_count(3)
    lead.goto(f"{round_url}?lang=en")

    # A phone: the page itself never scrolls sideways (a wide table scrolls in its card).
    phone = signed_in("assessor", width=390)
    for path in ("", "/consensus", "/rate/government"):
        phone.goto(round_url + path)
        expect(phone.locator("h1")).to_contain_text("Jamaica 2027")
        width = phone.evaluate("document.scrollingElement.scrollWidth")
        assert width <= 390 + 1, (path, width)
    phone.goto(round_url)
    expect(phone.locator("#invite-form")).to_be_visible()
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= 390 + 1
    shoot(phone, "assess-participants-01-round-390px")

    # The government rater rates for government, and for no other group.
    gov = signed_in("jm-gov")
    gov.goto(round_url)
    groups = gov.locator("#groups tbody tr")
    expect(groups.filter(has_text="Government")).to_contain_text("Rate as government")
    expect(gov.locator("#groups a", has_text="Rate as")).to_have_count(1)
    expect(gov.locator("#invite-form")).to_have_count(0)
    gov.locator("#groups a", has_text="Rate as government").click()
    for factor, stage in (("D1.1", 4), ("D1.2", 3)):
        row = gov.locator(f"[id='factor-{factor}']")
        row.locator(f"label.stage-option.s{stage}").click()
        row.locator("textarea").fill(f"Government's view on {factor}")
    gov.click("text=Save ratings")
    expect(gov.locator(".alert-ok")).to_have_text("Saved 2 ratings for Government.")
    gov.goto(f"{round_url}/rate/academia")
    expect(gov.locator("text=Save ratings")).to_have_count(0)
    expect(gov.locator("input[name='stage-D1.1']").first).to_be_disabled()
    status = forged_post(gov, f"{round_url}/rate/academia", {"stage-D1.1": "1"})
    assert status == 403
    gov.reload()
    expect(gov.locator("input[name='stage-D1.1']:checked")).to_have_count(0)
    gov.goto(round_url)
    expect(groups.filter(has_text="Academia")).to_contain_text("0/23")
    expect(groups.filter(has_text="Government")).to_contain_text("2/23")

    # Academia's rater sees government's stage on a factor only once academia has rated it.
    acad = signed_in("jm-acad")
    acad.goto(f"{round_url}/consensus")
    expect(acad.locator("#hidden-note")).to_be_visible()
    assert (cell(acad, "D1.1", 1), cell(acad, "D1.2", 1)) == ("?", "?")
    expect(acad.locator("[id='row-D1.1']")).not_to_contain_text("Government's view")
    expect(acad.locator(".agree-form")).to_have_count(0)
    acad.click(".tabs >> text=Rate")  # the tab opens the sheet of the rater's own group
    expect(acad.locator("h1")).to_have_text("Jamaica 2027: Academia")
    acad.locator("[id='factor-D1.1'] label.stage-option.s2").click()
    acad.click("text=Save ratings")
    expect(acad.locator(".alert-ok")).to_have_text("Saved 1 rating for Academia.")
    acad.goto(f"{round_url}/consensus")
    assert (cell(acad, "D1.1", 1), cell(acad, "D1.1", 4)) == ("4", "2")
    assert cell(acad, "D1.2", 1) == "?"
    shoot(acad, "assess-participants-02-hidden")

    lead.goto(round_url)
    lead.click("#reveal-form button")
    expect(lead.locator(".alert-ok")).to_have_text("Every group's stages are now shown.")
    acad.reload()
    assert cell(acad, "D1.2", 1) == "3"
    expect(acad.locator("#hidden-note")).to_have_count(0)

    # The facilitator agrees; a factor no group rated needs a reason, shown with the stage.
    facil = signed_in("jm-facil")
    facil.goto(f"{round_url}/consensus")
    d11 = facil.locator("[id='row-D1.1']")
    expect(d11.locator("select[name=stage]")).to_have_value("3")
    d11.locator("button", has_text="Agree").click()
    expect(facil.locator("[id='row-D1.1'] .agreed-mark")).to_have_text("✓ 3")
    d54 = facil.locator("[id='row-D5.4']")
    d54.locator("select[name=stage]").select_option("2")
    d54.locator("button", has_text="Agree").click()
    expect(facil.locator("[id='row-D5.4'] .status-bad")).to_contain_text("reason")
    expect(facil.locator("[id='row-D5.4'] .agreed-mark")).to_have_count(0)
    d54 = facil.locator("[id='row-D5.4']")
    d54.locator("select[name=stage]").select_option("2")
    d54.locator("input[name=reason]").fill("Restore drills seen by the whole workshop")
    d54.locator("button", has_text="Agree").click()
    expect(facil.locator("[id='row-D5.4'] .agreed-mark")).to_have_text("✓ 2")
    facil.reload()
    expect(facil.locator("[id='row-D5.4']")).to_contain_text(
        "Reason: Restore drills seen by the whole workshop"
    )
    acad.reload()
    expect(acad.locator("[id='row-D5.4']")).to_contain_text(
        "Reason: Restore drills seen by the whole workshop"
    )
    shoot(facil, "assess-participants-03-agreed")

    # In French, the reason's field and the agreed stage's reason are translated.
    facil.goto(f"{round_url}/consensus?lang=fr")
    expect(facil.locator("[id='row-D5.4']")).to_contain_text("Motif : Restore drills")
    expect(facil.locator("[id='row-D2.1'] input[name=reason]")).to_have_attribute(
        "placeholder", "Motif (aucun groupe ne l'a évalué)"
    )

    # The report carries the marking chosen beside its download buttons.
    lead.goto(round_url)
    report = lead.locator("#report-form")
    expect(report.locator("select[name=tlp]")).to_have_value("amber")
    report.locator("select[name=tlp]").select_option("red")
    with lead.expect_download() as download:
        report.locator("button", has_text="PDF").click()
    saved = tmp_path / "report.pdf"
    download.value.save_as(saved)
    assert "TLP:RED" in pdf_text(saved)
