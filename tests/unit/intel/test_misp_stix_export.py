"""misp-stix's address patterns exported to MISP as the attributes they came from.

misp-stix (MISP's STIX exporter) writes an ``ip-dst`` attribute as
``[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '...']``,
an ``ip-dst|port`` one with ``AND network-traffic:dst_port = '443'`` after it, and an
``ip-port`` object with the first two tests in parentheses (shapes and labels as in
tests/unit/intel/test_misp_stix_patterns.py, from misp-stix's documentation/mapping JSON).
The type test is implied by an address of that type; a contradicting one keeps the pattern
whole (``stix2-pattern``).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seawall.core.node import Node
from seawall.intel import ingest, search
from seawall.intel.collections import create_collection
from seawall.intel.matching.observables import terms
from seawall.intel.misp import reading, writing
from seawall.intel.misp.mapping import attribute_of_pattern
from tests.misp import ANALYST, DATA, read_event

NT = "network-traffic"


def typed(side: str, address: str, port: str | None = None, *, paren: bool = False) -> str:
    """A pattern as misp-stix's ``_create_ip_pattern`` / ``_create_port_pattern`` write it."""
    kind = "ipv6-addr" if ":" in address else "ipv4-addr"
    test = f"{NT}:{side}_ref.type = '{kind}' AND {NT}:{side}_ref.value = '{address}'"
    if paren:
        test = f"({test})"
    return f"[{test}]" if port is None else f"[{test} AND {NT}:{side}_port = '{port}']"


def indicator(pattern: str, *labels: str, n: int = 1) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{n:08d}-7c1b-4b7e-9d8e-3f6a2f0e6c51",
        "created": "2020-10-25T16:22:00.000Z",
        "modified": "2020-10-25T16:22:00.000Z",
        "pattern": pattern,
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": "2020-10-25T16:22:00Z",
        "labels": list(labels),
    }


def attribute_labels(
    misp_type: str, category: str = "Network activity", to_ids: bool = True
) -> tuple[str, str, str]:
    return (
        f'misp:type="{misp_type}"',
        f'misp:category="{category}"',
        f'misp:to_ids="{to_ids}"',
    )


# misp-stix labels an object's indicator with the object's name and meta-category; older
# releases wrote the meta-category as misp:category.
IP_PORT_OBJECT = ('misp:name="ip-port"', 'misp:meta-category="network"', 'misp:to_ids="True"')
IP_PORT_OBJECT_OLD = ('misp:category="network"', 'misp:name="ip-port"', 'misp:to_ids="True"')


def exported(*indicators: dict[str, Any]) -> list[dict[str, Any]]:
    (event,) = writing.stix_to_events(list(indicators), "JM node")
    attributes: list[dict[str, Any]] = event["Event"]["Attribute"]
    return attributes


def shown(attr: Mapping[str, Any]) -> tuple[str, str, str, bool]:
    return (attr["type"], attr["value"], attr["category"], attr["to_ids"])


def pattern_back(attr: Mapping[str, Any]) -> str:
    """The pattern Seawall's MISP reader makes of an exported attribute."""
    event = {"info": "back", "uuid": "5e2d1d0a-7c1b-4b7e-9d8e-3f6a2f0e6c51", "Attribute": [attr]}
    (made,) = [o for o in reading.read_events(json.dumps(event)).objects if o["type"] != "report"]
    assert made["type"] == "indicator", made
    return str(made["pattern"])


# -- misp-stix's shapes give the attribute back ---------------------------------------------------

