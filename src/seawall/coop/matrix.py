"""The harmonisation matrix: nations against kinds of legal instrument (pure).

A cell holds the **most advanced** instrument of its kind for its nation (none < draft <
enacted < in force; between equals, the later date, then the title), with its date and
source. **Real before sample:** when a cell has both sample (demo) instruments and real ones
(from the starter dataset, a user or a nation's node), only the real ones compete, so a
sample instrument never hides a real one; the sample ones are listed after them. **The
nation's word before the hub's:** at a hub, instruments received from the nation's own node
likewise outrank those the hub entered for it.

A nation with no instrument of a kind on record has an **unknown** cell: "none" is a recorded
fact (someone checked a source and found no such law), "unknown" is its absence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from seawall.catalogs import N_

KINDS: tuple[str, ...] = (
    "data_protection",
    "cybercrime",
    "electronic_transactions",
    "cirt_mandate",
    "critical_infrastructure",
    "national_strategy",
    "budapest_convention",
)
KIND_NAMES: dict[str, str] = {
    "data_protection": N_("Data protection"),
    "cybercrime": N_("Cybercrime"),
    "electronic_transactions": N_("Electronic transactions"),
    "cirt_mandate": N_("CIRT mandate"),
    "critical_infrastructure": N_("Critical infrastructure"),
    "national_strategy": N_("National strategy"),
    "budapest_convention": N_("Budapest Convention"),
}
STATUSES: tuple[str, ...] = ("none", "draft", "enacted", "in_force")
UNKNOWN = "unknown"
STATUS_NAMES: dict[str, str] = {
    "none": N_("none"),
    "draft": N_("draft"),
    "enacted": N_("enacted"),
    "in_force": N_("in force"),
    UNKNOWN: N_("unknown"),
}
STATUS_MEANINGS: dict[str, str] = {
    "none": N_("a source confirms there is no such instrument"),
    "draft": N_("a bill or draft before government or parliament"),
    "enacted": N_("passed or adopted, not (wholly) in force"),
    "in_force": N_("in force, or acceded to"),
    UNKNOWN: N_("nothing on record: no source checked yet"),
}
_RANK = {status: rank for rank, status in enumerate(STATUSES)}


@dataclass(frozen=True)
class Instrument:
    """The facts of one instrument the matrix needs."""

    nation: str
    kind: str
    title: str
    status: str
    date: str = ""
    source: str = ""
    sample: bool = False
    id: str = ""
    # Shared by the nation's own node and received here (a hub), not entered here.
    received: bool = False


@dataclass(frozen=True)
class Cell:
    """One nation's standing on one kind: its most advanced instrument, or unknown."""

    nation: str
    kind: str
    status: str
    best: Instrument | None = None
    # Every instrument of the kind on record for the nation, most advanced first.
    instruments: tuple[Instrument, ...] = ()

    @property
    def known(self) -> bool:
        """Whether any instrument is on record."""
        return self.best is not None


@dataclass(frozen=True)
class Matrix:
    """Nations (rows) against kinds (columns)."""

    nations: tuple[str, ...]
    kinds: tuple[str, ...]
    cells: dict[tuple[str, str], Cell] = field(hash=False)

    def cell(self, nation: str, kind: str) -> Cell:
        """The cell of a nation and kind."""
        return self.cells[(nation, kind)]

    def row(self, nation: str) -> list[Cell]:
        """A nation's cells, in the order of the kinds."""
        return [self.cells[(nation, kind)] for kind in self.kinds]

    @property
    def sample(self) -> bool:
        """Whether any cell shown rests on sample data."""
        return any(c.best is not None and c.best.sample for c in self.cells.values())


def _order(item: Instrument) -> tuple[bool, bool, int, str, str]:
    return (not item.sample, item.received, _RANK[item.status], item.date, item.title)


def most_advanced(items: Iterable[Instrument]) -> Instrument | None:
    """The most advanced instrument (real before sample, received before entered here, then
    status, then later date, then title), or None."""
    return max(items, key=_order, default=None)


def build_matrix(
    nations: Sequence[str], instruments: Iterable[Instrument], kinds: Sequence[str] = KINDS
) -> Matrix:
    """The matrix of ``nations`` (in the order given) against ``kinds``; instruments of
    other nations or kinds are left out."""
    wanted = set(nations)
    by_cell: dict[tuple[str, str], list[Instrument]] = {}
    for item in instruments:
        if item.nation in wanted and item.kind in kinds:
            by_cell.setdefault((item.nation, item.kind), []).append(item)
    cells: dict[tuple[str, str], Cell] = {}
    for nation in nations:
        for kind in kinds:
            found = sorted(by_cell.get((nation, kind), []), key=_order, reverse=True)
            best = found[0] if found else None
            cells[(nation, kind)] = Cell(
                nation, kind, best.status if best else UNKNOWN, best, tuple(found)
            )
    return Matrix(tuple(dict.fromkeys(nations)), tuple(kinds), cells)


def changed_cells(before: Matrix, after: Matrix) -> list[tuple[Cell, Cell]]:
    """The cells whose standing (status, date, source or title) differs, as (before, after)."""

    def facts(cell: Cell) -> tuple[str, str, str, str]:
        best = cell.best
        return (
            (cell.status, best.date, best.source, best.title) if best else (cell.status, "", "", "")
        )

    return [
        (before.cells[key], after.cells[key])
        for key in after.cells
        if key in before.cells and facts(before.cells[key]) != facts(after.cells[key])
    ]
