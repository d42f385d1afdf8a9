"""Correlation: every other object holding the same observable, as each reader may see it."""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from seawall.core.access import Principal, Role
from seawall.core.node import Node
from seawall.db.models import Organisation
from seawall.db.models.intel_correlation import IntelObservable
from seawall.intel import correlation, observable_index, search
from seawall.intel.collections import Audience, create_collection, get_collection
from seawall.intel.matching.observables import Kind, Observable
from seawall.intel.store import writing
from seawall.intel.store.reading import Filters
from seawall.intel.tlp import Tlp, marking_id
from tests import stix
from tests.stix import sid

IP = "198.51.100.7"


def person(name: str, nation: str, org: str | None = None, role: Role = Role.ANALYST) -> Principal:
    return Principal(name, nation, role, user_id=name, org_id=org)


JM = person("jm-analyst", "JM", "org-jm-cirt")
JM_BANK = person("jm-bank", "JM", "org-jm-bank", Role.VIEWER)
JM_OTHER = person("jm-other", "JM", "org-jm-other", Role.VIEWER)
TT = person("tt-analyst", "TT", None)


def indicator(n: int, pattern: str, tlp: Tlp | None = None, **extra: Any) -> dict[str, Any]:
    """An indicator, unmarked unless given a TLP."""
    return stix.indicator(n, pattern, tlp, **extra)


def sco(kind: str, n: int, tlp: Tlp | None = None, **props: Any) -> dict[str, Any]:
    made: dict[str, Any] = {"type": kind, "spec_version": "2.1", "id": sid(kind, n), **props}
    if tlp is not None:
        made["object_marking_refs"] = [marking_id(tlp)]
    return made


def add(node: Node, who: Principal, alias: str, objects: list[dict[str, Any]]) -> None:
    with node.unit(who) as ctx:
        result = writing.add_objects(ctx, get_collection(ctx, alias), objects)
    assert len(result.added) == len(objects), result.refused


def seen_by(node: Node, who: Principal, alias: str, object_id: str) -> set[str]:
    with node.unit(who) as ctx:
        newest = search.history(ctx, get_collection(ctx, alias), object_id)[0]
        found = correlation.correlated(ctx, newest)
    return {f"{c.collection}/{c.id}" for c in found.objects}


def collections(node: Node) -> None:
    """JM's bank, other org and CIRT; a shared, a JM-only and a bank-only collection."""
    with node.unit(node.operator()) as ctx:
        for org in ("org-jm-bank", "org-jm-other", "org-jm-cirt"):
            ctx.db.add(Organisation(id=org, nation="JM", name=org, kind="ministry",
                                    created_at=ctx.now()))  # fmt: skip
        ctx.db.flush()
        create_collection(ctx, "shared", "Shared", None, "green")
        create_collection(ctx, "jm-only", "JM only", Audience.of(nations=["JM"]), "amber")
        create_collection(
            ctx, "bank", "Bank", Audience.of(nations=["JM"], organisations=["org-jm-bank"]), "red"
        )


def world(node: Node) -> None:
    collections(node)
    add(node, JM, "shared", [indicator(1, f"[ipv4-addr:value = '{IP}']", Tlp.GREEN)])
    add(node, JM, "jm-only", [sco("ipv4-addr", 2, value=IP)])
    add(node, JM, "bank", [indicator(3, f"[ipv4-addr:value = '{IP}/32']", Tlp.RED)])
    add(
        node,
        TT,
        "shared",
        [
            indicator(4, f"[ipv4-addr:value = '{IP}' OR domain-name:value = 'x.example']"),
            indicator(5, "[ipv4-addr:value = '198.51.100.8']"),  # another value
            # Only its older version held the value.
            indicator(6, f"[ipv4-addr:value = '{IP}']"),
            indicator(6, "[ipv4-addr:value = '203.0.113.1']", modified="2026-11-02T00:00:00Z"),
            indicator(7, f"[ipv4-addr:value = '{IP}']", Tlp.AMBER),  # TT's AMBER
        ],
    )