SHAPES = [
    ("ip-dst", typed("dst", "5.6.7.8"), ("ip-dst", "5.6.7.8")),
    ("ip-src", typed("src", "1.2.3.4"), ("ip-src", "1.2.3.4")),
    ("ip-dst (IPv6)", typed("dst", "2001:db8::1"), ("ip-dst", "2001:db8::1")),
    ("ip-src (IPv6)", typed("src", "2001:db8::2"), ("ip-src", "2001:db8::2")),
    ("ip-dst (CIDR)", typed("dst", "10.0.0.0/8"), ("ip-dst", "10.0.0.0/8")),
    ("ip-dst (IPv6 CIDR)", typed("dst", "2001:db8::/32"), ("ip-dst", "2001:db8::/32")),
    ("ip-dst|port", typed("dst", "5.6.7.8", "5678"), ("ip-dst|port", "5.6.7.8|5678")),
    ("ip-src|port", typed("src", "1.2.3.4", "1234"), ("ip-src|port", "1.2.3.4|1234")),
    (
        "ip-dst|port (IPv6)",
        typed("dst", "2001:db8::1", "443"),
        ("ip-dst|port", "2001:db8::1|443"),
    ),
    (
        "ip-src|port (IPv6)",
        typed("src", "2001:db8::2", "53"),
        ("ip-src|port", "2001:db8::2|53"),
    ),
    (
        "ip-port object",
        typed("dst", "149.13.33.14", "443", paren=True),
        ("ip-dst|port", "149.13.33.14|443"),
    ),
    (
        "ip-port object (source side)",
        typed("src", "1.2.3.4", "1234", paren=True),
        ("ip-src|port", "1.2.3.4|1234"),
    ),
]


@pytest.mark.parametrize(("misp", "pattern", "expected"), SHAPES)
def test_misp_stix_address_patterns_map_to_their_misp_types(
    misp: str, pattern: str, expected: tuple[str, str]
) -> None:
    assert attribute_of_pattern(pattern) == expected, misp
    assert attribute_of_pattern(pattern, expected[0]) == expected, misp


def test_misp_stix_attribute_indicators_export_with_their_labels() -> None:
    attrs = exported(
        indicator(typed("dst", "5.6.7.8"), *attribute_labels("ip-dst"), n=1),
        indicator(
            typed("dst", "5.6.7.8", "5678"),
            *attribute_labels("ip-dst|port", "Payload delivery"),
            n=2,
        ),
        indicator(typed("src", "2001:db8::2"), *attribute_labels("ip-src", to_ids=False), n=3),
        indicator(typed("src", "1.2.3.4", "1234"), *attribute_labels("ip-src|port"), n=4),
    )
    assert [shown(a) for a in attrs] == [
        ("ip-dst", "5.6.7.8", "Network activity", True),
        ("ip-dst|port", "5.6.7.8|5678", "Payload delivery", True),
        ("ip-src", "2001:db8::2", "Network activity", False),
        ("ip-src|port", "1.2.3.4|1234", "Network activity", True),
    ]


@pytest.mark.parametrize("labels", [IP_PORT_OBJECT, IP_PORT_OBJECT_OLD])
def test_a_misp_stix_ip_port_object_exports_as_an_ip_port_attribute(labels: tuple[str]) -> None:
    # The object's meta-category ("network") is no attribute category MISP accepts.
    (attr,) = exported(indicator(typed("dst", "149.13.33.14", "443", paren=True), *labels))
    assert shown(attr) == ("ip-dst|port", "149.13.33.14|443", "Network activity", True)


def test_a_port_is_written_as_misp_writes_a_port() -> None:
    assert attribute_of_pattern(typed("dst", "5.6.7.8", "0443")) == ("ip-dst|port", "5.6.7.8|443")


def test_an_untyped_connection_address_is_its_sides_attribute() -> None:
    assert attribute_of_pattern(f"[{NT}:dst_ref.value = '5.6.7.8']") == ("ip-dst", "5.6.7.8")
    assert attribute_of_pattern(f"[{NT}:src_ref.value = '2001:db8::1']") == (
        "ip-src",
        "2001:db8::1",
    )


# -- what stays a stix2-pattern -------------------------------------------------------------------

