"""Sensor exports as pure functions: the Zeek intel file, Suricata rules and lists, the RPZ."""

from __future__ import annotations

import logging
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
import suricata_check
import suricataparser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seawall.intel.exports.entries import Entry, entries_of, skip_reason, too_wide
from seawall.intel.exports.feeds import fingerprint
from seawall.intel.exports.rpz import rpz_ip, rpz_records, rpz_zone
from seawall.intel.exports.suricata import (
    SID_BASE,
    SID_SPAN,
    hash_lists,
    sid_of,
    suricata_files,
    suricata_rules,
)
from seawall.intel.exports.zeek import FIELDS, TYPES, zeek_intel
from seawall.intel.matching.observables import Kind
from seawall.intel.tlp import Tlp
from tests import stix

MODIFIED = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
MD5 = "44d88612fea8a8f36de82e1278abb02f"
SHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
SHA1_CERT = "b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0"


def entry(kind: Kind, value: str, n: int = 1, certificate: bool = False) -> Entry:
    return Entry(
        kind=kind,
        value=value,
        indicator=f"indicator--00000000-0000-4000-8000-{n:012d}",
        name=f"indicator {n}",
        collection="phish",
        tlp=Tlp.AMBER,
        modified=MODIFIED,
        certificate=certificate,
    )


ALL = [
    entry(Kind.DOMAIN, "evil.example", 1),
    entry(Kind.IP, "203.0.113.9", 2),
    entry(Kind.IP, "198.51.100.0/24", 3),
    entry(Kind.URL, "http://evil.example/gate.php", 4),
    entry(Kind.HASH, MD5, 5),
    entry(Kind.HASH, SHA256, 6),
    entry(Kind.EMAIL, "boss@evil.example", 7),
    entry(Kind.HASH, SHA1_CERT, 8, certificate=True),
    entry(Kind.IP, "2001:db8:abcd::/48", 9),
]


def body(pattern: str, **extra: object) -> dict[str, object]:
    props = {"name": "phish kit", **extra}
    return stix.indicator(1, pattern, None, stamp="2026-11-20T10:00:00.000Z", **props)


# -- which indicators reach a sensor ---------------------------------------------------------


def test_entries_are_the_values_that_prove_the_pattern_alone() -> None:
    either = body("[domain-name:value = 'Gate.Phish-Kit.net'] OR [ipv4-addr:value = '45.77.1.9']")
    got = {(e.kind, e.value) for e in entries_of(either, "phish", Tlp.GREEN)}
    assert got == {(Kind.DOMAIN, "gate.phish-kit.net"), (Kind.IP, "45.77.1.9")}
    cert = body(f"[x509-certificate:hashes.'SHA-1' = '{SHA1_CERT.upper()}']")
    assert [(e.kind, e.value, e.certificate) for e in entries_of(cert, "p", Tlp.GREEN)] == [
        (Kind.HASH, SHA1_CERT, True)
    ]


def test_joint_warninglisted_and_not_for_detection_indicators_stay_home() -> None:
    joint = body(f"[file:name = 'a.exe' AND file:hashes.MD5 = '{MD5}']")
    assert skip_reason(joint) == "no single value proves its pattern"
    assert entries_of(joint, "phish", Tlp.GREEN) == []
    popular = body("[domain-name:value = 'google.com']")
    assert str(skip_reason(popular)).startswith("warninglisted")
    flagged = body("[domain-name:value = 'gate.phish-kit.net']", labels=['misp:to_ids="False"'])
    assert skip_reason(flagged) == "marked not for detection"
    assert skip_reason({"type": "malware", "id": "malware--1"}) == "not a STIX-pattern indicator"


@pytest.mark.parametrize("value", ["com", "JM.", "co.uk", "com.au", "in-addr.arpa"])
def test_a_top_level_domain_or_public_suffix_never_reaches_a_sensor(value: str) -> None:
    # "*.com CNAME ." would make every resolver fed the zone refuse all of .com.
    either = body(f"[domain-name:value = '{value}'] OR [domain-name:value = 'phish-kit.net']")
    assert "every name under it" in str(skip_reason(either))
    assert entries_of(either, "phish", Tlp.GREEN) == []
    assert skip_reason(body("[domain-name:value = 'phish-kit.co.uk']")) is None


# -- Zeek ---------------------------------------------------------------------------------------


