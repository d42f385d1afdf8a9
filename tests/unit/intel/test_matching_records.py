"""Log matching works record by record on real Zeek logs (zat's test data): a record counts
once per indicator, and an AND pattern needs all of its values in one record."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from seawall.intel.matching.logs import LogFormat, reader_for
from seawall.intel.matching.matcher import Index
from seawall.intel.matching.observables import Kind, Observable, terms
from seawall.intel.matching.scan import Tally, scan

ZEEK = Path(__file__).parents[2] / "data" / "zeek"
NOW = datetime(2026, 12, 7, tzinfo=UTC)


def test_a_record_with_several_matching_values_counts_once_per_indicator() -> None:
    # The zat dns.log: 4 records answer with addresses in 54.230.86.0/24 (9 addresses in
    # all), and 3 records ask for guyspy.com or a name under it (4 names in all).
    index = Index.of(
        [
            (0, [(Observable(Kind.IP, "54.230.86.0/24"),)]),
            (1, [(Observable(Kind.DOMAIN, "guyspy.com"),)]),
        ]
    )
    lines = (ZEEK / "dns.log").read_text().splitlines(keepends=True)
    tally = scan(lines, reader_for(LogFormat.ZEEK), index, [(None, None)] * 2, NOW)
    assert tally.found[0].count == 4
    assert tally.found[1].count == 3
    assert sum(tally.found[0].values.values()) == 4  # records per matched value
    assert sum(tally.found[0].sources.values()) == 4


def _scan(log: str, *patterns: str) -> Tally:
    found = [terms(p) for p in patterns]
    index = Index.of((key, t) for key, t in enumerate(found) if t)
    lines = (ZEEK / log).read_text().splitlines(keepends=True)
    return scan(lines, reader_for(LogFormat.ZEEK), index, [(None, None)] * len(patterns), NOW)


def test_an_and_pattern_matches_only_records_holding_all_of_its_values() -> None:
    # files.log holds the MD5 f41826e0... twice, under two names.
    md5 = "F41826E027BDC0D357A60A56DCDF50C8"
    tally = _scan(
        "files.log",
        f"[file:hashes.MD5 = '{md5}']",
        f"[file:name = 'flashplayer11_7r176151_415_win.exe' AND file:hashes.MD5 = '{md5}']",
        "[file:name = 'flashplayer11_7r176151_415_win.exe' AND "
        "file:hashes.MD5 = '0522a976acd4a45133a76345602dda28']",  # a hash of another record
        "[file:name = 'FLASHPLAYER11_7r176151_415_win.exe']",  # names keep their case
        f"[file:name = 'flashplayer11_7r176151_411_win.exe' AND file:hashes.MD5 = '{md5}'"
        " AND file:size = 1000]",  # no log field says a size: never matched on half
    )
    assert set(tally.found) == {0, 1}
    assert tally.found[0].count == 2
    pair = tally.found[1]
    assert pair.count == 1 and pair.sources == {"192.168.33.10": 1}
    assert set(pair.values) == {"flashplayer11_7r176151_415_win.exe", md5.lower()}


def test_alternatives_of_values_seen_together_each_prove_the_pattern() -> None:
    # http.log: 45 records for guyspy.com or www.guyspy.com, all from 54.245.228.191; one
    # of them is for http://www.guyspy.com/.
    either = "(domain-name:value = 'nothing.example' OR url:value = 'HTTP://WWW.guyspy.com/')"
    tally = _scan(
        "http.log",
        f"[{either} AND ipv4-addr:value = '54.245.228.191'] OR [file:hashes.MD5 = 'ffff']",
        f"[{either} AND ipv4-addr:value = '54.245.228.0/24']",
        f"[{either} AND ipv4-addr:value = '54.245.229.0/24']",
        "[domain-name:value = 'guyspy.com' AND ipv4-addr:value = '54.245.228.191']",
    )
    assert {k: f.count for k, f in tally.found.items()} == {0: 1, 1: 1, 3: 45}
    assert set(tally.found[1].values) == {"http://www.guyspy.com/", "54.245.228.0/24"}
