"""Log matching's pure core: which values decide a pattern, lookups, log readers, log times."""

from __future__ import annotations

import ipaddress
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seawall.intel.matching.logs import (
    LogFormat,
    ZeekReader,
    detect_format,
    parse_time,
    reader_for,
)
from seawall.intel.matching.matcher import Matcher
from seawall.intel.matching.observables import Kind, Observable, decisive, quoted, terms, unquoted

IP, DOMAIN, URL, HASH = Kind.IP, Kind.DOMAIN, Kind.URL, Kind.HASH

# -- which values decide a pattern ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("[ipv4-addr:value = '198.51.100.7']", {(IP, "198.51.100.7")}),
        ("[ipv4-addr:value ISSUBSET '198.51.100.9/24']", {(IP, "198.51.100.0/24")}),
        ("[ipv6-addr:value = '2001:DB8:0:0::1']", {(IP, "2001:db8::1")}),
        ("[domain-name:value = 'Evil.Example.']", {(DOMAIN, "evil.example")}),
        ("[url:value = 'HTTP://Evil.Example/Pay?x=1']", {(URL, "http://evil.example/Pay?x=1")}),
        ("[file:hashes.'SHA-256' = 'ABCDEF01']", {(HASH, "abcdef01")}),
        ("[file:hashes.MD5 = 'abc' OR process:name = 'x.exe']", {(HASH, "abc")}),
        (
            "[domain-name:value IN ('a.example', 'b.example')] OR [url:value = 'http://c/d']",
            {(DOMAIN, "a.example"), (DOMAIN, "b.example"), (URL, "http://c/d")},
        ),
        ("[network-traffic:dst_ref.value = '203.0.113.5']", {(IP, "203.0.113.5")}),
        (
            "[email-message:from_ref.value = 'Boss@Evil.Example']",
            {(Kind.EMAIL, "boss@evil.example")},
        ),
    ],
)
def test_values_that_decide_a_pattern_on_their_own(
    pattern: str, expected: set[tuple[Kind, str]]
) -> None:
    found = decisive(pattern)
    assert found is not None
    assert {(o.kind, o.value) for o in found} == expected


@pytest.mark.parametrize(
    "pattern",
    [
        "[ipv4-addr:value = '198.51.100.7' AND domain-name:value = 'evil.example']",
        "[domain-name:value = 'a.example'] AND [domain-name:value = 'b.example']",
        "[domain-name:value = 'a.example'] FOLLOWEDBY [url:value = 'http://a/b']",
        "[domain-name:value = 'a.example'] WITHIN 60 SECONDS",
        "[ipv4-addr:value != '198.51.100.7']",
        "[domain-name:value LIKE '%.example']",
        "[process:name = 'evil.exe']",
        "[ipv4-addr:value = 'not an address']",
        "not a pattern at all",
    ],
)
def test_patterns_no_single_log_value_proves_are_not_matched(pattern: str) -> None:
    assert decisive(pattern) is None


# -- lookups -------------------------------------------------------------------------------------

LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
DOMAINS = st.lists(LABEL, min_size=2, max_size=4).map(".".join)


@given(DOMAINS, st.lists(LABEL, max_size=3), st.booleans())
def test_a_domain_matches_itself_and_every_name_under_it(
    domain: str, prefix: list[str], shout: bool
) -> None:
    matcher = Matcher.of([(Observable(DOMAIN, domain), 7)])
    seen = ".".join([*prefix, domain])
    seen = seen.upper() + "." if shout else seen
    (match,) = matcher.lookup(DOMAIN, seen)
    assert match.key == 7 and match.observable == Observable(DOMAIN, domain)


@given(DOMAINS, DOMAINS)
def test_a_domain_never_matches_a_name_outside_it(domain: str, other: str) -> None:
    matcher = Matcher.of([(Observable(DOMAIN, domain), 1)])
    inside = other == domain or other.endswith("." + domain)
    assert bool(matcher.lookup(DOMAIN, other)) is inside
    assert matcher.lookup(DOMAIN, "x" + domain) == []  # a longer label is another name


