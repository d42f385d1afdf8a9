"""Indicator quality: MISP warninglists at ingest, and expiry and revocation on the way out."""

from __future__ import annotations

import ipaddress
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stix2validator import ValidationOptions, validate_instance

from seawall.core import partners
from seawall.core.access import Principal, Role
from seawall.core.clock import FrozenClock
from seawall.core.node import Node
from seawall.intel import cases, ingest, quality, search
from seawall.intel.collections import Audience, create_collection
from seawall.intel.ingest import Format, Parsed
from seawall.intel.quality import Action, Status
from seawall.intel.samples import _objects, load_sample_intel

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
STAMP = "2026-11-20T10:00:00.000Z"
SHA256 = "5f2b7c9e1d3a4b6c8e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d"
RFC1918 = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]


def indicator(n: int, pattern: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.UUID(int=n, version=4)}",
        "created": STAMP,
        "modified": STAMP,
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": STAMP,
        **extra,
    }


def lists_hit(value: str, kind: str) -> set[str]:
    return {hit.list_name for hit in quality.check_value(value, kind)}


def test_a_public_resolver_is_flagged_not_suppressed() -> None:
    verdict = quality.assess(indicator(1, "[ipv4-addr:value = '8.8.8.8']"))
    assert verdict.flagged and not verdict.suppressed
    assert "public DNS resolver" in verdict.reason and "public-dns-v4" in verdict.reason


def test_a_top_domain_and_its_subdomains_are_flagged() -> None:
    assert "tranco10k" in lists_hit("google.com", "domain")
    assert "tranco10k" in lists_hit("mail.google.com", "domain")
    assert "tranco10k" in lists_hit("https://www.google.com/search?q=x", "domain")
    verdict = quality.assess(indicator(2, "[domain-name:value = 'google.com']"))
    assert verdict.flagged and "most visited" in verdict.reason


def test_a_url_with_an_unbalanced_bracket_is_checked_not_a_crash() -> None:
    # urlsplit raises "Invalid IPv6 URL" on it; a hostile feed must not stop an import.
    assert "tranco10k" in lists_hit("http://[google.com/x", "domain")
    assert quality.assess(indicator(9, "[url:value = 'http://[/x']")).hits == ()


def test_private_ranges_are_compared_as_ranges() -> None:
    assert "rfc1918" in lists_hit("10.1.2.3", "ip")
    assert "rfc1918" in lists_hit("10.1.2.3/8", "ip")  # the /8 around it is private too
    assert "rfc1918" in lists_hit("172.20.0.0/16", "ip")
    assert "rfc1918" in lists_hit("8.0.0.0/4", "ip")  # a range that holds 10.0.0.0/8
    assert "rfc1918" not in lists_hit("11.0.0.0/8", "ip")
    verdict = quality.assess(indicator(3, "[ipv4-addr:value = '10.1.2.3/8']"))
    assert verdict.suppressed and "private address range" in verdict.reason


def test_an_indicator_with_one_real_value_is_flagged_not_suppressed() -> None:
    pattern = "[ipv4-addr:value = '192.168.1.5' OR ipv4-addr:value = '45.77.12.9']"
    verdict = quality.assess(indicator(4, pattern))
    assert verdict.flagged and not verdict.suppressed


@pytest.mark.parametrize(
    "pattern",
    [
        "[ipv4-addr:value = '45.77.12.9']",
        "[domain-name:value = 'taxrefund-gov-jm.example']",
        "[url:value = 'https://secure-login.ncb-verify.example/session']",
        f"[file:hashes.'SHA-256' = '{SHA256}']",
    ],
)
def test_a_normal_indicator_is_not_flagged(pattern: str) -> None:
    verdict = quality.assess(indicator(5, pattern))
    assert verdict.hits == () and not verdict.flagged and not verdict.suppressed


def test_the_hash_of_an_empty_file_is_suppressed() -> None:
    verdict = quality.assess(indicator(6, "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"))
    assert verdict.suppressed and "empty file" in verdict.reason


