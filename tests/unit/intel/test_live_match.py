"""A followed log's batches match as the whole file does, through the columnar pre-filter
or line by line, however the batches fall (a header split between two, a rotation inside
one)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from seawall.intel.matching.compiled import Compiled, Indicator
from seawall.intel.matching.live import LiveMatch
from seawall.intel.matching.observables import Kind, Observable
from seawall.intel.tlp import Tlp

ZEEK = Path(__file__).parents[2] / "data" / "zeek"
NOW = datetime(2026, 12, 7, tzinfo=UTC)
VALUES = [
    (Kind.DOMAIN, "maxmind.com"),
    (Kind.IP, "54.230.86.0/24"),
    (Kind.HASH, "92bf83360b8ed10d82e38bcdcfcfa4a7"),
    (Kind.DOMAIN, "guyspy.com"),
]


def _entries() -> list[tuple[Indicator, tuple[tuple[Observable, ...], ...]]]:
    return [
        (
            Indicator(f"indicator--{n}", "feed", Tlp.GREEN, f"i{n}", (None, None)),
            ((Observable(kind, value),),),
        )
        for n, (kind, value) in enumerate(VALUES)
    ]


def _compiled() -> Compiled:
    return Compiled.of(_entries())


def _counts(
    lines: list[str], batch: int, fast: bool
) -> tuple[dict[str, int], dict[str, dict[str, int]], int]:
    live = LiveMatch(_compiled(), "log", fast=fast)
    counts: dict[str, int] = {}
    hosts: dict[str, dict[str, int]] = {}
    read = 0
    for start in range(0, len(lines), batch):
        report = live.match(lines[start : start + batch], NOW)
        read += report.lines
        for hit in report.hits.values():
            counts[hit.indicator.id] = counts.get(hit.indicator.id, 0) + hit.count
            for host, seen in hit.sources.items():
                mine = hosts.setdefault(hit.indicator.id, {})
                mine[host] = mine.get(host, 0) + seen
    return counts, hosts, read


@pytest.mark.parametrize("batch", [3, 7, 1000])
def test_batches_through_the_pre_filter_match_as_line_by_line(batch: int) -> None:
    # dns.log, then files.log as after a rotation (its own header, mid-batch), then dns.log:
    # 54.230.86.0/24 is in 4 dns.log records (answers) and 10 files.log ones (tx_hosts).
    lines = []
    for name in ("dns.log", "files.log", "dns.log"):
        lines += (ZEEK / name).read_text().splitlines(keepends=True)
    fast, slow = _counts(lines, batch, True), _counts(lines, batch, False)
    assert fast == slow
    counts, hosts, read = fast
    assert read == len(lines)
    assert counts == {"indicator--0": 22, "indicator--1": 18, "indicator--2": 1, "indicator--3": 6}
    assert hosts["indicator--2"] == {"192.168.33.10": 1}


def test_a_reload_of_the_same_set_keeps_the_index_and_a_changed_one_replaces_it() -> None:
    first = replace(_compiled(), key="a" * 64)
    live = LiveMatch(first, "log")
    index = live._index
    live.use(replace(_compiled(), key="a" * 64))  # nothing the reader may read changed
    assert live._index is index
    live.use(replace(_compiled(), key="b" * 64))
    assert live._index is not index
    index = live._index
    live.use(_compiled())  # compiled without a cache: no key to compare, so it is used
    assert live._index is not index


def test_an_endpoint_indicator_added_while_following_matches_from_the_next_batch() -> None:
    # zat's conn.log: 35 connections to 54.230.86.87:443.
    lines = (ZEEK / "conn.log").read_text().splitlines(keepends=True)
    live = LiveMatch(_compiled(), "log", fast=False)
    at = [n for n, line in enumerate(lines) if "\t54.230.86.87\t443\t" in line]
    half = at[10]  # ten connections before the indicator comes, 25 after
    before = live.match(lines[:half], NOW)
    assert "indicator--4" not in before.hits
    endpoint = Observable(Kind.ENDPOINT, "54.230.86.87:443")
    pair = Indicator("indicator--4", "feed", Tlp.GREEN, "i4", (None, None))
    entries = [*_entries(), (pair, ((endpoint,),))]
    live.use(Compiled.of(entries))
    after = live.match(lines[half:], NOW)
    assert len(at) == 35 and after.hits["indicator--4"].count == 25
