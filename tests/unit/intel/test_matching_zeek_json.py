"""The Zeek JSON fast path (a columnar pre-filter, then the exact matcher) finds exactly what
the line-by-line path finds, on real and random logs, and gives way where it cannot."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seawall.intel.matching.compiled import Compiled
from seawall.intel.matching.logs import LogFormat, reader_for
from seawall.intel.matching.observables import Kind
from seawall.intel.matching.scan import Tally, scan
from seawall.intel.matching.zeek_json import json_fast_scan
from tests.unit.intel.test_matching_columnar import (
    ADDRESSES,
    FILES,
    HASHES,
    MAILS,
    NAMES,
    REAL_TERMS,
    TERMS,
    URIS,
    ZEEK,
    _compiled,
    _same,
)

NOW = datetime(2026, 12, 7, tzinfo=UTC)
_NUMBERS = ("count", "int", "port")
_FLOATS = ("double", "interval", "time")


def _typed(kind: str, text: str, separator: str) -> Any:
    if kind.startswith(("set[", "vector[", "table[")):
        inner = kind[kind.index("[") + 1 : -1]
        items = [] if text == "(empty)" else text.split(separator)
        return [_typed(inner, item, separator) for item in items]
    if kind in _NUMBERS:
        return int(text)
    if kind in _FLOATS:
        return float(text)
    if kind == "bool":
        return text == "T"
    return text


def as_json(tsv: str) -> str:
    """A Zeek TSV log as Zeek writes it with ``LogAscii::use_json``: a JSON object a record,
    unset fields left out, sets and vectors as arrays, numbers as numbers."""
    names: list[str] = []
    types: list[str] = []
    separator = ","
    out: list[str] = []
    for line in tsv.splitlines():
        name, _, rest = line.partition("\t")
        if name == "#set_separator":
            separator = rest
        elif name == "#fields":
            names = rest.split("\t")
        elif name == "#types":
            types = rest.split("\t")
        elif not line.startswith("#"):
            record = {
                field: _typed(kind, cell, separator)
                for field, kind, cell in zip(names, types, line.split("\t"), strict=True)
                if cell != "-"
            }
            out.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
    return "".join(out)


def _reference(log: Path, compiled: Compiled) -> Tally:
    with log.open(encoding="utf-8", errors="replace", newline="") as text:  # as match_logs
        lines = list(text)
    read = reader_for(LogFormat.ZEEK_JSON, log, compiled.index().matcher.ports)
    return scan(lines, read, compiled.index(), compiled.windows(), NOW)


def _agree(log: Path, compiled: Compiled, block: int | None = None) -> Tally:
    reference = _reference(log, compiled)
    _same(json_fast_scan(log, compiled, NOW, block_size=block), reference)
    return reference


REAL = _compiled(
    [
        *REAL_TERMS,
        [[(Kind.DOMAIN, "aol.com")]],
        [[(Kind.DOMAIN, "msftncsi.com"), (Kind.RESOLVED, "131.107.255.255")]],
        [[(Kind.HASH, "b20996efc49d181769db184aeea375a2")]],
        [[(Kind.ENDPOINT, "69.147.64.34:443")], [(Kind.IP, "10.18.20.8")]],
        [[(Kind.DOMAIN, "mail.aol.co.uk")]],
    ]
)


def test_the_fast_path_agrees_on_real_zeek_logs_written_as_json(tmp_path: Path) -> None:
    matched = 0
    for name in ("dns.log", "files.log", "http.log", "conn.log", "ssl.log", "x509.log"):
        (tmp_path / name).write_text(as_json((ZEEK / name).read_text()))
    for log in [*sorted(tmp_path.iterdir()), *sorted((ZEEK / "json").iterdir())]:
        for block in (None, 4096):
            matched += len(_agree(log, REAL, block).found)
    assert matched >= 20


def _write(tmp_path: Path, lines: list[str]) -> Path:
    log = tmp_path / "dns.log"
    log.write_bytes("".join(lines).encode("utf-8", "surrogatepass"))
    return log


EVIL = _compiled([[[(Kind.DOMAIN, "evil.example")]], [[(Kind.IP, "198.51.100.7")]]])


def _line(**fields: object) -> str:
    return json.dumps({"ts": 1575413122.764317, **fields}) + "\n"


def test_blank_and_broken_lines_are_counted_and_skipped_as_the_line_reader_does(
    tmp_path: Path,
) -> None:
    lines = [
        _line(query="a.evil.example"),
        "\n",
        '{"ts":1575413123.0,"query":"b.evil.exa',  # broken off mid-record
        "\n",
        "not json at all\n",
        "[1, 2]\n",
        _line(query="c.evil.example", answers=["198.51.100.7"]),
        '{"ts":1575413124.0,"query":"d.evil.example"',  # the last line, being written
    ]
    log = _write(tmp_path, lines)
    reference = _agree(log, EVIL)
    assert reference.lines == 7
    assert {key: found.count for key, found in reference.found.items()} == {0: 2, 1: 1}
    _agree(log, EVIL, 64)


def test_an_empty_log_has_no_lines(tmp_path: Path) -> None:
    log = _write(tmp_path, [])
    for block in (None, 64):
        assert _agree(log, EVIL, block).lines == 0


def test_absent_null_and_list_fields_and_times_as_text(tmp_path: Path) -> None:
    lines = [
        _line(query="evil.example", answers=None),
        _line(**{"id.orig_h": "10.0.0.1", "answers": ["x.test", "198.51.100.7"]}),
        _line(answers="198.51.100.7"),  # one answer, not in an array
        _line(query=None, answers=[]),
        json.dumps({"ts": "2019-12-03T22:45:22.764317Z", "query": "Www.EVIL.example."}) + "\n",
        json.dumps({"query": "evil.example"}) + "\n",  # no time: the file's
        _line(**{"id.orig_h": "198.51.100.7", "id.orig_p": 5353, "id.resp_h": "10.0.0.9"}),
    ]
    reference = _agree(_write(tmp_path, lines), EVIL)
    assert {key: found.count for key, found in reference.found.items()} == {0: 3, 1: 3}


def test_escaped_and_non_ascii_values_are_read_as_python_reads_them(tmp_path: Path) -> None:
    compiled = _compiled(
        [
            [[(Kind.DOMAIN, "xn--bcher-kva.example")]],
            [[(Kind.FILE_NAME, 'a"b\\c.exe')]],
            [[(Kind.FILE_NAME, "caf\u00e9.pdf")]],
            [[(Kind.DOMAIN, "evil.example")]],
        ]
    )
    lines = [
        json.dumps({"ts": 1.0, "query": "b\u00fccher.example"}, ensure_ascii=False) + "\n",
        json.dumps({"ts": 1.0, "query": "b\u00fccher.example"}) + "\n",  # \u00fc
        json.dumps({"ts": 1.0, "filename": 'a"b\\c.exe'}) + "\n",
        json.dumps({"ts": 1.0, "filename": "caf\u00e9.pdf"}) + "\n",
        '{"ts":1.0,"query":"\\ud800.evil.example"}\n',  # a lone surrogate
        '{"ts":1.0,"qu\\u0065ry":"evil.example"}\n',  # an escaped key
        '{"ts":1.0,"filename":"caf\xe9.pdf"}\n',  # not UTF-8 (Latin-1)
    ]
    log = tmp_path / "files.log"
    log.write_bytes(
        b"".join(line.encode("latin-1" if "\xe9" in line else "utf-8") for line in lines)
    )
    reference = _agree(log, compiled)
    assert {key: found.count for key, found in reference.found.items()} == {0: 2, 1: 1, 2: 1, 3: 1}


ODD = _compiled(
    [
        [[(Kind.DOMAIN, "evil.example")]],
        [[(Kind.FILE_NAME, "2.0")]],
        [[(Kind.FILE_NAME, "True")]],
        [[(Kind.DOMAIN, "none")]],
        [[(Kind.ENDPOINT, "198.51.100.7:53")]],
    ]
)


def test_records_polars_reads_otherwise_than_python_go_by_the_line_reader(tmp_path: Path) -> None:
    lines = [
        '{"ts":1.0,"query":"good.test","query":"evil.example"}\n',  # Python keeps the last
        '{"ts":1.0,"query":null,"query":"evil.example"}\n',
        '{"ts":1.0,"query":"good.test","qu\\u0065ry":"evil.example"}\n',  # the same key
        '{"ts":1.0,"filename":2.0}\n',
        '{"ts":1.0,"filename":[true]}\n',
        '{"ts":1.0,"answers":["x.test",null]}\n',  # Python reads None as "None"
        '  {"ts":1.0,"query":"evil.example"}\n',  # white space before the object
        '{"ts":1.0,"id.resp_h":"198.51.100.7","id.resp_p":"053"}\n',
        '{"ts":1.0,"id.resp_h":"198.51.100.7","id.resp_p":53.0}\n',
    ]
    # Among many plain records: a piece polars refuses is read line by line only when small.
    lines = [_line(query="good.test")] * 100 + lines + [_line(query="good.test")] * 100
    reference = _agree(_write(tmp_path, lines), ODD)
    counts = {key: found.count for key, found in reference.found.items()}
    assert counts == {0: 4, 1: 1, 2: 1, 3: 1, 4: 1}


def test_records_polars_refuses_go_by_the_line_reader(tmp_path: Path) -> None:
    lines = [
        '{"ts":1.0,"query":NaN,"answers":["a.evil.example"]}\n',
        '{"ts":1.0,"query":{"nested":1},"id.resp_h":"198.51.100.7","id.resp_p":53}\n',
        '{"ts":1.0,"query":"evil.example","uri":["/"],"host":"evil.example"}\n',
    ]
    lines = [_line(query="good.test")] * 100 + lines + [_line(query="good.test")] * 100
    reference = _agree(_write(tmp_path, lines), ODD)
    assert {key: found.count for key, found in reference.found.items()} == {0: 2, 4: 1}


def test_a_byte_order_mark_keeps_the_first_record_from_python_s_json(tmp_path: Path) -> None:
    log = tmp_path / "dns.log"
    log.write_bytes(b"\xef\xbb\xbf" + (_line(query="evil.example") * 2).encode())
    reference = _agree(log, EVIL)
    assert [found.count for found in reference.found.values()] == [1]


def test_progress_is_told_after_each_block(tmp_path: Path) -> None:
    log = _write(tmp_path, [_line(query=f"q{n}.evil.example") for n in range(50)])
    told: list[int] = []
    tally = json_fast_scan(log, EVIL, NOW, block_size=1024, every=told.append)
    assert tally is not None and tally.found[0].count == 50
    assert len(told) > 2 and told == sorted(told) and told[-1] == log.stat().st_size


def test_intel_log_hits_in_json_are_matched_by_their_seen_indicator(tmp_path: Path) -> None:
    hit = {
        "ts": 1.0,
        "id.orig_h": "10.0.0.1",
        "id.resp_h": "10.0.0.2",
        "seen.indicator": "a.evil.example",
        "seen.indicator_type": "Intel::DOMAIN",
        "seen.where": "DNS::IN_REQUEST",
    }
    lines = [json.dumps(hit) + "\n", _line(query="good.test")]
    reference = _agree(_write(tmp_path, lines), EVIL)
    assert [found.count for found in reference.found.values()] == [1]


def test_logs_the_fast_path_cannot_read_in_the_same_lines_go_to_the_line_reader(
    tmp_path: Path,
) -> None:
    good = _line(query="evil.example")
    for text in (
        good.replace("\n", "\r\n"),  # the line reader ends a line at a carriage return too
        good + "#fields\tts\tseen.indicator\tseen.indicator_type\n",  # a TSV header
        '{"ts":1.0,"query":"' + "x" * 2**20 + '"}\n',  # too long to be a record
    ):
        log = tmp_path / "x.log"
        log.write_bytes(text.encode())
        assert json_fast_scan(log, EVIL, NOW) is None


# -- random logs ---------------------------------------------------------------------------------

TEXTS = st.one_of(
    NAMES,
    ADDRESSES,
    HASHES,
    FILES,
    MAILS,
    st.sampled_from(["-", "(empty)", "", "caf\u00e9.example", 'q"uote.example', "back\\slash"]),
)
VALUES = st.one_of(
    TEXTS,
    st.lists(TEXTS, max_size=3),
    st.none(),
    st.sampled_from([53, 2.0, True, -0.0, 1e21]),
)
RECORD_FIELDS = ["id.orig_h", "id.resp_h", "query", "answers", "host", "server_name"]
RECORD_FIELDS += ["filename", "md5", "mailfrom", "rcptto", "tx_hosts", "rx_hosts"]
TIMES = st.one_of(
    st.floats(1.4e9, 1.8e9),
    st.sampled_from(["2019-12-03T22:45:22.764317Z", "2019-12-03T22:45:22+02:00", "later"]),
    st.none(),
)
RECORD = st.fixed_dictionaries(
    {"ts": TIMES},
    optional={
        **dict.fromkeys(RECORD_FIELDS, VALUES),
        "uri": URIS,
        "id.orig_p": st.sampled_from([53, 443, 40000, "53"]),
        "id.resp_p": st.sampled_from([53, 443, 40000]),
    },
)
# How each record is written: as Zeek does, escaping everything, with a blank line or a
# broken record after it, with a key written twice (Python keeps the last), with white
# space around it, or with white space after each comma and colon.
SHAPES = st.sampled_from(["plain", "ascii", "blank", "broken", "twice", "spaced", "loose"])
ENDPOINTS = st.tuples(
    st.just(Kind.ENDPOINT), st.sampled_from(["198.51.100.7:53", "10.0.0.0/8:443"])
).map(lambda pair: [[pair]])


def _written(record: dict[str, Any], shape: str) -> str:
    text = json.dumps(record, ensure_ascii=shape == "ascii", separators=(",", ":"))
    if shape == "blank":
        return text + "\n\n"
    if shape == "broken":
        return text + "\n" + text[: len(text) // 2] + "\n"
    if shape == "spaced":
        return f" \t{text} \n"
    if shape == "loose":  # Python's own separators
        return json.dumps(record) + "\n"
    if shape == "twice" and len(record) > 1:
        last = list(record)[-1]
        return text[:-1] + "," + json.dumps({last: "evil.example"})[1:] + "\n"
    return text + "\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    records=st.lists(st.tuples(RECORD, SHAPES), max_size=20),
    indicators=st.lists(st.one_of(TERMS, ENDPOINTS), min_size=1, max_size=6),
    block=st.sampled_from([64, 300, 1 << 20]),  # blocks of a line or less, and the whole log
    final=st.booleans(),  # whether the last line ends with a newline
    mark=st.booleans(),  # whether the log starts with a byte order mark
)
def test_the_fast_path_finds_exactly_what_the_line_reader_finds(
    records: list[tuple[dict[str, Any], str]],
    indicators: list[list[list[tuple[Kind, str]]]],
    block: int,
    final: bool,
    mark: bool,
) -> None:
    compiled = _compiled(indicators)
    text = "".join(_written(record, shape) for record, shape in records)
    if not final:
        text = text.removesuffix("\n")
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "dns.log"
        log.write_bytes(b"\xef\xbb\xbf" * mark + text.encode())
        _same(json_fast_scan(log, compiled, NOW, block_size=block), _reference(log, compiled))