def test_zeek_intel_file_follows_the_framework_header_and_types() -> None:
    text = zeek_intel(ALL)
    lines = text.splitlines()
    assert lines[0] == "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url"
    assert lines[0].split("\t")[1:] == list(FIELDS)
    rows = [dict(zip(FIELDS, line.split("\t"), strict=True)) for line in lines[1:]]
    assert all(row["indicator_type"] in TYPES for row in rows)
    assert all(row["meta.source"] == "seawall:phish" and row["meta.url"] == "-" for row in rows)
    got = {(row["indicator"], row["indicator_type"]) for row in rows}
    assert got == {
        ("evil.example", "Intel::DOMAIN"),
        ("203.0.113.9", "Intel::ADDR"),
        ("198.51.100.0/24", "Intel::SUBNET"),
        ("evil.example/gate.php", "Intel::URL"),  # Intel::URL has no scheme
        (MD5, "Intel::FILE_HASH"),
        (SHA256, "Intel::FILE_HASH"),
        ("boss@evil.example", "Intel::EMAIL"),
        (SHA1_CERT, "Intel::CERT_HASH"),
        ("2001:db8:abcd::/48", "Intel::SUBNET"),
    }
    desc = {row["indicator"]: row["meta.desc"] for row in rows}
    assert desc["evil.example"] == "indicator 1 [indicator--00000000-0000-4000-8000-000000000001]"
    assert text.endswith("\n") and len(rows) == len(got)


def test_zeek_intel_keeps_each_record_on_one_line() -> None:
    tricky = Entry(**{**entry(Kind.DOMAIN, "evil.example").__dict__, "name": "a\tb\nc"})
    text = zeek_intel([tricky, tricky])
    assert (
        text.splitlines()[1].split("\t")[3]
        == "a b c [indicator--00000000-0000-4000-8000-000000000001]"
    )
    assert len(text.splitlines()) == 2


# -- Suricata -----------------------------------------------------------------------------------


def test_suricata_rules_parse_and_name_what_they_match() -> None:
    files = suricata_files(ALL)
    assert set(files) == {"seawall.rules", "seawall-md5.list", "seawall-sha256.list"}
    assert files["seawall-md5.list"] == f"{MD5}\n"
    assert files["seawall-sha256.list"] == f"{SHA256}\n"
    rules = suricataparser.parse_rules(files["seawall.rules"])
    by_header = {(f"{r.action} {r.header}", str(r.msg)) for r in rules}
    assert {h for h, _ in by_header} == {
        "alert dns any any -> any any",
        "alert tls any any -> any any",
        "alert http any any -> any any",
        "alert ip any any -> 203.0.113.9 any",
        "alert ip 203.0.113.9 any -> any any",
        "alert ip any any -> 198.51.100.0/24 any",
        "alert ip 198.51.100.0/24 any -> any any",
        "alert ip any any -> 2001:db8:abcd::/48 any",
        "alert ip 2001:db8:abcd::/48 any -> any any",
        "alert smtp any any -> any any",
        "alert ftp-data any any -> any any",
        "alert smb any any -> any any",
        "alert nfs any any -> any any",
    }
    domain = [r for r in rules if str(r.msg).endswith(" evil.example - indicator 1")]
    assert {str(r.msg) for r in domain} == {
        f"SEAWALL INTEL {k} evil.example - indicator 1"
        for k in ("dns.query", "tls.sni", "http.host")
    }
    for rule in domain:
        options = {o.name: o.value for o in rule.options}
        assert options["content"] == '".evil.example"'
        assert "dotprefix" in options and "endswith" in options
        assert rule.rev == int(MODIFIED.timestamp())
        meta = dict(item.split(" ", 1) for item in options["metadata"].data)
        assert meta["seawall_id"] == "indicator--00000000-0000-4000-8000-000000000001"
        assert meta["seawall_value"] == "evil.example"
    assert len({r.sid for r in rules}) == len(rules) == 3 + 6 + 2 + 2 * 5
    url = [r for r in rules if "http url" in str(r.msg)]
    uris = {
        tuple(f"{o.name}:{o.value}" if o.value else o.name for o in r.options[1:9]) for r in url
    }
    assert uris == {
        (
            "http.host",
            'content:"evil.example"',
            "startswith",
            "endswith",
            "http.uri.raw",
            'content:"/gate.php"',
            "startswith",
            "endswith",
        ),
        (
            "http.host",
            'content:"evil.example"',
            "startswith",
            "endswith",
            "http.uri.raw",
            'content:"/gate.php?"',
            "startswith",
            "classtype:trojan-activity",
        ),
    }


