"""The names the sensor exports write are the names Seawall's matcher compares (IDNA 2008
with UTS #46 mapping), or none: a value the matcher refuses, or no DNS name, is left out."""

from __future__ import annotations

import pytest
import suricataparser
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.intel.exports.entries import dns_name, entries_of
from seawall.intel.exports.rpz import rpz_records
from seawall.intel.exports.suricata import suricata_rules
from seawall.intel.exports.zeek import zeek_intel
from seawall.intel.matching.observables import domain
from seawall.intel.tlp import Tlp
from tests.unit.intel.test_exports import body

EXPORTED = {
    "evil.example": "evil.example",
    "EVIL.Example.": "evil.example",  # upper case, a trailing dot
    "evil.example..": "evil.example",
    "_dmarc.Evil.example": "_dmarc.evil.example",  # a real DNS label IDNA would refuse
    "BÜCHER.example.": "xn--bcher-kva.example",
    "xn--bcher-kva.example": "xn--bcher-kva.example",  # punycode input, as written
    "XN--BCHER-KVA.Example": "xn--bcher-kva.example",
    "xn--n3h.example": "xn--n3h.example",  # ASCII is the name on the wire, even so
    # IDNA 2008 keeps ß, ς and the joiners IDNA 2003 mapped away (strasse.de is another domain).
    "straße.de": "xn--strae-oqa.de",
    "faß.de": "xn--fa-hia.de",
    "ΣΊΣΥΦΟΣ.gr": "xn--kxa6akbbkh.gr",  # Greek capitals, each sigma small
    "Пример.РФ.": "xn--e1afmkfd.xn--p1ai",
    "a\u0301.example": "xn--1ca.example",  # a combining accent is the same name as á
    # Look-alikes in another script are names of their own: the zone blocks just that name.
    "p\u0430ypal.com": "xn--pypal-4ve.com",  # a Cyrillic small a (U+0430) among Latin letters
    "\u0440\u0430\u0443\u0440\u0430l.com": "xn--l-7sba6dbr.com",  # Cyrillic er, a and u
}
REFUSED = [
    "\uff47\uff4f\uff4f\uff47\uff4c\uff45.com",  # fullwidth: UTS #46 would make it google.com
    "goo\u200bgle.com",  # a zero-width space, which the mapping drops
    "ex\u00adample.com",  # a soft hyphen, likewise
    "\u2168.example",  # a Roman numeral nine, which maps to "ix"
    "\u2603.example",  # a symbol: IDNA 2003 took it (xn--n3h), IDNA 2008 refuses it
    "a b.example",
    "*.evil.example",
    "evil..example",
    ".",
    "",
    "-evil.example",
    "x" * 64 + ".example",
    ".".join(["a" * 63] * 4),  # 255 octets
]


@pytest.mark.parametrize(("value", "name"), sorted(EXPORTED.items()))
def test_a_name_is_exported_as_the_matcher_compares_it(value: str, name: str) -> None:
    assert dns_name(value) == name == domain(value)


@pytest.mark.parametrize("value", REFUSED)
def test_a_name_the_matcher_refuses_or_no_dns_name_is_never_exported(value: str) -> None:
    assert dns_name(value) is None


TEXT = st.text(
    st.sampled_from(list("aZ0-_.* ßςΣüÜ\u0301\u0430\u200b\u00ad\uff45\u2603\u3002Xn")),
    max_size=20,
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(TEXT, st.from_regex(r"\A(?:xn--)?[a-z0-9ßü]{1,8}\.[a-z]{2,5}\.?\Z")))
def test_every_exported_name_is_the_one_the_matcher_compares(value: str) -> None:
    name = dns_name(value)
    assert name is None or name == domain(value)
    assert name is None or dns_name(name) == name  # exporting an exported name keeps it


@pytest.mark.parametrize(("value", "name"), [("straße.de", "xn--strae-oqa.de")])
def test_each_sensor_file_holds_the_name_as_the_matcher_does(value: str, name: str) -> None:
    found = entries_of(body(f"[domain-name:value = '{value}']"), "phish", Tlp.GREEN)
    assert rpz_records(found) == ([f"*.{name} CNAME .", f"{name} CNAME ."], 0)
    assert [r.split("\t")[0] for r in zeek_intel(found).splitlines()[1:]] == [name]
    contents = {
        o.value
        for r in suricataparser.parse_rules(suricata_rules(found))
        for o in r.options
        if o.name == "content"
    }
    assert contents == {f'".{name}"'}