def test_each_reader_sees_exactly_the_correlations_they_may_read(any_node: Node) -> None:
    node = any_node
    world(node)
    one = sid("indicator", 1)
    assert seen_by(node, JM, "shared", one) == {
        f"jm-only/{sid('ipv4-addr', 2)}",
        f"bank/{sid('indicator', 3)}",  # RED: JM's analyst submitted it
        f"shared/{sid('indicator', 4)}",
    }
    # Named in the bank collection's audience: sees its RED.
    assert seen_by(node, JM_BANK, "shared", one) == {
        f"jm-only/{sid('ipv4-addr', 2)}",
        f"bank/{sid('indicator', 3)}",
        f"shared/{sid('indicator', 4)}",
    }
    # Same nation, another organisation: the RED one in another collection never shows.
    assert seen_by(node, JM_OTHER, "shared", one) == {
        f"jm-only/{sid('ipv4-addr', 2)}",
        f"shared/{sid('indicator', 4)}",
    }
    # Another nation: only the shared collection, and its own AMBER.
    assert seen_by(node, TT, "shared", one) == {
        f"shared/{sid('indicator', 4)}",
        f"shared/{sid('indicator', 7)}",
    }
    assert seen_by(node, JM, "shared", sid("indicator", 5)) == set()


def test_correlation_names_the_shared_value_and_follows_deletes(node: Node) -> None:
    world(node)
    with node.unit(JM) as ctx:
        newest = search.history(ctx, get_collection(ctx, "jm-only"), sid("ipv4-addr", 2))[0]
        found = correlation.correlated(ctx, newest)
    assert found.observables == (Observable(Kind.IP, IP),)
    assert {c.shared for c in found.objects} == {(Observable(Kind.IP, IP),)}
    with node.unit(TT) as ctx:
        writing.delete_object(
            ctx, get_collection(ctx, "shared"), sid("indicator", 4), Filters(versions=("all",))
        )
    assert f"shared/{sid('indicator', 4)}" not in seen_by(node, JM, "shared", sid("indicator", 1))


def test_backfill_indexes_what_was_stored_before_the_index(node: Node) -> None:
    world(node)
    with node.unit(node.operator()) as ctx:
        before = ctx.db.scalar(select(func.count()).select_from(IntelObservable))
        ctx.db.execute(delete(IntelObservable))
        assert observable_index.backfill(ctx.db) == before
        assert observable_index.backfill(ctx.db) == 0
    assert before == 9  # one row per value per stored version (object 4 holds two)


def test_joint_patterns_hold_every_compared_value() -> None:
    md5 = "D41D8CD98F00B204E9800998ECF8427E"
    held = observable_index.observables_of(
        "indicator",
        {"pattern": f"[file:name = 'a.exe' AND file:hashes.MD5 = '{md5}']"},
    )
    assert held == (Observable(Kind.HASH, md5.lower()),)
    negated = observable_index.observables_of(
        "indicator", {"pattern": "[domain-name:value != 'a.example']"}
    )
    assert negated == ()
    assert observable_index.observables_of(
        "file", {"hashes": {"MD5": md5, "SHA-256": "ab" * 32}}
    ) == (Observable(Kind.HASH, md5.lower()), Observable(Kind.HASH, "ab" * 32))
    assert (
        observable_index.observables_of("indicator", {"pattern": "x", "pattern_type": "sigma"})
        == ()
    )


def test_an_idn_and_its_punycode_correlate_as_do_a_domain_ip_pair_and_its_address(
    node: Node,
) -> None:
    collections(node)
    pair = (
        f"[domain-name:value = 'pair.example' AND domain-name:resolves_to_refs[*].value = '{IP}']"
    )
    add(
        node,
        JM,
        "shared",
        [
            indicator(1, "[domain-name:value = 'BÜCHER.example.']"),
            indicator(2, "[domain-name:value = 'xn--bcher-kva.example']"),
            sco("domain-name", 3, value="bücher.example"),
            indicator(4, pair),
            indicator(5, f"[ipv4-addr:value = '{IP}']"),
            indicator(6, "[domain-name:value = 'bucher.example']"),  # another name
        ],
    )
    assert seen_by(node, JM, "shared", sid("indicator", 1)) == {
        f"shared/{sid('indicator', 2)}",
        f"shared/{sid('domain-name', 3)}",
    }
    assert seen_by(node, JM, "shared", sid("indicator", 5)) == {f"shared/{sid('indicator', 4)}"}
    held = observable_index.observables_of("indicator", {"pattern": pair})
    assert held == (Observable(Kind.DOMAIN, "pair.example"), Observable(Kind.IP, IP))


