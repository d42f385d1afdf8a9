"""The harmonisation matrix and the CIRT directory of the demo node in a real Chromium, in
English and Spanish, on a 1366 px desktop and a 390 px phone: the group filter, the sample
marks, and no sideways page scroll (the matrix scrolls inside its card)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from seawall.core.nations import shipped_regions
from tests.e2e.conftest import shoot, sign_in

pytestmark = pytest.mark.e2e

OECS = next(r for r in shipped_regions() if r.code == "OECS").members
WORDS = {
    "en": ("Harmonisation matrix", "Data protection", "sample data", "CIRT directory"),
    "es": (
        "Matriz de armonización",
        "Protección de datos",
        "datos de muestra",
        "Directorio de CIRT",
    ),
}


def _fits(page: Page, width: int) -> None:
    """The page never scrolls sideways; a wider table scrolls inside its card."""
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width + 1


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("width", [1366, 390])
def test_the_matrix_and_directory_read_and_fit(page: Page, lang: str, width: int) -> None:
    title, kind, sample, directory = WORDS[lang]
    page.set_viewport_size({"width": width, "height": 844})
    sign_in(page, "assessor")
    page.goto(f"/coop?lang={lang}")
    page.locator("a[href='/coop/laws']").first.click()
    expect(page.locator("h1")).to_have_text(title)
    page.select_option("#matrix-filter select[name=group]", "OECS")
    page.locator("#matrix-filter button").click()
    rows = page.locator("#matrix tbody tr")
    expect(rows).to_have_count(len(OECS))
    ids = rows.evaluate_all("rows => rows.map(r => r.id.slice(-2))")
    assert sorted(ids) == sorted(OECS)
    expect(page.locator("#matrix thead th").nth(1)).to_have_text(kind)
    lc = page.locator("#nation-LC td[data-kind=data_protection]")
    expect(lc).to_have_attribute("data-status", "enacted")
    expect(lc.locator(".sample-badge")).to_have_text(sample)
    expect(lc.locator("a.cell-status")).to_have_attribute(
        "href", "https://example.org/seawall-sample/lc/data_protection"
    )
    expect(page.locator("#nation-AG td[data-kind=cybercrime]")).to_have_attribute(
        "data-status", "unknown"
    )
    expect(page.locator("#sample-note")).to_be_visible()
    _fits(page, width)
    scroll = page.locator(".matrix-scroll")
    if width == 390:
        inner = scroll.evaluate("e => [e.scrollWidth, e.clientWidth]")
        assert inner[0] > inner[1], inner  # the table scrolls inside its card
    shoot(page, f"coop-laws-matrix-{lang}-{width}")

    page.goto(f"/coop/cirts?group=CARICOM&lang={lang}")
    expect(page.locator("h1")).to_have_text(directory)
    jm = page.locator("#cirt-JM")
    expect(jm.locator(".sample-badge")).to_have_text(sample)
    expect(jm.locator(".fingerprint")).to_contain_text("0000 1111 2222 3333")
    expect(jm.locator("a.ti-link")).to_have_attribute(
        "href", "https://example.org/seawall-sample/ti/jm-cirt"
    )
    expect(page.locator("#figure-established")).to_contain_text("2")
    _fits(page, width)
    shoot(page, f"coop-cirts-{lang}-{width}")


def test_an_assessor_adds_an_instrument_and_a_viewer_has_no_form(page: Page) -> None:
    sign_in(page, "assessor")
    page.goto("/coop/laws?group=CARICOM")
    form = page.locator("#law-form")
    form.locator("select[name=kind]").select_option("critical_infrastructure")
    form.locator("input[name=title]").fill("Critical Information Infrastructure Act")
    form.locator("select[name=status]").select_option("enacted")
    form.locator("input[name=date]").fill("2026-03")
    form.locator("input[name=source]").fill("https://example.org/jm/ciia")
    form.locator("button[type=submit]").click()
    expect(page.locator(".alert-ok")).to_contain_text("Added Critical Information")
    cell = page.locator("#nation-JM td[data-kind=critical_infrastructure]")
    expect(cell).to_have_attribute("data-status", "enacted")
    expect(cell.locator(".sample-badge")).to_have_count(0)  # the real record outranks the sample
    page.context.clear_cookies()
    sign_in(page, "viewer")
    page.goto("/coop/laws")
    expect(page.locator("#matrix")).to_be_visible()
    expect(page.locator("#law-form")).to_have_count(0)