KEPT = [
    # a type the value is not
    f"[{NT}:dst_ref.type = 'ipv6-addr' AND {NT}:dst_ref.value = '1.2.3.4']",
    f"[{NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_ref.value = '2001:db8::1']",
    f"[{NT}:src_ref.type = 'ipv6-addr' AND {NT}:src_ref.value = '10.0.0.0/8']",
    f"[{NT}:dst_ref.type = 'domain-name' AND {NT}:dst_ref.value = '1.2.3.4']",
    f"[{NT}:dst_ref.type = 'IPv4-Addr' AND {NT}:dst_ref.value = '1.2.3.4']",
    f"[{NT}:dst_ref.type = 'ipv6-addr' AND {NT}:dst_ref.value = '1.2.3.4' AND "
    f"{NT}:dst_port = '443']",
    f"[({NT}:dst_ref.type = 'ipv6-addr' AND {NT}:dst_ref.value = '1.2.3.4') AND "
    f"{NT}:dst_port = '443']",
    # no address of any type
    f"[{NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_ref.value = 'circl.lu']",
    f"[{NT}:dst_ref.value = 'circl.lu']",
    # the type of the other side's address, or of no address at all
    f"[{NT}:src_ref.type = 'ipv4-addr' AND {NT}:dst_ref.value = '1.2.3.4']",
    f"[{NT}:dst_ref.type = 'ipv4-addr']",
    f"[{NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_port = '443']",
    # no port
    f"[{NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_ref.value = '1.2.3.4' AND "
    f"{NT}:dst_port = '70000']",
    f"[{NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_ref.value = '1.2.3.4' AND "
    f"{NT}:dst_port = 'https']",
    # the other side's port
    f"[{NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_ref.value = '1.2.3.4' AND "
    f"{NT}:src_port = '443']",
    # a type test that is no equality, or a test no MISP attribute holds
    f"[{NT}:dst_ref.type != 'ipv6-addr' AND {NT}:dst_ref.value = '1.2.3.4']",
    f"[({NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_ref.value = '1.2.3.4') OR "
    "ipv4-addr:value = '9.9.9.9']",
    f"[{NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_ref.value = '1.2.3.4'] OR "
    f"[{NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_ref.value = '5.6.7.8']",
    # unbalanced parentheses
    f"[({NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_ref.value = '1.2.3.4']",
    f"[{NT}:dst_ref.type = 'ipv4-addr') AND ({NT}:dst_ref.value = '1.2.3.4']",
    # objects no single attribute holds: network-connection, netflow, ip-port with a domain
    f"[({NT}:src_ref.type = 'ipv4-addr' AND {NT}:src_ref.value = '1.2.3.4') AND "
    f"({NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_ref.value = '5.6.7.8') AND "
    f"{NT}:dst_port = '443']",
    f"[({NT}:src_ref.type = 'ipv4-addr' AND {NT}:src_ref.value = '1.2.3.4') AND "
    f"({NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_ref.value = '5.6.7.8')]",
    f"[({NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_ref.value = '149.13.33.14') AND "
    f"({NT}:dst_ref.type = 'domain-name' AND {NT}:dst_ref.value = 'circl.lu') AND "
    f"{NT}:dst_port = '443' AND {NT}:start = '2020-10-25T16:22:00Z']",
    f"[({NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_ref.value = '1.2.3.4') AND "
    f"{NT}:dst_port = '443' AND {NT}:protocols[0] = 'tcp']",
]


@pytest.mark.parametrize("pattern", KEPT)
def test_a_contradicted_or_unmapped_misp_stix_pattern_stays_a_stix2_pattern(pattern: str) -> None:
    assert attribute_of_pattern(pattern) == ("stix2-pattern", pattern)
    assert attribute_of_pattern(pattern, "ip-dst") == ("stix2-pattern", pattern)
    assert attribute_of_pattern(pattern, "ip-dst|port") == ("stix2-pattern", pattern)


def test_a_misp_stix_object_kept_whole_gets_an_attribute_category() -> None:
    labels = ('misp:category="network"', 'misp:name="network-connection"', 'misp:to_ids="True"')
    pattern = KEPT[-4]
    (attr,) = exported(indicator(pattern, *labels))
    assert shown(attr) == ("stix2-pattern", pattern, "Network activity", True)


