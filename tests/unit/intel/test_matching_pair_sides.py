"""A ``domain|ip`` pair's address is the address the name resolved to: a DNS answer, or the
server an ``http.log`` or ``ssl.log`` record reached for the name (docs/intel.md). The
client that asked, or the resolver it asked, shows no such thing: in the line reader and
in the Zeek fast path, for Zeek (TSV and JSON), Suricata EVE, dnsmasq and Squid."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from seawall.intel.matching.columnar import fast_scan
from seawall.intel.matching.compiled import Compiled, Indicator
from seawall.intel.matching.logs import LogFormat
from seawall.intel.matching.observables import Kind, Observable, decisive, terms
from seawall.intel.observable_index import keys_of
from seawall.intel.tlp import Tlp
from tests.unit.intel.test_matching_pairs import _tally

NOW = datetime(2026, 12, 7, tzinfo=UTC)
PAIR = (
    "[domain-name:value = 'evil.example' AND "
    "domain-name:resolves_to_refs[*].value = '198.51.100.9']"
)


ADDRESS = "[ipv4-addr:value = '198.51.100.9']"
RANGE = (
    "[domain-name:value = 'evil.example' AND "
    "domain-name:resolves_to_refs[*].value ISSUBSET '198.51.100.0/24']"
)


def _counts(lines: list[str], fmt: LogFormat = LogFormat.ZEEK, *patterns: str) -> list[int]:
    """How many records prove each pattern (the pair, when none is named)."""
    patterns = patterns or (PAIR,)
    tally = _tally(fmt, lines, *patterns)
    return [tally.found[key].count if key in tally.found else 0 for key in range(len(patterns))]


def _count(lines: list[str], fmt: LogFormat = LogFormat.ZEEK) -> int:
    return _counts(lines, fmt)[0]


def _fast(lines: list[str], *patterns: str) -> list[int]:
    """What the Zeek fast path (pre-filter, then the exact matcher) finds for each pattern."""
    entries = []
    for n, pattern in enumerate(patterns):
        found = terms(pattern)
        assert found is not None
        entries.append((Indicator(f"indicator--{n}", "feeds", Tlp.GREEN, "x", (None, None)), found))
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "x.log"
        log.write_text("".join(lines))
        tally = fast_scan(log, Compiled.of(entries), NOW)
    assert tally is not None
    return [tally.found[key].count if key in tally.found else 0 for key in range(len(patterns))]


def test_an_answer_and_the_server_reached_prove_the_pair() -> None:
    dns = [
        "#separator \\x09\n",
        "#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tquery\tanswers\n",
        "1.0\t10.0.0.5\t50000\t10.0.0.53\t53\tevil.example\t198.51.100.9\n",
    ]
    http = [
        "#separator \\x09\n",
        "#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\thost\turi\n",
        "1.0\t10.0.0.5\t50000\t198.51.100.9\t80\tevil.example\t/\n",
    ]
    assert (_count(dns), _count(http)) == (1, 1)


def test_the_client_or_the_resolver_proves_no_pair() -> None:
    dns = [
        "#separator \\x09\n",
        "#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tquery\tanswers\n",
        # The address asked for the name, and was answered another address.
        "1.0\t198.51.100.9\t50000\t10.0.0.53\t53\tevil.example\t203.0.113.5\n",
        # The resolver that was asked is no address of the name.
        "2.0\t10.0.0.5\t50000\t198.51.100.9\t53\tevil.example\t203.0.113.5\n",
    ]
    http = [
        "#separator \\x09\n",
        "#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\thost\turi\n",
        # The client asked a server at another address for the name.
        "1.0\t198.51.100.9\t50000\t203.0.113.5\t80\tevil.example\t/\n",
    ]
    assert (_count(dns), _count(http)) == (0, 0)


DNS_SIDES = [
    "#separator \\x09\n",
    "#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tquery\tanswers\n",
    "1.0\t10.0.0.5\t50000\t10.0.0.53\t53\tevil.example\t198.51.100.9\n",  # the answer
    "2.0\t198.51.100.9\t50000\t10.0.0.53\t53\tevil.example\t203.0.113.5\n",  # the client
    "3.0\t10.0.0.5\t50000\t198.51.100.9\t53\tevil.example\t203.0.113.5\n",  # the resolver
]
SSL_SIDES = [
    "#separator \\x09\n",
    "#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tserver_name\n",
    "1.0\t10.0.0.5\t50000\t198.51.100.9\t443\tevil.example\n",  # the server reached
    "2.0\t198.51.100.9\t50000\t203.0.113.5\t443\tevil.example\n",  # the client
]


def test_the_fast_path_tells_the_sides_apart_as_the_line_reader_does() -> None:
    # The pair, its address as a range, and the address as an indicator of its own: the
    # address alone is proven on any side, the pair only by the answer or the server.
    patterns = (PAIR, RANGE, ADDRESS)
    for lines, expected in ((DNS_SIDES, [1, 1, 3]), (SSL_SIDES, [1, 1, 2])):
        assert _counts(lines, LogFormat.ZEEK, *patterns) == expected
        assert _fast(lines, *patterns) == expected


def test_zeek_json_tells_the_sides_apart() -> None:
    records = [
        {"ts": 1.0, "id.orig_h": "10.0.0.5", "id.resp_h": "10.0.0.53", "query": "evil.example",
         "answers": ["198.51.100.9"]},
        {"ts": 2.0, "id.orig_h": "198.51.100.9", "id.resp_h": "10.0.0.53",
         "query": "evil.example", "answers": ["203.0.113.5"]},
        {"ts": 3.0, "id.orig_h": "10.0.0.5", "id.resp_h": "198.51.100.9", "host": "evil.example",
         "uri": "/"},
        {"ts": 4.0, "id.orig_h": "198.51.100.9", "id.resp_h": "203.0.113.5",
         "host": "evil.example", "uri": "/"},
    ]  # fmt: skip
    lines = [json.dumps(r) + "\n" for r in records]
    assert _counts(lines, LogFormat.ZEEK_JSON, PAIR, ADDRESS) == [2, 4]


def test_eve_answers_and_servers_prove_the_pair_clients_and_resolvers_do_not() -> None:
    def eve(src: str, dest: str, **record: object) -> str:
        return json.dumps({"timestamp": "2026-12-03T13:02:13+0000", "src_ip": src,
                           "dest_ip": dest, **record}) + "\n"  # fmt: skip

    asked = {"queries": [{"rrname": "evil.example"}]}
    lines = [
        # Proven: an answer (v3, v2 and grouped), a server reached for the name (HTTP, TLS).
        eve("10.0.0.5", "10.0.0.53", event_type="dns",
            dns={**asked, "answers": [{"rrname": "evil.example", "rdata": "198.51.100.9"}]}),
        eve("10.0.0.5", "10.0.0.53", event_type="dns",
            dns={"type": "answer", "rrname": "evil.example", "rdata": "198.51.100.9"}),
        eve("10.0.0.5", "10.0.0.53", event_type="dns",
            dns={**asked, "grouped": {"A": ["198.51.100.9"]}}),
        eve("10.0.0.5", "198.51.100.9", event_type="http",
            http={"hostname": "evil.example", "url": "/"}),
        eve("10.0.0.5", "198.51.100.9", event_type="tls", tls={"sni": "evil.example"}),
        # Not proven: the client asked, the resolver asked, a client of the server.
        eve("198.51.100.9", "10.0.0.53", event_type="dns",
            dns={**asked, "answers": [{"rrname": "evil.example", "rdata": "203.0.113.5"}]}),
        eve("10.0.0.5", "198.51.100.9", event_type="dns",
            dns={**asked, "answers": [{"rrname": "evil.example", "rdata": "203.0.113.5"}]}),
        eve("198.51.100.9", "203.0.113.5", event_type="http",
            http={"hostname": "evil.example", "url": "/"}),
    ]  # fmt: skip
    assert _counts(lines, LogFormat.SURICATA, PAIR, RANGE, ADDRESS) == [5, 5, 8]


def test_dnsmasq_proves_the_pair_by_a_reply_never_by_the_client() -> None:
    lines = [
        "Dec  3 13:02:13 gw dnsmasq[412]: query[A] evil.example from 198.51.100.9\n",
        "Dec  3 13:02:13 gw dnsmasq[412]: forwarded evil.example to 198.51.100.9\n",
        "Dec  3 13:02:13 gw dnsmasq[412]: reply evil.example is 203.0.113.5\n",
        "Dec  3 13:02:14 gw dnsmasq[412]: reply evil.example is 198.51.100.9\n",
        "Dec  3 13:02:15 gw dnsmasq[412]: cached evil.example is 198.51.100.9\n",
    ]
    assert _counts(lines, LogFormat.DNSMASQ, PAIR, RANGE, ADDRESS) == [2, 2, 2]


def test_squid_proves_the_pair_by_the_server_it_reached_not_a_parent_proxy() -> None:
    lines = [
        "1701608533.120 12 10.0.0.5 TCP_MISS/200 512 GET http://evil.example/ - "
        "HIER_DIRECT/198.51.100.9 text/html\n",
        "1701608533.120 12 10.0.0.5 TCP_MISS/200 512 GET http://evil.example/ - "
        "FIRSTUP_PARENT/198.51.100.9 text/html\n",
        "1701608533.120 12 198.51.100.9 TCP_MISS/200 512 GET http://evil.example/ - "
        "HIER_DIRECT/203.0.113.5 text/html\n",
    ]
    assert _counts(lines, LogFormat.SQUID, PAIR, ADDRESS) == [1, 2]


def test_the_pair_correlates_with_its_address_and_goes_to_no_sensor_list() -> None:
    lone = "[domain-name:resolves_to_refs[*].value = '198.51.100.9']"
    address = keys_of("indicator", {"type": "indicator", "pattern": ADDRESS})
    for pattern in (PAIR, lone):
        keys = keys_of("indicator", {"type": "indicator", "pattern": pattern})
        assert address <= keys
        # A sensor's address list cannot tell an answer from a client.
        assert decisive(pattern) is None
    assert terms(lone) == ((Observable(Kind.RESOLVED, "198.51.100.9"),),)
