"""Reading back the sensors Seawall feeds: Zeek intel.log, Suricata alerts, RPZ hits."""

from __future__ import annotations

import ipaddress
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.intel.exports.rpz import rpz_ip
from seawall.intel.matching.logs import LogFormat, detect_format, reader_for
from seawall.intel.matching.observables import Kind
from tests.unit.intel.test_matching_pairs import _counts as counts_of
from tests.unit.intel.test_matching_pairs import _tally

INTEL_TSV = [
    "#separator \\x09",
    "#set_separator\t,",
    "#empty_field\t(empty)",
    "#unset_field\t-",
    "#path\tintel",
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tseen.indicator"
    "\tseen.indicator_type\tseen.where\tseen.node\tmatched\tsources\tfuid\tfile_mime_type"
    "\tfile_desc",
    "#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tenum\tenum\tstring\tset[enum]"
    "\tset[string]\tstring\tstring\tstring",
]
DOMAIN_HIT = (
    "1320279566.452687\tC4llPsinsviGyNY45\t192.168.2.76\t52026\t132.235.215.119\t53"
    "\twww.reddit.com\tIntel::DOMAIN\tDNS::IN_REQUEST\tzeek\tIntel::DOMAIN\tseawall:phish\t-\t-\t-"
)
URL_HIT = (
    "1320279567.1\tCa\t10.0.0.5\t50000\t45.77.1.9\t80\tgate.phish-kit.net/kit/login.php"
    "\tIntel::URL\tHTTP::IN_URL\tzeek\tIntel::URL\tseawall:phish\t-\t-\t-"
)
INBOUND_HIT = (
    "1320279569.3\tCb\t45.77.1.9\t443\t10.0.0.6\t22\t45.77.1.9\tIntel::ADDR\tConn::IN_ORIG"
    "\tzeek\tIntel::ADDR\tseawall:phish\t-\t-\t-"
)
HASH_HIT = (
    "1320279568.2\t-\t-\t-\t-\t-\t44d88612fea8a8f36de82e1278abb02f\tIntel::FILE_HASH"
    "\tFiles::IN_HASH\tzeek\tIntel::FILE_HASH\tseawall:phish\tFa1\ttext/plain\t-"
)


def read(fmt: LogFormat, *lines: str) -> list[object]:
    reader = reader_for(fmt)
    return [found for line in lines if (found := reader(line)) is not None]


def test_zeek_intel_log_gives_the_seen_indicator_and_the_client() -> None:
    assert detect_format(INTEL_TSV) is LogFormat.ZEEK
    assert read(LogFormat.ZEEK, *INTEL_TSV, DOMAIN_HIT, URL_HIT, HASH_HIT, INBOUND_HIT) == [
        ("1320279566.452687", "192.168.2.76", [(Kind.DOMAIN, "www.reddit.com")]),
        ("1320279567.1", "10.0.0.5", [(Kind.URL, "http://gate.phish-kit.net/kit/login.php")]),
        ("1320279568.2", None, [(Kind.HASH, "44d88612fea8a8f36de82e1278abb02f")]),
        ("1320279569.3", "10.0.0.6", [(Kind.IP, "45.77.1.9")]),
    ]


def test_zeek_intel_log_as_json() -> None:
    record = {
        "ts": 1320279566.452687,
        "uid": "C4llPsinsviGyNY45",
        "id.orig_h": "192.168.2.76",
        "id.orig_p": 52026,
        "id.resp_h": "132.235.215.119",
        "id.resp_p": 53,
        "seen.indicator": "www.reddit.com",
        "seen.indicator_type": "Intel::DOMAIN",
        "seen.where": "DNS::IN_REQUEST",
        "seen.node": "zeek",
        "matched": ["Intel::DOMAIN"],
        "sources": ["seawall:phish"],
    }
    line = json.dumps(record)
    assert detect_format([line]) is LogFormat.ZEEK_JSON
    assert read(LogFormat.ZEEK_JSON, line) == [
        ("1320279566.452687", "192.168.2.76", [(Kind.DOMAIN, "www.reddit.com")])
    ]


def eve_alert(src: str, dest: str, kind: str, value: str, **extra: object) -> str:
    return json.dumps(
        {
            "timestamp": "2026-11-20T10:00:00.123456+0000",
            "flow_id": 1234567890,
            "in_iface": "eth0",
            "event_type": "alert",
            "src_ip": src,
            "src_port": 53421,
            "dest_ip": dest,
            "dest_port": 53,
            "proto": "UDP",
            "alert": {
                "action": "allowed",
                "gid": 1,
                "signature_id": 1234567890,
                "rev": 1795168800,
                "signature": f"SEAWALL INTEL dns.query {value} - phish kit",
                "category": "A Network Trojan was detected",
                "severity": 1,
                "metadata": {
                    "seawall_id": ["indicator--00000000-0000-4000-8000-000000000001"],
                    "seawall_kind": [kind],
                    "seawall_value": [value],
                    "seawall_tlp": ["amber"],
                },
            },
            **extra,
        }
    )


