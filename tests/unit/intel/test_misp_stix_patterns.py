"""Patterns as misp-stix (MISP's STIX exporter) writes them: an address comes with a test of
its type (``network-traffic:dst_ref.type = 'ipv4-addr'``), which the value already implies.

The patterns are misp-stix's own, copied from MISP/misp-stix at commit 713ae7b0f1df
(``documentation/mapping/misp_attributes_to_stix21.json`` and
``misp_objects_to_stix21.json``, written by ``_create_ip_pattern`` and
``_create_port_pattern`` in ``misp_stix_converter/misp2stix/misp_to_stix2.py``), or
exported by misp-stix 2026.10.12 from MISP attributes and objects (IPv6 and CIDR values,
the ``ip-port`` and ``network-connection`` objects).
"""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seawall.intel.exports.entries import entries_of, skip_reason
from seawall.intel.exports.suricata import suricata_rules
from seawall.intel.exports.zeek import zeek_intel
from seawall.intel.matching.logs import LogFormat
from seawall.intel.matching.observables import Kind, Observable, terms
from seawall.intel.tlp import Tlp
from tests.unit.intel.test_exports import body
from tests.unit.intel.test_matching_pairs import ZEEK, _counts, _tally

IP, ENDPOINT, DOMAIN, RESOLVED = Kind.IP, Kind.ENDPOINT, Kind.DOMAIN, Kind.RESOLVED
HASH, URL, EMAIL, NAME = Kind.HASH, Kind.URL, Kind.EMAIL, Kind.FILE_NAME
NT = "network-traffic"


def one(kind: Kind, value: str) -> tuple[tuple[Observable, ...], ...]:
    return ((Observable(kind, value),),)


# -- the shapes misp-stix writes ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("misp", "pattern", "expected"),
    [
        (
            "ip-dst",
            f"[{NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_ref.value = '5.6.7.8']",
            one(IP, "5.6.7.8"),
        ),
        (
            "ip-src",
            f"[{NT}:src_ref.type = 'ipv4-addr' AND {NT}:src_ref.value = '1.2.3.4']",
            one(IP, "1.2.3.4"),
        ),
        (
            "ip-dst (IPv6)",
            f"[{NT}:dst_ref.type = 'ipv6-addr' AND {NT}:dst_ref.value = '2001:DB8:0::1']",
            one(IP, "2001:db8::1"),
        ),
        (
            "ip-dst (CIDR)",
            f"[{NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_ref.value = '10.0.0.0/8']",
            one(IP, "10.0.0.0/8"),
        ),
        (
            "ip-dst (IPv6 CIDR)",
            f"[{NT}:dst_ref.type = 'ipv6-addr' AND {NT}:dst_ref.value = '2001:db8::/32']",
            one(IP, "2001:db8::/32"),
        ),
        (
            "ip-dst|port",
            f"[{NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_ref.value = '5.6.7.8' AND "
            f"{NT}:dst_port = '5678']",
            one(ENDPOINT, "5.6.7.8:5678"),
        ),
        (
            "ip-src|port",
            f"[{NT}:src_ref.type = 'ipv4-addr' AND {NT}:src_ref.value = '1.2.3.4' AND "
            f"{NT}:src_port = '1234']",
            one(ENDPOINT, "1.2.3.4:1234"),
        ),
        (
            "ip-dst|port (IPv6)",
            f"[{NT}:dst_ref.type = 'ipv6-addr' AND {NT}:dst_ref.value = '2001:db8::1' AND "
            f"{NT}:dst_port = '443']",
            one(ENDPOINT, "[2001:db8::1]:443"),
        ),
        (
            "ip-port object",
            f"[({NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_ref.value = '149.13.33.14') AND "
            f"{NT}:dst_port = '443']",
            one(ENDPOINT, "149.13.33.14:443"),
        ),
        (
            "ip-port object (source side)",
            f"[({NT}:src_ref.type = 'ipv4-addr' AND {NT}:src_ref.value = '1.2.3.4') AND "
            f"{NT}:src_port = '1234']",
            one(ENDPOINT, "1.2.3.4:1234"),
        ),
        (
            "network-connection object",
            f"[({NT}:src_ref.type = 'ipv4-addr' AND {NT}:src_ref.value = '1.2.3.4') AND "
            f"({NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_ref.value = '5.6.7.8') AND "
            f"{NT}:dst_port = '443']",
            ((Observable(ENDPOINT, "5.6.7.8:443"), Observable(IP, "1.2.3.4")),),
        ),
        (
            "netflow object",
            f"[({NT}:src_ref.type = 'ipv4-addr' AND {NT}:src_ref.value = '1.2.3.4') AND "
            f"({NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_ref.value = '5.6.7.8')]",
            ((Observable(IP, "1.2.3.4"), Observable(IP, "5.6.7.8")),),
        ),
        (
            "domain|ip",
            "[domain-name:value = 'circl.lu' AND "
            "domain-name:resolves_to_refs[*].value = '149.13.33.14']",
            ((Observable(DOMAIN, "circl.lu"), Observable(RESOLVED, "149.13.33.14")),),
        ),
        ("domain", "[domain-name:value = 'circl.lu']", one(DOMAIN, "circl.lu")),
        (
            "filename|md5",
            "[file:name = 'filename1' AND file:hashes.MD5 = 'b2a5abfeef9e36964281a31e17b57c97']",
            (
                (
                    Observable(NAME, "filename1"),
                    Observable(HASH, "b2a5abfeef9e36964281a31e17b57c97"),
                ),
            ),
        ),
        (
            "filename|sha1",
            "[file:name = 'filename2' AND "
            "file:hashes.'SHA-1' = '2920d5e6c579fce772e5506caf03af65579088bd']",
            (
                (
                    Observable(NAME, "filename2"),
                    Observable(HASH, "2920d5e6c579fce772e5506caf03af65579088bd"),
                ),
            ),
        ),
        (
            "file object",
            "[file:hashes.MD5 = '8764605c6f388c89096b534d33565802' AND "
            "file:hashes.'SHA-256' = "
            "'ec5aedf5ecc6bdadd4120932170d1b10f6cfa175cfda22951dfd882928ab279b' AND "
            "file:name = 'oui']",
            (
                (
                    Observable(NAME, "oui"),
                    Observable(HASH, "8764605c6f388c89096b534d33565802"),
                    Observable(
                        HASH, "ec5aedf5ecc6bdadd4120932170d1b10f6cfa175cfda22951dfd882928ab279b"
                    ),
                ),
            ),
        ),
        (
            "url",
            "[url:value = 'https://misp-project.org/download/']",
            one(URL, "https://misp-project.org/download/"),
        ),
        (
            "email-src",
            "[email-message:from_ref.value = 'src@email.test']",
            one(EMAIL, "src@email.test"),
        ),
        ("email", "[email-addr:value = 'address@email.test']", one(EMAIL, "address@email.test")),
    ],
)
def test_misp_stix_patterns_read_as_the_values_they_name(
    misp: str, pattern: str, expected: tuple[tuple[Observable, ...], ...]
) -> None:
    assert terms(pattern) == expected, misp


