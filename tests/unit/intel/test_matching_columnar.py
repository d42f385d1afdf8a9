"""The Zeek fast path (a columnar pre-filter, then the exact matcher) finds exactly what the
line-by-line path finds, on random logs and indicators, and gives way where it cannot."""

from __future__ import annotations

import gc
import ipaddress
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seawall.intel.matching import columnar, joins
from seawall.intel.matching.columnar import fast_scan
from seawall.intel.matching.compiled import Compiled, Indicator
from seawall.intel.matching.logs import LogFormat, reader_for
from seawall.intel.matching.observables import Kind, Observable, Term, normalise
from seawall.intel.matching.scan import Tally, collector_off, scan
from seawall.intel.tlp import Tlp

NOW = datetime(2026, 12, 7, tzinfo=UTC)
ZEEK = Path(__file__).parents[2] / "data" / "zeek"

# Small pools, so that logs and indicators meet often, with the traps matching must keep:
# parent names and look-alikes, case, trailing dots, ranges, IPv6 spellings, queries,
# characters whose lower case is ASCII (the Kelvin sign) and addresses with leading zeros.
NAMES = st.sampled_from(
    [
        "evil.example",
        "a.evil.example",
        "notevil.example",
        "Evil.Example.",
        "b.a.EVIL.example",
        "\u212aelvin.example",
        "kelvin.example",
        "example",
        "x..evil.example",
        "good.test",
    ]
)
ADDRESSES = st.sampled_from(
    [
        "198.51.100.7",
        "198.51.100.200",
        "198.51.101.1",
        "198.051.100.7",
        "10.0.0.1",
        "2001:db8::1",
        "2001:DB8:0:0::1",
        "203.0.113.9",
    ]
)
HASHES = st.sampled_from(["abcd" * 8, "ABCD" * 8, "ef01" * 8])
FILES = st.sampled_from(["invoice.exe", "Invoice.exe", "a b.pdf"])
URIS = st.sampled_from(["/", "/pay?x=1", "/pay", "/Pay", "-"])
MAILS = st.sampled_from(["<boss@evil.example>", "Boss@Evil.Example", "x@good.test"])


def _cell(values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.just("-"), st.just("(empty)"), st.lists(values, min_size=1, max_size=3).map(",".join)
    )


RECORDS = st.lists(
    st.tuples(
        ADDRESSES,
        _cell(ADDRESSES),
        _cell(NAMES),
        _cell(st.one_of(NAMES, ADDRESSES)),
        st.one_of(st.just("-"), NAMES),
        URIS,
        st.one_of(st.just("-"), FILES),
        st.one_of(st.just("-"), HASHES),
        st.one_of(st.just("-"), MAILS),
    ),
    max_size=25,
)
OBSERVABLES = st.one_of(
    st.tuples(st.just(Kind.DOMAIN), NAMES),
    st.tuples(
        st.just(Kind.IP),
        st.sampled_from(
            # Ranges of whole octets (looked up as text) and of any other length.
            [
                *("198.51.100.7", "198.51.100.0/24", "198.51.0.0/16", "2001:db8::1"),
                *("10.0.0.0/8", "198.51.100.128/25", "198.48.0.0/12"),
            ]
        ),
    ),
    st.tuples(
        st.just(Kind.URL), st.sampled_from(["http://evil.example/pay", "http://a.evil.example/"])
    ),
    st.tuples(st.just(Kind.HASH), HASHES),
    st.tuples(st.just(Kind.FILE_NAME), FILES),
    st.tuples(st.just(Kind.EMAIL), st.sampled_from(["boss@evil.example", "x@good.test"])),
)
# A domain|ip pair's address, which only an answer or a server reached for a name proves:
# drawn from the addresses the log puts on every side (client, server or resolver, answer).
RESOLVED = st.tuples(
    st.just(Kind.RESOLVED),
    st.sampled_from(
        ["198.51.100.7", "198.51.100.0/24", "198.51.100.128/25", "2001:db8::1", "10.0.0.0/8"]
    ),
)
PAIRS = st.tuples(st.tuples(st.just(Kind.DOMAIN), NAMES), RESOLVED).map(list)
TERMS = st.lists(
    st.one_of(st.lists(st.one_of(OBSERVABLES, RESOLVED), min_size=1, max_size=3), PAIRS),
    min_size=1,
    max_size=2,
)
FIELDS = ["ts", "id.orig_h", "id.resp_h", "query", "answers"]
FIELDS += ["host", "uri", "filename", "md5", "mailfrom"]
# Without a host column, the responder is no server reached for a name (dns.log, conn.log).
NAMELESS = [at for at, name in enumerate(FIELDS[1:]) if name not in ("host", "uri")]


