"""A repository's schedules on its page, over a real uvicorn: a custodian adds, disables and
removes one and runs what is due; a viewer sees them, and each of its POSTs answers 403 and
writes nothing. On SQLite and PostgreSQL: Run due now runs each job in its own unit of work
while the page's own is open."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from seawall.core import users
from seawall.core.clock import FrozenClock
from seawall.core.node import Node
from seawall.db.models import AuditEntry
from seawall.db.models.embassy import EmbassyRun
from seawall.db.models.schedules import EmbassySchedule
from seawall.embassy import schedules, service
from seawall.embassy.schedules import Request, parse_duration
from seawall.embassy.sites.local import LocalSite
from tests.conftest import LiveServer, sign_in_by_form
from tests.integration.test_intel_bad_input import csrf_of

PASSWORD = "a-long-password"
PASSPHRASE = "correct-horse-battery-staple"


@pytest.fixture
def node(any_node: Node) -> Node:
    """The live server's node, on each database in turn."""
    return any_node


@pytest.fixture
def repo(node: Node, tmp_path: Path) -> str:
    """gov-records on three local sites, its passphrase where a scheduled run reads it."""
    with node.unit(node.operator()) as ctx:
        users.add_user(ctx, "jm-custodian", "custodian", password=PASSWORD)
        users.add_user(ctx, "jm-viewer", "viewer", password=PASSWORD)
    sites = [LocalSite(_made(tmp_path / f"site-{i}")) for i in range(3)]
    service.create(
        lambda: node.unit(node.operator()), "gov-records", sites, lambda: PASSPHRASE,
        k=2, clock=node.clock,
    )  # fmt: skip
    secrets = node.settings.effective_passphrase_dir
    secrets.mkdir(mode=0o700, parents=True, exist_ok=True)
    (secrets / "gov-records").write_text(PASSPHRASE)
    (secrets / "gov-records").chmod(0o600)
    return "gov-records"


def _made(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


@pytest.fixture
def custodian(live_server: LiveServer, repo: str) -> Iterator[httpx.Client]:
    with closing(_client(live_server, "jm-custodian")) as http:
        yield http


def _client(live_server: LiveServer, username: str) -> httpx.Client:
    http = httpx.Client(base_url=live_server.url, timeout=60)
    assert sign_in_by_form(http, username, PASSWORD).status_code == 303
    return http


def _written(node: Node) -> tuple[int, int, int]:
    """How many schedules, audit entries and embassy runs the node holds."""
    with node.unit(node.operator()) as ctx:
        return tuple(  # type: ignore[return-value]
            ctx.db.scalar(select(func.count()).select_from(table)) or 0
            for table in (EmbassySchedule, AuditEntry, EmbassyRun)
        )


def _schedule_rows(page: httpx.Response) -> list[str]:
    table = re.search(r'<table class="table" id="schedules">(.*?)</table>', page.text, re.S)
    assert table, "no schedules table"
    return re.findall(r'<tr id="schedule-[0-9a-f-]+".*?</tr>', table[1], re.S)


def test_a_custodian_adds_disables_and_removes_a_schedule(
    node: Node, custodian: httpx.Client
) -> None:
    page = custodian.get("/embassy/gov-records")
    assert page.status_code == 200
    assert 'id="schedule-form"' in page.text and "No schedules yet" in page.text
    added = custodian.post(
        "/embassy/gov-records/schedules",
        data={
            "csrf_token": csrf_of(page),
            "kind": "drill",
            "cron": "0 4 * * 0",
            "every": "",
            "timezone": "America/Jamaica",
            "rto": "4h",
        },
    )
    assert added.status_code == 200, added.text
    assert "Scheduled: drill of gov-records" in added.text
    with node.unit(node.operator()) as ctx:
        [(row, _)] = schedules.list_schedules(ctx, "gov-records")
        assert (row.kind, row.cron, row.timezone, row.rto_seconds) == (
            "drill", "0 4 * * 0", "America/Jamaica", 4 * 3600,
        )  # fmt: skip
        assert row.created_by == "jm-custodian"
    [shown] = _schedule_rows(added)
    assert "<code>0 4 * * 0</code> (America/Jamaica)" in shown and "RTO 4h" in shown
    # Sunday 04:00 in Kingston is 09:00 UTC; the node's clock reads Monday 23 November 2026.
    assert "29 Nov 2026 09:00" in shown

    refused = custodian.post(
        "/embassy/gov-records/schedules",
        data={"csrf_token": csrf_of(page), "kind": "drill", "every": "1w"},
    )
    assert refused.status_code == 422 and "needs --rto" in refused.text
    # A backup reads paths on the node with the node's passphrase: added on the node only.
    backup = custodian.post(
        "/embassy/gov-records/schedules",
        data={"csrf_token": csrf_of(page), "kind": "backup", "every": "1d", "paths": "/etc"},
    )
    assert backup.status_code == 403 and "may not schedule a backup" in backup.text

    disabled = custodian.post(
        f"/embassy/gov-records/schedules/{row.id}/disable", data={"csrf_token": csrf_of(page)}
    )
    assert disabled.status_code == 200
    [shown] = _schedule_rows(disabled)
    assert "disabled" in shown and f"/schedules/{row.id}/enable" in shown
    with node.unit(node.operator()) as ctx:
        assert schedules.get_schedule(ctx, row.id)[0].enabled is False

    removed = custodian.post(
        f"/embassy/gov-records/schedules/{row.id}/remove", data={"csrf_token": csrf_of(page)}
    )
    assert removed.status_code == 200 and "No schedules yet" in removed.text
    with node.unit(node.operator()) as ctx:
        assert schedules.list_schedules(ctx, "gov-records") == []
        actions = ctx.db.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.action.startswith("embassy.schedule."))
            .order_by(AuditEntry.seq)
        ).all()
    assert actions == ["embassy.schedule.added", "embassy.schedule.disabled",
                       "embassy.schedule.removed"]  # fmt: skip