@pytest.mark.parametrize(
    ("misp", "pattern"),
    [
        # A port beside a name, not an address: no single record shows a name's port.
        ("hostname|port", "[domain-name:value = 'circl.lu' AND network-traffic:dst_port = '8443']"),
        # dst_ref asked to be an address and a name at once: no one object is both.
        (
            "ip-port object with a domain",
            f"[({NT}:dst_ref.type = 'ipv6-addr' AND {NT}:dst_ref.value = '2001:db8::1') AND "
            f"({NT}:dst_ref.type = 'domain-name' AND {NT}:dst_ref.value = 'circl.lu') AND "
            f"{NT}:dst_port = '443']",
        ),
        # The protocol is a test no log field is read for.
        (
            "network-connection object with a layer4-protocol",
            f"[({NT}:src_ref.type = 'ipv4-addr' AND {NT}:src_ref.value = '1.2.3.4') AND "
            f"({NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_ref.value = '5.6.7.8') AND "
            f"{NT}:dst_port = '443' AND {NT}:protocols[0] = 'tcp']",
        ),
        (
            "url object",
            "[url:value = 'https://www.circl.lu/team' AND url:x_misp_domain = 'circl.lu' AND "
            "url:x_misp_host = 'www.circl.lu' AND url:x_misp_ip = '149.13.33.14']",
        ),
        (
            "domain-ip object",
            "[domain-name:value = 'circl.lu' AND domain-name:x_misp_hostname = 'circl.lu' AND "
            "domain-name:resolves_to_refs[*].value = '149.13.33.14']",
        ),
        ("email-dst", "[email-message:to_refs[*].value = 'dst@email.test']"),
    ],
)
def test_misp_stix_patterns_with_a_test_no_log_shows_stay_not_matchable(
    misp: str, pattern: str
) -> None:
    assert terms(pattern) is None, misp


