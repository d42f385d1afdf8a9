"""Working a case from the command line: link by search, severity, assignee, tasks, and the
filtered, paged list, through the real CLI translator."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli import run_seawall as sw
from tests.integration.test_intel_cli import bundle, indicator, write


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "node"
    assert sw(h, "init", "--nation", "JM").code == 0
    made = sw(h, "intel", "collection", "create", "phish", "--audience", "CARICOM")
    assert made.code == 0, made.err
    for user, role in (("ann", "analyst"), ("vic", "viewer")):
        added = sw(
            h,
            "user",
            "add",
            user,
            "--role",
            role,
            "--name",
            user.title(),
            "--password",
            "a long enough passphrase 7",
        )
        assert added.code == 0, added.err
    objects = bundle(indicator(1, "refund-lure.example"), indicator(2, "refund-portal.example"))
    assert (
        sw(
            h, "intel", "import", str(write(tmp_path / "b.json", objects)), "--collection", "phish"
        ).code
        == 0
    )
    return h


def test_a_case_is_linked_by_search_and_worked_with_tasks(home: Path) -> None:
    opened = sw(
        home,
        "intel",
        "case",
        "open",
        "Refund lure",
        "--collection",
        "phish",
        "--severity",
        "high",
        "--json",
    )
    assert opened.code == 0, opened.err
    case = opened.json()["id"][10:18]
    assert opened.json()["severity"] == "high"

    several = sw(home, "intel", "case", "link", case, "--search", "refund")
    assert several.code == 65 and "2 objects match 'refund'" in several.err
    assert "indicator 1" in several.out and "indicator 2" in several.out  # the numbered list
    one = sw(home, "intel", "case", "link", case, "--search", "refund-lure.example", "--json")
    assert one.code == 0, one.err
    assert [e["target_name"] for e in one.json()["timeline"]] == ["indicator 1"]
    picked = sw(
        home,
        "intel",
        "case",
        "link",
        case,
        "--search",
        "refund",
        "--pick",
        "1",
        "--pick",
        "2",
        "--why",
        "same campaign",
    )
    assert picked.code == 0, picked.err
    neither = sw(home, "intel", "case", "link", case)
    assert neither.code == 65 and "--search" in neither.err

    assigned = sw(home, "intel", "case", "assign", case, "ann", "--json")
    assert assigned.code == 0 and assigned.json()["assignee"] == "ann"
    refused = sw(home, "intel", "case", "assign", case, "vic")
    assert refused.code == 65 and "no user 'vic' of JM" in refused.err
    for title in ("Block at the resolver", "Warn the ministries"):
        assert sw(home, "intel", "case", "task", "add", case, title, "--assignee", "ann").code == 0
    assert sw(home, "intel", "case", "task", "done", case, "1").code == 0
    assert sw(home, "intel", "case", "task", "move", case, "2", "--to", "1").code == 0
    assert sw(home, "intel", "case", "task", "reopen", case, "2").code == 0
    assert sw(home, "intel", "case", "task", "assign", case, "1", "--nobody").code == 0
    gone = sw(home, "intel", "case", "task", "delete", case, "9")
    assert gone.code == 66 and "no task '9'" in gone.err
    shown = sw(home, "intel", "case", "show", case, "--json").json()
    assert [(t["number"], t["title"], t["state"], t["assignee"]) for t in shown["tasks"]] == [
        (1, "Warn the ministries", "open", None),
        (2, "Block at the resolver", "open", "ann"),
    ]
    text = sw(home, "intel", "case", "show", case).out
    assert "high" in text and "assigned to Ann" in text and "Warn the ministries" in text
    raised = sw(home, "intel", "case", "status", case, "--severity", "critical", "--json")
    assert raised.json()["severity"] == "critical"


def test_the_case_list_filters_sorts_and_pages(home: Path) -> None:
    for title, severity in (("Alpha", "low"), ("Bravo", "critical"), ("Charlie", "critical")):
        made = sw(
            home, "intel", "case", "open", title, "--collection", "phish", "--severity", severity
        )
        assert made.code == 0, made.err
    first = sw(home, "intel", "case", "list", "--sort", "title", "--limit", "2", "--json")
    assert [c["title"] for c in first.json()] == ["Alpha", "Bravo"]
    assert "2 of 3 cases" in first.err and "--cursor" in first.err
    cursor = first.err.split("--cursor ")[1].split()[0]
    rest = sw(
        home,
        "intel",
        "case",
        "list",
        "--sort",
        "title",
        "--limit",
        "2",
        "--cursor",
        cursor,
        "--json",
    )
    assert [c["title"] for c in rest.json()] == ["Charlie"]
    severe = sw(home, "intel", "case", "list", "--severity", "critical", "--json")
    assert sorted(c["title"] for c in severe.json()) == ["Bravo", "Charlie"]
    assert sw(home, "intel", "case", "list", "--assignee", "ann", "--json").json() == []
    level = severe.json()[0]["tlp"]  # the collection's default marking, "TLP:GREEN" or so
    mine = sw(home, "intel", "case", "list", "--nation", "Jamaica", "--tlp", level, "--json")
    assert len(mine.json()) == 3
    later = sw(home, "intel", "case", "list", "--opened-from", "2099-01-01", "--json")
    assert later.json() == [] and "0 of 0 cases" in later.err
    assert sw(home, "intel", "case", "list", "--nation", "TT", "--json").json() == []
    bad = sw(home, "intel", "case", "list", "--cursor", "nonsense")
    assert bad.code == 65 and len(bad.err_lines) == 1
