"""Every path splits a log into the same lines: only at ``\\n``, as Zeek and Suricata write
them. A lone ``\\r`` is part of its line; a ``\\r`` before ``\\n`` ends the line's text."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest

from seawall.core.node import Node
from seawall.intel.matching.logs import LogFormat, reader_for
from seawall.intel.matching.observables import Kind
from seawall.intel.matching.sightings import MatchReport, Source, Stream, match_logs
from tests.feeds import JM, stock_feeds
from tests.stix import indicator

STAMP = "2026-11-20T00:00:00.000Z"
DOMAIN = indicator(1, "[domain-name:value = 'evil.example']", stamp=STAMP)
RANGE = indicator(2, "[ipv4-addr:value ISSUBSET '198.51.100.0/24']", stamp=STAMP)

ZEEK = (
    "#separator \\x09\r\n#set_separator\t,\r\n"
    "#fields\tts\tid.orig_h\tquery\tanswers\r\n"
    "#types\ttime\taddr\tstring\tvector[string]\r\n"
    "1796302933.000000\t10.0.0.5\tgood.example\t192.0.2.1,198.51.100.7\r\n"
    # A lone carriage return: one line, whose fourth cell runs into the next record.
    "1796302934.000000\t10.0.0.6\tevil.example\t-\r1796302935.000000\t10.0.0.7\tevil.example\r\n"
    "1796302936.000000\t10.0.0.8\tquiet.example\t198.51.100.7\r\n"
)


def _json(**fields: object) -> str:
    return json.dumps(fields)


ZEEK_JSON = (
    # Two records a lone carriage return apart are one line that is no JSON object.
    _json(ts=1796302933.0, **{"id.orig_h": "10.0.0.5"}, query="evil.example")
    + "\r"
    + _json(ts=1796302934.0, **{"id.orig_h": "10.0.0.6"}, query="evil.example")
    + "\n"
    + _json(ts=1796302935.0, **{"id.orig_h": "10.0.0.7"}, query="a.evil.example")
    + "\r\n"
    + _json(ts=1796302936.0, **{"id.orig_h": "10.0.0.8"}, answers=["198.51.100.7"])
    + "\n"
)


def _eve(second: int, host: str, name: str) -> str:
    return _json(
        timestamp=f"2026-12-03T13:02:{second:02d}.000000+0000",
        event_type="dns",
        src_ip=host,
        dns={"rrname": name},
    )


SURICATA = (
    _eve(13, "10.0.0.5", "evil.example") + "\r" + _eve(14, "10.0.0.6", "evil.example") + "\r\n"
    "\r\n" + _eve(15, "10.0.0.7", "b.evil.example") + "\r\n" + _eve(16, "10.0.0.8", "quiet.example")
)
TEXT = (
    "2026-12-03T13:02:13Z 10.0.0.5 asked a.evil.example\r"
    "2026-12-03T13:02:14Z 10.0.0.6 asked b.evil.example\n"
    "2026-12-03T13:02:15Z 10.0.0.7 reached 198.51.100.7\r\n"
    "\r"
    "2026-12-03T13:02:16Z 10.0.0.8 asked quiet.example\r\n"
)

# format -> (log, lines, {indicator: (count, hosts)})
CASES: dict[LogFormat, tuple[str, int, dict[str, tuple[int, dict[str, int]]]]] = {
    LogFormat.ZEEK: (
        ZEEK,
        7,
        {DOMAIN["id"]: (1, {"10.0.0.6": 1}), RANGE["id"]: (2, {"10.0.0.5": 1, "10.0.0.8": 1})},
    ),
    LogFormat.ZEEK_JSON: (
        ZEEK_JSON,
        3,
        {DOMAIN["id"]: (1, {"10.0.0.7": 1}), RANGE["id"]: (1, {"10.0.0.8": 1})},
    ),
    LogFormat.SURICATA: (SURICATA, 4, {DOMAIN["id"]: (1, {"10.0.0.7": 1})}),
    # The text reader names no host.
    LogFormat.TEXT: (TEXT, 3, {DOMAIN["id"]: (1, {}), RANGE["id"]: (1, {})}),
}


def _seen(report: MatchReport) -> tuple[int, dict[str, tuple[int, dict[str, int]]]]:
    return report.lines, {
        key: (hits.count, dict(hits.sources)) for key, hits in report.hits.items()
    }


@pytest.mark.parametrize("fmt", list(CASES))
def test_every_path_splits_a_log_only_at_newlines(
    node: Node, tmp_path: Path, fmt: LogFormat
) -> None:
    text, lines, hits = CASES[fmt]
    stock_feeds(node, [DOMAIN, RANGE])
    log = tmp_path / f"{fmt.value}.log"
    data = text.encode()
    log.write_bytes(data)
    sources: dict[str, Source] = {
        "text": log,  # a small file, read line by line
        "stdin": Stream("stdin", io.BytesIO(data)),
        "gzip": Stream("stdin", io.BytesIO(gzip.compress(data))),
    }
    with node.unit(JM) as ctx:
        seen = {name: _seen(match_logs(ctx, [source], fmt)) for name, source in sources.items()}
        for chunk in (64, 4096):  # byte ranges on both cores, cut mid-line and whole
            split = match_logs(ctx, [log], fmt, split_at=1, chunk=chunk)
            seen[f"split {chunk}"] = _seen(split)
        detected = match_logs(ctx, [log])  # the format told from the first lines
    assert seen == dict.fromkeys(seen, (lines, hits))
    assert detected.files == {str(log): fmt.value} and _seen(detected) == (lines, hits)


def test_a_zeek_intel_log_ending_lines_in_crlf_names_its_last_column() -> None:
    read = reader_for(LogFormat.ZEEK)
    assert (
        read("#fields\tts\tid.orig_h\tid.resp_h\tseen.indicator\tseen.indicator_type\r\n") is None
    )
    hit = read("1796302933.0\t10.0.0.5\t10.0.0.1\tevil.example\tIntel::DOMAIN\r\n")
    assert hit == ("1796302933.0", "10.0.0.5", [(Kind.DOMAIN, "evil.example")])
