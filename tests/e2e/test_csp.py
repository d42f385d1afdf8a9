"""The Content-Security-Policy holds on every page: Chromium reports no violation while an
admin walks the demo node's pages, its charts, forms and htmx swaps."""

from __future__ import annotations

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.pages import links

pytestmark = pytest.mark.e2e

# Chromium fires securitypolicyviolation on the document; keep them for the test to read.
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}`);
});
"""


def test_no_page_breaks_the_content_security_policy(page: Page) -> None:
    reported: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            reported.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: reported.append(f"{page.url}: {error}"))
    page.add_init_script(WATCH)

    page.goto("/login")
    sign_in(page, password="not-the-password")  # the refused page too
    sign_in(page)
    expect(page.locator(".pillar")).to_have_count(3)
    seen: set[str] = set()
    queue = ["/", "/no/such/page"]
    while queue and len(seen) < 60:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = page.goto(path)
        assert response is not None
        assert "script-src 'self'" in response.headers.get("content-security-policy", ""), path
        page.wait_for_load_state("networkidle")
        reported += [f"{path}: {v}" for v in page.evaluate("window.__violations")]
        queue += [link for link in links(page) if link not in seen]
    assert len(seen) >= 25, sorted(seen)
    for expected in ("/assess", "/intel", "/embassy", "/admin/users", "/audit"):
        assert expected in seen
    assert any(p.startswith("/assess/rounds/") for p in seen)
    assert reported == []


def test_the_pages_own_scripts_ask_and_submit(page: Page) -> None:
    sign_in(page)
    page.goto("/assess")
    page.locator("a[href^='/assess/rounds/']").first.click()
    page.click(".tabs >> text=Gaps")
    before = page.url
    page.select_option("select[name=default_target]", "4")  # data-autosubmit
    expect(page).not_to_have_url(before)
    assert "default_target=4" in page.url
