"""Schedules on real repositories (local-folder sites): run-due, drills, missed runs, RPO, and
alerts delivered to a real webhook receiver and a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from seawall.core import alerts, audit, users
from seawall.core.clock import FrozenClock
from seawall.core.context import Ctx
from seawall.core.evidence import list_evidence
from seawall.core.node import Node
from seawall.db.models.embassy import EmbassyRun
from seawall.embassy import registry, schedules, service
from seawall.embassy.scheduling import Ticker, run_due
from seawall.embassy.service.drills import drill
from seawall.embassy.sites import open_site
from seawall.errors import Forbidden
from tests.conftest import free_port

PASS = "correct-horse-battery-staple"


def _units(node: Node) -> Any:
    def unit() -> AbstractContextManager[Ctx]:
        return node.unit(node.operator("scheduler"))

    return unit


@pytest.fixture
def records(tmp_path: Path) -> Path:
    src = tmp_path / "records"
    (src / "land").mkdir(parents=True)
    (src / "land" / "parcels.csv").write_text("".join(f"{i},Kingston\n" for i in range(5000)))
    (src / "empty").mkdir()
    (src / "note.txt").write_text("registry\n")
    (src / "latest.csv").symlink_to("land/parcels.csv")
    return src


@pytest.fixture
def repo(node: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A 2-of-3 repository on local folders, registered as gov-records; its passphrase in
    the environment, as a timer unit would give it."""
    monkeypatch.setenv("SEAWALL_EMBASSY_PASSPHRASE", PASS)
    sites = []
    for i in range(3):
        (tmp_path / f"site-{i}").mkdir()
        sites.append(open_site(f"file://{tmp_path}/site-{i}"))
    service.create(_units(node), "gov-records", sites, lambda: PASS, k=2, clock=node.clock)
    node.settings = node.settings.model_copy(update={"restore_dir": tmp_path / "restores"})
    return "gov-records"


def _add(node: Node, repo: str, **kwargs: Any) -> str:
    with _units(node)() as ctx:
        return schedules.add_schedule(ctx, repo, schedules.Request(**kwargs)).id


def _runs(node: Node, kind: str) -> list[EmbassyRun]:
    with _units(node)() as ctx:
        rows = ctx.db.scalars(select(EmbassyRun).where(EmbassyRun.kind == kind)).all()
        ctx.db.expunge_all()
        return list(rows)


def _open_alerts(node: Node) -> list[tuple[str, str, int]]:
    with _units(node)() as ctx:
        return sorted((a.kind, a.subject, a.count) for a in alerts.list_alerts(ctx))


def test_a_due_backup_runs_once_through_run_due(
    node: Node, repo: str, records: Path, clock: FrozenClock
) -> None:
    _add(node, repo, kind="backup", every=timedelta(hours=1), paths=[str(records)])
    assert run_due(_units(node), clock, node.settings).ran == []

    clock.advance(hours=1, minutes=2)
    first = run_due(_units(node), clock, node.settings)
    assert [(r.kind, r.outcome, r.missed) for r in first.ran] == [("backup", "success", 0)]
    assert run_due(_units(node), clock, node.settings).ran == []  # idempotent at one moment

    backups = _runs(node, "backup")
    assert [(r.outcome, r.actor) for r in backups] == [("success", "operator")]
    with _units(node)() as ctx:
        [(row, _name)] = schedules.list_schedules(ctx, repo)
        assert (row.last_outcome, row.running_since, row.missed) == ("success", None, 0)
        actions = [e.action for e in audit.search(ctx.db, audit.AuditFilter(limit=50))]
    assert "embassy.backup" in actions and "embassy.schedule.ran" in actions
    assert _open_alerts(node) == []


def test_two_passes_claim_one_due_time_once(node: Node, repo: str, clock: FrozenClock) -> None:
    schedule_id = _add(node, repo, kind="check", every=timedelta(hours=1))
    clock.advance(hours=1)
    with _units(node)() as ctx:
        row, _repo = schedules.get_schedule(ctx, schedule_id)
        ctx.db.expunge(row)
    chosen = schedules.plan(schedules.timing_of(row), row.done_through, clock.now(), timedelta(0))
    taken = []
    for _ in range(2):  # two passes that planned the same moment
        with _units(node)() as ctx:
            taken.append(schedules.claim(ctx, row, row.done_through, chosen))
    assert taken == [True, False]