def test_suricata_alert_of_a_seawall_rule_gives_the_value_it_names() -> None:
    dns = eve_alert(
        "10.0.0.5",
        "10.0.0.53",
        "domain",
        "phish-kit.net",
        dns={"query": [{"type": "query", "rrname": "a.phish-kit.net", "rrtype": "A"}]},
        app_proto="dns",
    )
    inbound = eve_alert("45.77.1.9", "10.0.0.7", "ip", "45.77.1.0/24")
    outbound = eve_alert("10.0.0.8", "45.77.1.9", "ip", "45.77.1.9")
    url = eve_alert("10.0.0.4", "45.77.1.9", "url", "http://phish-kit.net/login.php")
    other = json.dumps(
        {
            "timestamp": "2026-11-20T10:00:01+0000",
            "event_type": "alert",
            "src_ip": "10.0.0.9",
            "dest_ip": "45.77.1.10",
            "alert": {"signature_id": 2019401, "metadata": {}},
        }
    )
    assert detect_format([dns]) is LogFormat.SURICATA
    assert read(LogFormat.SURICATA, dns, inbound, outbound, url, other) == [
        ("2026-11-20T10:00:00.123456+0000", "10.0.0.5", [(Kind.DOMAIN, "phish-kit.net")]),
        ("2026-11-20T10:00:00.123456+0000", "10.0.0.7", [(Kind.IP, "45.77.1.9")]),
        ("2026-11-20T10:00:00.123456+0000", "10.0.0.8", [(Kind.IP, "45.77.1.9")]),
        (
            "2026-11-20T10:00:00.123456+0000",
            "10.0.0.4",
            [(Kind.URL, "http://phish-kit.net/login.php")],
        ),
        ("2026-11-20T10:00:01+0000", "10.0.0.9", [(Kind.IP, "10.0.0.9"), (Kind.IP, "45.77.1.10")]),
    ]


BIND_QNAME = (
    "09-Sep-2019 18:50:49.439 client @0x7faf8e004a00 ::1#54175 (a.phish-kit.net): rpz QNAME "
    "NXDOMAIN rewrite a.phish-kit.net/AAAA/IN via a.phish-kit.net.rpz.seawall"
)
BIND_IP = (
    "09-Sep-2019 18:50:50.001 client @0x7faf8e007800 10.0.0.5#62915 (ipbad.example): rpz IP "
    "NXDOMAIN rewrite ipbad.example/A/IN via 32.9.1.77.45.rpz-ip.rpz.seawall"
)
BIND_IP6 = (
    "09-Sep-2019 18:50:50.002 client 10.0.0.6#62916 (v6.example): rpz IP NXDOMAIN rewrite "
    "v6.example/AAAA/IN via 48.zz.abcd.db8.2001.rpz-ip.rpz.seawall"
)
UNBOUND = [
    "[1796612073] unbound[27545:0] info: rpz: applied [seawall] phish-kit.net. rpz-nxdomain "
    "10.0.0.5@37435 phish-kit.net. A IN",
    "[1796612073] unbound[27545:0] info: rpz: applied [seawall] *.phish-kit.net. rpz-nxdomain "
    "10.0.0.6@44301 a.b.phish-kit.net. A IN",
    "[1796612074] unbound[27545:0] info: rpz: applied [seawall] 45.77.1.0/24 rpz-nxdomain "
    "10.0.0.7@40151 ipbad.example. A IN",
]


def test_rpz_hits_of_bind_and_unbound() -> None:
    assert detect_format([BIND_QNAME, BIND_IP]) is LogFormat.RPZ
    assert detect_format(UNBOUND) is LogFormat.RPZ
    assert read(LogFormat.RPZ, BIND_QNAME, BIND_IP, BIND_IP6, *UNBOUND) == [
        ("09-Sep-2019 18:50:49.439", "::1", [(Kind.DOMAIN, "a.phish-kit.net")]),
        (
            "09-Sep-2019 18:50:50.001",
            "10.0.0.5",
            [(Kind.DOMAIN, "ipbad.example"), (Kind.RESOLVED, "45.77.1.9")],
        ),
        (
            "09-Sep-2019 18:50:50.002",
            "10.0.0.6",
            [(Kind.DOMAIN, "v6.example"), (Kind.RESOLVED, "2001:db8:abcd::")],
        ),
        ("1796612073", "10.0.0.5", [(Kind.DOMAIN, "phish-kit.net")]),
        ("1796612073", "10.0.0.6", [(Kind.DOMAIN, "a.b.phish-kit.net")]),
        (
            "1796612074",
            "10.0.0.7",
            [(Kind.DOMAIN, "ipbad.example"), (Kind.RESOLVED, "45.77.1.0")],
        ),
    ]
    assert read(LogFormat.RPZ, "09-Sep-2019 client 10.0.0.5#1 (x): query: x IN A") == []


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)), st.integers(0, 128))
def test_an_rpz_ip_hit_names_the_range_the_export_listed(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, prefix: int
) -> None:
    network = ipaddress.ip_network(f"{address}/{min(prefix, address.max_prefixlen)}", strict=False)
    line = (
        "09-Sep-2019 18:50:50.001 client 10.0.0.5#62915 (x.example): rpz IP NXDOMAIN rewrite "
        f"x.example/A/IN via {rpz_ip(str(network))}.rpz.seawall"
    )
    resolved = [(Kind.DOMAIN, "x.example"), (Kind.RESOLVED, str(network.network_address))]
    assert read(LogFormat.RPZ, line) == [("09-Sep-2019 18:50:50.001", "10.0.0.5", resolved)]


