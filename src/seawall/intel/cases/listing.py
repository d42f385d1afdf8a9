"""The cases list: filters, a sort, a total, and keyset pages.

A page's cursor is the sort key of its last case (the key ends with the case's id, so it is
unique): the next page is the cases after that key, however many cases were opened or
changed meanwhile, and a case is never shown twice in one walk unless it moved.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.errors import InvalidInput, parse_choice
from seawall.intel.cases.local import load_work
from seawall.intel.cases.reading import Case, all_cases, build_case
from seawall.intel.cases.vocab import Severity, Status, core_of, severity_of, status_of
from seawall.intel.errors import BadCursor

PAGE_SIZE = 50
MAX_PAGE = 500

Key = tuple[Any, ...]
T = TypeVar("T")


class Sort(StrEnum):
    """How the list is ordered."""

    UPDATED = "updated"  # the most recently active first
    OPENED = "opened"  # the most recently opened first
    SEVERITY = "severity"  # the most severe first, then the most recently active
    TITLE = "title"  # A to Z


def parse_sort(value: str) -> Sort:
    """A sort as a user typed it, or InvalidInput naming the ones there are."""
    return parse_choice(Sort, "sort", value)


def _micros(case: Case, attribute: str) -> int:
    moment = getattr(case, attribute)
    return int(moment.timestamp() * 1_000_000)


_KEYS: dict[Sort, Callable[[Case], Key]] = {
    Sort.UPDATED: lambda c: (-_micros(c, "updated"), c.id),
    Sort.OPENED: lambda c: (-_micros(c, "opened"), c.id),
    Sort.SEVERITY: lambda c: (-c.severity.rank, -_micros(c, "updated"), c.id),
    Sort.TITLE: lambda c: (c.title.casefold(), c.id),
}


def sort_key(case: Case, sort: Sort) -> Key:
    """Where a case stands in ``sort``: ascending keys, ending with its id."""
    return _KEYS[sort](case)


def encode_cursor(sort: Sort, key: Key) -> str:
    """An opaque cursor for the page after ``key``."""
    raw = json.dumps([sort.value, *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(sort: Sort, cursor: str) -> Key:
    """The key a cursor holds, or BadCursor when it was not made for this sort."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
    except (ValueError, binascii.Error) as exc:
        raise BadCursor(f"page cursor {cursor[:40]!r} was not issued here: start again") from exc
    if not isinstance(value, list) or not value or value[0] != sort.value:
        raise BadCursor(f"page cursor {cursor[:40]!r} is not for sort {sort.value!r}")
    key = tuple(value[1:])
    if not key or not all(isinstance(part, int | str) for part in key):
        raise BadCursor(f"page cursor {cursor[:40]!r} was not issued here: start again")
    return key


def page_after(
    items: list[T], key: Callable[[T], Key], limit: int, after: Key | None
) -> tuple[list[T], Key | None]:
    """The ``limit`` items after ``after`` in ``key`` order, and the key to continue from
    (``None`` on the last page)."""
    ordered = sorted(items, key=key)
    if after is not None:
        ordered = [i for i in ordered if _after(key(i), after)]
    page = ordered[:limit]
    more = len(ordered) > limit
    return page, (key(page[-1]) if more and page else None)


def _after(key: Key, cursor: Key) -> bool:
    try:
        return key > cursor
    except TypeError:  # a cursor of another shape: nothing comes after it
        return False


@dataclass(frozen=True)
class CaseQuery:
    """Which cases, in which order, which page."""

    status: Status | None = None
    severity: Severity | None = None
    assignee: str | None = None  # a username of the caller's nation
    mine: bool = False  # assigned to the caller
    sort: Sort = Sort.UPDATED
    limit: int = PAGE_SIZE
    after: str = ""  # a cursor from a previous page


@dataclass(frozen=True)
class CasePage:
    """One page of the cases list."""

    cases: list[Case]
    total: int  # how many cases match the filters, on every page
    next: str | None  # the cursor of the next page; None on the last

    def as_json(self) -> dict[str, Any]:
        """The page for scripts."""
        return {
            "total": self.total,
            "next": self.next,
            "cases": [c.as_json() for c in self.cases],
        }


def find_cases(ctx: Ctx, query: CaseQuery | None = None) -> CasePage:
    """The cases the caller may see that match ``query``: one page, in its order, with the
    total (the assignee filters read the caller's nation's own assignments)."""
    require(ctx.who, Perm.INTEL_READ)
    query = query or CaseQuery()
    if not 0 < query.limit <= MAX_PAGE:
        raise InvalidInput(f"a page holds 1 to {MAX_PAGE} cases")
    after = decode_cursor(query.sort, query.after) if query.after else None
    found = all_cases(ctx)
    if query.status is not None:
        found = [f for f in found if status_of(core_of(f.body)) is query.status]
    if query.severity is not None:
        found = [f for f in found if severity_of(core_of(f.body)) is query.severity]
    work = load_work(ctx, [f.id for f in found])
    wanted = ctx.who.username if query.mine else (query.assignee or "").strip()
    if query.mine or wanted:
        found = [
            f
            for f in found
            if (person := work[f.id].assignee) is not None and person.username == wanted
        ]
    cases = [build_case(ctx, f, work[f.id]) for f in found]
    page, last = page_after(cases, lambda c: sort_key(c, query.sort), query.limit, after)
    cursor = encode_cursor(query.sort, last) if last is not None else None
    return CasePage(page, len(cases), cursor)
