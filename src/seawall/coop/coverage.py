"""Gap coverage: for each factor below its target, the programmes that address it.

The maturity pillar owns gaps (a factor's agreed stage below the nation's target); this pillar
never reads its tables. The edge that asks for coverage (the CLI, the web) gets a nation's
gaps from it and hands them here as plain :class:`GapRef` values, and :func:`cover`, which is
pure, matches them with the programmes the caller may read:

- a programme **covers** a gap when it is planned or ongoing, names the gap's nation among its
  beneficiaries, and addresses the gap's framework item (``cmm-2021:D1.2``);
- a gap no programme covers is **uncovered**;
- a gap two or more programmes cover is a **possible duplication**;
- completed programmes that addressed it are listed apart, as past work: they no longer cover it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from seawall.coop.fields import ACTIVE, ProgrammeStatus
from seawall.coop.programmes import list_programmes
from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.core.nations import normalise_nation, region_members
from seawall.db.models.coop import Programme


@dataclass(frozen=True)
class GapRef:
    """A factor of a nation below its target, as the maturity pillar computed it."""

    nation: str
    framework_id: str
    factor_id: str
    current: int
    target: int
    factor_name: str = ""

    @property
    def ref(self) -> str:
        """The framework item, as programmes name it."""
        return f"{self.framework_id}:{self.factor_id}"


@dataclass(frozen=True)
class Offer:
    """A programme as coverage sees it."""

    id: str
    ref: str
    name: str
    nation: str
    status: str
    beneficiaries: frozenset[str]
    addresses: frozenset[str]
    funders: tuple[str, ...] = ()

    def reaches(self, gap: GapRef) -> bool:
        """Whether it addresses the gap's item for the gap's nation (whatever its status)."""
        return gap.nation in self.beneficiaries and gap.ref in self.addresses


@dataclass(frozen=True)
class Cell:
    """One gap with the programmes that cover it and the completed ones that addressed it."""

    gap: GapRef
    programmes: tuple[Offer, ...]
    past: tuple[Offer, ...] = ()

    @property
    def uncovered(self) -> bool:
        """Nobody is working on it."""
        return not self.programmes

    @property
    def duplicated(self) -> bool:
        """Several programmes work on it: a possible duplication."""
        return len(self.programmes) >= 2


@dataclass(frozen=True)
class Coverage:
    """Cells for every gap, with the nations and items they span, in order."""

    cells: tuple[Cell, ...]

    @property
    def nations(self) -> list[str]:
        """The nations with gaps, in the order first met."""
        return list(dict.fromkeys(c.gap.nation for c in self.cells))

    @property
    def items(self) -> list[str]:
        """The framework items with gaps, in the order first met."""
        return list(dict.fromkeys(c.gap.ref for c in self.cells))

    def cell(self, nation: str, item: str) -> Cell | None:
        """The cell of a nation's item, or None where the nation has no gap there."""
        return next((c for c in self.cells if c.gap.nation == nation and c.gap.ref == item), None)

    @property
    def uncovered(self) -> list[Cell]:
        """Gaps nobody works on."""
        return [c for c in self.cells if c.uncovered]

    @property
    def duplicated(self) -> list[Cell]:
        """Gaps several programmes work on."""
        return [c for c in self.cells if c.duplicated]


def cover(gaps: Iterable[GapRef], offers: Sequence[Offer]) -> Coverage:
    """Match gaps with programmes (pure): see the module's rules."""
    cells = []
    for gap in gaps:
        reaching = [o for o in offers if o.reaches(gap)]
        cells.append(
            Cell(
                gap,
                tuple(o for o in reaching if o.status in ACTIVE),
                tuple(o for o in reaching if o.status == ProgrammeStatus.COMPLETED),
            )
        )
    return Coverage(tuple(cells))


def offer_of(row: Programme) -> Offer:
    """A programme row as coverage sees it."""
    return Offer(
        row.id,
        row.ref,
        row.name,
        row.nation,
        row.status,
        frozenset(row.beneficiaries),
        frozenset(row.addresses),
        tuple(row.funders),
    )


def nation_coverage(ctx: Ctx, nation: str, gaps: Iterable[GapRef]) -> Coverage:
    """Coverage of a nation's gaps by the programmes the caller may read."""
    require(ctx.who, Perm.COOP_READ)
    iso2 = normalise_nation(nation)
    offers = [offer_of(r) for r in list_programmes(ctx, nation=iso2)]
    return cover([g for g in gaps if g.nation == iso2], offers)


def group_coverage(ctx: Ctx, group: str, gaps: Iterable[GapRef]) -> Coverage:
    """Coverage of the gaps of a region group's members, nation by nation."""
    require(ctx.who, Perm.COOP_READ)
    members = set(region_members(ctx.db, group))
    offers = [offer_of(r) for r in list_programmes(ctx)]
    return cover([g for g in gaps if g.nation in members], offers)
