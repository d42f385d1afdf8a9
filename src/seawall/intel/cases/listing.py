"""The cases list: filters, a sort, a total, and keyset pages (:mod:`seawall.core.paging`).

Each sort's key ends with the case's id, so it is unique, and a cursor names the key of the
case at a page's edge: the next page starts after it, however many cases were opened or
changed meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from seawall.core import paging
from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.core.nations import normalise_nation
from seawall.core.paging import Page, PageRequest
from seawall.errors import parse_choice
from seawall.intel.cases.local import load_work
from seawall.intel.cases.reading import Case, Found, all_cases, assemble, timelines
from seawall.intel.cases.vocab import (
    Severity,
    Status,
    core_of,
    parse_severity,
    parse_status,
    severity_of,
    status_of,
)
from seawall.intel.tlp import Tlp, parse_tlp
from seawall.intel.validation import parse_timestamp


class Sort(StrEnum):
    """How the list is ordered."""

    UPDATED = "updated"  # the most recently active first
    OPENED = "opened"  # the most recently opened first
    SEVERITY = "severity"  # the most severe first, then the most recently active
    TITLE = "title"  # A to Z


def parse_sort(value: str) -> Sort:
    """A sort as a user typed it, or InvalidInput naming the ones there are."""
    return parse_choice(Sort, "sort", value)


TITLE_KEY = 100

_ORDERS: dict[Sort, tuple[paging.Sort, Callable[[Case], paging.Key]]] = {
    Sort.UPDATED: (
        paging.Sort("updated", (datetime, str), descending=True),
        lambda c: (c.updated, c.id),
    ),
    Sort.OPENED: (
        paging.Sort("opened", (datetime, str), descending=True),
        lambda c: (c.opened, c.id),
    ),
    Sort.SEVERITY: (
        paging.Sort("severity", (int, datetime, str), descending=True),
        lambda c: (c.severity.rank, c.updated, c.id),
    ),
    Sort.TITLE: (
        paging.Sort("title", (str, str)),
        # A cursor carries the key: a title's first 100 characters keep it within a
        # cursor's length whatever the script (the id still makes the key unique).
        lambda c: (c.title.casefold()[:TITLE_KEY], c.id),
    ),
}


@dataclass(frozen=True)
class CaseQuery:
    """Which cases, in which order."""

    status: Status | None = None
    severity: Severity | None = None
    assignee: str | None = None  # a username of the caller's nation
    mine: bool = False  # assigned to the caller
    tlp: Tlp | None = None  # marked exactly so
    nation: str | None = None  # opened by this nation (ISO alpha-2)
    opened_from: datetime | None = None  # opened at or after
    opened_until: datetime | None = None  # opened before
    sort: Sort = Sort.UPDATED

    @classmethod
    def parse(
        cls,
        status: str = "",
        severity: str = "",
        assignee: str = "",
        mine: bool = False,
        tlp: str = "",
        nation: str = "",
        opened_from: str = "",
        opened_until: str = "",
        sort: str = "",
    ) -> CaseQuery:
        """A query from form or option values (an empty one means any), or InvalidInput."""
        return cls(
            status=parse_status(status) if status.strip() else None,
            severity=parse_severity(severity) if severity.strip() else None,
            assignee=assignee.strip() or None,
            mine=mine,
            tlp=parse_tlp(tlp) if tlp.strip() else None,
            nation=normalise_nation(nation) if nation.strip() else None,
            opened_from=paging.parse_day(opened_from, "opened from"),
            opened_until=paging.parse_day(opened_until, "opened until", day_end=True),
            sort=parse_sort(sort) if sort.strip() else Sort.UPDATED,
        )


def find_cases(
    ctx: Ctx, query: CaseQuery | None = None, request: PageRequest | None = None
) -> Page[Case]:
    """One page of the cases the caller may see that match ``query``, in its order, with the
    total (the assignee filters read the caller's nation's own assignments)."""
    require(ctx.who, Perm.INTEL_READ)
    query = query or CaseQuery()
    request = request or PageRequest()
    order, key_of = _ORDERS[query.sort]
    if request.cursor:  # a bad cursor is refused before any case is read
        paging.decode_cursor(request.cursor, order)
    found = all_cases(ctx)
    if query.status is not None:
        found = [f for f in found if status_of(core_of(f.body)) is query.status]
    if query.severity is not None:
        found = [f for f in found if severity_of(core_of(f.body)) is query.severity]
    if query.tlp is not None:
        found = [f for f in found if f.tlp is query.tlp]
    if query.nation:
        found = [f for f in found if f.nation == query.nation]
    if query.opened_from or query.opened_until:
        found = [f for f in found if _opened_within(f, query)]
    work = load_work(ctx, [f.id for f in found])
    wanted = ctx.who.username if query.mine else (query.assignee or "").strip()
    if query.mine or wanted:
        found = [
            f
            for f in found
            if (person := work[f.id].assignee) is not None and person.username == wanted
        ]
    # One pass over the notes and links for every case's timeline: the list shows their
    # count, nations and last activity, not their words.
    entries = timelines(ctx, [f.id for f in found])
    cases = [assemble(f, entries.get(f.id, []), work[f.id]) for f in found]
    cases.sort(key=key_of, reverse=order.descending)
    return paging.page_of(cases, key_of, order, request)


def _opened_within(found: Found, query: CaseQuery) -> bool:
    opened = parse_timestamp(found.body["created"], found.id, "created")
    if query.opened_from and opened < query.opened_from:
        return False
    return not (query.opened_until and opened >= query.opened_until)
