"""Core alerts: one open alert per kind and subject, acknowledging by pillar, safe labels."""

from __future__ import annotations

import pytest

from seawall.core import alerts, users
from seawall.core.clock import FrozenClock
from seawall.core.node import Node
from seawall.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.conftest import free_port


def test_an_open_alert_is_raised_again_not_twice(node: Node, clock: FrozenClock) -> None:
    with node.unit(node.operator()) as ctx:
        first = alerts.raise_alert(ctx, "embassy.rpo.exceeded", "gov-records", "7h old")
    clock.advance(hours=1)
    with node.unit(node.operator()) as ctx:
        again = alerts.raise_alert(ctx, "embassy.rpo.exceeded", "gov-records", "8h old")
        other = alerts.raise_alert(ctx, "embassy.rpo.exceeded", "land-registry", "9h old")
        assert again.id == first.id and again.count == 2 and again.message == "8h old"
        assert other.id != first.id
        alerts.acknowledge(ctx, first.id[:8], "restarting the backup")
    clock.advance(minutes=1)
    with node.unit(node.operator()) as ctx:
        fresh = alerts.raise_alert(ctx, "embassy.rpo.exceeded", "gov-records", "9h old")
        assert fresh.id != first.id
        assert [a.subject for a in alerts.list_alerts(ctx)] == ["gov-records", "land-registry"]
        assert len(alerts.list_alerts(ctx, everything=True)) == 3


@pytest.mark.parametrize("kind", ["rpo", "weather.storm", "embassy.", "Embassy.rpo", "embassy rpo"])
def test_an_alert_kind_names_its_pillar(node: Node, kind: str) -> None:
    with node.unit(node.operator()) as ctx, pytest.raises(InvalidInput, match="must be dotted"):
        alerts.raise_alert(ctx, kind, "gov-records", "message")


def test_only_those_who_act_on_the_pillar_acknowledge(node: Node) -> None:
    with node.unit(node.operator()) as ctx:
        users.add_user(ctx, "jm-analyst", "analyst", password="a-long-password")
        users.add_user(ctx, "jm-custodian", "custodian", password="a-long-password")
        row = alerts.raise_alert(ctx, "embassy.schedule.failed", "gov-records check", "x")
        analyst = users.act_as(ctx, "jm-analyst")
        custodian = users.act_as(ctx, "jm-custodian")
    with (
        node.unit(analyst) as ctx,
        pytest.raises(Forbidden, match="cannot operate the data embassy"),
    ):
        alerts.acknowledge(ctx, row.id)
    with node.unit(custodian) as ctx:
        alerts.acknowledge(ctx, row.id)
    with node.unit(custodian) as ctx, pytest.raises(Conflict, match="already"):
        alerts.acknowledge(ctx, row.id)
    with node.unit(custodian) as ctx:
        assert alerts.get_alert(ctx, row.id[:4]).id == row.id  # a unique prefix names it
        with pytest.raises(NotFound):  # shorter than 4 characters: no prefix
            alerts.get_alert(ctx, row.id[:3])
        with pytest.raises(NotFound):
            alerts.get_alert(ctx, "ffffffff")


def test_a_webhook_is_named_by_scheme_and_host_only() -> None:
    url = "https://hooks.chat.example:8443/services/T000/B000/XXXXSECRET?token=abc"
    assert alerts.webhook_label(url) == "https://hooks.chat.example:8443"


@pytest.mark.parametrize(
    ("url", "label"),
    [
        ("https://hooks.chat.example/services/T0PSECRET\x00", "https://hooks.chat.example"),
        ("https://hooks.chat.example:99999/services/T0PSECRET", "webhook (malformed URL)"),
    ],
)
def test_a_malformed_webhook_fails_its_channel_without_naming_its_token(
    node: Node, url: str, label: str
) -> None:
    node.settings = node.settings.model_copy(update={"alert_webhook_urls": [url]})
    with node.unit(node.operator()) as ctx:
        row = alerts.raise_alert(ctx, "embassy.rpo.exceeded", "gov-records", "7h old")
    done = alerts.deliver_alerts(lambda: node.unit(node.operator()), node.settings)
    assert done.sent == []
    assert [(alert_id, error.split(": ")[0]) for alert_id, error in done.failed] == [
        (row.id, label)
    ]
    with node.unit(node.operator()) as ctx:
        [kept] = alerts.list_alerts(ctx)
        assert kept.delivered_to == [] and "T0PSECRET" not in kept.delivery_error


def test_a_subject_on_several_lines_is_one_line_and_its_mail_fails_as_a_channel(
    node: Node,
) -> None:
    port = free_port()  # nothing listens there
    node.settings = node.settings.model_copy(
        update={"alert_smtp_host": "127.0.0.1", "alert_smtp_port": port, "alert_smtp_to": ["s@x"]}
    )
    with node.unit(node.operator()) as ctx:
        row = alerts.raise_alert(ctx, "embassy.schedule.failed", "gov-records\r\nBcc: x", "m")
        assert row.subject == "gov-records Bcc: x"
    done = alerts.deliver_alerts(lambda: node.unit(node.operator()), node.settings)
    assert [(alert_id, e.split(": ")[0]) for alert_id, e in done.failed] == [
        (row.id, f"smtp 127.0.0.1:{port}")
    ]


def test_acknowledged_alerts_are_listed_however_many_are_open(
    node: Node, clock: FrozenClock
) -> None:
    with node.unit(node.operator()) as ctx:
        old = alerts.raise_alert(ctx, "embassy.rpo.exceeded", "gov-records", "7h old")
        alerts.acknowledge(ctx, old.id, "in hand")
    for n in range(3):
        clock.advance(minutes=1)
        with node.unit(node.operator()) as ctx:
            alerts.raise_alert(ctx, "embassy.rpo.exceeded", f"repo-{n}", "late")
    with node.unit(node.operator()) as ctx:
        # Newer open alerts never crowd an acknowledged one out of its own list.
        done = alerts.list_alerts(ctx, acknowledged=True, limit=2)
        assert [a.id for a in done] == [old.id]
        assert len(alerts.list_alerts(ctx, limit=2)) == 2


def test_who_may_acknowledge_is_the_rule_acknowledge_applies(node: Node) -> None:
    with node.unit(node.operator()) as ctx:
        users.add_user(ctx, "jm-viewer", "viewer", password="a-long-password")
        users.add_user(ctx, "jm-custodian", "custodian", password="a-long-password")
        row = alerts.raise_alert(ctx, "embassy.schedule.failed", "gov-records check", "x")
        viewer = users.act_as(ctx, "jm-viewer")
        custodian = users.act_as(ctx, "jm-custodian")
    assert not alerts.may_acknowledge(viewer, row)
    assert alerts.may_acknowledge(custodian, row)
    with node.unit(viewer) as ctx, pytest.raises(Forbidden):
        alerts.acknowledge(ctx, row.id)
