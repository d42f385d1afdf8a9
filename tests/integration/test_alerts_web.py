"""Alerts on the home page and the alerts page, over a real uvicorn: shown first, acknowledged
by a custodian, refused to a viewer with 403 and nothing written."""

from __future__ import annotations

from contextlib import closing
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from seawall.core import alerts, users
from seawall.core.node import Node
from seawall.db.models import AuditEntry
from seawall.embassy import registry, schedules
from tests.conftest import LiveServer, sign_in_by_form
from tests.integration.test_intel_bad_input import csrf_of

PASSWORD = "a-long-password"


@pytest.fixture
def alert_id(node: Node) -> str:
    with node.unit(node.operator()) as ctx:
        users.add_user(ctx, "jm-custodian", "custodian", password=PASSWORD)
        users.add_user(ctx, "jm-viewer", "viewer", password=PASSWORD)
        registry.register_repo(ctx, "gov-records", "r" * 64, ["file:///srv/a"], 1, 1)
        schedules.add_schedule(
            ctx,
            "gov-records",
            schedules.Request("backup", every=timedelta(hours=1), paths=["/srv/registry"],
                              rpo=timedelta(hours=6)),
        )  # fmt: skip
        return alerts.raise_alert(
            ctx, "embassy.schedule.failed", "gov-records backup", "the site at Montego Bay is full"
        ).id


def _client(live_server: LiveServer, username: str) -> httpx.Client:
    http = httpx.Client(base_url=live_server.url, timeout=30)
    assert sign_in_by_form(http, username, PASSWORD).status_code == 303
    return http


def _audit_count(node: Node) -> int:
    with node.unit(node.operator()) as ctx:
        return ctx.db.scalar(select(func.count()).select_from(AuditEntry)) or 0


def test_the_home_page_shows_open_alerts_first_and_a_custodian_acknowledges(
    node: Node, live_server: LiveServer, alert_id: str
) -> None:
    with closing(_client(live_server, "jm-custodian")) as http:
        home = http.get("/")
        assert home.status_code == 200
        text = home.text
        assert text.index("the site at Montego Bay is full") < text.index('class="pillars')
        assert f'action="/alerts/{alert_id}/ack"' in text
        assert "gov-records" in text and "Within RPO" in text

        done = http.post(f"/alerts/{alert_id}/ack", data={"csrf_token": csrf_of(home), "back": "/"})
        assert (done.status_code, done.headers["location"]) == (303, "/")
        assert "the site at Montego Bay is full" not in http.get("/").text
        listed = http.get("/alerts")
        assert "Acknowledged by jm-custodian" in listed.text
    with node.unit(node.operator()) as ctx:
        row = alerts.get_alert(ctx, alert_id)
        assert row.acknowledged_by == "jm-custodian"


def test_a_viewer_sees_alerts_but_cannot_acknowledge_them(
    node: Node, live_server: LiveServer, alert_id: str
) -> None:
    with closing(_client(live_server, "jm-viewer")) as http:
        home = http.get("/")
        assert "the site at Montego Bay is full" in home.text
        assert f'action="/alerts/{alert_id}/ack"' not in home.text
        before = _audit_count(node)
        refused = http.post(f"/alerts/{alert_id}/ack", data={"csrf_token": csrf_of(home)})
        assert refused.status_code == 403
        # Said once, above the list.
        assert refused.text.count("cannot operate the data embassy") == 1
        assert _audit_count(node) == before
    with node.unit(node.operator()) as ctx:
        assert alerts.get_alert(ctx, alert_id).acknowledged_at is None


@pytest.mark.parametrize("lang", ["es", "fr", "nl"])
def test_the_alerts_page_speaks_each_language(
    live_server: LiveServer, alert_id: str, lang: str
) -> None:
    words = {"es": "Reconocer", "fr": "Acquitter", "nl": "Bevestigen"}
    with closing(_client(live_server, "jm-custodian")) as http:
        page = http.get(f"/alerts?lang={lang}")
        assert page.status_code == 200 and words[lang] in page.text
