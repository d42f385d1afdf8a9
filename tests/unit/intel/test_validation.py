"""Ingest validation: cheap format checks, then pattern parsing; errors name id and property."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import stix2
from hypothesis import given, settings
from hypothesis import strategies as st
from stix2patterns.validator import run_validator

from seawall.intel.errors import InvalidStixObject
from seawall.intel.validation import (
    SCO_TYPES,
    check_object,
    check_objects,
    is_simple_pattern,
    parse_timestamp,
)

ID = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"


def indicator(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": ID,
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-02T00:00:00.000Z",
        "pattern": "[domain-name:value = 'evil.example']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def rejection(obj: Any) -> InvalidStixObject:
    with pytest.raises(InvalidStixObject) as caught:
        check_object(obj)
    return caught.value


def test_a_valid_indicator_passes_with_its_index_fields() -> None:
    checked = check_object(indicator(object_marking_refs=[f"marking-definition--{uuid.uuid4()}"]))
    assert (checked.id, checked.type, checked.spec_version) == (ID, "indicator", "2.1")
    assert checked.version == datetime(2026, 1, 2, tzinfo=UTC)
    assert len(checked.marking_refs) == 1


@pytest.mark.parametrize(
    ("changes", "prop", "words"),
    [
        ({"type": None}, "type", "is required"),
        ({"type": "Indicator"}, "type", "a-z"),
        ({"id": "indicator--not-a-uuid"}, "id", "indicator--<uuid>"),
        ({"id": f"malware--{uuid.uuid4()}"}, "id", "start with its type"),
        ({"spec_version": "2.0"}, "spec_version", "STIX 2.1 only"),
        ({"spec_version": None}, "spec_version", "is required"),
        ({"created": None}, "created", "is required"),
        ({"modified": "2026-01-02 00:00:00"}, "modified", "not a STIX timestamp"),
        ({"modified": "2026-02-30T00:00:00Z"}, "modified", "not a real date"),
        ({"modified": "2025-12-31T00:00:00Z"}, "modified", "earlier than created"),
        ({"pattern": None}, "pattern", "is required"),
        ({"pattern": "[ipv4-addr:value = '1.2.3.4'"}, "pattern", "does not parse"),
        ({"pattern": "ipv4-addr:value = '1.2.3.4'"}, "pattern", "does not parse"),
        ({"pattern": "[ipv4-addr:value = '1.2.3.400']"}, "pattern", "not an IPv4 address"),
        ({"pattern": "[ipv4-addr:value = 'not-an-ip']"}, "pattern", "not an IPv4 address"),
        ({"pattern": "[ipv6-addr:value = '10.0.0.1']"}, "pattern", "not an IPv6 address"),
        ({"valid_until": "2025-01-01T00:00:00Z"}, "valid_until", "later than valid_from"),
        ({"created_by_ref": "organization--x"}, "created_by_ref", "not a STIX identifier"),
        ({"created_by_ref": f"malware--{uuid.uuid4()}"}, "created_by_ref", "identity"),
        ({"object_marking_refs": "tlp:red"}, "object_marking_refs", "must be a list"),
        ({"revoked": "yes"}, "revoked", "true or false"),
    ],
)
def test_each_broken_property_is_named_with_the_object_id(
    changes: dict[str, Any], prop: str, words: str
) -> None:
    error = rejection(indicator(**changes))
    assert error.prop == prop
    assert words in error.message
    if prop != "id":
        assert error.message.startswith(ID)


@pytest.mark.parametrize(
    "pattern",
    [
        "[ipv4-addr:value = '198.51.100.7']",
        "[ipv4-addr:value = '198.51.100.0/24']",
        "[ipv6-addr:value = '2001:db8::/32'] OR [ipv4-addr:value != '10.0.0.1']",
        "[domain-name:value = 'c2.example'] AND [ipv4-addr:value = '203.0.113.9']",
    ],
)
def test_addresses_and_ranges_in_patterns_pass(pattern: str) -> None:
    assert check_object(indicator(pattern=pattern)).type == "indicator"


def test_a_bundle_inside_an_envelope_is_refused() -> None:
    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": []}
    assert "TAXII envelope" in rejection(bundle).message


def test_non_objects_are_refused() -> None:
    assert rejection(["not", "an", "object"]).prop == "object"


def test_observables_and_marking_definitions_have_their_own_rules() -> None:
    ip = {"type": "ipv4-addr", "id": f"ipv4-addr--{uuid.uuid4()}", "value": "203.0.113.9"}
    assert check_object(ip).version is None
    marking = json.loads(stix2.TLP_AMBER.serialize())
    checked = check_object(marking)
    assert checked.modified is None and checked.created is not None


def test_relationships_need_both_ends() -> None:
    rel = {
        "type": "relationship",
        "spec_version": "2.1",
        "id": f"relationship--{uuid.uuid4()}",
        "created": "2026-01-01T00:00:00Z",
        "modified": "2026-01-01T00:00:00Z",
        "relationship_type": "indicates",
        "source_ref": ID,
    }
    assert rejection(rel).prop == "target_ref"


def test_granular_marking_refs_count_as_markings() -> None:
    ref = f"marking-definition--{uuid.uuid4()}"
    checked = check_object(
        indicator(granular_markings=[{"marking_ref": ref, "selectors": ["description"]}])
    )
    assert checked.marking_refs == (ref,)


def test_one_bad_object_does_not_sink_the_rest() -> None:
    good_a, good_b = indicator(), indicator(id=f"indicator--{uuid.uuid4()}")
    good, bad = check_objects([good_a, indicator(pattern="[nope"), good_b])
    assert [c.body for c in good] == [good_a, good_b]
    assert len(bad) == 1 and bad[0].prop == "pattern"


def test_timestamps_keep_microseconds_and_ignore_finer_digits() -> None:
    stamp = parse_timestamp("2026-01-01T00:00:00.123456789Z")
    assert stamp == datetime(2026, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)


values = st.from_regex(r"[a-z]{1,12}\.example", fullmatch=True)


@settings(max_examples=40, deadline=None)
@given(values, st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1)))
def test_indicators_made_by_the_stix2_library_pass(domain: str, when: datetime) -> None:
    made = stix2.Indicator(
        pattern=f"[domain-name:value = '{domain}']",
        pattern_type="stix",
        valid_from=when.replace(tzinfo=UTC),
        object_marking_refs=[stix2.TLP_GREEN],
    )
    checked = check_object(json.loads(made.serialize()))
    assert checked.id == made.id


parts = st.one_of(
    st.sampled_from(["value", "name", "src_ref", "t", "b", "h", "x", "_", "AND", "true", "IN"]),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True),
)
literals = st.one_of(
    st.text(max_size=12).map(lambda t: "'" + t.replace("\\", "\\\\").replace("'", "\\'") + "'"),
    st.integers(min_value=0, max_value=10**6).map(str),
    st.text(alphabet="'\\ab]", max_size=6).map(lambda t: f"'{t}'"),
)
comparisons = st.builds(
    lambda kind, path, op, space, value: f"{kind}:{'.'.join(path)}{space}{op}{space}{value}",
    st.sampled_from(sorted(SCO_TYPES)),
    st.lists(parts, min_size=1, max_size=3),
    st.sampled_from(["=", "!="]),
    st.sampled_from(["", " ", "  "]),
    literals,
)
patterns = st.builds(
    lambda first, rest, pad: f"[{pad}{first}{''.join(f' {j} {c}' for j, c in rest)}{pad}]",
    comparisons,
    st.lists(st.tuples(st.sampled_from(["AND", "OR"]), comparisons), max_size=3),
    st.sampled_from(["", " "]),
)


@settings(max_examples=150, deadline=None)
@given(patterns)
def test_the_fast_path_accepts_only_what_the_stix_grammar_accepts(pattern: str) -> None:
    if is_simple_pattern(pattern):
        assert run_validator(pattern, "2.1") == [], pattern


@pytest.mark.parametrize(
    ("pattern", "fast"),
    [
        ("[ipv4-addr:value = '198.51.100.7']", True),
        ("[domain-name:value = 'a.example' OR url:value = 'http://a.example/x']", True),
        ("[network-traffic:dst_port = 443]", True),
        ("[file:hashes.'SHA-256' = 'abc']", False),
        ("[file:hashes.MD5 = 'abc']", False),
        ("[ipv4-addr:value = '1.2.3.4'] WITHIN 5 SECONDS", False),
        ("[ipv4-addr:value = '1.2.3.4'", False),
    ],
)
def test_common_patterns_take_the_fast_path(pattern: str, fast: bool) -> None:
    assert is_simple_pattern(pattern) is fast


HASH_NAMES = [
    "MD5",
    "'MD5'",
    "'SHA-1'",
    "'SHA-256'",
    "'SHA-512'",
    "'SHA3-256'",
    "'SHA3-512'",
    "'SHA-384'",
    "'SSDEEP'",
    "SHA1",
    "'sha-256'",
]
hash_patterns = st.builds(
    lambda name, digest, pad: f"[{pad}file:hashes.{name}{pad}={pad}'{digest}'{pad}]",
    st.sampled_from(HASH_NAMES),
    st.one_of(
        st.sampled_from([32, 40, 64, 128]).flatmap(
            lambda n: st.text(alphabet="0123456789abcdefABCDEF", min_size=n, max_size=n)
        ),
        st.text(alphabet="0123456789abcdefgz", min_size=0, max_size=130),
    ),
    st.sampled_from(["", " "]),
)


@settings(max_examples=200, deadline=None)
@given(hash_patterns)
def test_the_hash_fast_path_accepts_only_what_the_stix_grammar_accepts(pattern: str) -> None:
    if is_simple_pattern(pattern):
        assert run_validator(pattern, "2.1") == [], pattern


@pytest.mark.parametrize(
    ("name", "length"),
    [("MD5", 32), ("'SHA-1'", 40), ("'SHA-256'", 64), ("'SHA-512'", 128), ("'SHA3-256'", 64)],
)
def test_well_formed_file_hashes_take_the_fast_path(name: str, length: int) -> None:
    pattern = f"[file:hashes.{name} = '{'a1' * (length // 2)}']"
    assert is_simple_pattern(pattern)
    assert run_validator(pattern, "2.1") == []
