"""``seawall intel match --follow``: a real growing Zeek log, rotated mid-way, stopped with
SIGTERM and resumed from its state, recording exactly one count per matching record."""

from __future__ import annotations

import json
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from seawall.core.evidence import list_evidence
from seawall.core.node import Node
from seawall.settings import load_settings
from tests.cli import run_seawall as sw
from tests.integration.test_intel_cli import audited, bundle, indicator, write

ZEEK = Path(__file__).parents[1] / "data" / "zeek"
LINES = (ZEEK / "dns.log").read_text().splitlines(keepends=True)
HEADER = [line for line in LINES if line.startswith("#") and not line.startswith("#close")]
RECORDS = [line for line in LINES if not line.startswith("#")]
MAXMIND = 11  # records of the zat dns.log under maxmind.com (j.maxmind.com and longer)
DEADLINE = 60.0


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A node holding indicators for maxmind.com, mail.aol.com and a file's MD5, valid from
    2026 (the logs are from 2013 and 2019)."""
    h = tmp_path_factory.mktemp("follow") / "node"
    assert sw(h, "init", "--nation", "JM").code == 0
    assert sw(h, "intel", "collection", "create", "feed").code == 0
    md5 = "[file:hashes.MD5 = '92bf83360b8ed10d82e38bcdcfcfa4a7']"
    objects = [
        indicator(1, "maxmind.com"),
        indicator(2, "mail.aol.com"),
        indicator(3, "x", pattern=md5),
    ]
    path = write(h.parent / "b.json", bundle(*objects))
    assert sw(h, "intel", "import", str(path), "--collection", "feed").code == 0
    return h


def _counts(out: str) -> list[int]:
    """The maxmind.com counts of each batch a --follow --json printed (one JSON a batch)."""
    return [h["count"] for line in out.splitlines() if line for h in json.loads(line)["matched"]]


def _recorded(home: Path, collection: str) -> int:
    """The log records the sightings stored in ``collection`` count."""
    exported = sw(home, "intel", "export", "--format", "stix", "--collection", collection)
    assert exported.code == 0, exported.err
    return sum(o["count"] for o in exported.json()["objects"] if o["type"] == "sighting")


def test_a_pipe_is_followed_to_its_end_and_validity_holds_unless_hunted(home: Path) -> None:
    data = "".join(LINES).encode()
    silent = sw(home, "intel", "match", "-", "--follow", "--batch", "7", "--json", stdin=data)
    assert silent.code == 0, silent.err
    assert _counts(silent.out) == []
    assert sum(json.loads(line)["outside_validity"] for line in silent.out.splitlines()) == MAXMIND
    for hunt in (["--since", "2013-09-01"], ["--ignore-validity"]):
        found = sw(
            home, "intel", "match", "-", "--follow", "--batch", "7", "--json", *hunt, stdin=data
        )
        assert found.code == 0, found.err
        assert sum(_counts(found.out)) == MAXMIND
        reports = [json.loads(line) for line in found.out.splitlines()]
        assert sum(r["lines"] for r in reports) == len(LINES)
        assert sum(r["bytes"] for r in reports) == len(data)
    # The same record in two batches is two records: two sightings, not one "recorded before".
    assert sw(home, "intel", "collection", "create", "piped").code == 0
    (line,) = [r for r in RECORDS if "\tj.maxmind.com" in r][:1]
    twice = (line * 2).encode()
    args = ["--follow", "--batch", "1", "--collection", "piped", "--ignore-validity", "--json"]
    recorded = sw(home, "intel", "match", "-", *args, stdin=twice)
    assert recorded.code == 0, recorded.err
    reports = [json.loads(line) for line in recorded.out.splitlines()]
    assert [len(r["recorded"]) for r in reports] == [1, 1]
    assert len({r["recorded"][0] for r in reports}) == 2
    # --since after the log: nothing again.
    late = sw(
        home, "intel", "match", "-", "--follow", "--since", "2014-01-01", "--json", stdin=data
    )
    assert _counts(late.out) == []


def test_a_retro_hunt_finds_what_an_indicator_published_later_would_have(home: Path) -> None:
    log = str(ZEEK / "dns.log")

    def matched(*hunt: str) -> tuple[list[int], int]:
        done = sw(home, "intel", "match", log, "--json", *hunt)
        assert done.code == 0, done.err
        return [h["count"] for h in done.json()["matched"]], done.json()["outside_validity"]

    assert matched() == ([], MAXMIND)
    assert matched("--since", "2013-09-01") == ([MAXMIND], 0)
    # A number of days back from now: far enough to reach the log whatever the day.
    days = (datetime.now(UTC) - datetime(2013, 9, 1, tzinfo=UTC)).days
    assert matched("--since", f"{days}d") == ([MAXMIND], 0)
    assert matched("--ignore-validity") == ([MAXMIND], 0)
    assert matched("--since", "2014-01-01") == ([], MAXMIND)
    bad = sw(home, "intel", "match", log, "--since", "last tuesday")
    assert bad.code == 65 and "--since" in bad.err


def test_file_and_certificate_matches_name_the_internal_host(home: Path) -> None:
    logs = [str(ZEEK / "files.log"), str(ZEEK / "json" / "x509.log")]
    done = sw(home, "intel", "match", *logs, "--ignore-validity", "--json")
    assert done.code == 0, done.err
    found = {h["name"]: (h["count"], h["sources"]) for h in done.json()["matched"]}
    # files.log: 54.245.228.191 sent the file to 192.168.33.10; x509.log names no host, and
    # the json/ssl.log beside it ties its certificates to 10.18.20.97.
    assert found["indicator 3"] == (1, {"192.168.33.10": 1})
    assert found["indicator 2"] == (3, {"10.18.20.97": 3})


def test_state_needs_follow_and_a_file(home: Path, tmp_path: Path) -> None:
    alone = sw(home, "intel", "match", "x.log", "--state", str(tmp_path / "s"))
    assert alone.code == 65 and "--follow" in alone.err
    piped = sw(home, "intel", "match", "-", "--follow", "--state", str(tmp_path / "s"), stdin=b"")
    assert piped.code == 65 and "standard input" in piped.err
    two = sw(home, "intel", "match", "a.log", "b.log", "--follow")
    assert two.code == 65 and "one log" in two.err


class Follower:
    """``seawall intel match --follow`` in its own process, as an operator runs it."""

    def __init__(self, home: Path, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "seawall", "--home", str(home), "intel", "match", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # Started (its signal handlers are in place) once it says what it follows.
        self.until(lambda: "Following" in self._stderr_line(), "start")

    def _stderr_line(self) -> str:
        assert self.proc.stderr is not None
        ready, _, _ = select.select([self.proc.stderr], [], [], 0.05)
        return self.proc.stderr.readline() if ready else ""

    def until(self, check: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + DEADLINE
        while not check():
            assert self.proc.poll() is None, f"exited while waiting for {what}"
            assert time.monotonic() < deadline, f"no {what} in {DEADLINE} s"
            time.sleep(0.02)

    def stop(self) -> str:
        self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=DEADLINE)
        assert self.proc.returncode == 0, err
        return out


def _at(state: Path, log: Path) -> bool:
    """Whether the saved position is the end of ``log`` as it is now."""
    try:
        saved = json.loads(state.read_text())
    except (FileNotFoundError, ValueError):
        return False
    found = log.stat()
    return (saved["inode"], saved["offset"]) == (found.st_ino, found.st_size)


def test_a_growing_rotated_log_is_recorded_once_across_sigterm_and_restart(
    home: Path, tmp_path: Path
) -> None:
    assert sw(home, "intel", "collection", "create", "seen").code == 0
    log, state = tmp_path / "dns.log", tmp_path / "dns.state"
    args = ["--follow", str(log), "--collection", "seen", "--state", str(state), "--json"]
    log.write_text("".join(HEADER + RECORDS[:40]))
    first = Follower(home, *args, "--ignore-validity", "--batch", "5", "--every", "0.05")
    first.until(lambda: _at(state, log), "first part read")
    # The last records of the old file, then Zeek's rotation: renamed, a new file started.
    with log.open("a") as out:
        out.write("".join(RECORDS[40:45]))
    log.rename(tmp_path / "dns.2013-09-15-23-00-00.log")
    log.write_text("".join(HEADER + RECORDS[45:50]))
    first.until(lambda: _at(state, log), "the rotated log read")
    counted = _counts(first.stop())
    # While stopped, the log grows; the next run goes on after the last recorded line, and
    # SIGTERM records a batch that is neither full nor due.
    with log.open("a") as out:
        out.write("".join(RECORDS[50:]))
    second = Follower(home, *args, "--ignore-validity", "--batch", "1000", "--every", "3600")
    counted += _counts(second.stop())
    assert sum(counted) == MAXMIND
    assert _at(state, log)
    assert _recorded(home, "seen") == MAXMIND
    # Each run is on record once (CMM D1.2), and each batch that matched in the audit log.
    node = Node(load_settings(home=home))
    try:
        with node.unit(node.operator()) as ctx:
            followed = [
                e.summary
                for e in list_evidence(ctx, supports="cmm:D1.2")
                if e.kind == "intel.logs.followed" and str(log) in e.summary
            ]
    finally:
        node.close()
    assert len(followed) == 2 and all("1 matched" in summary for summary in followed)
    assert "intel.logs.followed" in audited(home)
