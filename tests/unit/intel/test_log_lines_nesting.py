"""A JSON line nested past Python's stack (or holding values of the wrong type) is read as
any other line that is no record: counted, and skipped or read as plain text, on every path."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from seawall.core.node import Node
from seawall.intel.matching.logs import LogFormat, detect_format, reader_for
from seawall.intel.matching.observables import Kind
from seawall.intel.matching.scan import Tally, scan
from seawall.intel.matching.sightings import MatchReport, Stream, match_logs
from seawall.intel.matching.zeek_json import json_fast_scan
from tests.feeds import JM, stock_feeds
from tests.stix import indicator
from tests.unit.intel.test_matching_columnar import _compiled

NOW = datetime(2026, 12, 7, tzinfo=UTC)
DEEP = 100_000
NESTED = "[" * DEEP + "]" * DEEP
# Unfinished, and finished, with a value that would match were the line a record.
OPEN = '{"ts":1575413122.1,"query":"evil.example","a":' + "[" * DEEP + "\n"
CLOSED = '{"ts":1575413122.1,"query":"evil.example","a":' + NESTED + "}\n"
HIT = (
    '{"ts":1575413122.1,"seen.indicator":"evil.example",'
    '"seen.indicator_type":"Intel::DOMAIN","a":' + NESTED + "}\n"
)
EVE = (
    '{"timestamp":"2019-12-03T22:45:22.764317+0000","event_type":"dns","src_ip":"10.0.0.1",'
    '"dns":{"rrname":"evil.example"},"a":' + NESTED + "}\n"
)
DEEP_LINES = (OPEN, CLOSED, HIT, EVE)
BROKEN = '{"ts":1575413122.1,"query":"evil.exa\n'
EVIL = _compiled([[[(Kind.DOMAIN, "evil.example")]], [[(Kind.IP, "198.51.100.7")]]])


def _zeek(**fields: object) -> str:
    return json.dumps({"ts": 1575413122.764317, **fields}) + "\n"


def _eve(**fields: object) -> str:
    return json.dumps({"timestamp": "2019-12-03T22:45:22.764317+0000", **fields}) + "\n"


def _counts(tally: Tally | None) -> dict[int, int]:
    assert tally is not None
    return {key: found.count for key, found in tally.found.items()}


@pytest.mark.parametrize("fmt", [LogFormat.ZEEK_JSON, LogFormat.SURICATA, LogFormat.ZEEK])
def test_every_json_reader_reads_a_line_nested_past_the_stack_as_a_broken_line(
    fmt: LogFormat,
) -> None:
    read = reader_for(fmt)
    assert read(BROKEN) is None
    for line in DEEP_LINES:
        assert read(line) is None


def test_a_nested_line_tells_no_format_as_a_broken_line_tells_none() -> None:
    assert detect_format([CLOSED]) is detect_format([BROKEN]) is LogFormat.TEXT
    assert detect_format([CLOSED, HIT, _zeek(query="a.test")]) is LogFormat.ZEEK_JSON
    assert detect_format([EVE, _eve(event_type="dns")]) is LogFormat.SURICATA


def test_lines_nested_near_the_stack_limit_are_read_or_skipped_never_raised() -> None:
    # A value nested d deep is no value any indicator holds, whether json decodes the line
    # (d below the limit) or not; the one plain record matches.
    zeek = [_zeek(query="evil.example")]
    eve = [_eve(src_ip="10.0.0.1", dns={"rrname": "evil.example"})]
    for depth in range(2, 1100, 3):
        nested, closing = "[" * depth, "]" * depth
        zeek.append(f'{{"ts":1.0,"query":{nested}"evil.example"{closing}}}\n')
        zeek.append(f'{{"ts":1.0,"id.orig_h":{nested}"10.0.0.1"{closing},"query":"a.test"}}\n')
        zeek.append(
            f'{{"ts":1.0,"seen.indicator":{nested}"evil.example"{closing},'
            '"seen.indicator_type":"Intel::DOMAIN"}\n'
        )
        eve.append(f'{{"src_ip":{nested}"10.0.0.1"{closing},"dest_ip":"192.0.2.1"}}\n')
        eve.append(f'{{"fileinfo":{{"md5":{nested}"ab"{closing}}}}}\n')
    index, windows = EVIL.index(), EVIL.windows()
    for fmt, lines in ((LogFormat.ZEEK_JSON, zeek), (LogFormat.SURICATA, eve)):
        tally = scan(lines, reader_for(fmt), index, windows, NOW)
        assert tally.lines == len(lines) and _counts(tally) == {0: 1}


def test_values_of_the_wrong_type_are_no_values() -> None:
    index, windows = EVIL.index(), EVIL.windows()
    zeek = [
        _zeek(**{"seen.indicator": ["evil.example"], "seen.indicator_type": "Intel::DOMAIN"}),
        _zeek(**{"seen.indicator": "evil.example", "seen.indicator_type": ["Intel::DOMAIN"]}),
        _zeek(**{"seen.indicator": {"a": 1}, "seen.indicator_type": "Intel::DOMAIN"}),
        _zeek(**{"seen.indicator": 5, "seen.indicator_type": "Intel::ADDR"}),
        _zeek(**{"seen.indicator": "evil.example", "seen.indicator_type": "Intel::DOMAIN"}),
    ]
    eve = [
        _eve(fileinfo={"md5": ["f41826e027bdc0d357a60a56dcdf50c8"]}),
        _eve(fileinfo={"md5": 5, "sha1": {"x": 1}, "sha256": None}),
        _eve(fileinfo={"md5": "f41826e027bdc0d357a60a56dcdf50c8"}, dest_ip="198.51.100.7"),
    ]
    for fmt, lines, counts in (
        (LogFormat.ZEEK_JSON, zeek, {0: 1}),
        (LogFormat.SURICATA, eve, {1: 1}),
    ):
        tally = scan(lines, reader_for(fmt), index, windows, NOW)
        assert tally.lines == len(lines) and _counts(tally) == counts
    hashes = _compiled([[[(Kind.HASH, "f41826e027bdc0d357a60a56dcdf50c8")]]])
    tally = scan(eve, reader_for(LogFormat.SURICATA), hashes.index(), hashes.windows(), NOW)
    assert _counts(tally) == {0: 1}


def _zeek_log(middle: list[str]) -> list[str]:
    """Deep lines among many plain records: the piece polars refuses is read line by line."""
    plain = [_zeek(query="good.test")] * 100
    return [*plain, _zeek(query="a.evil.example"), *middle, *plain, _zeek(answers=["198.51.100.7"])]


def test_the_zeek_json_fast_path_counts_and_skips_nested_lines_as_broken_ones(
    tmp_path: Path,
) -> None:
    deep, broken = tmp_path / "deep.log", tmp_path / "broken.log"
    deep.write_text("".join(_zeek_log([OPEN, CLOSED, HIT])))
    broken.write_text("".join(_zeek_log([BROKEN] * 3)))
    for block in (None, 4096):
        found = json_fast_scan(deep, EVIL, NOW, block_size=block)
        assert found is not None and found.lines == 205
        assert _counts(found) == {0: 1, 1: 1}
        other = json_fast_scan(broken, EVIL, NOW, block_size=block)
        assert other is not None and other.lines == 205 and _counts(other) == _counts(found)


STAMP = "2019-11-20T00:00:00.000Z"
DOMAIN = indicator(1, "[domain-name:value = 'evil.example']", stamp=STAMP)


def _matched(report: MatchReport) -> tuple[int, dict[str, int]]:
    return report.lines, {h.indicator.id: h.count for h in report.hits.values()}


def test_match_logs_reads_nested_lines_on_every_path(node: Node, tmp_path: Path) -> None:
    stock_feeds(node, [DOMAIN])
    zeek = tmp_path / "dns.log"
    zeek.write_text("".join([CLOSED, *_zeek_log([OPEN, CLOSED, HIT])]))
    eve = tmp_path / "eve.json"
    eve.write_text("".join([EVE, _eve(event_type="dns", dns={"rrname": "evil.example"}), OPEN]))
    expected = {zeek: (206, {DOMAIN["id"]: 1}), eve: (3, {DOMAIN["id"]: 1})}
    formats = {zeek: "zeek-json", eve: "suricata"}
    with node.unit(JM) as ctx:
        for log, (lines, counts) in expected.items():
            with log.open("rb") as data:
                runs = [
                    match_logs(ctx, [log]),  # the fast path (Zeek JSON), else line by line
                    match_logs(ctx, [log], fast=False),
                    match_logs(ctx, [log], fast=False, split_at=1, chunk=4096),  # byte ranges
                    match_logs(ctx, [Stream("stdin", data)]),
                ]
            for report in runs:
                assert _matched(report) == (lines, counts)
                assert list(report.files.values()) == [formats[log]]