def _term(pairs: list[tuple[Kind, str]]) -> Term:
    found = [Observable(kind, value) for kind, text in pairs if (value := normalise(kind, text))]
    return tuple(dict.fromkeys(found))


def _compiled(indicators: list[list[list[tuple[Kind, str]]]]) -> Compiled:
    entries = []
    for n, alternatives in enumerate(indicators):
        found = tuple(t for t in (_term(pairs) for pairs in alternatives) if t)
        window = (None, datetime(2014, 1, 1, tzinfo=UTC)) if n % 5 == 4 else (None, None)
        entries.append((Indicator(f"indicator--{n}", "feeds", Tlp.GREEN, f"i{n}", window), found))
    return Compiled.of(entries)


def _log(records: list[tuple[str, ...]], named: bool = True) -> str:
    fields = FIELDS
    if not named:
        fields = [FIELDS[0]] + [FIELDS[1 + at] for at in NAMELESS]
        records = [tuple(record[at] for at in NAMELESS) for record in records]
    head = "#separator \\x09\n#set_separator\t,\n#fields\t" + "\t".join(fields) + "\n"
    body = "".join(
        f"{1400000000 + n}.000000\t" + "\t".join(record) + "\n" for n, record in enumerate(records)
    )
    return head + body + "#close\t2014-01-01-00-00-00\n"


def _reference(text: str, compiled: Compiled) -> Tally:
    lines = text.splitlines(keepends=True)
    return scan(lines, reader_for(LogFormat.ZEEK), compiled.index(), compiled.windows(), NOW)


def _same(fast: Tally | None, reference: Tally) -> None:
    assert fast is not None
    assert fast.lines == reference.lines
    assert fast.outside_validity == reference.outside_validity
    assert set(fast.found) == set(reference.found)
    for key, found in reference.found.items():
        other = fast.found[key]
        assert (other.count, other.first_seen, other.last_seen) == (
            found.count,
            found.first_seen,
            found.last_seen,
        )
        assert other.values == found.values and other.sources == found.sources


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    records=RECORDS,
    indicators=st.lists(TERMS, min_size=1, max_size=6),
    block=st.sampled_from([64, 300, 1 << 20]),  # blocks of a line or less, and the whole log
    named=st.booleans(),  # whether records name the host their server was reached for
)
def test_the_fast_path_finds_exactly_what_the_line_reader_finds(
    records: list[tuple[str, ...]],
    indicators: list[list[list[tuple[Kind, str]]]],
    block: int,
    named: bool,
) -> None:
    compiled = _compiled(indicators)
    text = _log(records, named)
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "x.log"
        log.write_text(text)
        _same(fast_scan(log, compiled, NOW, block), _reference(text, compiled))


# Indicators that zat's Zeek logs (tests/data/zeek) hold, one per kind of column.
REAL_TERMS = [
    [[(Kind.IP, "54.230.86.0/24")]],
    [[(Kind.DOMAIN, "guyspy.com")]],
    [[(Kind.FILE_NAME, "flashplayer11_7r176151_415_win.exe")]],
    [[(Kind.HASH, "f41826e027bdc0d357a60a56dcdf50c8")]],
    [[(Kind.URL, "http://www.guyspy.com/")], [(Kind.IP, "192.168.33.10")]],
    [[(Kind.IP, "54.245.228.191"), (Kind.DOMAIN, "guyspy.com")]],
]


def test_the_fast_path_agrees_on_real_zeek_logs() -> None:
    compiled = _compiled(REAL_TERMS)
    matched = 0
    for name in ("dns.log", "files.log", "http.log", "conn.log", "ssl.log", "x509.log"):
        text = (ZEEK / name).read_text()
        fast = fast_scan(ZEEK / name, compiled, NOW)
        reference = _reference(text, compiled)
        _same(fast, reference)
        matched += len(reference.found)
    assert matched >= 6


def test_logs_the_fast_path_cannot_read_exactly_go_to_the_line_reader(tmp_path: Path) -> None:
    compiled = _compiled([[[(Kind.DOMAIN, "evil.example")]]])
    good = _log([("10.0.0.1", "-", "evil.example", "-", "-", "-", "-", "-", "-")])
    log = tmp_path / "x.log"
    for text in (
        good.replace("\n", "\r\n"),  # carriage returns stay in the last cell
        good + "#fields\tts\tquery\n1\tevil.example\n",  # a second header
        good.replace("\t-\t-\t-\n", "\t-\t-\t-\textra\n"),  # a ragged line
    ):
        log.write_text(text, newline="")
        assert fast_scan(log, compiled, NOW) is None
    log.write_bytes(good.encode() + b"1400000009.0\t10.0.0.1\t-\tevil.example\xff\n")
    assert fast_scan(log, compiled, NOW) is None  # not UTF-8


