"""Paged lists through the real CLI: ``--limit``, ``--cursor``, filters, totals and bad cursors."""

from __future__ import annotations

from pathlib import Path

import pytest

from seawall.intel.tlp import Tlp
from tests.cli import run_seawall as sw
from tests.integration.test_intel_cli import bundle, indicator, write


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("lists")
    h = tmp / "node"
    assert sw(h, "init", "--nation", "JM").code == 0
    made = sw(h, "intel", "collection", "create", "phish", "--audience", "CARICOM")
    assert made.code == 0, made.err
    # Valid until a set day, so decay keeps them matchable whenever the test runs.
    until = {"valid_until": "2030-01-01T00:00:00Z"}
    objects = [indicator(n, f"lure{n}.example", **until) for n in range(1, 6)]
    objects.append(indicator(6, "lure6.example", Tlp.AMBER, **until))
    objects.append(indicator(7, "lure7.example", revoked=True, **until))
    path = write(tmp / "b.json", bundle(*objects))
    assert sw(h, "intel", "import", str(path), "--collection", "phish").code == 0
    return h


def test_search_pages_with_the_total_and_the_next_cursor(home: Path) -> None:
    first = sw(home, "intel", "search", "lure", "--limit", "3", "--sort", "oldest", "--json")
    assert first.code == 0, first.err
    page = first.json()
    assert page["total"] == 7 and page["prev"] is None and len(page["items"]) == 3
    seen = [f["id"] for f in page["items"]]
    while page["next"]:
        more = sw(home, "intel", "search", "lure", "--limit", "3", "--sort", "oldest",
                  "--cursor", page["next"], "--json")  # fmt: skip
        page = more.json()
        assert page["total"] == 7
        seen += [f["id"] for f in page["items"]]
    assert seen == [indicator(n, "x")["id"] for n in range(1, 8)]
    table = sw(home, "intel", "search", "lure", "--limit", "3")
    assert "3 of 7 shown; next page: --cursor " in table.err


def test_search_filters_and_lists_without_a_value(home: Path) -> None:
    amber = sw(home, "intel", "search", "--tlp", "amber", "--json").json()
    assert [f["id"] for f in amber["items"]] == [indicator(6, "x")["id"]] and amber["total"] == 1
    revoked = sw(home, "intel", "search", "lure", "--state", "revoked", "--json").json()
    assert [f["id"] for f in revoked["items"]] == [indicator(7, "x")["id"]]
    everything = sw(home, "intel", "search", "--type", "indicator", "--json").json()
    assert everything["total"] == 7 and everything["next"] is None


def test_a_bad_cursor_or_sort_is_one_line(home: Path) -> None:
    bad = sw(home, "intel", "search", "lure", "--cursor", "bm9wZQ")
    assert bad.code == 65 and bad.err_lines == [
        "error: cursor 'bm9wZQ' is not one this node issued for the 'newest' order; "
        "start again from the first page"
    ]
    sideways = sw(home, "intel", "search", "lure", "--sort", "sideways")
    assert sideways.code == 65 and "choose one of newest, oldest, modified, type" in sideways.err


def test_audit_show_pages_the_log_with_its_total(home: Path) -> None:
    whole = sw(home, "audit", "show", "--limit", "500", "--json").json()
    first = sw(home, "audit", "show", "--limit", "2", "--sort", "oldest", "--json").json()
    assert first["total"] == whole["total"] == len(whole["items"]) >= 3
    seen = [e["seq"] for e in first["items"]]
    cursor = first["next"]
    while cursor:
        page = sw(home, "audit", "show", "--limit", "2", "--sort", "oldest", "--cursor", cursor,
                  "--json").json()  # fmt: skip
        seen += [e["seq"] for e in page["items"]]
        cursor = page["next"]
    assert seen == sorted(e["seq"] for e in whole["items"])
    assert "of" in sw(home, "audit", "show", "--limit", "1").err


def test_sightings_page_with_the_total(home: Path, tmp_path: Path) -> None:
    assert sw(home, "intel", "collection", "create", "seen", "--tlp", "green").code == 0
    log = tmp_path / "squid.log"
    log.write_text(
        "".join(
            f"1796302933.120    134 10.0.0.{n} TCP_MISS/200 1520 GET http://lure{n}.example/ "
            f"- HIER_DIRECT/198.51.100.7 text/html\n"
            for n in range(1, 5)
        )
    )
    assert sw(home, "intel", "match", str(log), "--collection", "seen").code == 0
    first = sw(home, "intel", "sightings", "--limit", "3", "--json").json()
    assert first["total"] == 4 and len(first["items"]) == 3 and first["next"]
    rest = sw(home, "intel", "sightings", "--limit", "3", "--cursor", first["next"], "--json")
    names = [r["name"] for r in first["items"] + rest.json()["items"]]
    assert sorted(names) == [f"indicator {n}" for n in range(1, 5)] and len(set(names)) == 4
    latest = sw(home, "intel", "sightings", "--sort", "latest", "--json").json()
    assert latest["total"] == 4 and latest["next"] is None
