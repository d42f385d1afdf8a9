"""A person signs in and walks every page of the foundation UI in a real Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from seawall.core import audit
from seawall.core.node import Node
from seawall.core.signin import REFUSED
from seawall.demo import DEMO_PASSWORD
from tests.conftest import LiveServer
from tests.e2e.conftest import shoot, sign_in

pytestmark = pytest.mark.e2e


def test_wrong_password_is_refused_with_a_clear_message(page: Page) -> None:
    sign_in(page, password="not-the-password")
    expect(page.locator(".alert-error")).to_have_text(REFUSED)
    expect(page).to_have_url(re.compile(r"/login"))
    shoot(page, "01-login-refused")


def test_pages_require_a_session(page: Page) -> None:
    page.goto("/admin/users")
    expect(page).to_have_url(re.compile(r"/login\?next=/admin/users"))
    shoot(page, "00-login")


def test_admin_walks_every_page(page: Page, demo_node: Node) -> None:
    sign_in(page)
    expect(page.locator("h1")).to_have_text("Jamaica")
    expect(page.locator(".pillar")).to_have_count(3)
    expect(page.locator("text=tt-national")).to_be_visible()
    shoot(page, "02-dashboard")

    page.click("nav >> text=Users")
    expect(page.locator("#users tbody tr")).to_have_count(5)
    page.fill("input[name=username]", "shanice")
    page.fill("input[name=display_name]", "Shanice Williams")
    page.select_option("select[name=role]", "analyst")
    page.fill("input[name=password]", "a-long-password")
    page.click("text=Add user")
    expect(page.locator(".alert-ok")).to_have_text("User shanice created.")
    page.once("dialog", lambda d: d.accept())
    page.locator("#users tr", has_text="shanice").locator("text=Disable").click()
    expect(page.locator("#users tr", has_text="shanice")).to_contain_text("disabled")
    shoot(page, "03-users")

    page.click("nav >> text=API tokens")
    page.fill("input[name=name]", "SIEM export")
    page.check("input[value='intel.read']")
    page.click("text=Create token")
    token = page.locator("#new-token").inner_text()
    assert token.startswith("sw_")
    shoot(page, "04-token-created")
    page.goto("/admin/tokens")
    expect(page.locator("#new-token")).to_have_count(0)
    assert token not in page.content()
    page.once("dialog", lambda d: d.accept())
    page.locator("#tokens tr", has_text="SIEM export").locator("text=Revoke").click()
    expect(page.locator("#tokens tr", has_text="SIEM export")).to_contain_text("revoked")
    shoot(page, "05-tokens")

    page.click("nav >> text=Partners")
    page.fill("input[name=name]", "gy-national")
    page.fill("input[name=nation]", "GY")
    page.fill("input[name=url]", "https://seawall.cirt.gov.gy")
    page.click("text=Add partner")
    expect(page.locator("#partners")).to_contain_text("gy-national")
    shoot(page, "06-partners")

    page.click("nav >> text=Audit log")
    page.fill("input[name=action]", "token")
    expect(page.locator("#audit-rows tr").first).to_contain_text("token.revoked")
    page.click("text=Verify chain")
    expect(page.locator("#verdict-ok")).to_be_visible()
    shoot(page, "07-audit")

    with demo_node.unit(demo_node.operator()) as ctx:
        actions = {e.action for e in audit.search(ctx.db, audit.AuditFilter(actor="admin"))}
    assert {
        "user.created",
        "user.disabled",
        "token.created",
        "token.revoked",
        "partner.added",
    } <= actions


def test_forged_form_without_csrf_token_changes_nothing(page: Page) -> None:
    sign_in(page)
    response = page.request.post(
        "/admin/partners", form={"name": "evil", "nation": "TT", "url": "https://evil.example"}
    )
    assert response.status == 403
    page.goto("/admin/partners")
    expect(page.locator("#partners")).not_to_contain_text("evil")


def test_viewer_sees_no_admin_pages(page: Page) -> None:
    sign_in(page, "viewer")
    expect(page.locator("nav")).not_to_contain_text("Users")
    page.goto("/audit")
    expect(page.locator("body")).to_contain_text("Your role (viewer) cannot read the audit log.")


def test_layout_holds_on_a_phone(browser_page_phone: Page) -> None:
    sign_in(browser_page_phone)
    expect(browser_page_phone.locator(".pillar")).to_have_count(3)
    shoot(browser_page_phone, "08-dashboard-phone")


@pytest.fixture
def browser_page_phone(page: Page) -> Page:
    page.set_viewport_size({"width": 390, "height": 844})
    return page


def test_the_ui_speaks_the_browsers_language_and_keeps_the_one_chosen(
    browser: Browser, site: LiveServer
) -> None:
    context = browser.new_context(base_url=site.url, locale="es-ES")
    page = context.new_page()
    try:
        page.goto("/login")
        expect(page.locator("button[type=submit]")).to_have_text("Iniciar sesión")
        expect(page.locator("html")).to_have_attribute("lang", "es")
        sign_in(page, "analyst")
        expect(page.locator("nav[aria-label=Main]")).to_contain_text("Defensa colectiva")
        expect(page.locator("#intel h2")).to_have_text("Defensa colectiva")
        shoot(page, "12-dashboard-es")
        page.click(".languages >> text=Français")
        expect(page.locator("nav[aria-label=Main]")).to_contain_text("Défense collective")
        page.click("nav[aria-label=Main] >> text=Accueil")
        expect(page.locator("html")).to_have_attribute("lang", "fr")  # the choice is kept
        page.goto("/?lang=nl")
        expect(page.locator("button:has-text('Afmelden')")).to_have_count(1)
    finally:
        context.close()


def speaks(page: Page, pages: list[tuple[str, str, str, str]]) -> None:
    """Each (path, heading, translated text, the English it replaces) reads as translated."""
    main = page.locator("main")
    for path, heading, translated, english in pages:
        page.goto(path)
        expect(page.locator("h1")).to_have_text(heading)
        expect(main).to_contain_text(translated)
        expect(main).not_to_contain_text(english)


def test_the_collective_defence_pages_speak_the_language_chosen(page: Page) -> None:
    sign_in(page, "analyst")
    main = page.locator("main")
    # (page, its heading in Spanish, Spanish on the page, the English it replaces)
    pages = [
        ("/intel?lang=es", "Defensa colectiva", "Marcado predeterminado", "Default marking"),
        ("/intel/search?q=example", "Búsqueda de indicadores", "resultados para", "results for"),
        ("/intel/cases", "Casos de incidentes", "Abrir un caso", "Open a case"),
        ("/intel/sightings", "Avistamientos en la región", "Visto por primera vez", "First seen"),
        ("/intel/match", "Cotejar registros", "Registrar avistamientos en", "Record sightings"),
        ("/intel/import", "Importar inteligencia", "Subir un archivo", "Upload a file"),
        ("/intel/sync", "Sincronización entre naciones", "sin token", "no token"),
    ]
    speaks(page, pages)  # the first ?lang=es is remembered

    page.goto("/intel/collections/caribbean-phishing")
    expect(main).to_contain_text("Objetos que puede ver")
    expect(main).not_to_contain_text("Objects you may see")
    # Its sightings and relationships are named after it too: open the indicator itself.
    objects = page.locator("#objects")
    objects.get_by_role("link", name="SAMPLE: tax refund phishing domain", exact=True).click()
    expect(page.locator("#provenance h2")).to_have_text("Procedencia")
    expect(page.locator("#sightings")).to_contain_text("Visto por")
    expect(main).not_to_contain_text("Seen by")
    page.goto("/intel/cases")
    page.click("#cases a >> nth=0")
    expect(main).to_contain_text("Cronología")
    expect(main).not_to_contain_text("Timeline")
    expect(page.locator("#case-status")).to_have_text("abierto")  # the core's word, translated
    expect(page.locator("select[name=status] option[value=open]")).to_have_text("abierto")
    shoot(page, "intel-14-case-es")

    page.goto("/intel/sightings?lang=nl")
    expect(page.locator("h1")).to_have_text("Waarnemingen in de regio")
    expect(main).not_to_contain_text("Sightings across the region")


def test_the_maturity_embassy_and_admin_pages_speak_the_language_chosen(page: Page) -> None:
    sign_in(page)  # an admin, who may see every page
    main = page.locator("main")
    page.goto("/assess?lang=fr")
    round_page = page.locator("#rounds a", has_text="2026").first.get_attribute("href")
    assert round_page
    # (page, its heading in French, French on the page, the English it replaces)
    pages = [
        ("/assess", "Maturité", "Ouvrir un cycle d'évaluation", "Open a round"),
        (round_page, "Jamaica 2026", "Consentement et publication", "Consent and publication"),
        (
            f"{round_page}/rate/government",
            "Jamaica 2026: Gouvernement",
            "Justification",
            "Rationale",
        ),
        (f"{round_page}/consensus", "Jamaica 2026 : consensus", "Dispersion", "Spread"),
        (
            f"{round_page}/gaps",
            "Jamaica 2026 : écarts et feuille de route",
            "Cible des facteurs qui n'en ont pas",
            "Target for factors without one",
        ),
        ("/assess/region?group=CARICOM", "Région : CARICOM", "Petits multiples", "Small multiples"),
        # An index, a round and a repository are headed by their names (from data).
        (
            "/assess/index?group=CARIBBEAN",
            "ITU Global Cybersecurity Index 2024",
            "Niveaux :",
            "Tiers:",
        ),
        ("/embassy", "Ambassade de données", "Dernière sauvegarde", "Last backup"),
        ("/embassy/gov-records", "gov-records", "Suffisamment réparti", "Spread enough"),
        ("/admin/users", "Utilisateurs", "Ajouter un utilisateur", "Add a user"),
        ("/admin/tokens", "Jetons d'API", "Créer un jeton", "Create a token"),
        ("/admin/partners", "Nœuds partenaires", "Ajouter un partenaire", "Add a partner"),
        ("/audit", "Journal d'audit", "Vérifier la chaîne", "Verify chain"),
    ]
    speaks(page, pages)  # the first ?lang=fr is remembered

    page.goto("/assess/region?group=CARICOM")
    statements = page.locator("#statements")
    expect(statements).to_contain_text("Dimension(s) la/les plus forte(s)")
    expect(statements).not_to_contain_text("Strongest")
    report = page.request.get("/assess/report?format=html")  # the browser's cookies: French
    assert report.ok and 'lang="fr"' in report.text() and "Synthèse" in report.text()
    page.goto("/audit")
    page.click("text=Vérifier la chaîne")
    expect(page.locator("#verdict-ok")).to_contain_text("entrées vérifiées")
    page.goto(f"{round_page}/consensus")
    expect(page.locator(".tabs")).to_contain_text("Écarts et feuille de route")
    expect(page.locator("#consensus-summary")).to_contain_text("sur 23")
    shoot(page, "assess-10-consensus-fr")

    page.goto("/embassy/gov-records?lang=nl")
    expect(page.locator("#sites")).to_contain_text("beschikbaar")
    expect(page.locator("#runs")).to_contain_text("geslaagd")  # a run's outcome, and its kind
    expect(page.locator("#runs")).to_contain_text("terugzetten")
    expect(page.locator("#runs")).not_to_contain_text("success")
    expect(page.locator("#snapshots")).to_contain_text(" MB")  # sizes for people
    expect(main).to_contain_text("Momentopnamen")
    expect(main).not_to_contain_text("Snapshots")
    page.goto("/assess")
    expect(page.locator("h1")).to_have_text("Volwassenheid")
    expect(main).to_contain_text("Beoordelingsrondes")
    expect(main).not_to_contain_text("Assessment rounds")


def test_switching_language_keeps_the_page_after_a_form_and_the_query(page: Page) -> None:
    # A deep link survives signing in, query and all.
    page.goto("/intel/search?q=taxrefund-gov-jm.example")
    expect(page).to_have_url(re.compile(r"/login\?next=/intel/search%3Fq%3Dtaxrefund"))
    page.click(".languages a[lang=es]")  # the sign-in page keeps where it leads
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fintel%2Fsearch%3Fq%3Dtax.*&lang=es$"))
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/intel/search\?q=taxrefund-gov-jm\.example$"))
    expect(page.locator("main")).to_contain_text("SAMPLE: tax refund phishing domain")
    page.click(".languages a[lang=es]")  # the search stays
    expect(page).to_have_url(re.compile(r"/intel/search\?q=taxrefund-gov-jm\.example&lang=es"))
    expect(page.locator("main")).to_contain_text("SAMPLE: tax refund phishing domain")
    # A page that answers a form was reached by POST: its links go back to the form's page.
    page.goto("/admin/partners?lang=en")
    page.fill("input[name=name]", "gy-national")
    page.fill("input[name=nation]", "GY")
    page.fill("input[name=url]", "https://seawall.gy.example")
    page.click("button:has-text('Add partner')")
    expect(page.locator("main")).to_contain_text("gy-national")
    page.click(".languages a[lang=fr]")
    expect(page.locator("h1")).to_have_text("Nœuds partenaires")
    expect(page).to_have_url(re.compile(r"/admin/partners\?lang=fr$"))
    # A partner is cut off from the page (a compromised node, say), and taken back.
    row = page.locator("#partners tr", has_text="gy-national")
    page.once("dialog", lambda d: d.accept())
    row.locator("button", has_text="Désactiver").click()
    expect(row).to_contain_text("désactivé")
    row.locator("button", has_text="Activer").click()
    expect(row.locator(".status")).to_have_text("actif")