def test_suricata_check_finds_no_mandatory_or_unexpected_issue() -> None:
    logging.getLogger("suricata_check").setLevel(logging.ERROR)
    for line in suricata_rules(ALL).splitlines():
        if "::/" in line:
            continue  # suricata-check's header pattern knows no IPv6 range; Suricata does
        found = suricata_check.analyze_rule(suricata_check.utils.rule.parse(line))
        bad = [i.code for i in found.issues if i.code[0] in "ME"]
        assert bad == [], (line, bad)


def test_sids_are_stable_per_indicator_whatever_else_is_exported() -> None:
    alone = suricataparser.parse_rules(suricata_rules(ALL[:1]))
    among = suricataparser.parse_rules(suricata_rules(ALL))
    sids = {str(r.msg): r.sid for r in alone}
    assert sids == {str(r.msg): r.sid for r in among if str(r.msg) in sids}
    assert all(SID_BASE <= int(s) < SID_BASE + SID_SPAN for s in sids.values())


# Two rules whose keys hash to one sid (found by search): 10.0.76.179 "from" and
# 10.0.87.180 "to", both of indicator 999.
CLASHING = [entry(Kind.IP, "10.0.76.179", 999), entry(Kind.IP, "10.0.87.180", 999)]


@settings(max_examples=50, deadline=None)
@given(st.sets(st.integers(0, 255), min_size=2, max_size=30))
def test_sids_never_clash_even_when_their_hashes_do(hosts: set[int]) -> None:
    clash = sid_of(f"{CLASHING[0].indicator}|10.0.76.179|from")
    assert clash == sid_of(f"{CLASHING[1].indicator}|10.0.87.180|to")  # the hashes do clash
    entries = [entry(Kind.IP, f"192.0.2.{i}", i) for i in sorted(hosts)] + CLASHING
    rules = suricataparser.parse_rules(suricata_rules(entries))
    assert len({r.sid for r in rules}) == 2 * len(entries)
    assert clash in {r.sid for r in rules}  # one of the two keeps it, the other moves on
    assert sid_of("x") == sid_of("x")


def test_url_rules_take_plain_http_urls_and_escape_what_content_cannot_hold() -> None:
    odd = entry(Kind.URL, 'http://evil.example/a;b"c|d e', 1)
    rules = suricataparser.parse_rules(suricata_rules([odd]))
    contents = {o.value for r in rules for o in r.options if o.name == "content"}
    assert contents == {'"evil.example"', '"/a|3B|b|22|c|7C|d|20|e"', '"/a|3B|b|22|c|7C|d|20|e?"'}
    for rule in rules:
        meta = dict(item.split(" ", 1) for item in rule.options[-1].value.data)
        assert set(meta) == {"seawall_id", "seawall_tlp"}  # the value holds a ";"
    assert suricata_rules([entry(Kind.URL, "https://evil.example/x")]) == ""
    assert suricata_rules([entry(Kind.URL, "http://evil.example:8080/x")]) == ""


def test_hash_lists_hold_each_hash_once() -> None:
    assert hash_lists([entry(Kind.HASH, MD5, 1), entry(Kind.HASH, MD5, 2)]) == {
        "seawall-md5.list": f"{MD5}\n"
    }


# -- RPZ ----------------------------------------------------------------------------------------


def test_rpz_ip_owners() -> None:
    assert rpz_ip("203.0.113.9") == "32.9.113.0.203.rpz-ip"
    assert rpz_ip("198.51.100.0/24") == "24.0.100.51.198.rpz-ip"
    assert rpz_ip("2001:db8:abcd::/48") == "48.zz.abcd.db8.2001.rpz-ip"
    assert rpz_ip("2001:db8::1") == "128.1.zz.db8.2001.rpz-ip"
    assert rpz_ip("1:2:3:4:5:6:7:8") == "128.8.7.6.5.4.3.2.1.rpz-ip"


def test_rpz_records_are_exact() -> None:
    records, left_out = rpz_records(ALL)
    assert records == sorted(
        [
            "evil.example CNAME .",
            "*.evil.example CNAME .",
            "32.9.113.0.203.rpz-ip CNAME .",
            "24.0.100.51.198.rpz-ip CNAME .",
            "48.zz.abcd.db8.2001.rpz-ip CNAME .",
        ]
    )
    assert left_out == 0
    bad, left = rpz_records([entry(Kind.DOMAIN, "a b.example"), entry(Kind.DOMAIN, "x" * 64)])
    assert (bad, left) == ([], 2)
    assert rpz_records([entry(Kind.IP, "0.0.0.0/0"), entry(Kind.IP, "::/0")]) == ([], 2)


