"""Bounds on what ingest hands to parsers: one oversized object is refused, the rest are kept.

The STIX pattern parser (ANTLR, in ``stix2-patterns``) recurses about one Python frame per
comparison term and several per bracket, so a pattern nested 3,000 deep or ORing 5,000
terms raised RecursionError and lost the whole envelope.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.intel import ingest, quality
from seawall.intel.errors import InvalidStixObject, UnreadableIntel
from seawall.intel.matching.observables import decisive
from seawall.intel.misp import reading
from seawall.intel.validation import (
    MAX_NESTING,
    MAX_PATTERN_CHARS,
    MAX_PATTERN_DEPTH,
    MAX_PATTERN_TERMS,
    check_object,
    check_objects,
    pattern_errors,
)

T = TypeVar("T")
TERM = "ipv4-addr:value = '198.51.100.7'"


def indicator(pattern: str, ident: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": ident or f"indicator--{uuid.uuid4()}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-02T00:00:00.000Z",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        **extra,
    }


def ored(count: int, term: str = TERM) -> str:
    return "[" + " OR ".join([term] * count) + "]"


def nested(depth: int, opening: str = "(", closing: str = ")") -> str:
    return opening * depth + f"[{TERM}]" + closing * depth


def from_deep_stack(frames: int, work: Callable[[], T]) -> T:
    """Run ``work`` under ``frames`` extra Python frames, as a server's call stack would."""
    return work() if frames == 0 else from_deep_stack(frames - 1, work)


def refusal(obj: dict[str, Any]) -> str:
    with pytest.raises(InvalidStixObject) as caught:
        check_object(obj)
    assert caught.value.prop == "pattern"
    message = caught.value.message
    assert "\n" not in message
    assert message.startswith(obj["id"])
    return message


LONG = "[file:name = '" + "x" * MAX_PATTERN_CHARS + "']"


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        (
            "[" * 3000 + TERM + "]" * 3000,
            f"nests 3,000 deep, over the limit of {MAX_PATTERN_DEPTH}",
        ),
        (nested(3000), f"nests 3,001 deep, over the limit of {MAX_PATTERN_DEPTH}"),
        (
            ored(1000, "a:b = 1"),
            f"has 1,000 comparison terms, over the limit of {MAX_PATTERN_TERMS}",
        ),
        (
            ored(2000, "a:b LIKE 'x%'"),
            f"has 2,000 comparison terms, over the limit of {MAX_PATTERN_TERMS}",
        ),
        (ored(5000), f"is {len(ored(5000)):,} characters, over the limit of {MAX_PATTERN_CHARS:,}"),
        (LONG, f"is {len(LONG):,} characters, over the limit of {MAX_PATTERN_CHARS:,}"),
    ],
)
def test_an_oversized_pattern_is_refused_naming_its_id_and_the_limit(
    pattern: str, words: str
) -> None:
    message = refusal(indicator(pattern))
    assert words in message


def test_an_oversized_pattern_is_refused_alone_and_the_rest_is_kept() -> None:
    first, last = indicator(f"[{TERM}]"), indicator("[domain-name:value = 'c2.example']")
    good, bad = check_objects([first, indicator(nested(3000)), indicator(ored(5000)), last])
    assert [c.body for c in good] == [first, last]
    assert [b.prop for b in bad] == ["pattern", "pattern"]


def test_brackets_and_keywords_inside_strings_do_not_count() -> None:
    pattern = "[file:name = '" + "[(" * 100 + " OR " * 1000 + "']"
    assert check_object(indicator(pattern)).type == "indicator"


def test_patterns_at_the_limits_parse_from_a_deep_call_stack() -> None:
    # The limits leave the parser room under Python's default recursion limit (1,000),
    # even 200 frames down, where a web request or a CLI command calls it.
    widest = ored(MAX_PATTERN_TERMS, "file:name LIKE 'x%'")
    deepest = nested(MAX_PATTERN_DEPTH - 1)
    both = "(" * (MAX_PATTERN_DEPTH - 2) + widest + ")" * (MAX_PATTERN_DEPTH - 2)
    for pattern in (widest, deepest, both):
        assert len(pattern) <= MAX_PATTERN_CHARS
        assert from_deep_stack(200, lambda p=pattern: pattern_errors.__wrapped__(p)) == ()


def test_a_pattern_the_parser_cannot_finish_is_refused_not_raised() -> None:
    # Within every bound, but one object path of 2,000 steps: the last line of defence.
    pattern = "[file:" + ".".join(["a"] * 2000) + " LIKE 'x%']"
    message = refusal(indicator(pattern))
    assert "does not parse" in message and "too deeply" in message


@settings(max_examples=200, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("[]()'\\ ORANDxyz:=.-\x00\u00e9\U0001d7d8\u00b2\u202e")),
        max_size=300,
    )
)
def test_parsing_any_text_as_a_pattern_never_raises(text: str) -> None:
    assert isinstance(pattern_errors(text), tuple)
    assert decisive(text) is None or isinstance(decisive(text), tuple)


def test_matching_and_quality_never_crash_on_a_stored_oversized_pattern() -> None:
    # Patterns stored before the limits existed are still read by matching and quality.
    for pattern in (
        ored(5000),
        ored(5000, "file:name LIKE 'x%'"),
        nested(3000),
        "[" * 3000 + TERM + "]" * 3000,
        "[file:" + ".".join(["a"] * 2000) + " = 'x']",
    ):
        assert from_deep_stack(100, lambda p=pattern: decisive(p)) is None
        assert not quality.assess(indicator(pattern)).hits


def test_an_id_in_upper_case_hex_is_accepted_and_kept_as_sent() -> None:
    ident = "indicator--4D2C5E5A-8B1F-4C3D-9E7F-0A1B2C3D4E5F"
    checked = check_object(
        indicator(
            f"[{TERM}]",
            ident=ident,
            created_by_ref="identity--7A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D",
        )
    )
    assert checked.id == ident
    assert checked.created_by_ref == "identity--7A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D"


def test_an_object_nested_too_deep_to_store_is_refused() -> None:
    deep: Any = "bottom"
    for _ in range(1000):
        deep = {"x": deep}
    obj = indicator(f"[{TERM}]", x_custom=deep)
    with pytest.raises(InvalidStixObject) as caught:
        check_object(obj)
    assert caught.value.prop == "x_custom"
    assert f"nests deeper than the limit of {MAX_NESTING} levels" in caught.value.message
    shallow: Any = "bottom"
    for _ in range(MAX_NESTING - 2):
        shallow = [shallow]
    assert check_object(indicator(f"[{TERM}]", x_custom=shallow)).type == "indicator"


@pytest.mark.parametrize("depth", [2_000, 100_000])
def test_a_file_nested_too_deep_to_read_is_unreadable(depth: int) -> None:
    text = "[" * depth + "]" * depth
    with pytest.raises(UnreadableIntel, match="nested"):
        ingest.stix_objects(text, "deep.json")
    with pytest.raises(UnreadableIntel, match="nested"):
        reading.read_events(text, "deep.json")
    event = json.dumps({"Event": {"info": "x", "Attribute": []}})
    assert ingest.parse_bytes("e.json", event.encode()).format is ingest.Format.MISP
