"""ip|port pairs (endpoints) in the sensor exports: Suricata rules on either side of a
connection, and nothing in the Zeek file or the RPZ (above all never a bare address)."""

from __future__ import annotations

import json
import logging
import re

import pytest
import suricata_check
import suricataparser

from seawall.intel.exports.entries import Entry, entries_of, skip_reason
from seawall.intel.exports.rpz import holds as rpz_holds
from seawall.intel.exports.rpz import rpz_records
from seawall.intel.exports.suricata import holds as suricata_holds
from seawall.intel.exports.suricata import sid_of, suricata_rules
from seawall.intel.exports.zeek import holds as zeek_holds
from seawall.intel.exports.zeek import zeek_intel
from seawall.intel.matching.engine_logs import read_eve
from seawall.intel.matching.matcher import Matcher
from seawall.intel.matching.observables import Kind, Observable
from seawall.intel.tlp import Tlp
from tests.unit.intel.test_exports import MODIFIED, body, entry

ID = "indicator--00000000-0000-4000-8000-000000000001"
REV = int(MODIFIED.timestamp())
DST = "[network-traffic:dst_ref.value = '{}' AND network-traffic:dst_port = {}]"
SRC = "[network-traffic:src_ref.value = '{}' AND network-traffic:src_port = {}]"


def values(pattern: str) -> list[tuple[Kind, str]]:
    return [(e.kind, e.value) for e in entries_of(body(pattern), "c2", Tlp.GREEN)]


# -- which pairs reach a sensor ----------------------------------------------------------------


def test_an_ip_port_pair_is_one_endpoint_entry_on_either_side_of_the_connection() -> None:
    assert values(DST.format("91.219.236.18", 443)) == [(Kind.ENDPOINT, "91.219.236.18:443")]
    assert values(SRC.format("2A0C:B641:0::1", "'08443'")) == [
        (Kind.ENDPOINT, "[2a0c:b641::1]:8443")
    ]
    ranged = (
        "[network-traffic:dst_ref.value = '91.219.236.0/24' AND "
        "network-traffic:dst_port IN (443, 8443)]"
    )
    assert sorted(values(ranged)) == [
        (Kind.ENDPOINT, "91.219.236.0/24:443"),
        (Kind.ENDPOINT, "91.219.236.0/24:8443"),
    ]
    either = f"{DST.format('91.219.236.18', 443)} OR [domain-name:value = 'c2.phish-kit.net']"
    assert sorted(values(either)) == [
        (Kind.DOMAIN, "c2.phish-kit.net"),
        (Kind.ENDPOINT, "91.219.236.18:443"),
    ]


@pytest.mark.parametrize(
    "pattern",
    [
        DST.format("8.8.8.8", 53),  # a public resolver: a rule would fire on all its DNS
        DST.format("192.0.2.1", 443),  # a documentation range
        SRC.format("2001:db8::1", 443),
        "[network-traffic:dst_ref.value = '8.8.8.8']",  # an address, likewise
    ],
)
def test_a_warninglisted_address_stays_home_with_or_without_its_port(pattern: str) -> None:
    assert str(skip_reason(body(pattern))).startswith("warninglisted: ")
    assert values(pattern) == []


@pytest.mark.parametrize(
    "pattern",
    [
        # An address, a port and another address: three values one record must hold together.
        "[network-traffic:dst_ref.value = '91.219.236.18' AND network-traffic:dst_port = 443"
        " AND network-traffic:src_ref.value = '45.77.1.9']",
        # A port with no address beside it proves nothing.
        "[network-traffic:dst_port = 443]",
        # A name and the address it resolved to (domain|ip), and a lone resolved address.
        "[domain-name:value = 'c2.phish-kit.net' AND"
        " domain-name:resolves_to_refs[*].value = '91.219.236.18']",
        "[domain-name:resolves_to_refs[*].value = '91.219.236.18']",
    ],
)
def test_values_seen_together_never_reach_a_sensor_as_one_of_them(pattern: str) -> None:
    assert skip_reason(body(pattern)) == "no single value proves its pattern"
    assert values(pattern) == []


def test_an_endpoint_range_wider_than_a_slash_8_never_reaches_a_sensor() -> None:
    assert "wider than /8" in str(skip_reason(body(DST.format("16.0.0.0/4", 443))))
    assert "wider than" in str(skip_reason(body(SRC.format("2a00::/16", 443))))
    assert skip_reason(body(DST.format("91.219.236.0/24", 443))) is None


# -- Suricata -------------------------------------------------------------------------------------


def rules_of(found: list[Entry]) -> list[str]:
    return suricata_rules(found).splitlines()