# -- what a type test may say ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern",
    [
        f"[{NT}:dst_ref.type = 'ipv6-addr' AND {NT}:dst_ref.value = '1.2.3.4']",
        f"[{NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_ref.value = '2001:db8::1']",
        f"[{NT}:src_ref.type = 'ipv6-addr' AND {NT}:src_ref.value = '10.0.0.0/8']",
        f"[{NT}:dst_ref.type = 'domain-name' AND {NT}:dst_ref.value = '1.2.3.4']",
        f"[{NT}:dst_ref.type = 'mac-addr' AND {NT}:dst_ref.value = '1.2.3.4']",
        f"[{NT}:dst_ref.type = 'IPv4-Addr' AND {NT}:dst_ref.value = '1.2.3.4']",
        f"[{NT}:dst_ref.type = 'ipv6-addr' AND {NT}:dst_ref.value = '1.2.3.4' AND "
        f"{NT}:dst_port = '443']",
        # the type of the other side's address
        f"[{NT}:src_ref.type = 'ipv6-addr' AND {NT}:dst_ref.value = '1.2.3.4']",
        # a type test with no value beside it: any address of that type
        f"[{NT}:dst_ref.type = 'ipv4-addr']",
        f"[{NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_port = '443']",
        f"[{NT}:dst_ref.type = 'ipv4-addr' AND ipv4-addr:value = '1.2.3.4']",
        # a type test that is no equality
        f"[{NT}:dst_ref.type != 'ipv6-addr' AND {NT}:dst_ref.value = '1.2.3.4']",
        f"[{NT}:dst_ref.type LIKE 'ipv4%' AND {NT}:dst_ref.value = '1.2.3.4']",
        # a type test on a reference whose value no log shows
        "[email-message:to_refs[*].type = 'email-addr' AND "
        "email-message:to_refs[*].value = 'a@b.test']",
    ],
)
def test_a_type_test_the_value_does_not_bear_out_makes_the_term_not_matchable(
    pattern: str,
) -> None:
    assert terms(pattern) is None


def test_a_contradicted_type_drops_only_its_own_alternative() -> None:
    either = (
        f"[({NT}:dst_ref.type = 'ipv6-addr' AND {NT}:dst_ref.value = '1.2.3.4') OR "
        "ipv4-addr:value = '9.9.9.9']"
    )
    assert terms(either) == one(IP, "9.9.9.9")
    set_of = (
        f"[{NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_ref.value IN ('1.2.3.4', '2001:db8::1')]"
    )
    assert terms(set_of) == one(IP, "1.2.3.4")
    across = (
        f"[{NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_ref.value = '1.2.3.4'] OR "
        f"[{NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_ref.value = '2001:db8::1']"
    )
    assert terms(across) == one(IP, "1.2.3.4")


def test_other_references_type_tests_agree_with_their_values_kind() -> None:
    sender = (
        "[email-message:from_ref.type = 'email-addr' AND "
        "email-message:from_ref.value = 'Src@Email.test']"
    )
    assert terms(sender) == one(EMAIL, "src@email.test")
    resolved = (
        "[domain-name:value = 'circl.lu' AND domain-name:resolves_to_refs[*].type = 'ipv6-addr'"
        " AND domain-name:resolves_to_refs[*].value = '2001:db8::5']"
    )
    assert terms(resolved) == (
        (Observable(DOMAIN, "circl.lu"), Observable(RESOLVED, "2001:db8::5")),
    )
    assert terms(resolved.replace("'ipv6-addr'", "'ipv4-addr'")) is None


# -- a type test is implied: the same terms as without it --------------------------------------

ADDRESSES = st.one_of(
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(str),
    st.builds(
        lambda a, p: str(ipaddress.ip_network(f"{a}/{p}", strict=False)),
        st.ip_addresses(v=4),
        st.integers(8, 32),
    ),
    st.builds(
        lambda a, p: str(ipaddress.ip_network(f"{a}/{p}", strict=False)),
        st.ip_addresses(v=6),
        st.integers(32, 128),
    ),
)


def _misp_stix(side: str, address: str, kind: str, port: int | None, paren: bool) -> str:
    typed = f"{NT}:{side}_ref.type = '{kind}' AND {NT}:{side}_ref.value = '{address}'"
    if paren:
        typed = f"({typed})"
    tail = "" if port is None else f" AND {NT}:{side}_port = '{port}'"
    return f"[{typed}{tail}]"


@given(
    ADDRESSES,
    st.sampled_from(["src", "dst"]),
    st.none() | st.integers(0, 65_535),
    st.booleans(),
)
def test_a_type_test_agreeing_with_the_address_changes_nothing(
    address: str, side: str, port: int | None, paren: bool
) -> None:
    plain = f"[{NT}:{side}_ref.value = '{address}'"
    plain += "]" if port is None else f" AND {NT}:{side}_port = {port}]"
    version = ipaddress.ip_network(address, strict=False).version
    right, wrong = ("ipv4-addr", "ipv6-addr") if version == 4 else ("ipv6-addr", "ipv4-addr")
    typed = _misp_stix(side, address, right, port, paren)
    assert terms(typed) == terms(plain)
    assert terms(typed) is not None
    # The same pattern spelled with other spaces is read by the full parser, not the
    # shortcut for misp-stix's own spelling: both read it alike.
    assert terms(typed.replace(" AND ", "  AND ")) == terms(typed)
    assert terms(_misp_stix(side, address, wrong, port, paren)) is None


