"""``seawall intel match`` on logs holding a JSON line nested past Python's stack: the line
is counted and skipped as a broken one, in-process and in a real process, file and pipe."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.cli import init_node
from tests.cli import run_seawall as sw
from tests.integration.test_intel_cli import bundle, indicator, write

NESTED = "[" * 100_000 + "]" * 100_000
DEEP_ZEEK = '{"ts":1796302933.1,"query":"c2.example","a":' + NESTED + "}\n"
DEEP_HIT = (
    '{"ts":1796302933.1,"seen.indicator":"c2.example",'
    '"seen.indicator_type":"Intel::DOMAIN","a":' + NESTED + "}\n"
)
DEEP_EVE = (
    '{"timestamp":"2026-12-03T13:02:13.120000+0000","event_type":"dns","src_ip":"10.0.0.7",'
    '"dns":{"rrname":"c2.example"},"a":' + "[" * 100_000 + "\n"
)


def _zeek(n: int, query: str) -> str:
    return json.dumps({"ts": 1796302933.0 + n, "id.orig_h": "10.0.0.7", "query": query}) + "\n"


def _eve(n: int, name: str) -> str:
    return (
        json.dumps(
            {
                "timestamp": f"2026-12-03T13:02:{n:02d}.000000+0000",
                "event_type": "dns",
                "src_ip": "10.0.0.8",
                "dns": {"rrname": name},
            }
        )
        + "\n"
    )


def test_match_skips_a_nested_line_as_a_broken_one(tmp_path: Path) -> None:
    home = init_node(tmp_path / "node")
    assert sw(home, "intel", "collection", "create", "feeds", "--tlp", "green").code == 0
    path = write(tmp_path / "b.json", bundle(indicator(1, "c2.example")))
    assert sw(home, "intel", "import", str(path), "--collection", "feeds").code == 0
    zeek = tmp_path / "dns.log"
    plain = [_zeek(n, "quiet.example") for n in range(100)]
    zeek.write_text("".join([DEEP_ZEEK, *plain, _zeek(200, "c2.example"), DEEP_HIT, *plain]))
    eve = tmp_path / "eve.json"
    eve.write_text("".join([_eve(1, "c2.example"), DEEP_EVE, _eve(2, "quiet.example")]))
    expected = {zeek: ("zeek-json", 203, "10.0.0.7"), eve: ("suricata", 3, "10.0.0.8")}
    for log, (fmt, lines, host) in expected.items():
        for args in ([str(log)], ["-"]):
            stdin = log.read_bytes() if args == ["-"] else None
            done = sw(home, "intel", "match", *args, "--json", stdin=stdin)
            assert done.code == 0, done.err
            report = done.json()
            assert list(report["files"].values()) == [fmt] and report["lines"] == lines
            assert [(h["count"], h["sources"]) for h in report["matched"]] == [(1, {host: 1})]
    # In a process of its own (its own stack), with the table on stdout.
    run = subprocess.run(
        [sys.executable, "-m", "seawall", "--home", str(home), "intel", "match", str(zeek)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert "Read 203 lines (zeek-json) against 1 indicator: 1 matched" in run.stderr