# tools/ensure-services installs bind9-utils and unbound (CI too): a missing tool fails the
# test rather than skipping it.
CHECKZONE = shutil.which("named-checkzone") or "/usr/bin/named-checkzone"
LABEL = st.from_regex(r"\A[a-z0-9_](?:[a-z0-9_-]{0,20}[a-z0-9_])?\Z")
NAME = st.lists(LABEL, min_size=2, max_size=4).map(".".join)


def named_checkzone(tmp: Path, text: str) -> subprocess.CompletedProcess[str]:
    path = tmp / "seawall.rpz"
    path.write_text(text)
    return subprocess.run(
        [CHECKZONE, "-i", "none", "rpz.seawall", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(NAME, min_size=1, max_size=20))
def test_the_zone_always_passes_named_checkzone(tmp_path: Path, names: list[str]) -> None:
    entries = [entry(Kind.DOMAIN, n, i) for i, n in enumerate(names)]
    entries += [entry(Kind.IP, "203.0.113.9", 99), entry(Kind.IP, "2001:db8::/32", 98)]
    zone = rpz_zone(entries, serial=1_795_000_000)
    checked = named_checkzone(tmp_path, zone.text)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    lines = zone.text.splitlines()
    for name in set(names):
        assert lines.count(f"{name} CNAME .") == 1
        assert lines.count(f"*.{name} CNAME .") == 1
    assert len(zone.records) == 2 * len(set(names)) + 2


VALUES = st.one_of(
    st.tuples(st.just(Kind.DOMAIN), NAME),
    st.tuples(st.just(Kind.IP), st.ip_addresses(v=4).map(str)),
    st.tuples(st.just(Kind.HASH), st.binary(min_size=16, max_size=16).map(bytes.hex)),
)
ZEEK_TYPE = {Kind.DOMAIN: "Intel::DOMAIN", Kind.IP: "Intel::ADDR", Kind.HASH: "Intel::FILE_HASH"}


@settings(max_examples=50, deadline=None)
@given(st.lists(VALUES, max_size=30))
def test_every_value_is_one_zeek_item_of_its_type(values: list[tuple[Kind, str]]) -> None:
    entries = [entry(kind, value, n) for n, (kind, value) in enumerate(values)]
    lines = zeek_intel(entries).splitlines()
    cells = [line.split("\t") for line in lines[1:]]
    assert all(len(c) == len(FIELDS) and c[1] in TYPES for c in cells)
    assert sorted((c[0], c[1]) for c in cells) == sorted(
        {(value, ZEEK_TYPE[kind]) for kind, value in values}
    )


def test_a_feed_fingerprint_changes_only_with_what_the_file_is_made_from() -> None:
    same = fingerprint("rpz", ALL)
    assert fingerprint("rpz", list(reversed(ALL))) == same
    assert fingerprint("zeek-intel", ALL) != same
    assert fingerprint("rpz", ALL[1:]) != same
    renamed = Entry(**{**ALL[0].__dict__, "name": "renamed"})
    assert fingerprint("rpz", [renamed, *ALL[1:]]) != same


# -- hostile and odd values ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "\uff47\uff4f\uff4f\uff47\uff4c\uff45.com",  # fullwidth: IDNA 2003 makes google.com
        "goo\u200bgle.com",  # a zero-width space, which IDNA 2003 drops
        "ex\u00adample.com",  # a soft hyphen, likewise
    ],
)
def test_a_name_idna_would_turn_into_another_is_never_exported(value: str) -> None:
    # The warninglists compare the value as written, so a look-alike of a popular name
    # passes them; written as the name it maps to, it would block that name nationally.
    indicator = body(f"[domain-name:value = '{value}']")
    found = entries_of(indicator, "phish", Tlp.GREEN)
    assert rpz_records(found) == ([], len(found))
    assert suricata_rules(found) == ""
    assert zeek_intel(found).splitlines()[1:] == []


