"""``seawall embassy schedule``, ``seawall embassy run-due`` and ``seawall alerts`` through the
real CLI translator, on a node home with a repository on local folders."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from seawall.settings import load_settings
from tests.cli import Outcome, init_node, run_seawall, site_dirs

PASS = "correct-horse-battery-staple"


def sw(home: Path, *args: str) -> Outcome:
    return run_seawall(home, *args, env={"SEAWALL_EMBASSY_PASSPHRASE": PASS})


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = init_node(tmp_path / "node")
    args = ["embassy", "init", "--name", "gov-records", "--shares", "2-of-3"]
    for site in site_dirs(tmp_path, 3):
        args += ["--site", f"file://{site}"]
    made = sw(home, *args)
    assert made.code == 0, made.err
    return home


def _set_back(home: Path, schedule_id: str, minutes: int) -> None:
    """The node was down: the schedule's last done due time is ``minutes`` further back."""
    engine = create_engine(load_settings(home=home).effective_database_url)
    with engine.begin() as conn:
        row = conn.execute(
            text("SELECT done_through, created_at FROM embassy_schedules WHERE id = :id"),
            {"id": schedule_id},
        ).one()
        # Stored as naive UTC text on SQLite; shift both so an interval keeps its anchor.
        from datetime import datetime

        shift = timedelta(minutes=minutes)
        moved = [datetime.fromisoformat(str(v)) - shift for v in row]
        conn.execute(
            text("UPDATE embassy_schedules SET done_through = :d, created_at = :c WHERE id = :id"),
            {"d": moved[0], "c": moved[1], "id": schedule_id},
        )
    engine.dispose()


def test_schedules_are_added_listed_disabled_and_removed(home: Path, tmp_path: Path) -> None:
    added = sw(
        home,
        "embassy", "schedule", "add", "--repo", "gov-records", "backup", str(tmp_path),
        "--cron", "0 2 * * *", "--tz", "America/Jamaica", "--rpo", "1d", "--json",
    )  # fmt: skip
    assert added.code == 0, added.err
    doc = added.json()
    assert (doc["kind"], doc["cron"], doc["rpo_seconds"]) == ("backup", "0 2 * * *", 86400)
    assert doc["next_due"].endswith("07:00:00+00:00")  # 02:00 in Kingston
    drill = sw(home, "embassy", "schedule", "add", "--repo", "gov-records", "drill",
               "--every", "1w", "--rto", "4h")  # fmt: skip
    assert drill.code == 0 and "drill of gov-records, every 1w" in drill.err

    listed = sw(home, "embassy", "schedule", "list", "--json").json()
    assert [(d["kind"], d["enabled"]) for d in listed] == [("backup", True), ("drill", True)]
    assert listed[0]["rpo_exceeded"] is False and listed[0]["last_backup"] is None
    table = sw(home, "embassy", "schedule", "list")
    assert "RPO" in table.out and "RTO" in table.out

    short = doc["id"][:8]
    assert sw(home, "embassy", "schedule", "disable", short).code == 0
    again = sw(home, "embassy", "schedule", "disable", short)
    assert (again.code, again.err_lines) == (73, [f"error: schedule {short} is disabled already"])
    assert sw(home, "embassy", "schedule", "enable", short).code == 0
    enabled = sw(home, "embassy", "schedule", "list", "--json").json()
    assert [(d["kind"], d["enabled"]) for d in enabled] == [("backup", True), ("drill", True)]
    assert sw(home, "embassy", "schedule", "remove", short).code == 0
    left = sw(home, "embassy", "schedule", "list", "--json").json()
    assert [d["kind"] for d in left] == ["drill"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["backup", "--every", "1h"], "needs the paths"),
        (["backup", "rel/path", "--every", "1h"], "must be absolute"),
        (["drill", "--every", "1w"], "needs --rto"),
        (["check", "--cron", "61 * * * *"], "not a cron expression"),
        (["check", "--every", "5"], "not a duration"),
        (["check", "--every", "1h", "--rpo", "1d"], "--rpo belongs to a backup"),
    ],
)
def test_a_bad_schedule_is_refused_in_one_line(home: Path, args: list[str], words: str) -> None:
    refused = sw(home, "embassy", "schedule", "add", "--repo", "gov-records", *args)
    assert refused.code == 65
    assert len(refused.err_lines) == 1 and words in refused.err
    assert sw(home, "embassy", "schedule", "list", "--json").json() == []


def test_run_due_runs_a_late_backup_alerts_and_the_alert_is_acknowledged(
    home: Path, tmp_path: Path
) -> None:
    src = tmp_path / "records"
    src.mkdir()
    (src / "a.txt").write_text("registry\n")
    made = sw(home, "embassy", "schedule", "add", "--repo", "gov-records", "backup", str(src),
              "--every", "1h", "--json")  # fmt: skip
    schedule_id = made.json()["id"]
    assert sw(home, "embassy", "run-due").err_lines == ["nothing is due"]

    _set_back(home, schedule_id, 150)  # two due times passed, both beyond the grace
    dry = sw(home, "embassy", "run-due", "--dry-run", "--json").json()
    assert [(r["kind"], r["outcome"], r["missed"]) for r in dry["ran"]] == [("backup", "due", 2)]
    ran = sw(home, "embassy", "run-due", "--json")
    assert ran.code == 0, ran.err
    assert [(r["outcome"], r["missed"]) for r in ran.json()["ran"]] == [("success", 2)]
    assert sw(home, "embassy", "run-due", "--json").json()["ran"] == []
    snaps = sw(home, "embassy", "snapshots", "--repo", "gov-records", "--json").json()
    assert len(snaps) == 1 and "scheduled" in snaps[0]["tags"]

    open_alerts = sw(home, "alerts", "list", "--json").json()
    assert [(a["kind"], a["subject"]) for a in open_alerts] == [
        ("embassy.schedule.missed", "gov-records backup")
    ]
    short = open_alerts[0]["id"][:8]
    acked = sw(home, "alerts", "ack", short, "--note", "node was down for patching")
    assert acked.code == 0 and "acknowledged" in acked.err
    assert sw(home, "alerts", "list", "--json").json() == []
    assert sw(home, "alerts", "list").err_lines == ["no open alerts"]
    twice = sw(home, "alerts", "ack", short)
    assert twice.code == 73 and "already" in twice.err
    assert len(sw(home, "alerts", "list", "--all", "--json").json()) == 1
    audit = sw(home, "audit", "show", "--json", "--action", "alert.acknowledged")
    assert audit.code == 0 and "node was down for patching" in audit.out


def test_run_due_exits_1_when_a_run_fails(home: Path, tmp_path: Path) -> None:
    made = sw(home, "embassy", "schedule", "add", "--repo", "gov-records", "backup",
              str(tmp_path / "gone"), "--every", "1h", "--json")  # fmt: skip
    _set_back(home, made.json()["id"], 61)
    failed = sw(home, "embassy", "run-due")
    assert failed.code == 1
    assert "failure" in failed.out and "alert: embassy.schedule.failed" in failed.err
    assert sw(home, "alerts", "list", "--json").json()[0]["kind"] == "embassy.schedule.failed"


def test_run_due_runs_as_a_program_for_a_timer(home: Path) -> None:
    env = {**os.environ, "SEAWALL_HOME": str(home), "SEAWALL_EMBASSY_PASSPHRASE": PASS}
    done = subprocess.run(
        [sys.executable, "-m", "seawall", "embassy", "run-due", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert '"ran": []' in done.stdout