def test_names_are_looked_up_at_every_length_a_domain_has(tmp_path: Path) -> None:
    domains = ("example", "evil.example", "a.b.c.test", "x.y")
    compiled = _compiled([[[(Kind.DOMAIN, d)]] for d in domains])
    names = ["example", "q.example", "Deep.sub.evil.example.", "a.b.c.test", "z.a.b.c.test"]
    names += ["b.c.test", "c.test", "w.x.y", "x.y.z", "y"]
    text = _log([("10.0.0.1", "-", name, "-", "-", "-", "-", "-", "-") for name in names])
    log = tmp_path / "x.log"
    log.write_text(text)
    reference = _reference(text, compiled)
    assert {key: found.count for key, found in reference.found.items()} == {0: 3, 1: 1, 2: 2, 3: 1}
    for block in (64, 1 << 20):  # a line a block, and the whole log
        _same(fast_scan(log, compiled, NOW, block), reference)


def test_an_and_pattern_is_proven_by_one_record_not_by_two_blocks(tmp_path: Path) -> None:
    compiled = _compiled([[[(Kind.DOMAIN, "good.test"), (Kind.IP, "203.0.113.9")]]])
    records = [
        ("203.0.113.9", "-", "other.test", "-", "-", "-", "-", "-", "-"),
        ("10.0.0.1", "-", "good.test", "-", "-", "-", "-", "-", "-"),
        ("10.0.0.1", "-", "a.good.test", "203.0.113.9", "-", "-", "-", "-", "-"),
    ]
    text = _log(records)
    log = tmp_path / "x.log"
    log.write_text(text)
    reference = _reference(text, compiled)
    assert [found.count for found in reference.found.values()] == [1]
    for block in (64, 1 << 20):
        _same(fast_scan(log, compiled, NOW, block), reference)


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(st.text("ab\t", max_size=40), max_size=12),
    final=st.booleans(),  # whether the last line ends
    size=st.integers(1, 64),
    peek=st.integers(1, 32),
)
def test_blocks_end_at_line_ends_and_hold_the_whole_file(
    lines: list[str], final: bool, size: int, peek: int
) -> None:
    data = "\n".join(lines).encode() + (b"\n" if final and lines else b"")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.log"
        path.write_bytes(data)
        previous, columnar.PEEK = columnar.PEEK, peek  # where the block's end is looked for
        try:
            with path.open("rb") as raw:
                blocks = list(columnar._blocks(raw, size))
        finally:
            columnar.PEEK = previous
    assert b"".join(blocks) == data
    for block in blocks[:-1]:
        assert block.endswith(b"\n")
        # at most a block, unless it is one line longer than a block
        assert len(block) <= size or block.count(b"\n") == 1
        assert block.rfind(b"\n", 0, len(block) - 1) < size


def test_names_match_whatever_their_case_final_dot_or_script(tmp_path: Path) -> None:
    # The pre-filter compares a name's last characters first: case, a final dot and text
    # outside ASCII must not keep a match out, and a name merely ending alike not let one in.
    domains = ("evil.example", "xn--bcher-kva.example", "t.co")
    compiled = _compiled([[[(Kind.DOMAIN, d)]] for d in domains])
    names = ["A.EVIL.EXAMPLE", "evil.example.", "Evil.Example..", "bücher.example"]
    names += ["BÜCHER.EXAMPLE", "www.T.CO", "notevil.example", "evil.example.org", "tt.co"]
    text = _log([("10.0.0.1", "-", name, "-", "-", "-", "-", "-", "-") for name in names])
    log = tmp_path / "x.log"
    log.write_text(text)
    reference = _reference(text, compiled)
    assert {key: found.count for key, found in reference.found.items()} == {0: 3, 1: 2, 2: 1}
    for block in (64, 1 << 20):
        _same(fast_scan(log, compiled, NOW, block), reference)


def test_the_fast_path_tells_how_far_it_has_read(tmp_path: Path) -> None:
    compiled = _compiled([[[(Kind.DOMAIN, "evil.example")]]])
    records = [
        ("10.0.0.1", "-", f"h{n}.evil.example", "-", "-", "-", "-", "-", "-") for n in range(40)
    ]
    log = tmp_path / "x.log"
    log.write_text(_log(records))
    told: list[int] = []
    tally = fast_scan(log, compiled, NOW, 300, every=told.append)
    assert tally is not None and tally.found[0].count == 40
    with log.open("rb") as raw:
        lengths = [len(block) for block in columnar._blocks(raw, 300)]
    assert len(lengths) > 3
    assert told == [sum(lengths[: n + 1]) for n in range(len(lengths))]
    assert told[-1] == log.stat().st_size