NETWORKS = st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 32)).map(
    lambda t: ipaddress.ip_network((t[0], t[1]), strict=False)
)


@given(st.lists(NETWORKS, min_size=1, max_size=6), st.integers(0, 2**32 - 1))
def test_an_address_matches_exactly_the_ranges_that_hold_it(
    networks: list[ipaddress.IPv4Network], number: int
) -> None:
    matcher = Matcher.of(
        [
            (Observable(IP, str(n if n.prefixlen < 32 else n.network_address)), k)
            for k, n in enumerate(networks)
        ]
    )
    address = ipaddress.ip_address(number)
    expected = {k for k, n in enumerate(networks) if address in n}
    assert {m.key for m in matcher.lookup(IP, str(address))} == expected


@given(st.binary(min_size=16, max_size=32))
def test_a_hash_matches_in_either_case(digest: bytes) -> None:
    matcher = Matcher.of([(Observable(HASH, digest.hex()), 3)])
    assert [m.key for m in matcher.lookup(HASH, digest.hex().upper())] == [3]
    assert matcher.lookup(HASH, digest.hex()[:-1] + "g") == []


def test_urls_match_with_or_without_the_query_and_ipv6_in_any_spelling() -> None:
    matcher = Matcher.of(
        [
            (Observable(URL, "http://evil.example/pay"), 1),
            (Observable(IP, "2001:db8::1"), 2),
        ]
    )
    assert [m.key for m in matcher.lookup(URL, "HTTP://EVIL.example/pay?id=9")] == [1]
    assert matcher.lookup(URL, "http://evil.example/PAY") == []
    assert [m.key for m in matcher.lookup(IP, "2001:0db8:0000::0001")] == [2]
    assert matcher.lookup(IP, "-") == [] and matcher.lookup(URL, "no scheme") == []


# -- log readers ---------------------------------------------------------------------------------

ZEEK_DNS = [
    "#separator \\x09\n",
    "#set_separator\t,\n",
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tquery\tanswers\n",
    "#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tvector[string]\n",
    "1796302933.120000\tC1\t10.0.0.5\t53211\t10.0.0.1\t53\tEvil.example\t"
    "cdn.evil.example,198.51.100.7\n",
]


def test_zeek_reader_follows_the_fields_header() -> None:
    reader = ZeekReader()
    results = [reader(line) for line in ZEEK_DNS]
    assert results[:4] == [None] * 4
    when, source, values = results[4] or (None, None, [])
    assert when == "1796302933.120000" and source == "10.0.0.5"
    assert set(values) == {
        (IP, "10.0.0.5"),
        (IP, "10.0.0.1"),
        (DOMAIN, "Evil.example"),
        (DOMAIN, "cdn.evil.example"),
        (Kind.RESOLVED, "198.51.100.7"),  # an answer: an address the name resolved to
        (Kind.ENDPOINT, "10.0.0.5:53211"),  # each side of the connection
        (Kind.ENDPOINT, "10.0.0.1:53"),
    }


