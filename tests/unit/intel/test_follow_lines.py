"""A followed log splits into the lines a matched one does: only at ``\\n``. A lone ``\\r``
(or any other character ``splitlines`` would end a line at) is part of its line, across
reads, batches, a resume from the saved position and a rotation."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest

from seawall.core.node import Node
from seawall.intel.matching.following import (
    Batching,
    FileTail,
    PipeTail,
    Position,
    follow,
    load_position,
    save_position,
)
from seawall.intel.matching.live import Following, LiveMatch, follow_and_match
from seawall.intel.matching.loading import load_indicators
from seawall.intel.matching.logs import LogFormat
from seawall.intel.matching.sightings import MatchReport, match_logs
from tests.feeds import JM, stock_feeds
from tests.unit.intel.test_following import Collected
from tests.unit.intel.test_log_lines_endings import CASES, DOMAIN, RANGE

Seen = tuple[int, dict[str, tuple[int, dict[str, int]]]]
ONE_BY_ONE = Batching(records=1, seconds=0.0, poll=0.01)
# Characters str.splitlines (and, for \r, bytes.splitlines) ends a line at; none ends one here.
SEPARATORS = ["\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


def _stopped() -> threading.Event:
    stop = threading.Event()
    stop.set()  # read what is there, then stop
    return stop


def _followed(
    node: Node, tail: FileTail | PipeTail, fmt: LogFormat | None, batching: Batching
) -> tuple[Seen, LogFormat | None]:
    """What following ``tail`` to its end matched, over all its batches, and the format."""
    with node.unit(JM) as ctx:
        loaded = load_indicators(ctx)
    live = LiveMatch(loaded, "log", fmt, tail.path if isinstance(tail, FileTail) else None)
    reports: list[MatchReport] = []
    read = follow_and_match(
        node, JM, tail, live, _stopped(), Following(batching=batching), reports.append
    )
    hits: dict[str, tuple[int, dict[str, int]]] = {}
    for report in reports:
        for key, found in report.hits.items():
            count, hosts = hits.get(key, (0, {}))
            for host, seen in found.sources.items():
                hosts[host] = hosts.get(host, 0) + seen
            hits[key] = (count + found.count, hosts)
    assert read == sum(report.lines for report in reports)
    return (read, hits), live.fmt


@pytest.mark.parametrize("fmt", list(CASES))
def test_a_followed_log_gives_the_lines_and_hits_a_matched_one_does(
    node: Node, tmp_path: Path, fmt: LogFormat
) -> None:
    text, lines, hits = CASES[fmt]
    stock_feeds(node, [DOMAIN, RANGE])
    # A followed file's unterminated last line is one still being written: it waits.
    data = text.encode() + (b"" if text.endswith("\n") else b"\n")
    log = tmp_path / f"{fmt.value}.log"
    log.write_bytes(data)
    with node.unit(JM) as ctx:
        matched = match_logs(ctx, [log], fmt)
    assert (matched.lines, {k: (h.count, dict(h.sources)) for k, h in matched.hits.items()}) == (
        lines,
        hits,
    )
    for batching in (ONE_BY_ONE, Batching(records=3, seconds=0.0), Batching()):
        for tail in (FileTail(log), PipeTail(io.BytesIO(data))):
            assert _followed(node, tail, fmt, batching) == ((lines, hits), fmt)
    # The format told from the first batch's lines, as from a matched file's first lines.
    for tail in (FileTail(log), PipeTail(io.BytesIO(data))):
        assert _followed(node, tail, None, Batching()) == ((lines, hits), fmt)


def test_a_line_holding_any_other_line_separator_is_one_followed_line(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    text = "".join(f"a{sep}b{n}\r\n" for n, sep in enumerate(SEPARATORS)) + "end\n"
    log.write_bytes(text.encode())
    expected = [f"a{sep}b{n}\r\n" for n, sep in enumerate(SEPARATORS)] + ["end\n"]
    tail = FileTail(log)
    assert tail.lines(100) == expected
    tail.close()
    piped = PipeTail(io.BytesIO(text.encode()))
    assert piped.lines(100) == expected


def test_a_line_cut_just_after_a_carriage_return_waits_for_its_newline(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"one\r")
    tail = FileTail(log)
    assert tail.lines(10) == []
    with log.open("ab") as out:
        out.write(b"two\rthree\r\nfour\r")
    assert tail.lines(10) == ["one\rtwo\rthree\r\n"]
    position = tail.position()
    assert position is not None and position.offset == len(b"one\rtwo\rthree\r\n")
    with log.open("ab") as out:
        out.write(b"\n")
    assert tail.lines(10) == ["four\r\n"]
    tail.close()


def test_each_saved_position_is_after_a_newline_and_a_resume_reads_on_from_there(
    tmp_path: Path,
) -> None:
    log, state = tmp_path / "app.log", tmp_path / "follow.state"
    first = b"x\ry\n\rz\x0c\n"
    log.write_bytes(first)
    saved: list[tuple[list[str], Position | None]] = []

    def flush(lines: list[str], position: Position | None) -> None:
        saved.append((lines, position))
        assert position is not None
        save_position(state, position)

    assert follow(FileTail.resume(log, load_position(state)), flush, _stopped(), ONE_BY_ONE) == 2
    assert [(lines, p.offset if p else None) for lines, p in saved] == [
        (["x\ry\n"], 4),
        (["\rz\x0c\n"], 8),
    ]
    # While no follow runs, the log grows by a line cut at a \r, then is rotated.
    with log.open("ab") as out:
        out.write(b"w\rv\n")
    log.rename(tmp_path / "app.log.1")
    log.write_bytes(b"new\rline\n")
    saved.clear()
    assert follow(FileTail.resume(log, load_position(state)), flush, _stopped(), ONE_BY_ONE) == 2
    assert [lines for lines, _ in saved] == [["w\rv\n"], ["new\rline\n"]]


def test_a_rotated_file_let_go_counts_its_last_line_with_its_carriage_returns(
    tmp_path: Path,
) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"a\rb\nc\rd")
    tail = FileTail(log, linger=0.0)
    assert tail.lines(10) == ["a\rb\n"]
    log.rename(tmp_path / "app.log.1")
    log.write_bytes(b"e\rf\n")
    assert follow(tail, collected := Collected(), _stopped(), ONE_BY_ONE) == 2
    assert sorted(collected.lines) == ["c\rd\n", "e\rf\n"]  # each once
