"""Indexing the observables an object holds, so correlation never compares pairs.

Every stored version of an indicator or a cyber observable is indexed once, in the
transaction that stores it: one row per (observable, version) in ``intel_observables``.
An observable is a (kind, value) pair normalised as the matcher compares it
(:func:`seawall.intel.matching.observables.normalise`), so ``EVIL.example.`` and
``evil.example`` are one value, and so are ``10.0.0.1`` and ``10.0.0.1/32``.

An indicator holds every value its STIX pattern compares for equality, in any
combination: ``[file:name = 'a.exe' AND file:hashes.MD5 = '…']`` holds the hash, though
no single log value proves that pattern (the matcher's :func:`decisive` returns None), and
a ``domain|ip`` pair holds both the name and its ``resolves_to_refs`` address. Names are
indexed in punycode, so ``bücher.example`` and ``xn--bcher-kva.example`` correlate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, delete, false, select
from sqlalchemy.orm import Session
from stix2patterns.exceptions import ParseException  # type: ignore[import-untyped]
from stix2patterns.v21.inspector import InspectionListener  # type: ignore[import-untyped]
from stix2patterns.v21.pattern import Pattern  # type: ignore[import-untyped]

from seawall.db.bulk import insert_rows
from seawall.db.models.intel import IntelObject
from seawall.db.models.intel_correlation import IntelObservable
from seawall.intel.matching.observables import (
    OBJECT_PATHS,
    Kind,
    Observable,
    decisive,
    normalise,
    object_path,
)
from seawall.intel.validation import pattern_excess

# The pattern paths that name an observable: the matcher's own table, so the two never
# drift. A resolved address (``domain|ip``) is indexed as an address, so the pair
# correlates with the address. A file's name (compared as written) is read only where it
# decides a pattern alone (:func:`decisive`), never from a joint pattern.
_PATHS: dict[tuple[str, str], Kind] = {
    key: Kind.IP if kind is Kind.RESOLVED else kind
    for key, kind in OBJECT_PATHS.items()
    if kind is not Kind.FILE_NAME
}
# Cyber observables whose ``value`` is the observable itself, and those that carry hashes.
_VALUE_TYPES: dict[str, Kind] = {
    sco: kind for (sco, path), kind in _PATHS.items() if path == "value"
}
_HASHED_TYPES = frozenset(sco for sco, path in _PATHS if path == "hashes.*")
INDEXED_TYPES = frozenset({"indicator", *_VALUE_TYPES, *_HASHED_TYPES})
_BATCH = 2_000


def value_key(observable: Observable) -> int:
    """The 64-bit signed key an observable is indexed under."""
    digest = hashlib.blake2b(
        f"{observable.kind}\x00{observable.value}".encode(), digest_size=8
    ).digest()
    return int.from_bytes(digest, "big", signed=True)


# How a value typed into a search may be held: as each kind the index holds.
_SEARCHED_KINDS = (*dict.fromkeys(_PATHS.values()), Kind.FILE_NAME)


def search_keys(text: str) -> list[int]:
    """The index keys a value typed into a search is held under, read as each kind of
    observable it can be (``EVIL.example.`` as the name ``evil.example``, ``2001:DB8::0:1``
    as the address ``2001:db8::1``): a search finds what correlation would."""
    found = (_one(kind, text) for kind in _SEARCHED_KINDS)
    return sorted({value_key(o) for o in found if o})


def holds_observable(text: str) -> ColumnElement[bool]:
    """SQL for "this stored version holds ``text`` as an observable", by the index: it
    narrows only which versions match; who may read them is left to the caller's query."""
    keys = search_keys(text)
    if not keys:
        return false()
    held = select(IntelObservable.object_seq).where(IntelObservable.value_key.in_(keys))
    return IntelObject.seq.in_(held)


def observables_of(kind: str, body: Mapping[str, Any]) -> tuple[Observable, ...]:
    """The normalised observables one object holds (none for most object types)."""
    if kind == "indicator":
        pattern = body.get("pattern")
        if body.get("pattern_type", "stix") != "stix" or not isinstance(pattern, str):
            return ()
        return decisive(pattern) or pattern_observables(pattern)
    sort = _VALUE_TYPES.get(kind)
    if sort is not None:
        found = _one(sort, body.get("value"))
        return (found,) if found else ()
    if kind in _HASHED_TYPES and isinstance(body.get("hashes"), dict):
        hashes = [_one(Kind.HASH, v) for v in body["hashes"].values()]
        return tuple(dict.fromkeys(h for h in hashes if h))
    return ()


def _one(kind: Kind, value: Any) -> Observable | None:
    if not isinstance(value, str):
        return None
    normal = normalise(kind, value)
    return Observable(kind, normal) if normal else None