EVE = {
    "timestamp": "2026-12-03T13:02:13.120000+0000",
    "event_type": "dns",
    "src_ip": "10.0.0.9",
    "dest_ip": "10.0.0.1",
    "dns": {"queries": [{"rrname": "evil.example"}], "answers": [{"rdata": "198.51.100.7"}]},
}
SAMPLES = {
    LogFormat.ZEEK: ZEEK_DNS,
    LogFormat.ZEEK_JSON: [
        json.dumps({"ts": 1796302933.12, "id.orig_h": "10.0.0.5", "query": "evil.example"}) + "\n"
    ],
    LogFormat.SURICATA: [json.dumps(EVE) + "\n"],
    LogFormat.SQUID: [
        "1796302933.120    134 10.0.0.7 TCP_MISS/200 1520 GET http://evil.example/pay?id=1 "
        "- HIER_DIRECT/198.51.100.7 text/html\n"
    ],
    LogFormat.BIND: [
        "03-Dec-2026 13:02:13.120 queries: info: client @0x7f 10.0.0.8#53211 (evil.example): "
        "query: evil.example IN A +E(0) (10.0.0.1)\n"
    ],
    LogFormat.DNSMASQ: ["Dec  3 13:02:13 gw dnsmasq[812]: query[A] evil.example from 10.0.0.4\n"],
    LogFormat.NETFILTER: [
        "Dec  3 13:02:13 gw kernel: [UFW BLOCK] IN=eth0 OUT= SRC=10.0.0.3 DST=198.51.100.7 "
        "LEN=60 PROTO=TCP SPT=40000 DPT=443\n"
    ],
    LogFormat.RPZ: [
        "[1796302933] unbound[812:0] info: rpz: applied [seawall] evil.example. rpz-nxdomain "
        "10.0.0.4@53211 evil.example. A IN\n"
    ],
    LogFormat.TEXT: ["2026-12-03T13:02:13Z alert: beacon to evil.example (198.51.100.7) seen\n"],
}


@pytest.mark.parametrize("fmt", list(LogFormat))
def test_each_format_is_detected_and_read(fmt: LogFormat) -> None:
    lines = SAMPLES[fmt]
    assert detect_format(lines) is fmt
    read = reader_for(fmt)
    observed = [o for o in map(read, lines) if o is not None]
    assert observed, f"{fmt} read nothing"
    values = {(kind, value.lower()) for _, _, found in observed for kind, value in found}
    assert (DOMAIN, "evil.example") in values or (IP, "198.51.100.7") in values
    moment = parse_time(observed[0][0], datetime(2026, 12, 31, tzinfo=UTC))
    assert moment.date() == datetime(2026, 12, 3).date(), fmt


def test_suricata_http_and_tls_and_files_give_urls_names_and_hashes() -> None:
    read = reader_for(LogFormat.SURICATA)
    http = {
        "event_type": "http",
        "src_ip": "10.0.0.2",
        "dest_ip": "198.51.100.7",
        "http": {"hostname": "evil.example", "url": "/pay"},
    }
    tls = {"event_type": "tls", "tls": {"sni": "c2.evil.example"}}
    files = {"event_type": "fileinfo", "fileinfo": {"sha256": "ab" * 32}}
    values = [v for r in (http, tls, files) for v in (read(json.dumps(r)) or ("", "", []))[2]]
    assert (URL, "http://evil.example/pay") in values
    assert (DOMAIN, "c2.evil.example") in values and (HASH, "ab" * 32) in values


def test_log_times_in_every_form_and_a_default_for_the_rest() -> None:
    default = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_time("1764766933.5", default) == datetime(2025, 12, 3, 13, 2, 13, 500000, UTC)
    assert parse_time("2026-01-01T10:00:00-0400", default) == datetime(
        2026, 1, 1, 14, 0, tzinfo=UTC
    )
    # Syslog gives no year: December cannot be after a file written on 2 January.
    assert parse_time("Dec 31 23:59:59", default).year == 2025
    assert parse_time("Jan  1 00:00:00", default).year == 2026
    assert parse_time("yesterday", default) == default and parse_time(None, default) == default
    assert parse_time("99999999999999999999", default) == default


@given(st.text(alphabet="ab'\\\\ ", min_size=1, max_size=12))
def test_a_quoted_literal_reads_back_as_written(value: str) -> None:
    literal = quoted(value)
    assert unquoted(literal[1:-1]) == value
    # and the matcher reads the same value from a pattern holding it
    assert terms(f"[file:name = {literal}]") == ((Observable(Kind.FILE_NAME, value),),)