@given(
    st.one_of(
        st.ip_addresses(v=4),
        *(st.ip_addresses(network=str(n)) for n in RFC1918),
        st.ip_addresses(network="172.0.0.0/8"),
    )
)
@settings(max_examples=200, deadline=None)
def test_every_rfc1918_address_is_suppressed(address: ipaddress.IPv4Address) -> None:
    hits = quality.check_value(str(address), "ip")
    if any(address in n for n in RFC1918):
        assert any(h.list_name == "rfc1918" and h.action is Action.SUPPRESS for h in hits)
    else:
        assert all(h.list_name != "rfc1918" for h in hits)


def test_revoked_and_expired_indicators_are_not_active() -> None:
    assert quality.status_of(indicator(1, "[x:y = 'a']"), NOW) is Status.ACTIVE
    assert quality.status_of(indicator(1, "[x:y = 'a']", revoked=True), NOW) is Status.REVOKED
    ended = indicator(1, "[x:y = 'a']", valid_until="2026-11-22T00:00:00Z")
    assert quality.status_of(ended, NOW) is Status.EXPIRED
    assert quality.status_of(ended, NOW - timedelta(days=2)) is Status.ACTIVE
    later = indicator(1, "[x:y = 'a']", valid_from="2026-12-01T00:00:00Z")
    assert quality.status_of(later, NOW) is Status.PENDING
    assert not quality.is_active(ended, NOW)


def _analyst() -> Principal:
    return Principal("jm-analyst", "JM", Role.ANALYST, user_id="u1", org_id="org-jm")


def _imported(node: Node, *patterns: str) -> tuple[list[dict[str, Any]], ingest.ImportReport]:
    """Indicators with these patterns, imported by Jamaica's analyst into a new collection."""
    objects = [indicator(n, pattern) for n, pattern in enumerate(patterns, start=1)]
    with node.unit(_analyst()) as ctx:
        collection = create_collection(ctx, "phish", audience=Audience.of(nations=["JM"]))
        report = ingest.import_objects(ctx, collection, Parsed(Format.STIX, objects))
    return objects, report


def test_import_suppresses_flags_and_keeps_the_rest(any_node: Node) -> None:
    node = any_node
    objects, report = _imported(
        node,
        "[ipv4-addr:value = '10.1.2.3']",
        "[ipv4-addr:value = '8.8.8.8']",
        "[domain-name:value = 'taxrefund-gov-jm.example']",
    )
    assert [r.id for r in report.suppressed] == [objects[0]["id"]]
    assert "RFC 1918" in report.suppressed[0].message
    assert [r.id for r in report.flagged] == [objects[1]["id"]]
    assert {r.id for r in report.added} == {objects[1]["id"], objects[2]["id"]}
    with node.unit(_analyst()) as ctx:
        assert search.search(ctx, "10.1.2.3") == []
        (found,) = search.search(ctx, "8.8.8.8")
        assert "public DNS resolver" in found.warning


def test_search_ignores_case_and_finds_addresses_by_substring(any_node: Node) -> None:
    objects, _ = _imported(
        any_node,
        "[domain-name:value = 'TaxRefund-Gov-JM.example']",
        "[ipv4-addr:value = '45.83.64.77']",
        "[ipv4-addr:value = '45.83.64.7']",
    )
    with any_node.unit(_analyst()) as ctx:
        for needle in ("taxrefund-gov-jm", "TAXREFUND-GOV-JM.EXAMPLE", "Gov-Jm"):
            assert [f.id for f in search.search(ctx, needle)] == [objects[0]["id"]]
        assert [f.id for f in search.search(ctx, "45.83.64.77")] == [objects[1]["id"]]
        assert {f.id for f in search.search(ctx, "45.83.64.7")} == {
            objects[1]["id"],
            objects[2]["id"],
        }
        assert search.search(ctx, "100%") == []  # LIKE's wildcards are escaped


