"""MISP's pairs match where one log record holds both values: a name and the address it
resolved to (``domain|ip``), an address and its port (``ip-dst|port``); and IDNs match in
whichever form a log writes them."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import idna
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seawall.intel.matching.columnar import fast_scan
from seawall.intel.matching.compiled import Compiled, Indicator
from seawall.intel.matching.logs import LogFormat, reader_for
from seawall.intel.matching.matcher import Index, Matcher
from seawall.intel.matching.observables import Kind, Observable, domain, normalise, terms
from seawall.intel.matching.scan import Tally, scan
from seawall.intel.observable_index import keys_of
from seawall.intel.tlp import Tlp

ZEEK = Path(__file__).parents[2] / "data" / "zeek"
NOW = datetime(2026, 12, 7, tzinfo=UTC)


def _tally(fmt: LogFormat, lines: list[str], *patterns: str) -> Tally:
    found = [terms(p) for p in patterns]
    index = Index.of((key, t) for key, t in enumerate(found) if t)
    return scan(lines, reader_for(fmt), index, [(None, None)] * len(patterns), NOW)


def _counts(tally: Tally) -> dict[int, int]:
    return {key: found.count for key, found in tally.found.items()}


# -- domain|ip ------------------------------------------------------------------------------------


def test_a_dns_record_asking_the_name_and_answering_the_address_proves_domain_ip() -> None:
    # zat's dns.log: guyspy.com and www.guyspy.com are answered with 54.245.228.191;
    # cdn.guyspy.com with eight CloudFront addresses, among them 54.230.86.87.
    lines = (ZEEK / "dns.log").read_text().splitlines(keepends=True)
    tally = _tally(
        LogFormat.ZEEK,
        lines,
        "[domain-name:value = 'guyspy.com' AND "
        "domain-name:resolves_to_refs[*].value = '54.245.228.191']",
        "[domain-name:resolves_to_refs[*].value = '54.230.86.87' AND "
        "domain-name:value = 'cdn.guyspy.com']",
        "[domain-name:value = 'cdn.guyspy.com' AND "
        "domain-name:resolves_to_refs[*].value = '54.245.228.191']",  # another record's
        "[domain-name:value = 'guyspy.com' AND "
        "domain-name:resolves_to_refs[*].value = '54.230.86.0/24']",  # a range
    )
    assert _counts(tally) == {0: 2, 1: 1, 3: 1}
    assert set(tally.found[0].values) == {"guyspy.com", "54.245.228.191"}
    assert set(tally.found[3].values) == {"guyspy.com", "54.230.86.0/24"}


def test_an_http_record_for_the_name_at_the_address_proves_domain_ip() -> None:
    # zat's http.log: 45 records for guyspy.com or www.guyspy.com, all to 54.245.228.191.
    lines = (ZEEK / "http.log").read_text().splitlines(keepends=True)
    tally = _tally(
        LogFormat.ZEEK,
        lines,
        "[domain-name:value = 'guyspy.com' AND "
        "domain-name:resolves_to_refs[*].value = '54.245.228.191']",
        "[domain-name:value = 'guyspy.com' AND "
        "domain-name:resolves_to_refs[*].value = '54.245.228.192']",
    )
    assert _counts(tally) == {0: 45}


def test_suricata_and_dnsmasq_answers_prove_domain_ip() -> None:
    pattern = (
        "[domain-name:value = 'evil.example' AND "
        "domain-name:resolves_to_refs[*].value = '198.51.100.7']"
    )
    eve = {
        "timestamp": "2026-12-03T13:02:13.120000+0000",
        "event_type": "dns",
        "src_ip": "10.0.0.9",
        "dest_ip": "10.0.0.1",
        "dns": {
            "queries": [{"rrname": "a.evil.example"}],
            "answers": [{"rdata": "198.51.100.7"}],
        },
    }
    other = {**eve, "dns": {"queries": [{"rrname": "a.evil.example"}], "answers": []}}
    lines = [json.dumps(eve) + "\n", json.dumps(other) + "\n"]
    assert _counts(_tally(LogFormat.SURICATA, lines, pattern)) == {0: 1}
    dnsmasq = [
        "Dec  3 13:02:13 gw dnsmasq[412]: query[A] evil.example from 10.0.0.9\n",
        "Dec  3 13:02:13 gw dnsmasq[412]: reply evil.example is 198.51.100.7\n",
    ]
    assert _counts(_tally(LogFormat.DNSMASQ, dnsmasq, pattern)) == {0: 1}


# -- ip|port --------------------------------------------------------------------------------------


def test_a_connection_to_the_address_and_port_proves_ip_port() -> None:
    # zat's conn.log: 35 connections to 54.230.86.87:443, and 6 to port 80 in the same /24.
    lines = (ZEEK / "conn.log").read_text().splitlines(keepends=True)
    tally = _tally(
        LogFormat.ZEEK,
        lines,
        "[network-traffic:dst_ref.value = '54.230.86.87' AND network-traffic:dst_port = 443]",
        "[network-traffic:dst_ref.value = '54.230.86.87' AND network-traffic:dst_port = 8443]",
        "[network-traffic:dst_ref.value ISSUBSET '54.230.86.0/24' AND "
        "network-traffic:dst_port IN (80, 8080)]",
        "[network-traffic:dst_port = 443]",  # a port alone proves nothing
    )
    assert _counts(tally) == {0: 35, 2: 6}
    assert tally.found[0].values == {"54.230.86.87:443": 35}
    assert set(tally.found[2].values) == {"54.230.86.0/24:80"}
    assert terms("[network-traffic:dst_port = 443]") is None
    # A port beside the other side's address is no endpoint either.
    assert (
        terms("[network-traffic:src_ref.value = '10.0.0.1' AND network-traffic:dst_port = 1]")
        is None
    )


def test_the_address_and_port_must_be_one_side_of_one_connection() -> None:
    lines = [
        "#separator \\x09\n",
        "#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\n",
        "1.0\t10.0.0.5\t443\t198.51.100.7\t80\n",  # the port is the client's
        "2.0\t198.51.100.7\t50000\t10.0.0.5\t443\n",  # the address is the client
        "3.0\t10.0.0.5\t50000\t2001:DB8::7\t443\n",
        "4.0\t10.0.0.5\t50000\t198.51.100.7\t443\n",
    ]
    tally = _tally(
        LogFormat.ZEEK,
        lines,
        "[network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 443]",
        "[network-traffic:dst_ref.value = '2001:db8::7' AND network-traffic:dst_port = 443]",
    )
    assert _counts(tally) == {0: 1, 1: 1}
    assert tally.found[1].values == {"[2001:db8::7]:443": 1}


def test_eve_netfilter_and_zeek_json_name_their_endpoints() -> None:
    pattern = "[network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 443]"
    flow = {"timestamp": "2026-12-03T13:02:13+0000", "event_type": "flow", "src_ip": "10.0.0.9"}
    eve = [
        json.dumps({**flow, "src_port": 50000, "dest_ip": "198.51.100.7", "dest_port": 443}),
        json.dumps({**flow, "src_port": 50000, "dest_ip": "198.51.100.7", "dest_port": 80}),
    ]
    assert _counts(_tally(LogFormat.SURICATA, [x + "\n" for x in eve], pattern)) == {0: 1}
    netfilter = [
        "Dec  3 13:02:13 gw kernel: [UFW BLOCK] IN=eth0 OUT= SRC=10.0.0.9 DST=198.51.100.7 "
        "LEN=60 PROTO=TCP SPT=50000 DPT=443 WINDOW=64240\n",
        "Dec  3 13:02:14 gw kernel: [UFW BLOCK] IN=eth0 OUT= SRC=10.0.0.9 DST=198.51.100.7 "
        "LEN=60 PROTO=TCP SPT=443 DPT=50000 WINDOW=64240\n",
        "Dec  3 13:02:15 gw kernel: IN=eth0 SRC=10.0.0.9 DST=198.51.100.7 PROTO=ICMP TYPE=8\n",
    ]
    assert _counts(_tally(LogFormat.NETFILTER, netfilter, pattern)) == {0: 1}
    record = {"ts": 1.0, "id.orig_h": "10.0.0.9", "id.orig_p": 50000}
    zeek = [
        json.dumps({**record, "id.resp_h": "198.51.100.7", "id.resp_p": 443}) + "\n",
        json.dumps({**record, "id.resp_h": "198.51.100.7", "id.resp_p": "x"}) + "\n",
    ]
    assert _counts(_tally(LogFormat.ZEEK_JSON, zeek, pattern)) == {0: 1}


def test_a_reader_builds_endpoints_only_for_the_ports_indicators_name() -> None:
    line = (
        "Dec  3 13:02:13 gw kernel: IN=eth0 SRC=10.0.0.9 DST=198.51.100.7 "
        "PROTO=TCP SPT=50000 DPT=0443\n"
    )
    endpoints = {}
    for ports in (None, frozenset(), frozenset({"443"})):
        found = reader_for(LogFormat.NETFILTER, None, ports)(line)
        assert found is not None
        endpoints[ports] = [v for k, v in found[2] if k is Kind.ENDPOINT]
    assert endpoints == {
        None: ["10.0.0.9:50000", "198.51.100.7:443"],
        frozenset(): [],
        frozenset({"443"}): ["198.51.100.7:443"],
    }


def test_an_icmp_error_quoting_a_connection_joins_no_port_to_the_outer_addresses() -> None:
    # The quoted header in brackets is the packet that failed, sent the other way: its
    # ports belong to its own SRC and DST, never to the ICMP packet's.
    pattern = "[network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 443]"
    lines = [
        "Dec  7 07:00:00 gw kernel: IN=eth0 OUT= SRC=198.51.100.7 DST=10.0.0.5 LEN=88 "
        "PROTO=ICMP TYPE=3 CODE=3 [SRC=10.0.0.5 DST=198.51.100.7 LEN=60 PROTO=TCP "
        "SPT=443 DPT=51000 ]\n",
        "Dec  7 07:00:01 gw kernel: IN=eth0 OUT= SRC=10.0.0.5 DST=198.51.100.7 LEN=60 "
        "PROTO=TCP SPT=51000 DPT=443\n",
    ]
    assert _counts(_tally(LogFormat.NETFILTER, lines, pattern)) == {0: 1}
    found = reader_for(LogFormat.NETFILTER)(lines[0])
    assert found is not None
    assert [v for k, v in found[2] if k is Kind.ENDPOINT] == []


@pytest.mark.parametrize("port", ["4.43", "-443", "h'01bb'", "'x443'", "65536", "9" * 5000])
def test_a_port_that_is_no_port_number_makes_no_endpoint(port: str) -> None:
    pattern = (
        f"[network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = {port}]"
    )
    assert terms(pattern) is None
    assert terms(
        "[network-traffic:dst_ref.value = '198.51.100.7' AND "
        f"network-traffic:dst_port IN (80, {port})]"
    ) == ((Observable(Kind.ENDPOINT, "198.51.100.7:80"),),)


@pytest.mark.parametrize("ports", [None, frozenset({"443"})])
def test_a_log_port_of_thousands_of_digits_is_no_endpoint(ports: frozenset[str] | None) -> None:
    huge = "9" * 5000
    netfilter = f"Dec  3 13:02:13 gw kernel: SRC=10.0.0.9 DST=198.51.100.7 SPT={huge} DPT={huge}\n"
    eve = json.dumps(
        {"src_ip": "10.0.0.9", "src_port": huge, "dest_ip": "1.2.3.4", "dest_port": huge}
    )
    zeek = json.dumps({"ts": 1.0, "id.orig_h": "10.0.0.9", "id.orig_p": huge})
    tsv = [
        "#separator \\x09\n",
        "#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\n",
        f"1.0\t10.0.0.5\t{huge}\t198.51.100.7\t{huge}\n",
    ]
    for fmt, lines in [
        (LogFormat.NETFILTER, [netfilter]),
        (LogFormat.SURICATA, [eve + "\n"]),
        (LogFormat.ZEEK_JSON, [zeek + "\n"]),
        (LogFormat.ZEEK, tsv),
    ]:
        read = reader_for(fmt, None, ports)
        found = [read(line) for line in lines][-1]
        assert found is not None
        assert [v for k, v in found[2] if k is Kind.ENDPOINT] == []
    assert normalise(Kind.ENDPOINT, "198.51.100.7:\u00b2") is None
    # Leading zeros are still a port, however many (the reader must not parse them whole).
    zeros = f"Dec  3 13:02:13 gw kernel: SRC=10.0.0.9 DST=198.51.100.7 SPT=1 DPT={'0' * 5000}443"
    found = reader_for(LogFormat.NETFILTER, None, ports)(zeros + "\n")
    assert found is not None
    assert [v for k, v in found[2] if k is Kind.ENDPOINT][-1:] == ["198.51.100.7:443"]


@pytest.mark.parametrize("value", ["198.51.100.7\x00", "\x00", "\ud800", "198.51.100.7\ud800"])
def test_an_address_with_a_nul_or_a_lone_surrogate_matches_nothing(value: str) -> None:
    assert normalise(Kind.IP, value) is None
    matcher = Matcher.of(
        [
            (Observable(Kind.IP, "198.51.100.0/24"), 0),
            (Observable(Kind.ENDPOINT, "198.51.100.0/24:443"), 1),
        ]
    )
    assert matcher.lookup(Kind.IP, value) == []
    assert matcher.lookup(Kind.ENDPOINT, f"{value}:443") == []
    record = {"ts": 1.0, "id.orig_h": value, "id.orig_p": 443, "id.resp_h": "10.0.0.5"}
    line = json.dumps(record) + "\n"
    range_and_port = (
        "[network-traffic:dst_ref.value ISSUBSET '198.51.100.0/24' AND "
        "network-traffic:dst_port = 443]"
    )
    found = _tally(
        LogFormat.ZEEK_JSON, [line], "[ipv4-addr:value = '198.51.100.0/24']", range_and_port
    )
    assert _counts(found) == {}
    # The correlation index (and migration 0027, which re-reads such bodies) holds nothing.
    assert keys_of("ipv4-addr", {"value": value}) == set()


# -- IDN ------------------------------------------------------------------------------------------


def test_an_idn_indicator_matches_the_punycode_a_log_carries_and_back() -> None:
    lines = [
        "#separator \\x09\n",
        "#fields\tts\tid.orig_h\tquery\n",
        "1.0\t10.0.0.5\txn--bcher-kva.example\n",
        "2.0\t10.0.0.5\tshop.XN--BCHER-KVA.example.\n",
        "3.0\t10.0.0.5\tBÜCHER.example\n",  # a log that writes the name in Unicode
        "4.0\t10.0.0.5\tbucher.example\n",
        "5.0\t10.0.0.5\tb\uff55cher.example\n",  # a look-alike IDNA refuses: no match
    ]
    tally = _tally(
        LogFormat.ZEEK,
        lines,
        "[domain-name:value = 'bücher.example']",
        "[domain-name:value = 'xn--bcher-kva.example']",
    )
    assert _counts(tally) == {0: 3, 1: 3}
    assert tally.found[0].values == {"xn--bcher-kva.example": 3}
    assert terms("[url:value = 'http://Bücher.example/pay']") == (
        (Observable(Kind.URL, "http://xn--bcher-kva.example/pay"),),
    )
    assert terms("[email-addr:value = 'Boss@Bücher.example']") == (
        (Observable(Kind.EMAIL, "boss@xn--bcher-kva.example"),),
    )
    matcher = Matcher.of([(Observable(Kind.EMAIL, "boss@xn--bcher-kva.example"), 0)])
    assert [m.key for m in matcher.lookup(Kind.EMAIL, "BOSS@bücher.example")] == [0]
    assert matcher.lookup(Kind.EMAIL, "boss@b\uff55cher.example") == []


def test_a_greek_name_in_capitals_is_the_name_uts46_maps_it_to() -> None:
    # UTS #46 maps each capital sigma to a small one (never to the final form), as browsers do.
    assert normalise(Kind.DOMAIN, "\u03a3\u0391\u03a3.EXAMPLE") == "xn--mxa9ab.example"
    assert normalise(Kind.DOMAIN, "\u03c3\u03b1\u03c3.example") == "xn--mxa9ab.example"
    assert normalise(Kind.DOMAIN, "\u03c3\u03b1\u03c2.example") == "xn--mxa8ab.example"
    matcher = Matcher.of([(Observable(Kind.DOMAIN, "xn--mxa9ab.example"), 0)])
    assert [m.key for m in matcher.lookup(Kind.DOMAIN, "www.\u03a3\u0391\u03a3.example.")] == [0]


@pytest.mark.parametrize(
    "value",
    ["b\uff55cher.example", "goo\u200bgle.com", "bü cher.example", "xn--bcher-kva\u3002example"],
)
def test_a_name_idna_refuses_is_no_indicator_and_matches_nothing(value: str) -> None:
    assert normalise(Kind.DOMAIN, value) is None
    assert terms(f"[domain-name:value = '{value}']") is None
    matcher = Matcher.of([(Observable(Kind.DOMAIN, "xn--bcher-kva.example"), 0)])
    assert matcher.lookup(Kind.DOMAIN, value) == []


LABELS = st.text(
    st.characters(codec="utf-8", categories=("Ll", "Lu", "Lo", "Nd")), min_size=1, max_size=12
)
NAMES = st.lists(LABELS, min_size=1, max_size=4).map(".".join)


@settings(max_examples=300, deadline=None)
@given(NAMES, st.booleans())
def test_normalising_a_name_twice_changes_nothing_and_punycode_is_the_same_name(
    name: str, final_dot: bool
) -> None:
    written = name + ("." if final_dot else "")
    once = normalise(Kind.DOMAIN, written)
    if once is None:
        return
    assert once.isascii()
    assert normalise(Kind.DOMAIN, once) == once
    assert normalise(Kind.DOMAIN, once.upper()) == once
    try:
        punycode = idna.encode(name, uts46=True).decode("ascii")
    except idna.IDNAError:
        return  # ASCII labels IDNA refuses (underscores) are kept as written
    assert normalise(Kind.DOMAIN, punycode) == once
    assert domain(punycode) == once


# -- the fast path agrees --------------------------------------------------------------------------

HOSTS = st.sampled_from(["198.51.100.7", "198.51.100.9", "2001:db8::7", "2001:DB8::7", "-"])
PORTS = st.sampled_from(["443", "80", "0443", "-", "65536", "\u0664\u0664\u0663"])
NAME_CELLS = st.sampled_from(
    [
        "bücher.example",
        "a.xn--bcher-kva.example",
        "XN--BCHER-KVA.EXAMPLE.",
        "b\uff55cher.example",
        "bucher.example",
        "-",
    ]
)
MAIL_CELLS = st.sampled_from(
    ["<Boss@Bücher.example>", "boss@xn--bcher-kva.example", "boss@b\uff55cher.example", "-"]
)
INDICATORS = st.lists(
    st.sampled_from(
        [
            "[network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 443]",
            "[network-traffic:dst_ref.value ISSUBSET '198.51.100.0/24' AND "
            "network-traffic:dst_port = 80]",
            "[network-traffic:dst_ref.value = '2001:db8::7' AND network-traffic:dst_port = 443]",
            "[domain-name:value = 'bücher.example']",
            "[email-addr:value = 'BOSS@xn--bcher-kva.example']",
            "[domain-name:value = 'xn--bcher-kva.example' AND "
            "domain-name:resolves_to_refs[*].value = '198.51.100.9']",
        ]
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(HOSTS, PORTS, HOSTS, PORTS, NAME_CELLS, HOSTS, MAIL_CELLS), max_size=20),
    INDICATORS,
)
def test_the_fast_path_finds_the_same_pairs_and_names(
    records: list[tuple[str, ...]], patterns: list[str]
) -> None:
    fields = ["ts", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "query", "answers"]
    fields.append("mailfrom")
    text = "#separator \\x09\n#set_separator\t,\n#fields\t" + "\t".join(fields) + "\n"
    text += "".join(f"{n}.0\t" + "\t".join(r) + "\n" for n, r in enumerate(records))
    compiled = Compiled.of(
        (Indicator(f"indicator--{n}", "feeds", Tlp.GREEN, p, (None, None)), terms(p) or ())
        for n, p in enumerate(patterns)
    )
    reference = scan(
        text.splitlines(keepends=True),
        reader_for(LogFormat.ZEEK),
        compiled.index(),
        compiled.windows(),
        NOW,
    )
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "x.log"
        log.write_text(text)
        fast = fast_scan(log, compiled, NOW)
    assert fast is not None
    assert {k: (f.count, f.values) for k, f in fast.found.items()} == {
        k: (f.count, f.values) for k, f in reference.found.items()
    }