@given(st.ip_addresses(v=4), st.booleans())
def test_an_address_and_its_single_host_range_are_one_value(address: Any, as_range: bool) -> None:
    text = f"{address}/32" if as_range else str(address)
    pattern = observable_index.keys_of("indicator", {"pattern": f"[ipv4-addr:value = '{text}']"})
    assert pattern == observable_index.keys_of("ipv4-addr", {"value": str(address)})
    assert ipaddress.ip_address(str(address))


@given(st.from_regex(r"[a-z][a-z0-9-]{0,20}\.[a-z]{2,6}", fullmatch=True), st.data())
def test_a_domain_is_one_value_whatever_its_case_and_trailing_dot(host: str, data: Any) -> None:
    upper = data.draw(st.lists(st.booleans(), min_size=len(host), max_size=len(host)))
    spelled = "".join(c.upper() if u else c for c, u in zip(host, upper, strict=True))
    spelled += data.draw(st.sampled_from(["", "."]))
    keys = observable_index.keys_of("indicator", {"pattern": f"[domain-name:value = '{spelled}']"})
    assert keys == observable_index.keys_of("domain-name", {"value": host})
    assert len(keys) == 1


def test_the_exact_set_follows_tlp_audiences_and_named_recipients(node: Node) -> None:
    """Every (collection, holder, marking) holds the value; each reader's set, by the rules."""
    collections(node)
    made: dict[str, tuple[str, str, Tlp]] = {}
    places = [("shared", JM), ("jm-only", JM), ("bank", JM), ("shared", TT)]
    for n, ((alias, holder), tlp) in enumerate(itertools.product(places, Tlp), start=10):
        add(node, holder, alias, [indicator(n, f"[ipv4-addr:value = '{IP}']", tlp)])
        made[f"{alias}/{sid('indicator', n)}"] = (alias, holder.nation, tlp)
    add(node, JM, "shared", [sco("ipv4-addr", 1, Tlp.CLEAR, value=IP)])

    def expect(rule: Callable[[str, str, Tlp], bool]) -> set[str]:
        return {key for key, (alias, nation, tlp) in made.items() if rule(alias, nation, tlp)}

    public = (Tlp.CLEAR, Tlp.GREEN)
    national = (*public, Tlp.AMBER)
    expected = {
        # The submitter is named for every object they stored; TT's only as far as GREEN.
        JM: expect(lambda a, n, t: n == "JM" or t in public),
        # Named by the bank collection: all of it; elsewhere, JM's up to AMBER.
        JM_BANK: expect(
            lambda a, n, t: (n == "JM" and (a == "bank" or t in national)) or t in public
        ),
        JM_OTHER: expect(lambda a, n, t: (n == "JM" and t in national) or t in public),
        # Outside JM's collections: the shared one, JM's to GREEN and all of its own.
        TT: expect(lambda a, n, t: a == "shared" and (n == "TT" or t in public)),
    }
    for reader, wanted in expected.items():
        assert seen_by(node, reader, "shared", sid("ipv4-addr", 1)) == wanted, reader.username


def test_the_index_reads_every_path_the_matcher_reads_but_file_names() -> None:
    """One table of pattern paths: the matcher's. The index reads a resolved address as an
    address (it correlates with the address itself), and leaves a file's name to text search."""
    from seawall.intel.matching import observables

    sample = {
        Kind.IP: IP,
        Kind.RESOLVED: IP,
        Kind.DOMAIN: "a.example",
        Kind.URL: "http://a.example/x",
        Kind.HASH: "d41d8cd98f00b204e9800998ecf8427e",
        Kind.EMAIL: "a@b.example",
    }
    read = dict(observables.OBJECT_PATHS)
    assert read.pop(("file", "name")) is Kind.FILE_NAME
    assert {
        key: Kind.IP if kind is Kind.RESOLVED else kind for key, kind in read.items()
    } == observable_index._PATHS
    for (sco, path), kind in read.items():
        written = path.replace("hashes.*", "hashes.MD5").replace(".*.", "[*].")
        held = observable_index.pattern_observables(f"[{sco}:{written} = '{sample[kind]}']")
        indexed = Kind.IP if kind is Kind.RESOLVED else kind
        assert held == (Observable(indexed, sample[kind]),), (sco, path)
