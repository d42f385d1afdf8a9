"""The home page tells the state of the nation from the demo data, over a real uvicorn: each
pillar's figures, within what the signed-in user may read."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from seawall.core import audit
from seawall.core.clock import FrozenClock, SystemClock
from seawall.core.node import Node, init_node
from seawall.demo import DEMO_PASSWORD, load_demo
from seawall.settings import load_settings
from seawall.web.home import group_activity
from tests.conftest import LiveServer, serve_in_thread, sign_in_by_form


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    home = tmp_path_factory.mktemp("dashboard") / "home"
    node = init_node(
        load_settings(home=home, cookie_secure=False),
        "JM",
        "Jamaica national node",
        clock=SystemClock(),
    )
    load_demo(node)
    yield node
    node.close()


@pytest.fixture(scope="module")
def server(demo: Node) -> Iterator[LiveServer]:
    from seawall.web.app import create_app

    live = serve_in_thread(create_app(node=demo))
    yield live
    live.stop()


def _home(server: LiveServer, username: str, query: str = "") -> str:
    with closing(httpx.Client(base_url=server.url, timeout=30)) as http:
        assert sign_in_by_form(http, username, DEMO_PASSWORD).status_code == 303
        answer = http.get(f"/{query}")
        assert answer.status_code == 200
        return answer.text


def _section(text: str, ident: str) -> str:
    start = text.index(f'id="{ident}"')
    return text[start : text.index("</article>", start)]


def _plain(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_admin_sees_each_pillars_figures_from_the_demo(server: LiveServer) -> None:
    text = _home(server, "admin")
    maturity = _plain(_section(text, "assess"))
    assert "Published round 2025" in maturity
    assert "Cybersecurity Policy and Strategy 3.2" in maturity  # 3.25, one decimal
    assert "Round 2026 : 9 of 23 factors agreed" in maturity
    assert "GCI 2024: 58.0 / 100 T3 Establishing" in maturity
    assert "No roadmap action overdue." in maturity

    defence = _plain(_section(text, "intel"))
    assert "9 new indicators" in defence
    for marking in ("TLP:GREEN 5", "TLP:AMBER 2", "TLP:AMBER+STRICT 1", "TLP:RED 1"):
        assert marking in defence
    assert "2 sightings" in defence and "1 open case medium 1" in defence
    assert "tt-national (TT) never synced" in defence

    embassy = _plain(_section(text, "embassy"))
    assert "gov-records 3-of-5" in embassy
    assert "RPO 1 day Within RPO" in embassy
    assert "5 of 5 sites up" in embassy
    # The demo's sites are folders on this machine: said so, not counted as a spread.
    assert "one machine demo: the sites are folders on this machine" in embassy
    assert re.search(r"Last check: \d+ (second|minute)s? ago success", embassy)
    # Evidence sizes are said as sizes, not as raw byte counts.
    assert not re.search(r"\d{4,} bytes", text)


def test_a_viewer_sees_no_counts_above_what_a_viewer_may_read(server: LiveServer) -> None:
    text = _home(server, "viewer")
    defence = _plain(_section(text, "intel"))
    assert "7 new indicators" in defence
    assert "TLP:GREEN 5" in defence and "TLP:AMBER 2" in defence
    assert "RED" not in defence and "STRICT" not in defence
    assert 'id="activity"' not in text  # a viewer may not read the audit log


def test_the_spanish_home_page_uses_the_catalogs_plural_forms(server: LiveServer) -> None:
    defence = _plain(_section(_home(server, "viewer", "?lang=es"), "intel"))
    assert "7 indicadores nuevos" in defence
    assert "1 caso abierto" in defence


def test_the_gci_tier_reads_in_the_pages_language(server: LiveServer) -> None:
    maturity = _plain(_section(_home(server, "viewer", "?lang=es"), "assess"))
    assert "T3 En consolidación" in maturity and "Establishing" not in maturity


def test_the_evidence_reads_in_the_pages_language_as_the_rating_sheet_does(
    server: LiveServer,
) -> None:
    text = _home(server, "viewer", "?lang=es")
    start = text.index('id="evidence"')
    evidence = _plain(text[start : text.index("</section>", start)])
    assert "de la embajada de datos gov-records" in evidence
    assert "Data embassy" not in evidence and not re.search(r"\d{4,} bytes", evidence)


def test_recent_activity_groups_repeats_and_hides_sign_ins(demo: Node, server: LiveServer) -> None:
    for _ in range(3):
        _home(server, "admin")
    shown = _plain(_home(server, "admin").split('id="activity"')[1].split("</section>")[0])
    assert "auth.login" not in shown and "evidence.recorded \N{MULTIPLICATION SIGN}" in shown
    with_sign_ins = _home(server, "admin", "?signins=1").split('id="activity"')[1]
    assert re.search(
        r"admin</b> <code>auth.login</code> <span class=\"badge\">\N{MULTIPLICATION SIGN}[4-9]",
        with_sign_ins,
    )
    with demo.unit(demo.operator()) as ctx:
        entries = audit.search(ctx.db, audit.AuditFilter(nation="JM", limit=50))
    grouped = group_activity(list(entries), shown=50)
    assert sum(g.count for g in grouped) == len(entries)
    assert len({(g.actor, g.action) for g in grouped}) == len(grouped)


def test_a_flood_of_sign_ins_does_not_push_the_actions_out_of_the_activity(node: Node) -> None:
    from seawall.web.home import ACTIVITY_WINDOW, recent_activity

    with node.unit(node.operator()) as ctx:
        ctx.record("evidence.recorded", "e1")
        for _ in range(ACTIVITY_WINDOW + 1):
            ctx.record("auth.login", "admin")
    with node.unit(node.operator()) as ctx:
        shown = recent_activity(ctx)
        assert shown is not None and "evidence.recorded" in [a.action for a in shown]
        assert "auth.login" not in [a.action for a in shown]
        with_sign_ins = recent_activity(ctx, sign_ins=True)
    assert with_sign_ins is not None and with_sign_ins[0].action == "auth.login"
    assert with_sign_ins[0].count == ACTIVITY_WINDOW


def test_how_long_ago_is_told_by_the_nodes_clock(
    node: Node, clock: FrozenClock, live_server: LiveServer
) -> None:
    from seawall.core import users

    with node.unit(node.operator()) as ctx:
        users.add_user(ctx, "jm-admin", "admin", password="a-long-password")
    clock.advance(hours=3)
    with closing(httpx.Client(base_url=live_server.url, timeout=30)) as http:
        assert sign_in_by_form(http, "jm-admin", "a-long-password").status_code == 303
        text = http.get("/").text
    activity = _plain(text.split('id="activity"')[1].split("</section>")[0])
    assert "3 hours ago operator user.created" in activity, activity


def test_a_role_without_embassy_access_sees_no_embassy_card(demo: Node, tmp_path: Path) -> None:
    from seawall.core.access import Perm
    from seawall.core.users import get_user, principal_of
    from seawall.web.home import state_of_nation

    with demo.unit(demo.operator()) as ctx:
        viewer = get_user(ctx, "viewer")
        narrow = principal_of(viewer, scopes=frozenset(Perm) - {Perm.EMBASSY_READ})
    with demo.unit(narrow) as ctx:
        home = state_of_nation(ctx)
    assert home.embassy is None and home.defence is not None and home.maturity is not None


def test_a_partner_in_backoff_and_a_site_down_head_the_page(demo: Node, server: LiveServer) -> None:
    import shutil

    from seawall.core.federation import links
    from seawall.core.federation.errors import PartnerUnreachable
    from seawall.core.partners import get_partner

    with demo.unit(demo.operator()) as ctx:
        links.record_failure(
            ctx, get_partner(ctx, "tt-national"), PartnerUnreachable("tt-national did not answer")
        )
    shutil.rmtree(demo.settings.home / "embassy-sites" / "belmopan")
    text = _home(server, "viewer")
    attention = _plain(
        text[text.index('id="attention"') : text.index("</ul>", text.index('id="attention"'))]
    )
    assert re.search(r"tt-national sync in backoff, next try in \d+ (second|minute)s?", attention)
    assert "gov-records 1 site does not answer" in attention
    assert text.index('id="attention"') < text.index('class="pillars')
    assert "4 of 5 sites up" in _plain(_section(text, "embassy"))


def test_a_roadmap_action_past_due_is_named_on_the_home_page(
    demo: Node, server: LiveServer
) -> None:
    from datetime import timedelta

    from seawall.assess import gaps

    with demo.unit(demo.operator()) as ctx:
        yesterday = ctx.now().date() - timedelta(days=1)
        gaps.add_item(
            ctx, "JM", "cmm-2021", "D2.1", "Publish the awareness plan", "MSET", yesterday
        )
        done = gaps.add_item(ctx, "JM", "cmm-2021", "D2.1", "Done already", "MSET", yesterday)
        gaps.update_item(ctx, done.id, status="done", progress=100)
    maturity = _plain(_section(_home(server, "viewer"), "assess"))
    assert "1 roadmap action overdue Publish the awareness plan" in maturity
    assert "Done already" not in maturity


def test_a_site_that_does_not_answer_in_time_is_down_for_the_page(tmp_path: Path) -> None:
    import socket

    from seawall.web.home import site_states

    # A listening socket that never accepts: an SFTP probe of it waits for a banner.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        (tmp_path / "site").mkdir()
        states = site_states(
            [f"sftp://nobody@127.0.0.1:{port}/srv", f"file://{tmp_path / 'site'}"], wait=0.5
        )
    assert states == ["down", "empty"]
