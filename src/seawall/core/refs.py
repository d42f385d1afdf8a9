"""One rule for ids typed by people: the whole id, or a unique prefix of at least
:data:`MIN_PREFIX` characters (as git takes commit ids).

Every service that takes an id resolves it here, so ``seawall assess round show 68f3eebe``
and ``/assess/rounds/68f3eebe`` mean the same round. A prefix that matches several records is
an :class:`~seawall.errors.AmbiguousId` naming the candidates; one that matches none returns
``None``, and the service raises its own not-found error (which says where to list them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from seawall.errors import AmbiguousId

T = TypeVar("T")

MIN_PREFIX = 4
"""The fewest characters of an id taken as a prefix."""

SHOWN = 5
"""Candidates named in an ambiguity error."""


def is_prefix(ref: str) -> bool:
    """Whether ``ref`` is long enough to be taken as an id prefix."""
    return len(ref.strip()) >= MIN_PREFIX


def pick_one(ref: str, what: str, found: Sequence[T], name: Callable[[T], str]) -> T | None:
    """The one record of ``found`` (matches of ``ref``), ``None`` for none, or AmbiguousId."""
    if not found:
        return None
    if len(found) > 1:
        names = sorted(name(row) for row in found)
        more = ", ..." if len(names) > SHOWN else ""
        raise AmbiguousId(
            f"{what} {ref!r} is ambiguous: it matches {', '.join(names[:SHOWN])}{more}; "
            "give more of it"
        )
    return found[0]


def by_prefix(
    db: Session,
    stmt: Select[T],
    column: InstrumentedAttribute[Any],
    ref: str,
    what: str,
) -> T | None:
    """The row of ``stmt`` whose ``column`` is ``ref`` or starts with it (when ``ref`` is long
    enough); ``None`` when none does; AmbiguousId when several do.

    ``stmt`` already holds the caller's visibility rule (its nation, its permissions), so a
    prefix never reveals another nation's records, not even as an ambiguity.
    """
    ref = ref.strip()
    exact = db.scalars(stmt.where(column == ref).limit(2)).all()
    if exact:
        return pick_one(ref, what, exact, lambda row: str(getattr(row, column.key)))
    if not is_prefix(ref):
        return None
    found = db.scalars(
        stmt.where(column.startswith(ref.lower(), autoescape=True)).limit(SHOWN + 1)
    ).all()
    return pick_one(ref, what, found, lambda row: str(getattr(row, column.key)))


def match_prefix(ref: str, what: str, candidates: Sequence[T], key: Callable[[T], str]) -> T | None:
    """:func:`by_prefix` over records already in memory (snapshots read from a repository)."""
    ref = ref.strip()
    exact = [c for c in candidates if key(c) == ref]
    if exact:
        return pick_one(ref, what, exact, key)
    if not is_prefix(ref):
        return None
    low = ref.lower()
    return pick_one(ref, what, [c for c in candidates if key(c).startswith(low)], key)


__all__ = ["MIN_PREFIX", "by_prefix", "is_prefix", "match_prefix", "pick_one"]
