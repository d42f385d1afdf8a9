"""Matching logs on a real node (SQLite and PostgreSQL): TLP, validity, sightings, bad input."""

from __future__ import annotations

import gzip
import json
import uuid
from pathlib import Path

import pytest

from seawall.core import organisations
from seawall.core.access import Principal, Role
from seawall.core.evidence import list_evidence
from seawall.core.node import Node
from seawall.errors import InvalidInput, parse_choice
from seawall.intel import cases
from seawall.intel.collections import Audience, create_collection, get_collection
from seawall.intel.errors import UnreadableLog
from seawall.intel.identity import identity_id
from seawall.intel.matching.compiled import cache_key
from seawall.intel.matching.logs import LogFormat
from seawall.intel.matching.sightings import (
    MatchReport,
    link_to_case,
    match_logs,
    record,
    regional_sightings,
)
from seawall.intel.search import readable_collections
from seawall.intel.store import reading, writing
from seawall.intel.store.reading import Filters
from seawall.intel.tlp import Tlp, marking_id
from tests.feeds import JM, stock_feeds
from tests.stix import STAMP, indicator

TT = Principal("tt-analyst", "TT", Role.ANALYST, user_id="tt-analyst", org_id="org-tt-cirt")


DOMAIN = indicator(1, "[domain-name:value = 'evil.example']", Tlp.GREEN)
# Addresses decay within about 29 days of valid_from (intel.decay): this one is fresh.
RANGE = indicator(
    2,
    "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
    Tlp.AMBER,
    valid_from="2026-11-20T00:00:00.000Z",
)
# One record must hold both values; the log's a.example record holds 203.0.113.1.
BOTH = indicator(
    3, "[domain-name:value = 'a.example' AND ipv4-addr:value = '203.0.113.9']", Tlp.GREEN
)
EXPIRED = indicator(
    4, "[domain-name:value = 'old.example']", Tlp.GREEN, valid_until="2026-11-15T00:00:00Z"
)
REVOKED = indicator(5, "[domain-name:value = 'gone.example']", Tlp.GREEN, revoked=True)

# Zeek dns.log: 2 and 3 December 2026 (epoch seconds), from two internal hosts.
ZEEK = (
    "#separator \\x09\n#set_separator\t,\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tquery\tanswers\n"
    "1796216533.000000\tC1\t10.0.0.5\t5000\t10.0.0.1\t53\twww.evil.example\t198.51.100.7\n"
    "1796302933.000000\tC2\t10.0.0.6\t5001\t10.0.0.1\t53\tevil.example\t-\n"
    "1796302934.000000\tC3\t10.0.0.6\t5002\t10.0.0.1\t53\tgood.example\t192.0.2.1\n"
    "1796302935.000000\tC4\t10.0.0.6\t5003\t10.0.0.1\t53\told.example\t-\n"
    "1796302936.000000\tC5\t10.0.0.6\t5004\t10.0.0.1\t53\tgone.example\t-\n"
    "1796302937.000000\tC6\t10.0.0.6\t5005\t10.0.0.1\t53\ta.example\t203.0.113.1\n"
)


def zeek_copies(copies: int) -> str:
    """ZEEK with its six records written ``copies`` times under its one header."""
    header, records = ZEEK.split("1796216533", 1)
    return header + ("1796216533" + records) * copies


@pytest.fixture
def feeds(any_node: Node) -> str:
    """A collection every user of the node may read, holding the five indicators."""
    return stock_feeds(any_node, [DOMAIN, RANGE, BOTH, EXPIRED, REVOKED])


def run(node: Node, who: Principal, *paths: Path) -> MatchReport:
    with node.unit(who) as ctx:
        return match_logs(ctx, paths)


