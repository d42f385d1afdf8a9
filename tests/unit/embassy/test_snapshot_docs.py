"""A snapshot document parses into a well-typed Snapshot or is refused as IntegrityError."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.embassy.errors import IntegrityError
from seawall.embassy.snapshots import Snapshot

GOOD = Snapshot(
    id="ab" * 16,
    time=datetime(2026, 11, 23, 5, 0, tzinfo=UTC),
    hostname="node1",
    paths=("/srv/records",),
    tags=("daily",),
    excludes=("*.tmp",),
    files=1200,
    size=1_073_741_824,
    new_bytes=52_428_800,
    parent="cd" * 16,
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def good_doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(GOOD.to_json())
    return doc


def assert_well_typed(snap: Snapshot) -> None:
    assert isinstance(snap.id, str) and isinstance(snap.hostname, str)
    assert isinstance(snap.time, datetime)
    for field in (snap.paths, snap.tags, snap.excludes):
        assert isinstance(field, tuple) and all(isinstance(p, str) for p in field)
    assert isinstance(snap.degraded, bool)
    for number in (snap.files, snap.size, snap.new_bytes):
        assert isinstance(number, int) and not isinstance(number, bool)
    assert snap.parent is None or isinstance(snap.parent, str)
    assert isinstance(snap.extra, dict) and all(isinstance(k, str) for k in snap.extra)


def parse(doc: object) -> Snapshot | None:
    """The Snapshot, or None when refused as the typed error; any other exception escapes."""
    try:
        return Snapshot.from_json(json.dumps(doc).encode(), "snapshots/x")
    except IntegrityError as exc:
        refused = exc
    assert refused.message == "snapshots/x is not a valid snapshot"
    return None


def test_the_written_form_reads_back_identically() -> None:
    again = Snapshot.from_json(GOOD.to_json(), "snapshots/x")
    assert again == GOOD
    assert again.time.tzinfo is UTC
    assert again.to_json() == GOOD.to_json()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("files", "1200"),
        ("size", 1.5),
        ("new_bytes", True),
        ("hostname", ["node1"]),
        ("id", 7),
        ("paths", "/srv/records"),
        ("tags", [1]),
        ("degraded", "false"),
        ("degraded", 0),
        ("parent", ["x"]),
        ("extra", []),
        ("time", 1_700_000_000),
        ("time", "yesterday"),
        ("version", 2),
    ],
)
def test_a_wrong_type_is_refused_as_an_invalid_snapshot(field: str, value: object) -> None:
    doc = good_doc()
    doc[field] = value
    assert parse(doc) is None


@pytest.mark.parametrize("field", ["version", "id", "time", "hostname", "paths"])
def test_a_missing_required_field_is_refused(field: str) -> None:
    doc = good_doc()
    del doc[field]
    assert parse(doc) is None


def test_unknown_fields_are_ignored_as_the_format_says() -> None:
    doc = {**good_doc(), "written_by": "seawall 9"}
    assert parse(doc) == GOOD


@settings(max_examples=300, deadline=None)
@given(doc=json_values)
def test_any_json_document_parses_well_typed_or_is_refused(doc: object) -> None:
    snap = parse(doc)
    if snap is not None:
        assert_well_typed(snap)


@settings(max_examples=300, deadline=None)
@given(
    changes=st.dictionaries(
        st.sampled_from([*good_doc(), "unknown"]), json_values, min_size=1, max_size=3
    ),
    dropped=st.sets(st.sampled_from(list(good_doc())), max_size=2),
)
def test_any_change_to_a_good_document_parses_well_typed_or_is_refused(
    changes: dict[str, object], dropped: set[str]
) -> None:
    doc = {k: v for k, v in {**good_doc(), **changes}.items() if k not in dropped}
    snap = parse(doc)
    if snap is not None:
        assert_well_typed(snap)


def test_bytes_that_are_not_json_are_refused() -> None:
    for data in (b"", b"\xff\xfe", b"{", b"[" * 100_000):
        with pytest.raises(IntegrityError, match="is not a valid snapshot"):
            Snapshot.from_json(data, "snapshots/x")