def test_a_hint_of_the_other_side_does_not_move_the_address() -> None:
    assert attribute_of_pattern(typed("dst", "5.6.7.8"), "ip-src") == ("ip-dst", "5.6.7.8")
    assert attribute_of_pattern(typed("src", "1.2.3.4", "22"), "ip-dst|port") == (
        "ip-src|port",
        "1.2.3.4|22",
    )


def test_a_resolved_address_type_test_is_read_alike() -> None:
    pattern = (
        "[domain-name:value = 'circl.lu' AND domain-name:resolves_to_refs[*].type = 'ipv4-addr'"
        " AND domain-name:resolves_to_refs[*].value = '149.13.33.14']"
    )
    assert attribute_of_pattern(pattern) == ("domain|ip", "circl.lu|149.13.33.14")
    wrong = pattern.replace("'ipv4-addr'", "'ipv6-addr'")
    assert attribute_of_pattern(wrong, "domain|ip") == ("stix2-pattern", wrong)


# -- a type test agreeing with its address is implied ---------------------------------------------

ADDRESSES = st.one_of(
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(str),
    st.builds(
        lambda a, p: str(ipaddress.ip_network(f"{a}/{p}", strict=False)),
        st.ip_addresses(v=4) | st.ip_addresses(v=6),
        st.integers(8, 32),
    ),
)


@given(
    ADDRESSES, st.sampled_from(["src", "dst"]), st.none() | st.integers(0, 65_535), st.booleans()
)
def test_an_agreeing_type_test_maps_as_the_address_alone(
    address: str, side: str, port: int | None, paren: bool
) -> None:
    plain = f"[{NT}:{side}_ref.value = '{address}'"
    plain += "]" if port is None else f" AND {NT}:{side}_port = {port}]"
    pattern = typed(side, address, None if port is None else str(port), paren=paren)
    misp_type = f"ip-{side}" + ("" if port is None else "|port")
    value = address if port is None else f"{address}|{port}"
    assert attribute_of_pattern(pattern) == attribute_of_pattern(plain) == (misp_type, value)
    wrong = "ipv4-addr" if ":" in address else "ipv6-addr"
    contradicted = pattern.replace("'ipv6-addr'", f"'{wrong}'").replace("'ipv4-addr'", f"'{wrong}'")
    assert attribute_of_pattern(contradicted) == ("stix2-pattern", contradicted)


# -- round trip: misp-stix pattern -> MISP attribute -> STIX pattern Seawall matches alike ------


@pytest.mark.parametrize(("misp", "pattern", "expected"), SHAPES)
def test_misp_stix_patterns_come_back_from_misp_matched_alike(
    misp: str, pattern: str, expected: tuple[str, str]
) -> None:
    (attr,) = exported(indicator(pattern, *attribute_labels(expected[0])))
    back = pattern_back(attr)
    assert back != pattern
    assert terms(back) == terms(pattern) is not None, misp


def _misp_stix_of(event: Mapping[str, Any]) -> Iterator[tuple[dict[str, Any], tuple[Any, ...]]]:
    """Each ip attribute and ip-port object of a real MISP event as misp-stix exports it,
    with the (type, value, category, to_ids) MISP should get back."""
    for attr in event.get("Attribute") or []:
        misp_type, value = str(attr["type"]), str(attr["value"])
        if misp_type in ("ip-src", "ip-dst", "ip-src|port", "ip-dst|port"):
            address, _, port = value.partition("|")
            pattern = typed(misp_type[3:6], address, port or None)
            labels = attribute_labels(misp_type, attr["category"], bool(attr["to_ids"]))
            yield (
                indicator(pattern, *labels),
                (misp_type, value, attr["category"], bool(attr["to_ids"])),
            )
    for obj in event.get("Object") or []:
        if obj["name"] == "ip-port":
            by = {a["object_relation"]: a for a in obj["Attribute"]}
            pattern = typed("dst", by["ip"]["value"], by["dst-port"]["value"], paren=True)
            to_ids = any(bool(a["to_ids"]) for a in obj["Attribute"])
            labels = ('misp:name="ip-port"', 'misp:meta-category="network"')
            made = indicator(pattern, *labels, f'misp:to_ids="{to_ids}"')
            value = f"{by['ip']['value']}|{by['dst-port']['value']}"
            yield made, ("ip-dst|port", value, "Network activity", to_ids)