def test_a_zeek_log_matches_names_under_a_domain_and_addresses_in_a_range(
    any_node: Node, feeds: str, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.log"
    empty.write_text("")
    assert run(any_node, JM, empty).lines == 0  # matched nothing: no evidence of detection
    log = tmp_path / "dns.log"
    log.write_text(ZEEK)
    report = run(any_node, JM, log)
    assert report.files == {str(log): "zeek"} and report.lines == 9
    assert report.indicators == 4  # the revoked one is left out
    assert report.not_matchable == 0
    assert report.outside_validity == 1  # old.example, queried after its valid_until
    by_id = {h.indicator.id: h for h in report.hits.values()}
    assert set(by_id) == {DOMAIN["id"], RANGE["id"]}  # not BOTH: half of its values
    domain = by_id[DOMAIN["id"]]
    assert domain.count == 2 and dict(domain.values) == {"evil.example": 2}
    assert domain.sources == {"10.0.0.5": 1, "10.0.0.6": 1}
    assert (
        domain.first_seen and domain.first_seen.day,
        domain.last_seen and domain.last_seen.day,
    ) == (2, 3)
    assert dict(by_id[RANGE["id"]].values) == {"198.51.100.0/24": 1}
    with any_node.unit(JM) as ctx:
        (evidence,) = list_evidence(ctx, supports="cmm:D1.2")
    assert evidence.kind == "intel.logs.matched" and evidence.nation == "JM"
    assert evidence.summary == "Matched 9 log lines (zeek) against 4 shared indicators: 2 matched"


def test_sightings_are_recorded_once_and_never_marked_looser_than_their_indicator(
    any_node: Node, feeds: str, tmp_path: Path
) -> None:
    log = tmp_path / "dns.log.gz"
    log.write_bytes(gzip.compress(ZEEK.encode()))
    with any_node.unit(JM) as ctx:
        target = create_collection(ctx, "seen", "Sightings", Audience(), "green")
        report = record(ctx, match_logs(ctx, [log]), target)
    assert report.files[str(log)] == "zeek" and len(report.recorded) == 2
    with any_node.unit(JM) as ctx:
        page = reading.query_objects(ctx, get_collection(ctx, "seen"), Filters(limit=100))
    stored = {o.as_dict()["sighting_of_ref"]: o.as_dict() for o in page.objects}
    domain, ranged = stored[DOMAIN["id"]], stored[RANGE["id"]]
    assert domain["count"] == 2 and domain["where_sighted_refs"] == [identity_id("JM")]
    assert domain["first_seen"].startswith("2026-12-02") and domain["last_seen"].startswith(
        "2026-12-03"
    )
    assert domain["object_marking_refs"] == [marking_id(Tlp.GREEN)]
    assert ranged["object_marking_refs"] == [
        marking_id(Tlp.AMBER)
    ]  # the indicator's, not the default
    assert "10.0.0.5" not in json.dumps(list(stored.values()))  # internal hosts stay local
    with any_node.unit(JM) as ctx:
        again = record(ctx, match_logs(ctx, [log]), get_collection(ctx, "seen"))
    assert again.recorded == [] and len(again.already_recorded) == 2


def test_a_reader_matches_only_the_indicators_tlp_lets_them_read(
    any_node: Node, feeds: str, tmp_path: Path
) -> None:
    log = tmp_path / "dns.log"
    log.write_text(ZEEK)
    theirs = run(any_node, TT, log)
    # Trinidad's analyst reads the GREEN domain; the AMBER range stays inside Jamaica.
    assert {h.indicator.id for h in theirs.hits.values()} == {DOMAIN["id"]}
    assert theirs.indicators == 3  # the GREEN domain, the GREEN pair and the expired one


def test_a_format_can_be_named_and_bad_paths_are_refused(
    any_node: Node, feeds: str, tmp_path: Path
) -> None:
    log = tmp_path / "firewall.txt"
    log.write_text("Dec  3 13:02:13 gw kernel: SRC=10.0.0.3 DST=198.51.100.9 PROTO=TCP\n")
    with any_node.unit(JM) as ctx:
        named = match_logs(ctx, [log], LogFormat.NETFILTER)
    assert [h.indicator.id for h in named.hits.values()] == [RANGE["id"]]
    with any_node.unit(JM) as ctx, pytest.raises(UnreadableLog, match="is not a file"):
        match_logs(ctx, [tmp_path])
    with any_node.unit(JM) as ctx, pytest.raises(UnreadableLog, match=r"missing\.log"):
        match_logs(ctx, [tmp_path / "missing.log"])
    capture = tmp_path / "capture.pcap"
    capture.write_bytes(bytes(range(256)) * 64)
    with any_node.unit(JM) as ctx, pytest.raises(UnreadableLog, match="binary data"):
        match_logs(ctx, [capture])
    cut = tmp_path / "dns.log.gz"
    cut.write_bytes(gzip.compress((ZEEK * 2000).encode())[:-64])
    with any_node.unit(JM) as ctx, pytest.raises(UnreadableLog, match="broke off"):
        match_logs(ctx, [cut])
    garbled = bytearray(gzip.compress((ZEEK * 2000).encode()))
    garbled[40:-40] = bytes(b ^ 0xFF for b in garbled[40:-40])  # a broken deflate stream
    cut.write_bytes(bytes(garbled))
    with any_node.unit(JM) as ctx, pytest.raises(UnreadableLog, match="broke off"):
        match_logs(ctx, [cut])
    # A JSON array on one line is not a line-per-record log; it is refused before it is
    # read whole, in one pass and in byte ranges alike.
    array = tmp_path / "events.json"
    records = ZEEK * 4  # past the lines read to tell the format
    array.write_text(records + "[" + ",".join(['{"query": "evil.example"}'] * 60_000) + "]\n")
    where = {2**40: f"line {records.count(chr(10)) + 1}", 1: f"at byte {len(records):,}"}
    for split_at, said in where.items():
        with any_node.unit(JM) as ctx, pytest.raises(UnreadableLog, match="over 1 MiB") as bad:
            match_logs(ctx, [array], split_at=split_at, chunk=len(records))
        assert f"({said})" in bad.value.message


def test_a_large_log_read_in_ranges_or_columns_finds_exactly_what_one_pass_finds(
    node: Node, tmp_path: Path
) -> None:
    stock_feeds(node, [DOMAIN, RANGE])
    log = tmp_path / "dns.log"
    # 3,000 copies of six records: ranges of 4 KiB end in the middle of lines.
    log.write_text(zeek_copies(3000))
    with node.unit(JM) as ctx:
        whole = match_logs(ctx, [log], fast=False)
        seen: list[tuple[int, int]] = []
        split = match_logs(
            ctx,
            [log],
            split_at=1,
            chunk=4096,
            progress=lambda d, t: seen.append((d, t)),
            fast=False,
        )
        columnar = match_logs(ctx, [log])  # the Zeek fast path
    assert whole.lines == split.lines == columnar.lines == 3 + 6 * 3000
    assert seen[-1] == (log.stat().st_size, log.stat().st_size) and len(seen) > 10
    for other_run in (split, columnar):
        assert set(other_run.hits) == set(whole.hits)
        for key, hits in whole.hits.items():
            other = other_run.hits[key]
            assert (other.count, other.first_seen, other.last_seen) == (
                hits.count,
                hits.first_seen,
                hits.last_seen,
            )
            assert other.values == hits.values and other.sources == hits.sources
        assert other_run.outside_validity == whole.outside_validity
    assert whole.hits[DOMAIN["id"]].count == 2 * 3000


def test_zeek_logs_on_the_fast_path_tell_how_far_matching_has_read(
    node: Node, tmp_path: Path
) -> None:
    stock_feeds(node, [DOMAIN])
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    for copies, log in zip((1, 3), logs, strict=True):
        log.write_text(zeek_copies(copies))
    first, total = logs[0].stat().st_size, sum(log.stat().st_size for log in logs)
    seen: list[tuple[int, int]] = []
    with node.unit(JM) as ctx:
        match_logs(ctx, logs, progress=lambda d, t: seen.append((d, t)))
    # each log's blocks as the fast path reads them (one here), then the end
    assert seen == [(first, total), (total, total), (total, total)]


def test_a_zeek_json_log_takes_its_fast_path_and_finds_what_the_line_reader_finds(
    node: Node, tmp_path: Path
) -> None:
    stock_feeds(node, [DOMAIN, RANGE])
    records = [
        {"ts": 1796216533.0 + n, "uid": f"C{n}", "id.orig_h": "10.0.0.5", "id.resp_h": "10.0.0.1"}
        | {"query": name, "answers": [address]}
        for n, (name, address) in enumerate(
            [("www.evil.example", "198.51.100.7"), ("good.test", "203.0.113.9")] * 50
        )
    ]
    log = tmp_path / "dns.log"
    log.write_text("".join(json.dumps(record) + "\n" for record in records))
    seen: list[tuple[int, int]] = []
    with node.unit(JM) as ctx:
        fast = match_logs(ctx, [log], progress=lambda d, t: seen.append((d, t)))
        lines = match_logs(ctx, [log], fast=False)
    size = log.stat().st_size
    assert seen == [(size, size), (size, size)]  # a block told, then the end
    assert fast.files == {str(log): "zeek-json"} and fast.lines == lines.lines == 100
    assert {key: hit.count for key, hit in fast.hits.items()} == {
        key: hit.count for key, hit in lines.hits.items()
    }
    assert sorted(hit.count for hit in fast.hits.values()) == [50, 50]


def test_the_region_sees_which_indicators_several_nations_sighted(
    any_node: Node, feeds: str, tmp_path: Path
) -> None:
    log = tmp_path / "dns.log"
    log.write_text(ZEEK)
    with any_node.unit(JM) as ctx:
        seen = create_collection(ctx, "seen", "Sightings", Audience(), "green")
        record(ctx, match_logs(ctx, [log]), seen)
    # Trinidad records its own sighting of the same domain indicator.
    theirs = {
        "type": "sighting",
        "spec_version": "2.1",
        "id": f"sighting--{uuid.UUID(int=77, version=4)}",
        "created": STAMP,
        "modified": STAMP,
        "created_by_ref": identity_id("TT"),
        "sighting_of_ref": DOMAIN["id"],
        "count": 5,
        "first_seen": "2026-11-20T00:00:00Z",
        "last_seen": "2026-12-02T00:00:00Z",
        "where_sighted_refs": [identity_id("TT")],
        "object_marking_refs": [marking_id(Tlp.GREEN)],
    }
    with any_node.unit(TT) as ctx:
        writing.add_objects(ctx, get_collection(ctx, "seen"), [theirs])
    with any_node.unit(JM) as ctx:
        rows = regional_sightings(ctx)
        wide = regional_sightings(ctx, min_nations=2)
    assert [r.indicator for r in rows] == [DOMAIN["id"], RANGE["id"]]
    first = rows[0]
    assert (first.nations, first.sightings, first.name, first.tlp) == (
        {"JM": 2, "TT": 5},
        2,
        "indicator 1",
        Tlp.GREEN,
    )
    assert first.first_seen is not None and first.first_seen.day == 20  # TT's, 20 November
    assert first.last_seen is not None and first.last_seen.day == 3  # JM's, 3 December
    assert [r.indicator for r in wide] == [DOMAIN["id"]]
    with any_node.unit(TT) as ctx:
        # Trinidad cannot read the AMBER range, nor Jamaica's AMBER sighting of it.
        assert [r.indicator for r in regional_sightings(ctx)] == [DOMAIN["id"]]


def test_a_log_format_is_read_as_typed_and_an_unknown_one_names_the_choices() -> None:
    assert parse_choice(LogFormat, "log format", " Zeek-JSON ") is LogFormat.ZEEK_JSON
    with pytest.raises(
        InvalidInput, match=r"unknown log format 'syslog': choose one of zeek, zeek-json"
    ):
        parse_choice(LogFormat, "log format", "syslog")


@pytest.mark.parametrize("tlp", [Tlp.RED, Tlp.AMBER_STRICT], ids=["red", "amber-strict"])
def test_a_sighting_recorded_into_a_wider_collection_names_no_matched_value(
    any_node: Node, tmp_path: Path, tlp: Tlp
) -> None:
    with any_node.unit(any_node.operator()) as ctx:
        first = organisations.add_org(ctx, "Bank A", "data_custodian")
        second = organisations.add_org(ctx, "Bank B", "data_custodian")
    x = Principal("x-analyst", "JM", Role.ANALYST, user_id="x-analyst", org_id=first.id)
    y = Principal("y-analyst", "JM", Role.ANALYST, user_id="y-analyst", org_id=second.id)
    secret = {
        **indicator(9, "[domain-name:value = 'secret-lure.example']", tlp),
        "name": "Bank-only lure",
    }
    log = tmp_path / "dns.log"
    log.write_text(ZEEK.replace("www.evil.example", "www.secret-lure.example"))
    with any_node.unit(x) as ctx:
        only_a = create_collection(ctx, "bank-a", "Bank A", Audience(organisations=(first.id,)))
        writing.add_objects(ctx, only_a, [secret])
        both = Audience(groups=("CARICOM",), organisations=(first.id, second.id))
        region = create_collection(ctx, "region", "Region", both, "green")
        report = record(ctx, match_logs(ctx, [log]), region)
        case = cases.open_case(ctx, "region", "Lure at the banks")
        link_to_case(ctx, report, case.id)
    # The operator who ran the match sees the values in the local report.
    assert dict(report.hits[secret["id"]].values) == {"secret-lure.example": 1}
    with any_node.unit(y) as ctx:
        page = reading.query_objects(ctx, get_collection(ctx, "region"), Filters(limit=100))
        shown = cases.show_case(ctx, case.id)
        rows = regional_sightings(ctx)
    # Bank B is named in the region: it reads the sighting, marked as the indicator ...
    (sighting,) = [o.as_dict() for o in page.objects if o.type == "sighting"]
    assert sighting["object_marking_refs"] == [marking_id(tlp)]
    assert sighting["description"] == "1 log record (zeek) on JM networks matched the indicator"
    # ... and the case's link to it, but not what was matched, nor the indicator's words.
    assert [(e.target_id, e.text) for e in shown.links] == [
        (sighting["id"], "matched in zeek logs")
    ]
    assert [(r.indicator, r.name) for r in rows] == [(secret["id"], secret["id"])]
    everything = json.dumps([o.as_dict() for o in page.objects]) + json.dumps(shown.as_json())
    assert "secret-lure" not in everything and "Bank-only" not in everything


def test_the_cache_key_is_the_readers_own_and_moves_with_every_write(
    any_node: Node, feeds: str, tmp_path: Path
) -> None:
    def key(who: Principal) -> str:
        with any_node.unit(who) as ctx:
            return cache_key(ctx, readable_collections(ctx))

    first = key(JM)
    assert key(JM) == first and key(TT) != first
    later = "2026-11-02T10:00:00.000Z"
    sighting = {
        "type": "sighting",
        "spec_version": "2.1",
        "id": f"sighting--{uuid.UUID(int=99, version=4)}",
        "created": later,
        "modified": later,
        "sighting_of_ref": DOMAIN["id"],
    }
    seen = {first}
    for objects in (
        [indicator(6, "[domain-name:value = 'new.example']", Tlp.GREEN)],
        [{**DOMAIN, "modified": later, "name": "renamed"}],  # a new version supersedes
        [sighting],
    ):
        with any_node.unit(JM) as ctx:
            writing.add_objects(ctx, get_collection(ctx, feeds), objects)
        assert key(JM) not in seen
        seen.add(key(JM))
    log = tmp_path / "dns.log"
    log.write_text(ZEEK)
    cache = tmp_path / "cache"
    with any_node.unit(JM) as ctx:
        built = match_logs(ctx, [log], cache=cache)
    with any_node.unit(JM) as ctx:
        cached = match_logs(ctx, [log], cache=cache)
    assert {h.indicator for h in cached.hits.values()} == {h.indicator for h in built.hits.values()}
    assert len(list(cache.glob("*.json"))) == 1