# Unbound 1.17.1 with rpz-log: each trigger word it writes ("clientip", "nsip", "nsdname"; none
# for a QNAME or a response-IP trigger). The first three lines are from a real run (see
# tests/integration/test_rpz_ip_hits.py); the others follow rpz.c's log_rpz_apply.
UNBOUND_REAL = [
    "[1796637837] unbound[13294:0] info: rpz: applied [seawall] 45.77.1.9/32 rpz-nxdomain "
    "127.0.0.1@53728 ipbad-site.net. A IN",
    "[1796637837] unbound[13294:0] info: rpz: applied [seawall] 198.51.100.0/24 rpz-nxdomain "
    "127.0.0.1@60700 rangebad.net. A IN",
    "[1796637837] unbound[13294:0] info: rpz: applied [seawall] 2001:db8:abcd::/48 rpz-nxdomain "
    "127.0.0.1@37747 v6bad.net. AAAA IN",
    "[1796637838] unbound[13294:0] info: rpz: applied [seawall] clientip 10.0.0.0/8 "
    "rpz-nxdomain 10.0.0.9@41000 any.example. A IN",
    "[1796637838] unbound[13294:0] info: rpz: applied [seawall] nsip 203.0.113.53/32 "
    "rpz-nxdomain 10.0.0.9@41001 hosted.example. A IN",
    "[1796637838] unbound[13294:0] info: rpz: applied [seawall] nsdname ns1.badhost.example. "
    "rpz-nxdomain 10.0.0.9@41002 other.example. A IN",
]


def test_an_rpz_ip_hit_is_the_name_asked_and_an_address_it_resolved_to() -> None:
    """A response-IP trigger fires on an address in the answer: the address is one the name
    asked for resolved to. A client-IP, NSIP or NSDNAME trigger names the client or a name
    server, never an answer: only the name asked for is read of it, as BIND's are."""
    assert read(LogFormat.RPZ, *UNBOUND_REAL) == [
        (
            "1796637837",
            "127.0.0.1",
            [(Kind.DOMAIN, "ipbad-site.net"), (Kind.RESOLVED, "45.77.1.9")],
        ),
        (
            "1796637837",
            "127.0.0.1",
            [(Kind.DOMAIN, "rangebad.net"), (Kind.RESOLVED, "198.51.100.0")],
        ),
        (
            "1796637837",
            "127.0.0.1",
            [(Kind.DOMAIN, "v6bad.net"), (Kind.RESOLVED, "2001:db8:abcd::")],
        ),
        ("1796637838", "10.0.0.9", [(Kind.DOMAIN, "any.example")]),
        ("1796637838", "10.0.0.9", [(Kind.DOMAIN, "hosted.example")]),
        ("1796637838", "10.0.0.9", [(Kind.DOMAIN, "other.example")]),
    ]


def _counts(lines: list[str], *patterns: str) -> dict[int, int]:
    return counts_of(_tally(LogFormat.RPZ, lines, *patterns))


def _pair(name: str, address: str, op: str = "=") -> str:
    return (
        f"[domain-name:value = '{name}' AND domain-name:resolves_to_refs[*].value {op} '{address}']"
    )


def test_an_rpz_ip_hit_proves_a_domain_ip_pair_and_still_its_address() -> None:
    lines = [*UNBOUND_REAL, BIND_QNAME, BIND_IP, BIND_IP6]
    counts = _counts(
        lines,
        "[ipv4-addr:value = '45.77.1.9']",  # Unbound's and BIND's rpz-ip hits
        _pair("ipbad-site.net", "45.77.1.9"),
        _pair("ipbad.example", "45.77.1.9"),  # BIND's
        _pair("other-site.net", "45.77.1.9"),  # no record asked for that name
        _pair("rangebad.net", "198.51.100.0/24", "ISSUBSET"),
        _pair("rangebad.net", "198.51.100.77"),  # the log names the range, not the address
        _pair("v6bad.net", "2001:db8:abcd::/48", "ISSUBSET"),
        "[ipv4-addr:value = '203.0.113.53']",  # an NSIP trigger's name server: no answer
        "[domain-name:value = 'ipbad-site.net']",  # the name asked for
        _pair("phish-kit.net", "45.77.1.9"),  # a QNAME hit has no answer
    )
    assert counts == {0: 2, 1: 1, 2: 1, 4: 1, 6: 1, 8: 1}