def test_real_misp_events_through_misp_stix_come_back_as_misp_wrote_them() -> None:
    # PyMISP's test events (tests/data/misp): 96 ip-dst and 3 ip-dst|port attributes, and
    # 3 ip-port objects.
    made: list[tuple[dict[str, Any], tuple[Any, ...]]] = []
    for path in sorted(DATA.glob("*.json")):
        made += list(_misp_stix_of(read_event(path)))
    counted = {t: sum(1 for _, want in made if want[0] == t) for t in ("ip-dst", "ip-dst|port")}
    assert counted == {"ip-dst": 96, "ip-dst|port": 6}
    for n, (ind, _) in enumerate(made):
        ind["id"] = f"indicator--{n:08d}-7c1b-4b7e-9d8e-3f6a2f0e6c51"
    attrs = exported(*(ind for ind, _ in made))
    assert [shown(a) for a in attrs] == [want for _, want in made]
    for attr, (ind, _) in zip(attrs, made, strict=True):
        assert terms(pattern_back(attr)) == terms(ind["pattern"]) is not None


@pytest.mark.parametrize(
    "pattern",
    [
        "[ipv4-addr:value = '1.2.3.4' AND ipv4-addr:value != '5.6.7.8']",
        "[ipv4-addr:value = '1.2.3.4' AND file:size > 5]",
        "[domain-name:value = 'a.example' AND domain-name:value MATCHES 'b']",
        f"[{NT}:dst_ref.value = '1.2.3.4' AND {NT}:dst_port = 443 AND {NT}:src_port > 1023]",
    ],
)
def test_a_test_after_the_mapped_ones_keeps_the_pattern_whole(pattern: str) -> None:
    # Every test of the observation is read, not the equalities before the first other one:
    # an attribute of the address alone would be broader than the pattern.
    assert attribute_of_pattern(pattern) == ("stix2-pattern", pattern)


def test_misp_stix_indicators_stored_by_a_node_export_to_misp_as_misp_wrote_them(
    node: Node,
) -> None:
    # FALLCHILL (PyMISP's to_delete2.json), as misp-stix exports it, in a STIX bundle: its
    # ip-dst and ip-dst|port attributes and its ip-port objects.
    made = list(_misp_stix_of(read_event(DATA / "to_delete2.json")))
    for n, (ind, _) in enumerate(made):
        ind["id"] = f"indicator--{n:08d}-7c1b-4b7e-9d8e-3f6a2f0e6c51"
    bundle = {"type": "bundle", "id": f"bundle--{'0' * 8}-7c1b-4b7e-9d8e-3f6a2f0e6c51"}
    bundle["objects"] = [ind for ind, _ in made]
    data = json.dumps(bundle).encode()
    with node.unit(ANALYST) as ctx:
        collection = create_collection(ctx, "misp-stix")
        report = ingest.import_objects(
            ctx, collection, ingest.parse_bytes("misp-stix.json", data), keep_suppressed=True
        )
        assert (len(report.added), report.rejected) == (len(made), [])
    with node.unit(ANALYST) as ctx:
        exported = search.misp_events(ctx, [collection], "JM node", include_inactive=True)
    (event,) = exported["response"]
    got = {a["uuid"]: a for a in event["Event"]["Attribute"]}
    assert len(got) == len(made) == 93
    for ind, want in made:
        attr = got[ind["id"].split("--", 1)[1]]
        # None of them is warninglisted (which would make to_ids False: search.misp_events).
        assert shown(attr) == want
        assert terms(pattern_back(attr)) == terms(ind["pattern"]) is not None