def test_odd_but_real_names_are_exported_as_dns_names() -> None:
    names = {
        "Пример.РФ.": "xn--e1afmkfd.xn--p1ai",  # an IDN, upper case, a trailing dot
        "EVIL.Example.": "evil.example",
        "_dmarc.evil.example": "_dmarc.evil.example",
        # IDNA 2008 keeps the ß (IDNA 2003 made it strasse.de, another domain).
        "straße.de": "xn--strae-oqa.de",
        "xn--STRAE-oqa.de": "xn--strae-oqa.de",
    }
    for value, name in names.items():
        found = entries_of(body(f"[domain-name:value = '{value}']"), "phish", Tlp.GREEN)
        assert rpz_records(found) == ([f"*.{name} CNAME .", f"{name} CNAME ."], 0)
        assert {r.split("\t")[0] for r in zeek_intel(found).splitlines()[1:]} == {name}
        contents = {
            o.value
            for r in suricataparser.parse_rules(suricata_rules(found))
            for o in r.options
            if o.name == "content"
        }
        assert contents == {f'".{name}"'}
    wildcard = entries_of(body("[domain-name:value = '*.evil.example']"), "phish", Tlp.GREEN)
    assert rpz_records(wildcard) == ([], 1)
    assert suricata_rules(wildcard) == "" and zeek_intel(wildcard).count("\n") == 1


# Text a hostile source may put in a value: rule and zone syntax, quotes, line breaks.
HOSTILE = st.text(
    st.sampled_from(list("abc.-_/:;\"'\\|()[]{},#$@* \t\r\n\x00\x0b\x85\u2028é\u3002\uff41")),
    min_size=1,
    max_size=24,
)
KINDS = {
    "domain": "domain-name:value = '{}'",
    "url": "url:value = 'http://evil.example/{}'",
    "url-host": "url:value = 'http://{}/x'",
    "email": "email-addr:value = '{}@evil.example'",
    "file-name": "file:name = '{}'",
}


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


@settings(max_examples=300, deadline=None)
# Half the values are DNS names a sensor takes: hostile text alone is nearly always left out
# of every file, and would leave the rule and zone checks below with nothing to check.
@given(st.sampled_from(sorted(KINDS)), st.one_of(HOSTILE, NAME), HOSTILE)
def test_no_value_breaks_or_injects_a_rule_zone_record_or_intel_item(
    kind: str, value: str, name: str
) -> None:
    indicator = body(f"[{KINDS[kind].format(_escaped(value))}]", name=name)
    found = entries_of(indicator, "phish", Tlp.GREEN)
    # Suricata: every line is one rule, and a rule of ours.
    lines = suricata_rules(found).split("\n")[:-1]  # Suricata reads a rule a "\n"-ended line
    assert len(suricataparser.parse_rules("\n".join(lines))) == len(lines)
    for line in lines:
        (rule,) = suricataparser.parse_rules(line)
        assert str(rule.msg).startswith("SEAWALL INTEL ")
        assert line.endswith(";)") and line.count(" sid:") == 1
    # RPZ: only NXDOMAIN triggers of DNS names, one a line.
    for record in rpz_records(found)[0]:
        owner, _, rest = record.partition(" ")
        assert rest == "CNAME ." and all(
            c in "abcdefghijklmnopqrstuvwxyz0123456789-_.*" for c in owner
        )
    # Zeek: one item of five cells a "\n"-ended line, none holding a control character.
    for line in zeek_intel(found).split("\n")[1:-1]:
        cells = line.split("\t")
        assert len(cells) == len(FIELDS) and cells[1] in TYPES
        assert not any(c < " " or c == "\x7f" for cell in cells for c in cell)


@pytest.mark.parametrize("value", ["16.0.0.0/4", "0.0.0.0/1", "2001::/16", "2000::/3"])
def test_a_range_wider_than_a_slash_8_or_a_slash_32_never_reaches_a_sensor(value: str) -> None:
    kind = "ipv6-addr" if ":" in value else "ipv4-addr"
    wide = body(f"[{kind}:value = '{value}']")
    assert "wider than" in str(skip_reason(wide))
    assert entries_of(wide, "c", Tlp.GREEN) == []


@pytest.mark.parametrize(
    ("value", "wide"),
    [
        ("16.0.0.0/7", True),
        ("16.0.0.0/8", False),
        ("91.219.236.0/24", False),
        ("91.219.236.18", False),
        ("2a0c::/31", True),
        ("2a0c::/32", False),
        ("2a0c:b641::1", False),
    ],
)
def test_the_widest_range_a_sensor_takes_is_a_slash_8_or_a_slash_32(value: str, wide: bool) -> None:
    assert too_wide(value) is wide


def test_a_narrow_range_is_not_left_out_for_its_width() -> None:
    assert skip_reason(body("[ipv4-addr:value = '91.219.236.0/24']")) is None