def test_the_cycle_collector_is_off_while_a_log_is_matched(tmp_path: Path) -> None:
    compiled = _compiled([[[(Kind.DOMAIN, "evil.example")]]])
    records = [
        ("10.0.0.1", "-", f"h{n}.evil.example", "-", "-", "-", "-", "-", "-") for n in range(300)
    ]
    log = tmp_path / "x.log"
    log.write_text(_log(records))
    seen: list[bool] = []  # whether it was on, after each block
    tally = fast_scan(log, compiled, NOW, 300, every=lambda _: seen.append(gc.isenabled()))
    assert tally is not None and tally.found[0].count == 300
    assert len(seen) > 10 and not any(seen)
    assert gc.isenabled()  # on again after


def test_the_collector_is_left_as_it_was() -> None:
    assert gc.isenabled()
    with collector_off():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_off():
            pass
        assert not gc.isenabled()
        with pytest.raises(RuntimeError), collector_off():
            raise RuntimeError
    finally:
        gc.enable()


def test_a_blocks_windows_are_in_utc() -> None:
    # A record's time (datetime.UTC) is compared with its indicator's window on every match;
    # polars gives the window a ZoneInfo, and comparing across the two costs ten times more.
    since = datetime(2013, 1, 1, tzinfo=UTC)
    compiled = Compiled.of(
        [
            (Indicator("indicator--0", "feeds", Tlp.GREEN, "i0", (since, None)), ()),
            (Indicator("indicator--1", "feeds", Tlp.GREEN, "i1", (None, since)), ()),
        ]
    )
    windows = compiled.windows_of([1, 0])
    assert windows == {0: (since, None), 1: (None, since)}
    assert windows[0][0] is not None and windows[0][0].tzinfo is UTC
    assert windows[1][1] is not None and windows[1][1].tzinfo is UTC


# Run in a process of its own: glibc's thresholds move with what a process has freed before.
KEPT = """
import ctypes
from seawall.intel.matching.scan import allocations_kept

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd",
        "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
BLOCK = 16 << 20

def kept_after_freeing_a_block():
    block = bytes(BLOCK)
    del block
    return libc.mallinfo2().keepcost >= BLOCK

before = kept_after_freeing_a_block()
with allocations_kept():
    inside = kept_after_freeing_a_block()
print(before, inside, kept_after_freeing_a_block())
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")
def test_memory_a_block_frees_is_kept_for_the_next_and_returned_after() -> None:
    # Given back and faulted in again a block at a time, it cost a fifth of a scan's CPU.
    done = subprocess.run(
        [sys.executable, "-c", KEPT], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == ["False", "True", "False"]


class _GivesUpAtOnce:
    """A reader that cannot read the first block (as a log with a carriage return), and
    takes a while over every other, so the blocks after them wait in the queue."""

    def __init__(self) -> None:
        self.read_at: list[bytes] = []

    def read(self, block: bytes) -> bytes | None:
        self.read_at.append(block[:1])
        if block.startswith(b"0"):
            return None
        time.sleep(0.3)
        return block

    def add(self, found: bytes) -> None:
        raise AssertionError("nothing is added after the first block")


def test_blocks_queued_for_a_log_given_up_on_are_not_read(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_bytes(b"".join(f"{n % 10}{'x' * 98}\n".encode() for n in range(40)))
    reader = _GivesUpAtOnce()
    with log.open("rb") as raw:
        assert not columnar.matched_blocks(raw, reader, 100, None)
    # The first block, and what the workers had started before the main thread heard of it
    # (the other worker's block, and the next one the first worker took up at once); not
    # the blocks queued behind them.
    assert reader.read_at[0] == b"0"
    assert len(reader.read_at) <= 2 * columnar.IN_FLIGHT < columnar.IN_FLIGHT + columnar.AHEAD


@settings(max_examples=200, deadline=None)
@given(address=st.integers(0, 2**32 - 1), prefix=st.integers(0, 32))
def test_ranges_are_read_as_ipaddress_reads_them(address: int, prefix: int) -> None:
    network = ipaddress.IPv4Network((address, prefix), strict=False)
    assert joins._ipv4_range(str(network)) == (prefix, int(network.network_address))
    if int(network.network_address) != address:  # host bits set: no network
        with pytest.raises(ValueError, match="not an IPv4 network"):
            joins._ipv4_range(f"{ipaddress.IPv4Address(address)}/{prefix}")
    for text in ("198.051.100.0/24", "198.51.100.0/33", "198.51.100.0/٢٤", "x/8"):
        with pytest.raises((ValueError, OSError)):
            joins._ipv4_range(text)