def test_a_restore_drill_records_its_measured_rto_as_evidence(
    node: Node, repo: str, records: Path, clock: FrozenClock, tmp_path: Path
) -> None:
    access = service.Access(_units(node), repo, clock, passphrase=lambda: PASS)
    service.backup(access, [records])
    _add(node, repo, kind="drill", every=timedelta(days=7), rto=timedelta(hours=4))
    clock.advance(days=7, seconds=5)
    done = run_due(_units(node), clock, node.settings)
    assert [(r.kind, r.outcome) for r in done.ran] == [("drill", "success")]

    with _units(node)() as ctx:
        [drill_evidence] = [e for e in list_evidence(ctx) if e.kind == "embassy.drill"]
    assert drill_evidence.outcome == "success"
    assert drill_evidence.supports == ["cmm:D1.2"]
    detail = drill_evidence.detail
    assert detail["passed"] is True and detail["problems"] == []
    assert detail["rto_target_seconds"] == 4 * 3600
    assert 0 < detail["rto_measured_seconds"] < 4 * 3600
    assert detail["files"] == 2  # parcels.csv and note.txt
    [restore] = _runs(node, "restore")
    assert restore.detail["drill"] is True and restore.outcome == "success"
    # The drill cleaned up after itself.
    assert list((tmp_path / "restores" / "drills").iterdir()) == []

    # A target no restore can beat fails, and says so in the evidence.
    missed_target = drill(access, tmp_path / "restores" / "drills", rto_seconds=1e-9)
    assert not missed_target.passed
    with _units(node)() as ctx:
        outcomes = [e.outcome for e in list_evidence(ctx) if e.kind == "embassy.drill"]
    assert sorted(outcomes) == ["failure", "success"]


def test_a_late_pass_records_the_missed_runs_and_still_runs_once(
    node: Node, repo: str, records: Path, clock: FrozenClock
) -> None:
    _add(node, repo, kind="backup", every=timedelta(hours=1), paths=[str(records)])
    clock.advance(hours=5, minutes=30)  # the node was down: 5 due times, all past grace
    done = run_due(_units(node), clock, node.settings)
    assert [(r.outcome, r.missed) for r in done.ran] == [("success", 5)]
    assert len(_runs(node, "backup")) == 1
    assert _open_alerts(node) == [("embassy.schedule.missed", "gov-records backup", 1)]


def test_a_backup_older_than_its_rpo_raises_one_alert(
    node: Node, repo: str, records: Path, clock: FrozenClock
) -> None:
    _add(node, repo, kind="backup", cron="0 2 * * *", paths=[str(records)], rpo=timedelta(hours=2))
    clock.advance(hours=3)  # 12:00 UTC: no backup due before 02:00, none made yet
    run_due(_units(node), clock, node.settings)
    clock.advance(minutes=30)
    run_due(_units(node), clock, node.settings)
    assert _open_alerts(node) == [("embassy.rpo.exceeded", "gov-records", 2)]
    with _units(node)() as ctx:
        [state] = schedules.rpo_states(ctx)
    assert state.exceeded and state.last_backup is None


# --- alert delivery: a real webhook receiver and a real SMTP server ----------------------------


@dataclass
class Receiver:
    """Webhook POSTs received on 127.0.0.1; answers ``status``."""

    url: str
    posts: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    status: int = 204


@pytest.fixture
def webhook() -> Iterator[Receiver]:
    port = free_port()
    receiver = Receiver(f"http://127.0.0.1:{port}/hooks/T0PSECRET")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            receiver.paths.append(self.path)
            receiver.posts.append(json.loads(body))
            self.send_response(receiver.status)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()


class Inbox:
    """An aiosmtpd handler keeping each message's envelope and bytes."""

    def __init__(self) -> None:
        self.mail: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.mail.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_a_failed_scheduled_run_alerts_by_webhook_and_mail_once(
    node: Node,
    repo: str,
    clock: FrozenClock,
    tmp_path: Path,
    webhook: Receiver,
    smtp: tuple[Inbox, int],
) -> None:
    inbox, port = smtp
    node.settings = node.settings.model_copy(
        update={
            "alert_webhook_urls": [webhook.url],
            "alert_smtp_host": "127.0.0.1",
            "alert_smtp_port": port,
            "alert_smtp_starttls": False,
            "alert_smtp_from": "seawall@node.gov.jm",
            "alert_smtp_to": ["soc@gov.jm"],
        }
    )
    gone = tmp_path / "moved-away"
    _add(node, repo, kind="backup", every=timedelta(hours=1), paths=[str(gone)])
    webhook.status = 503  # the chat service is down at first
    clock.advance(hours=1, minutes=1)
    first = run_due(_units(node), clock, node.settings)
    assert [r.outcome for r in first.ran] == ["failure"]
    assert _open_alerts(node) == [("embassy.schedule.failed", "gov-records backup", 1)]
    assert len(webhook.posts) == 1 and len(inbox.mail) == 1
    assert [error for _id, error in first.delivery.failed] == [
        f"http://127.0.0.1:{webhook.url.split(':')[2].split('/')[0]}: HTTP 503"
    ]

    # The next pass (nothing due) sends it again where it failed, and only there.
    webhook.status = 204
    clock.advance(minutes=1)
    second = run_due(_units(node), clock, node.settings)
    assert second.ran == [] and second.delivery.failed == []
    assert len(webhook.posts) == 2 and len(inbox.mail) == 1
    posted = webhook.posts[-1]
    assert posted["kind"] == "embassy.schedule.failed"
    assert posted["subject"] == "gov-records backup"
    assert str(gone) in posted["message"]
    rcpts, raw = inbox.mail[0]
    mail = message_from_bytes(raw)
    assert rcpts == ["soc@gov.jm"]
    assert mail["Subject"] == "[Seawall JM] embassy.schedule.failed: gov-records backup"

    # A third pass sends nothing more; the token in the webhook's path is never recorded.
    run_due(_units(node), clock, node.settings)
    assert len(webhook.posts) == 2
    with _units(node)() as ctx:
        entries = audit.search(ctx.db, audit.AuditFilter(limit=200))
        assert "T0PSECRET" not in json.dumps([e.detail for e in entries], default=str)
        [alert] = alerts.list_alerts(ctx)
        assert alert.delivery_error == ""


