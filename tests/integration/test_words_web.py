"""The words the web pages say, in English and Spanish: refusals in sentences with the
navigation kept, errors that point to pages rather than commands."""

from __future__ import annotations

from contextlib import closing

import httpx

from seawall.core import users
from seawall.core.node import Node
from tests.conftest import LiveServer, sign_in_by_form

PASSWORD = "a-long-password"


def test_refusals_and_missing_pages_say_why_in_the_pages_language_and_keep_the_navigation(
    viewer: httpx.Client,
) -> None:
    with closing(viewer) as http:
        refused = http.get("/audit")
        assert refused.status_code == 403
        assert "Your role (viewer) cannot read the audit log." in refused.text
        assert "may not" not in refused.text
        assert 'nav aria-label="Main"' in refused.text  # the layout, not a bare card
        spanish = http.get("/audit?lang=es")
        assert spanish.status_code == 403
        assert "Su rol (viewer) no puede leer el registro de auditoría." in spanish.text
        fragment = http.get("/audit?lang=en", headers={"HX-Request": "true"})
        assert fragment.status_code == 403 and 'nav aria-label="Main"' not in fragment.text
        missing = http.get("/no-such-page?lang=en")
        assert missing.status_code == 404 and 'nav aria-label="Main"' in missing.text
        # A missing record points to the page that lists them, not to a command.
        case = http.get("/intel/cases/0123456789abcdef")
        assert case.status_code == 404
        assert "`seawall" not in case.text
        assert "the Cases page (/intel/cases) lists them" in case.text


def test_a_missing_round_points_to_the_page_that_lists_them(viewer: httpx.Client) -> None:
    with closing(viewer) as http:
        missing = http.get("/assess/rounds/ffffffff")
    assert missing.status_code == 404
    assert "`seawall" not in missing.text
    assert "the Maturity page (/assess) lists them" in missing.text


def test_the_audit_log_reads_as_words_with_whole_dates_and_named_targets(
    node: Node, live_server: LiveServer
) -> None:
    stray = "9f1c2b7e-0d4a-4c55-9e61-3b2f7a8c1d00"
    with node.unit(node.operator()) as ctx:
        users.add_user(ctx, "jm-admin", "admin", password=PASSWORD)
        viewer = users.add_user(ctx, "jm-reader", "viewer", password=PASSWORD)
        ctx.record("assess.rating.changed", stray, previous=None, dissent=True, factors=["a", "b"])
    with closing(httpx.Client(base_url=live_server.url, timeout=30)) as http:
        assert sign_in_by_form(http, "jm-admin", PASSWORD).status_code == 303
        page = http.get("/audit?lang=en").text
        assert "previous=None" not in page and "dissent=True" not in page
        assert '<span class="kv">previous: —</span>' in page
        assert '<span class="kv">dissent: yes</span>' in page
        assert '<span class="kv">factors: a, b</span>' in page
        assert '<td class="nowrap">23 Nov 2026 09:00:00</td>' in page
        assert f'<a href="/admin/users" title="{viewer.id}">jm-reader</a>' in page
        assert stray in page  # an id with no name to show is shown whole
        spanish = http.get("/audit?lang=es").text
        assert '<span class="kv">dissent: sí</span>' in spanish
        assert '<td class="nowrap">23 nov 2026 09:00:00</td>' in spanish


def test_browser_titles_name_things_as_people_do(viewer: httpx.Client) -> None:
    with closing(viewer) as http:
        index = http.get("/assess/index?edition=gci-2024&lang=en")
        assert index.status_code == 200, index.text[-500:]
        title = index.text.split("<title>")[1].split("</title>")[0]
        assert "gci-2024" not in title and "Global Cybersecurity Index" in title


def test_a_repositorys_runs_and_evidence_read_in_the_pages_language(
    node: Node, live_server: LiveServer, viewer: httpx.Client
) -> None:
    from seawall.embassy import registry

    with node.unit(node.operator()) as ctx:
        repo = registry.register_repo(ctx, "gov-records", "r" * 64, ["file:///srv/a"], 1, 1)
        detail = {"packs": 1, "shares_read": 5, "read_data": False, "problems": []}
        registry.record_run(
            ctx, repo, "check", "success", "1 packs, 5 shares read, 0 problems", ctx.now(), detail
        )
        backup = {"snapshot": "1a2b3c4d" * 8, "files": 1, "bytes": 2_669_119, "stored_bytes": 0}
        registry.record_run(ctx, repo, "backup", "success", "stored", ctx.now(), backup)
        drill = {**backup, "rto_measured_seconds": 4.93, "passed": True, "problems": []}
        registry.record_run(ctx, repo, "drill", "success", "drilled", ctx.now(), drill)
    with closing(viewer) as http:
        english = http.get("/embassy/gov-records?lang=en").text
        assert "1 pack, 5 shares read, 0 problems" in english
        spanish = http.get("/embassy/gov-records?lang=es").text
        assert "1 paquete, 5 partes leídas, 0 problemas" in spanish
        assert ">success<" not in spanish and "éxito" in spanish
        assert "snapshot 1a2b3c4d: 1 file, 2.7 MB, 0 B new" in english
        assert "instantánea 1a2b3c4d: 1 archivo, 2,7 MB, 0 B nuevos" in spanish
        assert "restore drill of 1a2b3c4d: 1 file, 2.7 MB in 4.9 s" in english
        assert "simulacro de restauración de 1a2b3c4d: 1 archivo, 2,7 MB en 4,9 s" in spanish


def test_sites_that_are_folders_on_this_machine_are_said_to_be(
    node: Node, live_server: LiveServer, viewer: httpx.Client
) -> None:
    from seawall.embassy import registry
    from seawall.embassy.exposure import Place

    sites = ["file:///srv/a", "file:///srv/b", "file:///srv/c"]
    places = [Place("Kingston", 18.0, -76.8), Place("Bridgetown", 13.1, -59.6),
              Place("Belmopan", 17.25, -88.77)]  # fmt: skip
    with node.unit(node.operator()) as ctx:
        repo = registry.register_repo(ctx, "gov-records", "r" * 64, sites, 2, 3)
        for url, place in zip(sites, places, strict=True):
            registry.locate_site(ctx, repo, url, place)
    with closing(viewer) as http:
        index = http.get("/embassy?lang=en").text
        assert "demo: the sites are folders on this machine" in index
        assert "survives 1 lost site</span>" in index  # the catalog's singular, in English too
        page = http.get("/embassy/gov-records?lang=en").text
        assert "All 3 sites are folders on this machine" in page
        spanish = http.get("/embassy/gov-records?lang=es").text
        assert "Los 3 sitios son carpetas de esta máquina" in spanish


def test_a_form_a_role_may_not_send_is_refused_in_the_pages_language(
    viewer: httpx.Client,
) -> None:
    from tests.integration.test_intel_bad_input import csrf_of

    with closing(viewer) as http:
        form = http.get("/intel?lang=es")
        refused = http.post(
            "/intel/collections?lang=es",
            data={"csrf_token": csrf_of(form), "alias": "mine", "tlp": "green"},
        )
        assert refused.status_code == 403
        assert (
            "Su rol (viewer) no puede añadir o cambiar la inteligencia compartida." in refused.text
        )
        assert "cannot" not in refused.text
        english = http.post(
            "/intel/collections?lang=en",
            data={"csrf_token": csrf_of(form), "alias": "mine", "tlp": "green"},
        )
        assert "Your role (viewer) cannot add or change shared intelligence." in english.text
