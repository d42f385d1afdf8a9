"""MISP connection objects (``ip-port``, ``network-connection``, ``netflow``) keep each address
with its side's port: an endpoint a log record proves only on that port.

The objects are PyMISP's (tests/data/misp/to_delete2.json) and misp-stix's own examples
(MISP/misp-stix at commit 713ae7b0f1df, ``documentation/mapping/misp_objects_to_stix21.json``),
with the attribute names of MISP's templates (MISP/misp-objects, ip-port v10,
network-connection v7, netflow v2).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from seawall.intel.exports.entries import entries_of
from seawall.intel.exports.suricata import suricata_rules
from seawall.intel.matching.logs import LogFormat
from seawall.intel.matching.observables import Kind, Observable, terms
from seawall.intel.misp import reading, writing
from seawall.intel.tlp import Tlp, marking_id
from tests.misp import DATA
from tests.unit.intel.test_matching_pairs import ZEEK, _counts, _tally

NT = "network-traffic"
ENDPOINT, IP, DOMAIN = Kind.ENDPOINT, Kind.IP, Kind.DOMAIN


def attr(relation: str, misp_type: str, value: str, to_ids: bool = True) -> dict[str, Any]:
    return {"object_relation": relation, "type": misp_type, "value": value, "to_ids": to_ids}


def event(name: str, *attributes: dict[str, Any]) -> dict[str, Any]:
    return {
        "Event": {
            "uuid": "5ac47e9a-5f1c-4b4c-b0b6-040d0a00020f",
            "info": "connection objects",
            "timestamp": "1603642920",
            "Attribute": [],
            "Object": [
                {
                    "uuid": "5ac47edc-31e4-4402-a7b6-040d0a00020f",
                    "name": name,
                    "meta-category": "network",
                    "template_uuid": "9f8cea74-16fe-4968-a2b4-026676949ac6",
                    "template_version": "10",
                    "timestamp": "1603642920",
                    "Attribute": list(attributes),
                }
            ],
        }
    }


def pattern_of(document: dict[str, Any]) -> str:
    converted = reading.read_events(json.dumps(document))
    assert converted.problems == []
    (indicator,) = [o for o in converted.objects if o["type"] == "indicator"]
    return str(indicator["pattern"])


def endpoint(value: str) -> Observable:
    return Observable(ENDPOINT, value)


# -- PyMISP's ip-port objects ---------------------------------------------------------------------


def test_pymisps_ip_port_objects_keep_their_port_as_the_ip_dst_port_attributes_do() -> None:
    text = (DATA / "to_delete2.json").read_text(encoding="utf-8")
    stix = reading.read_events(text, "to_delete2.json").objects
    objects = [o["pattern"] for o in stix if 'misp:name="ip-port"' in o.get("labels", [])]
    assert objects == [
        f"[{NT}:dst_ref.value = '125.212.132.222' AND {NT}:dst_port = 443]",
        f"[{NT}:dst_ref.value = '175.100.189.174' AND {NT}:dst_port = 443]",
        f"[{NT}:dst_ref.value = '10.10.30.110' AND {NT}:dst_port = 1992]",
    ]
    # The event also lists each pair as an ip-dst|port attribute: the same pattern.
    pairs = [o["pattern"] for o in stix if 'misp:type="ip-dst|port"' in o.get("labels", [])]
    assert pairs == objects
    assert [terms(p) for p in objects] == [
        ((endpoint("125.212.132.222:443"),),),
        ((endpoint("175.100.189.174:443"),),),
        ((endpoint("10.10.30.110:1992"),),),
    ]


# -- the shapes ------------------------------------------------------------------------------------


def test_an_ip_port_object_with_several_addresses_is_one_alternative_per_address_and_port() -> None:
    found = pattern_of(
        event(
            "ip-port",
            attr("ip", "ip-dst", "149.13.33.14"),
            attr("ip", "ip-dst", "2001:db8::1"),
            attr("dst-port", "port", "443", to_ids=False),
            attr("dst-port", "port", "8443", to_ids=False),
            attr("protocol", "text", "tcp", to_ids=False),
            attr("first-seen", "datetime", "2020-10-25T16:22:00+00:00", to_ids=False),
            attr("AS", "AS", "AS3356", to_ids=False),
        )
    )
    assert found == (
        f"[{NT}:dst_ref.value = '149.13.33.14' AND {NT}:dst_port = 443] OR "
        f"[{NT}:dst_ref.value = '149.13.33.14' AND {NT}:dst_port = 8443] OR "
        f"[{NT}:dst_ref.value = '2001:db8::1' AND {NT}:dst_port = 443] OR "
        f"[{NT}:dst_ref.value = '2001:db8::1' AND {NT}:dst_port = 8443]"
    )
    assert terms(found) == (
        (endpoint("149.13.33.14:443"),),
        (endpoint("149.13.33.14:8443"),),
        (endpoint("[2001:db8::1]:443"),),
        (endpoint("[2001:db8::1]:8443"),),
    )


def test_an_ip_port_objects_domain_is_an_alternative_of_its_own() -> None:
    # misp-stix's example object: ip, dst-port, domain and first-seen.
    found = pattern_of(
        event(
            "ip-port",
            attr("ip", "ip-dst", "149.13.33.14"),
            attr("dst-port", "port", "443", to_ids=False),
            attr("domain", "domain", "circl.lu"),
            attr("first-seen", "datetime", "2020-10-25T16:22:00+00:00", to_ids=False),
        )
    )
    assert found == (
        f"[{NT}:dst_ref.value = '149.13.33.14' AND {NT}:dst_port = 443] OR "
        "[domain-name:value = 'circl.lu']"
    )
    assert terms(found) == ((endpoint("149.13.33.14:443"),), (Observable(DOMAIN, "circl.lu"),))


def test_a_name_and_its_port_without_an_address_is_the_name() -> None:
    found = pattern_of(
        event(
            "ip-port",
            attr("hostname", "hostname", "c2.example.net"),
            attr("dst-port", "port", "8443", to_ids=False),
        )
    )
    assert found == "[domain-name:value = 'c2.example.net']"


def test_a_source_side_address_and_port_stay_on_the_source_side() -> None:
    found = pattern_of(
        event(
            "ip-port",
            attr("ip-src", "ip-src", "198.51.100.7"),
            attr("src-port", "port", "4444", to_ids=False),
        )
    )
    assert found == f"[{NT}:src_ref.value = '198.51.100.7' AND {NT}:src_port = 4444]"
    assert terms(found) == ((endpoint("198.51.100.7:4444"),),)


def test_a_network_connection_holds_both_sides_in_one_alternative() -> None:
    # misp-stix's example object; its protocols stay in the object's attributes.
    found = pattern_of(
        event(
            "network-connection",
            attr("ip-src", "ip-src", "1.2.3.4"),
            attr("ip-dst", "ip-dst", "5.6.7.8"),
            attr("src-port", "port", "8080", to_ids=False),
            attr("dst-port", "port", "8080", to_ids=False),
            attr("hostname-dst", "hostname", "circl.lu"),
            attr("layer3-protocol", "text", "IP", to_ids=False),
            attr("layer4-protocol", "text", "TCP", to_ids=False),
            attr("layer7-protocol", "text", "HTTP", to_ids=False),
        )
    )
    assert found == (
        f"[{NT}:src_ref.value = '1.2.3.4' AND {NT}:src_port = 8080 AND "
        f"{NT}:dst_ref.value = '5.6.7.8' AND {NT}:dst_port = 8080] OR "
        "[domain-name:value = 'circl.lu']"
    )
    assert terms(found) == (
        (endpoint("1.2.3.4:8080"), endpoint("5.6.7.8:8080")),
        (Observable(DOMAIN, "circl.lu"),),
    )


def test_a_netflow_keeps_its_ports_and_leaves_its_as_and_flags_to_the_attributes() -> None:
    # misp-stix's example object.
    found = pattern_of(
        event(
            "netflow",
            attr("ip-src", "ip-src", "1.2.3.4"),
            attr("ip-dst", "ip-dst", "5.6.7.8"),
            attr("src-as", "AS", "1234", to_ids=False),
            attr("dst-as", "AS", "5678", to_ids=False),
            attr("src-port", "port", "80", to_ids=False),
            attr("dst-port", "port", "8080", to_ids=False),
            attr("protocol", "text", "IP", to_ids=False),
            attr("first-packet-seen", "datetime", "2020-10-25T16:22:00+00:00", to_ids=False),
            attr("tcp-flags", "text", "00000002", to_ids=False),
        )
    )
    assert found == (
        f"[{NT}:src_ref.value = '1.2.3.4' AND {NT}:src_port = 80 AND "
        f"{NT}:dst_ref.value = '5.6.7.8' AND {NT}:dst_port = 8080]"
    )


def test_two_addresses_without_ports_are_one_connection_a_record_can_prove() -> None:
    found = pattern_of(
        event(
            "netflow",
            attr("ip-src", "ip-src", "1.2.3.4"),
            attr("ip-dst", "ip-dst", "5.6.7.8"),
        )
    )
    assert found == f"[{NT}:src_ref.value = '1.2.3.4' AND {NT}:dst_ref.value = '5.6.7.8']"
    assert terms(found) == ((Observable(IP, "1.2.3.4"), Observable(IP, "5.6.7.8")),)


def test_a_port_without_its_address_is_kept_and_leaves_the_pattern_to_an_engine() -> None:
    found = pattern_of(
        event(
            "network-connection",
            attr("ip-src", "ip-src", "10.1.2.3"),
            attr("dst-port", "port", "4444", to_ids=False),
        )
    )
    assert found == f"[{NT}:src_ref.value = '10.1.2.3' AND {NT}:dst_port = 4444]"
    assert terms(found) is None  # never matched on the source address alone


def test_a_connection_object_with_only_a_port_stays_an_x_misp_object() -> None:
    converted = reading.read_events(
        json.dumps(event("network-connection", attr("dst-port", "port", "4444")))
    )
    assert [o["type"] for o in converted.objects] == ["x-misp-object", "report"]


def test_a_port_that_is_no_port_number_refuses_the_object_in_one_line() -> None:
    converted = reading.read_events(
        json.dumps(
            event("ip-port", attr("ip", "ip-dst", "1.2.3.4"), attr("dst-port", "port", "https"))
        )
    )
    assert [(p.ref, p.message) for p in converted.problems] == [
        (
            "event 5ac47e9a-5f1c-4b4c-b0b6-040d0a00020f object "
            "5ac47edc-31e4-4402-a7b6-040d0a00020f",
            "the ip-port object's dst-port 'https' is no port number",
        )
    ]


def test_an_object_listing_more_pairs_than_a_pattern_holds_is_refused() -> None:
    addresses = [attr("ip", "ip-dst", f"198.51.100.{n}") for n in range(1, 34)]
    ports = [attr("dst-port", "port", "443"), attr("dst-port", "port", "8443")]
    converted = reading.read_events(json.dumps(event("ip-port", *addresses, *ports)))
    assert [p.message for p in converted.problems] == [
        "the ip-port object lists 66 addresses, ports and names together, over the 64 one "
        "pattern may hold; split it into several objects"
    ]


def test_an_object_whose_pairs_multiply_past_memory_is_refused_before_they_are_built() -> None:
    # 100 addresses and 100 ports on each side are 10^8 alternatives: counted, never built.
    sides = [
        attr(relation, misp_type, value(n))
        for relation, misp_type, value in (
            ("ip-src", "ip-src", lambda n: f"10.0.0.{n}"),
            ("src-port", "port", str),
            ("ip-dst", "ip-dst", lambda n: f"198.51.100.{n}"),
            ("dst-port", "port", str),
        )
        for n in range(1, 101)
    ]
    converted = reading.read_events(json.dumps(event("network-connection", *sides)))
    assert [p.message for p in converted.problems] == [
        "the network-connection object lists 100000000 addresses, ports and names together, "
        "over the 64 one pattern may hold; split it into several objects"
    ]


# -- back to MISP ----------------------------------------------------------------------------------


def test_the_object_exports_back_with_every_attribute_and_reads_back_alike() -> None:
    document = event(
        "ip-port",
        attr("ip", "ip-dst", "149.13.33.14"),
        attr("ip-src", "ip-src", "10.0.0.5"),
        attr("dst-port", "port", "443", to_ids=False),
        attr("domain", "domain", "circl.lu"),
        attr("protocol", "text", "tcp", to_ids=False),
        attr("first-seen", "datetime", "2020-10-25T16:22:00+00:00", to_ids=False),
    )
    stix = reading.read_events(json.dumps(document)).objects
    (back,) = writing.stix_to_events(stix, "Other node")
    (obj,) = back["Event"]["Object"]
    assert back["Event"]["Attribute"] == []
    assert (obj["name"], obj["meta-category"], obj["template_version"]) == (
        "ip-port",
        "network",
        "10",
    )
    keys = ("object_relation", "type", "value", "to_ids")
    assert [tuple(a[k] for k in keys) for a in obj["Attribute"]] == [
        tuple(a[k] for k in keys) for a in document["Event"]["Object"][0]["Attribute"]
    ]
    again = reading.read_events(json.dumps(writing.stix_to_events(stix, "Other node")))
    patterns = {o["id"]: o["pattern"] for o in stix if o["type"] == "indicator"}
    assert {o["id"]: o["pattern"] for o in again.objects if o["type"] == "indicator"} == patterns
    assert list(patterns.values()) == [
        f"[{NT}:src_ref.value = '10.0.0.5' AND {NT}:dst_ref.value = '149.13.33.14' AND "
        f"{NT}:dst_port = 443] OR [domain-name:value = 'circl.lu']"
    ]


# -- the effect on a log and a sensor --------------------------------------------------------------


@pytest.mark.parametrize(("port", "count"), [("443", 35), ("80", 6), ("8443", 0)])
def test_an_ip_port_object_matches_a_zeek_conn_log_on_its_port_only(port: str, count: int) -> None:
    # zat's conn.log: 41 connections with 54.230.86.87, 35 of them to its port 443, 6 to 80.
    lines = (ZEEK / "conn.log").read_text().splitlines(keepends=True)
    found = pattern_of(
        event(
            "ip-port",
            attr("ip", "ip-dst", "54.230.86.87"),
            attr("dst-port", "port", port, to_ids=False),
        )
    )
    tally = _tally(LogFormat.ZEEK, lines, found, "[ipv4-addr:value = '54.230.86.87']")
    # The second is what the object was read as when its port had no mapping.
    assert _counts(tally) == ({0: count, 1: 41} if count else {1: 41})
    if count:
        assert tally.found[0].values == {f"54.230.86.87:{port}": count}


def test_a_network_connection_matches_a_zeek_conn_record_holding_both_sides() -> None:
    # zat's conn.log: 192.168.33.10 reached 54.230.86.87:443 35 times, once from port 1036.
    lines = (ZEEK / "conn.log").read_text().splitlines(keepends=True)

    def connection(source: str, *ports: dict[str, Any]) -> str:
        return pattern_of(
            event(
                "network-connection",
                attr("ip-src", "ip-src", source),
                attr("ip-dst", "ip-dst", "54.230.86.87"),
                attr("dst-port", "port", "443", to_ids=False),
                attr("layer4-protocol", "text", "TCP", to_ids=False),
                *ports,
            )
        )

    tally = _tally(
        LogFormat.ZEEK,
        lines,
        connection("192.168.33.10"),
        connection("192.168.33.11"),
        connection("192.168.33.10", attr("src-port", "port", "1036", to_ids=False)),
    )
    assert _counts(tally) == {0: 35, 2: 1}


def test_an_ip_port_object_reaches_suricata_as_an_endpoint_rule() -> None:
    text = (DATA / "to_delete2.json").read_text(encoding="utf-8")
    stix = reading.read_events(text, "to_delete2.json").objects
    (indicator,) = [o for o in stix if o["id"] == "indicator--5a0d6aa6-a230-4f7b-8ab3-469a950d210f"]
    entries = entries_of(indicator, "c2", Tlp.AMBER)
    assert [(e.kind, e.value) for e in entries] == [(ENDPOINT, "125.212.132.222:443")]
    heads = sorted(rule.split(" (")[0] for rule in suricata_rules(entries).splitlines())
    assert heads == [
        "alert tcp 125.212.132.222 443 <> any any",
        "alert udp 125.212.132.222 443 <> any any",
    ]


# -- MISP's CSV export -----------------------------------------------------------------------------

CSV_HEAD = (
    "uuid,event_id,category,type,value,comment,to_ids,date,object_relation,attribute_tag,"
    "object_uuid,object_name,object_meta_category\n"
)


def test_a_csv_exports_ip_port_rows_are_read_as_their_object() -> None:
    text = CSV_HEAD + (
        "5a0d6aa6-8e4c-4b8e-a46c-469a950d210f,7,Network activity,ip-dst,125.212.132.222,,1,"
        "1510828710,ip,tlp:amber,5a0d6aa6-a230-4f7b-8ab3-469a950d210f,ip-port,network\n"
        "5a0d6aa6-5f40-4e4b-8e5e-469a950d210f,7,Network activity,port,443,,0,"
        "1510828710,dst-port,,5a0d6aa6-a230-4f7b-8ab3-469a950d210f,ip-port,network\n"
        "3c4e7a52-6d3b-4f0a-b1c2-3d4e5f6a7b8c,7,Network activity,domain,lure.example,,1,"
        "1510828710,,,,,\n"
    )
    converted = reading.read_csv(text, "attrs.csv")
    assert converted.problems == []
    found = {o["id"]: (o["pattern"], o["labels"]) for o in converted.objects}
    assert found == {
        "indicator--3c4e7a52-6d3b-4f0a-b1c2-3d4e5f6a7b8c": (
            "[domain-name:value = 'lure.example']",
            ['misp:type="domain"', 'misp:category="Network activity"', 'misp:to_ids="True"'],
        ),
        "indicator--5a0d6aa6-a230-4f7b-8ab3-469a950d210f": (
            f"[{NT}:dst_ref.value = '125.212.132.222' AND {NT}:dst_port = 443]",
            ['misp:name="ip-port"', 'misp:meta-category="network"', 'misp:to_ids="True"'],
        ),
    }
    (obj,) = [o for o in converted.objects if "x_misp_attributes" in o]
    assert obj["object_marking_refs"] == [marking_id(Tlp.AMBER)]
    assert [(a["uuid"], a["object_relation"], a["value"]) for a in obj["x_misp_attributes"]] == [
        ("5a0d6aa6-8e4c-4b8e-a46c-469a950d210f", "ip", "125.212.132.222"),
        ("5a0d6aa6-5f40-4e4b-8e5e-469a950d210f", "dst-port", "443"),
    ]


def test_a_csv_objects_bad_port_is_one_problem_on_its_first_line() -> None:
    text = CSV_HEAD + (
        ",7,Network activity,ip-dst,1.2.3.4,,1,1510828710,ip,,"
        "5a0d6aa6-a230-4f7b-8ab3-469a950d210f,ip-port,network\n"
        ",7,Network activity,port,https,,0,1510828710,dst-port,,"
        "5a0d6aa6-a230-4f7b-8ab3-469a950d210f,ip-port,network\n"
    )
    converted = reading.read_csv(text, "attrs.csv")
    assert converted.objects == []
    assert [(p.ref, p.message) for p in converted.problems] == [
        ("attrs.csv line 2", "the ip-port object's dst-port 'https' is no port number")
    ]