def test_a_custodian_runs_what_is_due_and_sees_what_ran(
    node: Node, clock: FrozenClock, custodian: httpx.Client
) -> None:
    with node.unit(node.operator()) as ctx:
        schedules.add_schedule(
            ctx, "gov-records", Request("check", every=parse_duration("1h", "--every"))
        )
    page = custodian.get("/embassy/gov-records")
    nothing = custodian.post("/embassy/gov-records/run-due", data={"csrf_token": csrf_of(page)})
    assert nothing.status_code == 200 and "Nothing was due." in nothing.text

    clock.advance(hours=1)
    ran = custodian.post("/embassy/gov-records/run-due", data={"csrf_token": csrf_of(page)})
    assert ran.status_code == 200
    found = re.search(r'<table class="table" id="ran">(.*?)</table>', ran.text, re.S)
    assert found and "gov-records" in found[1] and "check" in found[1] and "success" in found[1]
    [shown] = _schedule_rows(ran)
    assert "success" in shown
    with node.unit(node.operator()) as ctx:
        [(row, _)] = schedules.list_schedules(ctx, "gov-records")
        assert row.last_outcome == "success"
        run = ctx.db.scalars(select(EmbassyRun).where(EmbassyRun.kind == "check")).one()
        assert run.actor == "jm-custodian"


def test_a_viewer_sees_the_schedules_and_every_post_is_refused_writing_nothing(
    node: Node, clock: FrozenClock, live_server: LiveServer, repo: str
) -> None:
    with node.unit(node.operator()) as ctx:
        row = schedules.add_schedule(
            ctx, "gov-records", Request("check", every=parse_duration("1h", "--every"))
        )
    clock.advance(hours=1)  # due: a Run due now by the viewer would run it
    with closing(_client(live_server, "jm-viewer")) as http:
        page = http.get("/embassy/gov-records")
        assert page.status_code == 200
        assert len(_schedule_rows(page)) == 1
        assert 'id="schedule-form"' not in page.text and 'id="run-due-form"' not in page.text
        assert "/disable" not in page.text
        before = _written(node)
        token = {"csrf_token": csrf_of(page)}
        for path, form in (
            ("/embassy/gov-records/schedules", {"kind": "check", "every": "1d"}),
            (f"/embassy/gov-records/schedules/{row.id}/disable", {}),
            (f"/embassy/gov-records/schedules/{row.id}/remove", {}),
            ("/embassy/gov-records/run-due", {}),
        ):
            refused = http.post(path, data={**token, **form})
            assert refused.status_code == 403, (path, refused.text)
            assert _written(node) == before, path
    with node.unit(node.operator()) as ctx:
        kept = schedules.get_schedule(ctx, row.id)[0]
        assert kept.enabled and kept.last_run_at is None


def test_a_schedule_of_another_repository_is_not_found_through_this_one(
    node: Node, custodian: httpx.Client, tmp_path: Path
) -> None:
    service.create(
        lambda: node.unit(node.operator()), "other-records",
        [LocalSite(_made(tmp_path / f"other-{i}")) for i in range(2)], lambda: PASSPHRASE,
        k=1, clock=node.clock,
    )  # fmt: skip
    with node.unit(node.operator()) as ctx:
        row = schedules.add_schedule(
            ctx, "gov-records", Request("check", every=parse_duration("1d", "--every"))
        )
    page = custodian.get("/embassy/other-records")
    wrong = custodian.post(
        f"/embassy/other-records/schedules/{row.id}/remove", data={"csrf_token": csrf_of(page)}
    )
    assert wrong.status_code == 404
    with node.unit(node.operator()) as ctx:
        assert schedules.get_schedule(ctx, row.id)[0].enabled


@pytest.mark.parametrize(
    ("lang", "words"),
    [("es", "Programaciones"), ("fr", "Planifications"), ("nl", "Schema's")],
)
def test_the_schedules_speak_each_language(custodian: httpx.Client, lang: str, words: str) -> None:
    page = custodian.get(f"/embassy/gov-records?lang={lang}")
    assert page.status_code == 200 and words in page.text