def test_a_scheduled_run_without_a_passphrase_fails_with_one_line(
    node: Node, repo: str, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SEAWALL_EMBASSY_PASSPHRASE")
    node.settings = node.settings.model_copy(update={"embassy_passphrase_dir": tmp_path / "pw"})
    (tmp_path / "pw").mkdir()
    _add(node, repo, kind="check", every=timedelta(hours=1))
    clock.advance(hours=1)
    [ran] = run_due(_units(node), clock, node.settings).ran
    assert ran.outcome == "failure" and "no passphrase" in ran.message

    secret = tmp_path / "pw" / "gov-records"
    secret.write_text(PASS + "\n")
    secret.chmod(0o644)
    clock.advance(hours=1)
    [ran] = run_due(_units(node), clock, node.settings).ran
    assert "chmod 600" in ran.message

    secret.chmod(0o600)
    clock.advance(hours=1)
    [ran] = run_due(_units(node), clock, node.settings).ran
    assert ran.outcome == "success"
    with _units(node)() as ctx:
        repo_row = registry.get_repo(ctx, repo)
        assert registry.last_run(ctx, repo_row, "check") is not None


def test_the_serve_thread_runs_due_schedules_until_stopped(
    node: Node, repo: str, records: Path, clock: FrozenClock
) -> None:
    _add(node, repo, kind="backup", every=timedelta(hours=1), paths=[str(records)])
    clock.advance(hours=1)
    ticker = Ticker(_units(node), clock, node.settings, interval=0.05).start()
    try:
        deadline = time.monotonic() + 30
        while not _runs(node, "backup") and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        ticker.stop()
    assert ticker.passes >= 1
    assert [r.outcome for r in _runs(node, "backup")] == ["success"]


@pytest.fixture
def pg_or_sqlite_repo(
    any_node: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Node, str]:
    """A registered repository on a node of each backend."""
    monkeypatch.setenv("SEAWALL_EMBASSY_PASSPHRASE", PASS)
    sites = []
    for i in range(2):
        (tmp_path / f"pg-site-{i}").mkdir()
        sites.append(open_site(f"file://{tmp_path}/pg-site-{i}"))
    service.create(_units(any_node), "gov-records", sites, lambda: PASS, k=1, clock=any_node.clock)
    return any_node, "gov-records"


def test_two_passes_at_once_run_a_due_check_once(
    pg_or_sqlite_repo: tuple[Node, str], clock: FrozenClock
) -> None:
    node, repo = pg_or_sqlite_repo
    _add(node, repo, kind="check", every=timedelta(hours=1))
    clock.advance(hours=1)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def one_pass() -> None:
        start.wait()
        outcomes.extend(r.outcome for r in run_due(_units(node), clock, node.settings).ran)

    threads = [threading.Thread(target=one_pass) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) in (["skipped", "success"], ["success"])
    assert [r.outcome for r in _runs(node, "check")] == ["success"]


def test_only_the_node_operator_schedules_a_backup(node: Node, repo: str, records: Path) -> None:
    """A backup reads the node's own files: a signed-in custodian (who holds the passphrase)
    may schedule checks and drills, never a backup of paths on the node."""
    with node.unit(node.operator()) as ctx:
        users.add_user(ctx, "custodian", "custodian", nation=node.nation)
        custodian = users.act_as(ctx, "custodian")
    with node.unit(custodian) as ctx:
        with pytest.raises(Forbidden, match="may not schedule a backup"):
            schedules.add_schedule(
                ctx, repo, schedules.Request(kind="backup", every=timedelta(days=1), paths=["/"])
            )
        drill_id = schedules.add_schedule(
            ctx,
            repo,
            schedules.Request(kind="drill", every=timedelta(days=30), rto=timedelta(hours=1)),
        ).id
    assert _add(node, repo, kind="backup", every=timedelta(days=1), paths=[str(records)])
    with _units(node)() as ctx:
        kinds = sorted(row.kind for row, _ in schedules.list_schedules(ctx))
    assert drill_id and kinds == ["backup", "drill"]


def test_a_viewer_cannot_run_what_is_due(node: Node, repo: str, clock: FrozenClock) -> None:
    _add(node, repo, kind="check", every=timedelta(hours=1))
    clock.advance(hours=2)
    with node.unit(node.operator()) as ctx:
        users.add_user(ctx, "watcher", "viewer", nation=node.nation)
        viewer = users.act_as(ctx, "watcher")
    with pytest.raises(Forbidden):
        run_due(lambda: node.unit(viewer), clock, node.settings)
    assert _runs(node, "check") == []  # nothing claimed, nothing run