def pattern_observables(pattern: str) -> tuple[Observable, ...]:
    """Every value a STIX pattern tests for equality (``=``, ``IN``, ``ISSUBSET``),
    whatever joins the tests; negated tests hold nothing."""
    if pattern_excess(pattern) is not None:
        return ()
    listener = InspectionListener()
    try:
        Pattern(pattern).walk(listener)
    except (ParseException, RecursionError):
        return ()
    found: list[Observable] = []
    for sco, tests in listener.pattern_data().comparisons.items():
        for steps, op, literal in tests:
            sort = _PATHS.get((sco, object_path(steps)))
            if sort is None or op not in ("=", "IN", "ISSUBSET"):
                continue
            for text in _literals(str(literal)):
                item = _one(sort, text)
                if item:
                    found.append(item)
    return tuple(dict.fromkeys(found))


def _literals(literal: str) -> list[str]:
    """The quoted strings of a literal or a set literal, unescaped."""
    out: list[str] = []
    at = 0
    while (start := literal.find("'", at)) != -1:
        i, chars = start + 1, []
        while i < len(literal) and literal[i] != "'":
            if literal[i] == "\\" and i + 1 < len(literal):
                i += 1
            chars.append(literal[i])
            i += 1
        out.append("".join(chars))
        at = i + 1
    return out


def keys_of(kind: str, body: Mapping[str, Any]) -> set[int]:
    """The index keys of one object."""
    return {value_key(o) for o in observables_of(kind, body)}


def index_batch(
    db: Session, collection_id: str, date_added: datetime, rows: Sequence[Mapping[str, Any]]
) -> int:
    """Index the rows just stored as one batch (they share ``date_added``); returns how
    many index rows were written."""
    wanted = {(r["stix_id"], r["version"]): r for r in rows if r["type"] in INDEXED_TYPES}
    if not wanted:
        return 0
    stored = db.execute(
        select(IntelObject.seq, IntelObject.stix_id, IntelObject.version).where(
            IntelObject.collection_id == collection_id, IntelObject.date_added == date_added
        )
    )
    entries: list[dict[str, Any]] = []
    for seq, stix_id, version in stored:
        row = wanted.get((stix_id, version))
        if row is not None:
            keys = keys_of(row["type"], orjson.loads(row["body"]))
            entries += ({"value_key": k, "object_seq": seq} for k in sorted(keys))
    insert_rows(db, IntelObservable, entries)
    return len(entries)


def backfill(db: Session) -> int:
    """Index every stored version not indexed yet (after an upgrade); returns the rows written."""
    written, after = 0, -1
    indexed = select(IntelObservable.object_seq).where(
        IntelObservable.object_seq == IntelObject.seq
    )
    while True:
        chunk = db.execute(
            select(IntelObject.seq, IntelObject.type, IntelObject.body)
            .where(
                IntelObject.seq > after,
                IntelObject.type.in_(sorted(INDEXED_TYPES)),
                ~indexed.exists(),
            )
            .order_by(IntelObject.seq)
            .limit(_BATCH)
        ).all()
        if not chunk:
            return written
        entries = _entries(chunk)
        insert_rows(db, IntelObservable, entries)
        written += len(entries)
        after = chunk[-1].seq


def _entries(rows: Sequence[tuple[int, str, str]]) -> list[dict[str, int]]:
    """The index rows of stored versions given as (seq, type, body)."""
    return [
        {"value_key": k, "object_seq": seq}
        for seq, kind, body in rows
        for k in sorted(keys_of(kind, orjson.loads(body)))
    ]


def reindex(db: Session, stale: Callable[[str], bool]) -> int:
    """Index again every stored version whose body ``stale`` picks (after the way values
    are read changed); returns how many versions were indexed again. Only index rows are
    rewritten: the objects are left as they are."""
    done, after = 0, -1
    while True:
        chunk = db.execute(
            select(IntelObject.seq, IntelObject.type, IntelObject.body)
            .where(IntelObject.seq > after, IntelObject.type.in_(sorted(INDEXED_TYPES)))
            .order_by(IntelObject.seq)
            .limit(_BATCH)
        ).all()
        if not chunk:
            return done
        again = [(seq, kind, body) for seq, kind, body in chunk if stale(body)]
        if again:
            db.execute(
                delete(IntelObservable).where(
                    IntelObservable.object_seq.in_([seq for seq, _, _ in again])
                )
            )
            insert_rows(db, IntelObservable, _entries(again))
            done += len(again)
        after = chunk[-1].seq


__all__ = [
    "INDEXED_TYPES",
    "backfill",
    "holds_observable",
    "index_batch",
    "keys_of",
    "observables_of",
    "pattern_observables",
    "reindex",
    "search_keys",
    "value_key",
]
