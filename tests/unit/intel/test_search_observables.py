"""Search finds an observable however it is written (Unicode or punycode, case, a final dot,
any IPv6 spelling), through the correlation index, and only what each reader may read, with
exact totals and keyset pages, on SQLite and PostgreSQL."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seawall.core import partners
from seawall.core.access import Principal, Role
from seawall.core.node import Node
from seawall.core.paging import PageRequest
from seawall.errors import InvalidInput
from seawall.intel import observable_index, search
from seawall.intel.collections import Audience, create_collection
from seawall.intel.store.listing import ObjectQuery
from seawall.intel.tlp import Tlp
from tests.stix import sid
from tests.unit.intel.test_correlation import (
    JM,
    JM_BANK,
    JM_OTHER,
    TT,
    add,
    collections,
    indicator,
    sco,
)

# A Cyrillic look-alike of apple.com (written with escapes: ruff flags look-alikes).
IDN = "\u0430\u0440\u0440\u04cf\u0435.com"
PUNY = "xn--80ak6aa92e.com"
NAME = f"[domain-name:value = '{IDN}']"
PUNY_NAME = f"[domain-name:value = '{PUNY}']"


def found(node: Node, who: Principal, text: str, limit: int = 500) -> tuple[set[str], int]:
    """Every hit, page by page, as collection/id, and the total each page gave (all equal)."""
    seen: list[str] = []
    totals: set[int] = set()
    cursor: str | None = None
    while True:
        with node.unit(who) as ctx:
            page = search.search_page(ctx, ObjectQuery(text=text, page=PageRequest(limit, cursor)))
        seen += [f"{f.collection}/{f.id}" for f in page.items]
        totals.add(page.total)
        cursor = page.next
        if cursor is None:
            break
    assert len(seen) == len(set(seen)), "a hit on two pages"
    (total,) = totals
    return set(seen), total


def partner_account(node: Node) -> Principal:
    """The sync account of partner tt-node (TT), capped at GREEN."""
    with node.unit(node.operator()) as ctx:
        partner = partners.add_partner(ctx, "tt-node", "TT", "https://tt.example", max_tlp="green")
    return Principal("sync-tt", "TT", Role.ANALYST, user_id="sync-tt", partner_id=partner.id)


def world(node: Node) -> None:
    collections(node)
    with node.unit(node.operator()) as ctx:
        create_collection(
            ctx, "tt-link", "TT link", Audience.of(nations=["JM"], partners=["tt-node"]), "green"
        )
    add(
        node,
        JM,
        "shared",
        [
            indicator(1, NAME, Tlp.GREEN),
            indicator(2, PUNY_NAME, Tlp.GREEN),
            sco("domain-name", 3, Tlp.GREEN, value=f"{IDN[:5].upper()}.com."),
            # Only its older version held the name.
            indicator(7, NAME, Tlp.GREEN),
            indicator(7, "[domain-name:value = 'b.example']", Tlp.GREEN, modified=LATER),
            indicator(8, "[domain-name:value = 'apple.com']", Tlp.GREEN),  # the real name
        ],
    )
    add(node, JM, "bank", [indicator(4, PUNY_NAME, Tlp.RED)])
    add(node, JM, "jm-only", [indicator(5, NAME, Tlp.AMBER)])
    add(node, TT, "shared", [indicator(6, NAME, Tlp.AMBER)])  # TT's AMBER
    add(node, JM, "tt-link", [indicator(9, NAME, Tlp.GREEN), indicator(10, NAME, Tlp.AMBER)])


LATER = "2026-11-02T00:00:00.000Z"


def hits(*where: tuple[str, str, int]) -> set[str]:
    return {f"{alias}/{sid(kind, n)}" for alias, kind, n in where}


def test_a_name_is_found_in_unicode_or_punycode_by_each_reader_as_it_may_read(
    any_node: Node,
) -> None:
    node = any_node
    world(node)
    tt_node = partner_account(node)
    every = hits(
        ("shared", "indicator", 1),
        ("shared", "indicator", 2),
        ("shared", "domain-name", 3),
        ("bank", "indicator", 4),
        ("jm-only", "indicator", 5),
        ("tt-link", "indicator", 9),
        ("tt-link", "indicator", 10),
    )
    expected: dict[Principal, set[str]] = {
        JM: every,
        JM_BANK: every,  # named by the bank collection
        JM_OTHER: every - hits(("bank", "indicator", 4)),  # RED in a collection not theirs
        # Only the open collection: JM's GREEN and TT's own AMBER.
        TT: hits(
            ("shared", "indicator", 1),
            ("shared", "indicator", 2),
            ("shared", "domain-name", 3),
            ("shared", "indicator", 6),
        ),
        # Only the collection naming it, JM's own rows, nothing above its GREEN cap.
        tt_node: hits(("tt-link", "indicator", 9)),
    }
    for reader, wanted in expected.items():
        for text in (IDN, PUNY, IDN.upper() + ".", PUNY.upper() + "."):
            assert found(node, reader, text, limit=2) == (wanted, len(wanted)), (reader, text)
    with node.unit(JM) as ctx:
        first = search.search(ctx, PUNY)  # the first page, as case linking reads it
    assert {f"{f.collection}/{f.id}" for f in first} == every


def test_hashes_addresses_urls_and_mail_in_any_spelling(any_node: Node) -> None:
    node = any_node
    collections(node)
    md5 = "D41D8CD98F00B204E9800998ECF8427E"
    add(
        node,
        JM,
        "shared",
        [
            indicator(1, f"[file:hashes.MD5 = '{md5}']"),
            sco("file", 2, hashes={"SHA-256": "AB" * 32}),
            indicator(3, "[ipv6-addr:value = '2001:0db8:0000:0000:0000:0000:0000:0001']"),
            indicator(4, "[ipv6-addr:value = '2001:db8::1']"),
            indicator(5, "[domain-name:value = 'evil.example']"),
            indicator(6, "[domain-name:value = 'notevil.example']"),
            indicator(7, "[url:value = 'http://bücher.example/Pay']"),
            indicator(8, "[email-addr:value = 'Boss@Bücher.example']"),
            indicator(9, "[ipv4-addr:value = '198.51.100.7/32']"),
        ],
    )

    def ids(text: str) -> set[str]:
        seen, total = found(node, JM, text)
        assert total == len(seen)
        return {hit.split("/")[1] for hit in seen}

    def ind(*numbers: int) -> set[str]:
        return {sid("indicator", n) for n in numbers}

    assert ids(md5.lower()) == ind(1)
    assert ids("ab" * 32) == {sid("file", 2)}
    assert ids("2001:db8::1") == ind(3, 4)
    assert ids("2001:0DB8::0:1") == ind(3, 4)
    assert ids("EVIL.Example.") == ind(5)  # the name itself, not one that ends with it
    assert ids("evil.example") == ind(5, 6)  # as text, the value held: both hold it
    assert ids("HTTP://XN--BCHER-KVA.EXAMPLE/Pay") == ind(7)
    assert ids("http://xn--bcher-kva.example/pay") == set()  # a path keeps its case
    assert ids("BOSS@xn--bcher-kva.example") == ind(8)
    assert ids("198.51.100.7") == ind(9)
    assert ids("no such value") == set()


@given(st.ip_addresses(v=6), st.sampled_from(["exploded", "compressed", "upper"]))
def test_an_ipv6_address_is_searched_under_its_one_key(address: Any, form: str) -> None:
    spelled = {
        "exploded": address.exploded,
        "compressed": address.compressed,
        "upper": address.compressed.upper(),
    }[form]
    held = observable_index.keys_of("ipv6-addr", {"value": str(ipaddress.ip_address(spelled))})
    assert held <= set(observable_index.search_keys(spelled))


@given(st.from_regex(r"[a-z][a-z0-9-]{0,20}\.[a-z]{2,6}", fullmatch=True), st.data())
def test_a_name_is_searched_under_its_key_whatever_its_case_and_final_dot(
    host: str, data: Any
) -> None:
    upper = data.draw(st.lists(st.booleans(), min_size=len(host), max_size=len(host)))
    spelled = "".join(c.upper() if u else c for c, u in zip(host, upper, strict=True))
    spelled += data.draw(st.sampled_from(["", "."]))
    held = observable_index.keys_of("domain-name", {"value": host})
    assert held <= set(observable_index.search_keys(spelled))


def test_a_look_alike_is_never_searched_as_the_name_it_maps_to() -> None:
    assert observable_index.search_keys("") == []
    real = observable_index.keys_of("domain-name", {"value": "ae.example"})
    assert real <= set(observable_index.search_keys("AE.example."))
    assert real.isdisjoint(observable_index.search_keys("a\uff45.example"))  # fullwidth e


@pytest.mark.parametrize(
    ("field", "label"),
    [("text", "the search text"), ("type", "the type"), ("creator", "the creator")],
)
def test_a_filter_that_is_not_utf8_is_refused_in_one_line(field: str, label: str) -> None:
    # A shell passes bytes that are not UTF-8 (b"\xff") as a lone surrogate, which no
    # stored body holds and neither database nor the index key can take.
    with pytest.raises(InvalidInput) as refused:
        ObjectQuery.parse(**{field: "a\udcffb.example"})
    assert refused.value.message == f"{label} 'a\\udcffb.example' is not UTF-8 text"
