"""The region's sighted indicators as a paged list: the most widely sighted, or the most
lately sighted, first, with the number of indicators in all.

The rows are an aggregate of every sighting the reader may read
(:func:`seawall.intel.matching.sightings.regional_sightings`), so they are paged in memory
with the same keyset cursors as every other list.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from seawall.core.context import Ctx
from seawall.core.paging import Key, Page, PageRequest, Sort, page_of

if TYPE_CHECKING:
    from seawall.intel.matching.sightings import Sighted

_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


class SightedOrder(StrEnum):
    """The orders the sighted indicators can be listed in."""

    WIDEST = "widest"  # the most nations, then the most sightings
    LATEST = "latest"  # the most lately seen


def _widest(row: Sighted) -> Key:
    # One direction for the whole key: counts negated, so "most first" is ascending.
    return (-len(row.nations), -row.sightings, row.indicator)


def _latest(row: Sighted) -> Key:
    return (row.last_seen or _NEVER, row.indicator)


_ORDERS = {
    SightedOrder.WIDEST: (Sort("widest", (int, int, str)), _widest),
    SightedOrder.LATEST: (Sort("latest", (datetime, str), descending=True), _latest),
}


def sighted_page(
    ctx: Ctx,
    min_nations: int = 1,
    order: SightedOrder = SightedOrder.WIDEST,
    request: PageRequest | None = None,
) -> Page[Sighted]:
    """One page of the indicators sighted by at least ``min_nations`` nations, and how many
    there are."""
    # Imported here: matching's engine brings polars, which listing commands need not pay.
    from seawall.intel.matching.sightings import regional_sightings

    sort, key_of = _ORDERS[order]
    rows = sorted(regional_sightings(ctx, min_nations), key=key_of, reverse=sort.descending)
    return page_of(rows, key_of, sort, request or PageRequest())


__all__ = ["SightedOrder", "sighted_page"]