@given(st.text(alphabet="0123456789.:/abcdefx ", max_size=20), st.booleans())
def test_the_misp_stix_shortcut_reads_any_value_as_the_parser_does(value: str, port: bool) -> None:
    typed = _misp_stix("dst", value, "ipv4-addr", 443 if port else None, False)
    assert terms(typed) == terms(typed.replace(" AND ", "  AND "))


# -- end to end: a Zeek conn.log, and the sensor exports ------------------------------------------


def test_misp_stix_address_and_endpoint_indicators_match_a_zeek_conn_log() -> None:
    # zat's conn.log: 41 connections with 54.230.86.87, 35 of them to its port 443.
    lines = (ZEEK / "conn.log").read_text().splitlines(keepends=True)
    tally = _tally(
        LogFormat.ZEEK,
        lines,
        f"[{NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_ref.value = '54.230.86.87']",
        f"[{NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_ref.value = '54.230.86.87' AND "
        f"{NT}:dst_port = '443']",
        f"[({NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_ref.value = '54.230.86.87') AND "
        f"{NT}:dst_port = '443']",
        f"[{NT}:dst_ref.type = 'ipv6-addr' AND {NT}:dst_ref.value = '54.230.86.87' AND "
        f"{NT}:dst_port = '443']",
        f"[{NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_ref.value = '54.230.86.87' AND "
        f"{NT}:dst_port = '8443']",
    )
    assert _counts(tally) == {0: 41, 1: 35, 2: 35}
    assert tally.found[0].values == {"54.230.86.87": 41}
    assert tally.found[1].values == {"54.230.86.87:443": 35}


def test_misp_stix_indicators_reach_the_sensor_exports_as_seawalls_own_do() -> None:
    pairs = [
        (
            f"[{NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_ref.value = '91.219.236.18' AND "
            f"{NT}:dst_port = '443']",
            f"[{NT}:dst_ref.value = '91.219.236.18' AND {NT}:dst_port = 443]",
        ),
        (
            f"[{NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_ref.value = '91.219.236.18']",
            "[ipv4-addr:value = '91.219.236.18']",
        ),
        (
            f"[{NT}:src_ref.type = 'ipv6-addr' AND {NT}:src_ref.value = '2a0c:b641::1']",
            "[ipv6-addr:value = '2a0c:b641::1']",
        ),
    ]
    for misp_stix, own in pairs:
        theirs = entries_of(body(misp_stix), "c2", Tlp.AMBER)
        assert theirs == entries_of(body(own), "c2", Tlp.AMBER) != []
        assert suricata_rules(theirs) == suricata_rules(entries_of(body(own), "c2", Tlp.AMBER))
    endpoint = entries_of(body(pairs[0][0]), "c2", Tlp.AMBER)
    assert [(e.kind, e.value) for e in endpoint] == [(ENDPOINT, "91.219.236.18:443")]
    heads = sorted(rule.split(" (")[0] for rule in suricata_rules(endpoint).splitlines())
    assert heads == [
        "alert tcp 91.219.236.18 443 <> any any",
        "alert udp 91.219.236.18 443 <> any any",
    ]
    address = entries_of(body(pairs[1][0]), "c2", Tlp.AMBER)
    assert [(e.kind, e.value) for e in address] == [(IP, "91.219.236.18")]
    assert "91.219.236.18\tIntel::ADDR" in zeek_intel(address)


@pytest.mark.parametrize(
    "pattern",
    [
        f"[{NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_ref.value = '8.8.8.8']",
        f"[{NT}:dst_ref.type = 'ipv4-addr' AND {NT}:dst_ref.value = '8.8.8.8' AND "
        f"{NT}:dst_port = '53']",
    ],
)
def test_a_warninglisted_misp_stix_address_stays_home(pattern: str) -> None:
    assert str(skip_reason(body(pattern))).startswith("warninglisted: ")
    assert entries_of(body(pattern), "c2", Tlp.AMBER) == []


def test_a_misp_stix_address_with_the_wrong_type_never_reaches_a_sensor() -> None:
    pattern = f"[{NT}:dst_ref.type = 'ipv6-addr' AND {NT}:dst_ref.value = '91.219.236.18']"
    assert skip_reason(body(pattern)) == "no single value proves its pattern"
