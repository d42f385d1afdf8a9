"""The intelligence a reader holds at a glance: what arrived lately, and the cases still open.

Every count is over the collections the caller may read, and within each, over the rows the
sharing policy lets the caller see (the same SQL the lists use), so a viewer's numbers never
include an object marked above what the viewer may read.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.core.tlp import Tlp
from seawall.db.models.intel import IntelObject
from seawall.intel.cases.reading import all_cases
from seawall.intel.cases.vocab import Severity, Status, core_of, severity_of, status_of
from seawall.intel.collections import reader_of
from seawall.intel.search import readable_collections
from seawall.intel.store.visibility import visible


@dataclass(frozen=True)
class Arrivals:
    """What arrived since a moment: new indicators by TLP, and sightings."""

    since: datetime
    indicators: dict[Tlp, int] = field(default_factory=dict)
    sightings: int = 0

    @property
    def indicator_total(self) -> int:
        """New indicators of every marking."""
        return sum(self.indicators.values())


def arrivals_since(ctx: Ctx, since: datetime) -> Arrivals:
    """The indicators and sightings first added to a readable collection at or after
    ``since``, counted once per STIX id and collection; indicators by their TLP marking."""
    require(ctx.who, Perm.INTEL_READ)
    by_tlp: Counter[Tlp] = Counter()
    sightings = 0
    for collection in readable_collections(ctx):
        reader = reader_of(ctx, collection)
        first = (
            select(
                IntelObject.stix_id,
                IntelObject.type,
                func.max(IntelObject.tlp).label("tlp"),
                func.min(IntelObject.date_added).label("first_added"),
            )
            .where(
                IntelObject.collection_id == collection.id,
                IntelObject.type.in_(("indicator", "sighting")),
                visible(reader),
            )
            .group_by(IntelObject.stix_id, IntelObject.type)
            .subquery()
        )
        rows = ctx.db.execute(
            select(first.c.type, first.c.tlp, func.count())
            .where(first.c.first_added >= since)
            .group_by(first.c.type, first.c.tlp)
        ).all()
        for kind, tlp, count in rows:
            if kind == "indicator":
                by_tlp[Tlp(int(tlp))] += int(count)
            else:
                sightings += int(count)
    return Arrivals(since, dict(sorted(by_tlp.items())), sightings)


def open_cases_by_severity(ctx: Ctx) -> dict[Severity, int]:
    """The cases the caller may see that are not closed, by severity (most severe first)."""
    require(ctx.who, Perm.INTEL_READ)
    counted: Counter[Severity] = Counter()
    for found in all_cases(ctx):
        core = core_of(found.body)
        if status_of(core) is not Status.CLOSED:
            counted[severity_of(core)] += 1
    return {s: counted[s] for s in sorted(Severity, key=lambda s: -s.rank) if counted[s]}