def test_an_endpoint_gives_a_tcp_and_a_udp_rule_on_either_side_of_a_connection() -> None:
    found = entries_of(body(DST.format("91.219.236.18", 443)), "c2", Tlp.AMBER)
    meta = f"seawall_id {ID}, seawall_kind endpoint, seawall_value 91.219.236.18:443, "
    meta += "seawall_tlp amber"
    assert rules_of(found) == sorted(
        [
            f"alert {proto} 91.219.236.18 443 <> any any "
            f'(msg:"SEAWALL INTEL {proto} endpoint 91.219.236.18:443 - phish kit"; '
            f"classtype:trojan-activity; sid:{sid_of(f'{ID}|91.219.236.18:443|{proto}')}; "
            f"rev:{int(found[0].modified.timestamp())}; metadata:{meta};)"
            for proto in ("tcp", "udp")
        ],
        key=lambda line: int(re.findall(r"sid:(\d+)", line)[0]),
    )


@pytest.mark.parametrize(
    ("value", "head"),
    [
        ("[2001:db8::1]:8443", "2001:db8::1 8443"),
        ("[2001:db8::/32]:53", "2001:db8::/32 53"),
        ("198.51.100.0/24:8080", "198.51.100.0/24 8080"),
        ("203.0.113.9:0", "203.0.113.9 0"),
    ],
)
def test_endpoint_rules_hold_ipv6_and_ranges_as_suricata_writes_them(value: str, head: str) -> None:
    rules = suricataparser.parse_rules(suricata_rules([entry(Kind.ENDPOINT, value)]))
    assert sorted(f"{r.action} {r.header}" for r in rules) == [
        f"alert tcp {head} <> any any",
        f"alert udp {head} <> any any",
    ]
    for rule in rules:
        assert rule.rev == REV
        options = {o.name: o.value for o in rule.options}
        meta = dict(item.split(" ", 1) for item in options["metadata"].data)
        assert meta == {
            "seawall_id": ID,
            "seawall_kind": "endpoint",
            "seawall_value": value,
            "seawall_tlp": "amber",
        }


def test_suricata_check_finds_no_mandatory_or_unexpected_issue_in_endpoint_rules() -> None:
    logging.getLogger("suricata_check").setLevel(logging.ERROR)
    endpoints = [
        entry(Kind.ENDPOINT, "198.51.100.7:443", 1),
        entry(Kind.ENDPOINT, "198.51.100.0/24:53", 2),
        entry(Kind.ENDPOINT, "[2001:db8::1]:8443", 3),
    ]
    lines = suricata_rules(endpoints).splitlines()
    assert len(lines) == 6
    for line in lines:
        found = suricata_check.analyze_rule(suricata_check.utils.rule.parse(line))
        bad = [i.code for i in found.issues if i.code[0] in "ME"]
        assert bad == [], (line, bad)


def test_an_endpoint_rule_keeps_its_sid_beside_the_same_address_alone() -> None:
    pair, bare = entry(Kind.ENDPOINT, "198.51.100.7:443", 1), entry(Kind.IP, "198.51.100.7", 1)
    both = suricataparser.parse_rules(suricata_rules([pair, bare]))
    alone = suricataparser.parse_rules(suricata_rules([pair]))
    assert len({r.sid for r in both}) == 4
    assert {r.sid for r in alone} <= {r.sid for r in both}


def test_an_endpoint_alert_comes_back_as_the_endpoint_it_names() -> None:
    pair = entry(Kind.ENDPOINT, "[2001:db8::1]:8443")
    (rule, _) = suricataparser.parse_rules(suricata_rules([pair]))
    meta = {
        key: [value]
        for key, value in (
            item.split(" ", 1) for item in {o.name: o.value for o in rule.options}["metadata"].data
        )
    }
    alert = {
        "timestamp": "2026-11-20T10:00:01.000000+0000",
        "event_type": "alert",
        "src_ip": "10.0.0.5",
        "src_port": 50123,
        "dest_ip": "2001:0db8::1",
        "dest_port": 8443,
        "proto": "TCP",
        "alert": {"signature_id": rule.sid, "metadata": meta},
    }
    seen = read_eve(json.dumps(alert))
    assert seen == ("2026-11-20T10:00:01.000000+0000", "10.0.0.5", [(Kind.ENDPOINT, pair.value)])
    matcher = Matcher.of([(Observable(Kind.ENDPOINT, pair.value), 7)])
    assert [m.key for m in matcher.lookup(Kind.ENDPOINT, pair.value)] == [7]


# -- Zeek and RPZ: no place for a port ----------------------------------------------------------


def test_zeek_and_the_rpz_hold_no_endpoint_and_never_its_bare_address() -> None:
    found = entries_of(body(DST.format("91.219.236.18", 443)), "c2", Tlp.GREEN)
    assert [e.kind for e in found] == [Kind.ENDPOINT]
    assert zeek_intel(found).splitlines()[1:] == []
    assert rpz_records(found) == ([], 0)
    assert not any(zeek_holds(e) or rpz_holds(e) for e in found)
    assert all(suricata_holds(e) for e in found)
    either = entries_of(
        body(f"{DST.format('91.219.236.18', 443)} OR [ipv4-addr:value = '45.77.1.9']"),
        "c2",
        Tlp.GREEN,
    )
    assert [line.split("\t")[0] for line in zeek_intel(either).splitlines()[1:]] == ["45.77.1.9"]
    assert rpz_records(either) == (["32.9.1.77.45.rpz-ip CNAME ."], 0)