def test_keep_suppressed_stores_them_flagged(node: Node) -> None:
    objects = [indicator(1, "[ipv4-addr:value = '10.1.2.3']")]
    with node.unit(_analyst()) as ctx:
        collection = create_collection(ctx, "lab")
        report = ingest.import_objects(
            ctx, collection, Parsed(Format.STIX, objects), keep_suppressed=True
        )
    assert len(report.added) == 1 and len(report.flagged) == 1


def test_export_leaves_out_revoked_and_expired_until_asked(
    any_node: Node, clock: FrozenClock
) -> None:
    node = any_node
    live = indicator(1, "[domain-name:value = 'a.example']")
    revoked = indicator(2, "[domain-name:value = 'b.example']", revoked=True)
    expiring = indicator(3, "[domain-name:value = 'c.example']", valid_until="2026-11-24T00:00:00Z")
    with node.unit(_analyst()) as ctx:
        collection = create_collection(ctx, "phish")
        ingest.import_objects(ctx, collection, Parsed(Format.STIX, [live, revoked, expiring]))
    with node.unit(_analyst()) as ctx:
        bundle = search.stix_bundle(ctx, search.readable_collections(ctx))
        ids = {o["id"] for o in bundle["objects"]}
        assert ids >= {live["id"], expiring["id"]} and revoked["id"] not in ids
    clock.advance(days=2)
    with node.unit(_analyst()) as ctx:
        chosen = search.readable_collections(ctx, "phish")
        ids = {o["id"] for o in search.stix_bundle(ctx, chosen)["objects"]}
        assert ids & {revoked["id"], expiring["id"]} == set()
        everything = search.stix_bundle(ctx, chosen, include_inactive=True)
        assert {live["id"], revoked["id"], expiring["id"]} <= {
            o["id"] for o in everything["objects"]
        }
        events = search.misp_events(ctx, chosen, "JM node")["response"]
        values = [a["value"] for e in events for a in e["Event"]["Attribute"]]
        assert values == ["a.example"]


def test_misp_export_marks_warninglisted_indicators_not_for_detection(node: Node) -> None:
    objects = [indicator(1, "[ipv4-addr:value = '8.8.8.8']")]
    with node.unit(_analyst()) as ctx:
        collection = create_collection(ctx, "phish")
        ingest.import_objects(ctx, collection, Parsed(Format.STIX, objects))
        (event,) = search.misp_events(ctx, [collection], "JM node")["response"]
    (attr,) = event["Event"]["Attribute"]
    assert attr["value"] == "8.8.8.8" and attr["to_ids"] is False
    assert "public DNS resolver" in attr["comment"]
    assert json.dumps(event)  # serialisable as MISP expects


def test_sample_intel_covers_every_state_and_loads_once(node: Node) -> None:
    with node.unit(node.operator()) as ctx:
        # Trinidad and Tobago's sample objects arrive only from a partner of TT.
        partners.add_partner(ctx, "tt-national", "TT", "https://tt.example", max_tlp="amber")
        first = load_sample_intel(ctx)
    with node.unit(node.operator()) as ctx:
        assert load_sample_intel(ctx) == dict.fromkeys(first, 0)
        found = search.search(ctx, "SAMPLE")
    assert {f.status for f in found} >= {Status.ACTIVE, Status.EXPIRED, Status.REVOKED}
    assert any("public DNS resolver" in f.warning for f in found)
    # The operator submitted them all, so it is a named recipient of every level.
    assert {f.tlp.name for f in found} == {"CLEAR", "GREEN", "AMBER", "AMBER_STRICT", "RED"}
    with node.unit(node.operator()) as ctx:
        (case,) = cases.find_cases(ctx).items
    # The sample case was opened by Jamaica and holds a note from Trinidad and Tobago.
    assert case.nations == ["JM", "TT"] and [e.kind for e in case.timeline] == [
        "link",
        "link",
        "note",
        "note",
    ]


def test_every_sample_object_is_valid_stix() -> None:
    options = ValidationOptions(version="2.1")
    made = [obj for objects in _objects().values() for obj in objects]
    errors = {o["id"]: [str(e) for e in validate_instance(o, options).errors] for o in made}
    assert errors == {o["id"]: [] for o in made}
