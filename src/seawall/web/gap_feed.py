"""Where the maturity pillar's gaps meet the cooperation pillar's programmes, at the edge.

Pillars never import each other, so the edges (this module, for the web and the CLI alike)
ask ``assess`` for a nation's gaps and hand them to ``coop`` as plain values
(:class:`seawall.coop.coverage.GapRef`), and build the catalogue of framework items a
programme may address from the framework packs. It imports no FastAPI.

A nation's gaps come from its latest published round in the framework on this node (its
latest round in progress before any is published), against its targets (and
``default_target`` for factors without one); for a nation with no round here, from the latest
round it published to a group this node holds (a hub's received rounds), against
``default_target`` alone, since a nation's targets stay on its own node.

The roadmap items a programme funds meet the same way: :func:`fund_roadmap_items` checks
with ``assess`` that each is a roadmap item of the programme's nation before ``coop`` keeps
its id, :func:`funded_items` reads each item a programme names from ``assess``, and
:func:`funders_of` asks ``coop`` which programmes fund each item of a roadmap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from seawall.assess import gaps, rounds
from seawall.assess.benchmark import build_panel
from seawall.assess.frameworks import available_frameworks, get_framework
from seawall.assess.statements import PanelRow
from seawall.coop import programmes, sharing
from seawall.coop.coverage import Coverage, GapRef, group_coverage, nation_coverage
from seawall.coop.fields import Catalogue
from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.core.nations import groups_of, normalise_nation, region_members
from seawall.db.models.assess import RoadmapItem
from seawall.db.models.coop import Programme
from seawall.errors import InvalidInput, SeawallError

DEFAULT_FRAMEWORK = "cmm-2021"


def catalogue(ctx: Ctx) -> Catalogue:
    """The items programmes may address: each framework's factors (a GCI pillar where the
    framework has none), by framework id, with short names (``cmm``, ``sim3``, ``gci``)."""
    items: dict[str, frozenset[str]] = {}
    for framework in available_frameworks(ctx.db).values():
        factors = framework.factors()
        items[framework.id] = frozenset(factors or (d.id for d in framework.dimensions))
    short: dict[str, list[str]] = {}
    for framework_id in items:
        short.setdefault(framework_id.split("-", 1)[0], []).append(framework_id)
    aliases = {name: ids[0] for name, ids in short.items() if len(ids) == 1 and name not in items}
    return Catalogue(items, aliases)


def nation_gaps(
    ctx: Ctx,
    nation: str,
    framework_id: str = DEFAULT_FRAMEWORK,
    default_target: int | None = None,
    panel: list[PanelRow] | None = None,
) -> list[GapRef]:
    """A nation's gaps (see the module's rules), as the cooperation pillar takes them;
    ``panel`` is the published rounds to look in (default: of every group of the nation)."""
    iso2 = normalise_nation(nation)
    framework = get_framework(ctx.db, framework_id)
    names = framework.factors()
    own = [
        r for r in rounds.list_rounds(ctx) if r.nation == iso2 and r.framework_id == framework.id
    ]
    if own:
        # The latest published round is the nation's official picture; before any is
        # published, the latest round in progress.
        latest = max(own, key=lambda r: (r.status == rounds.PUBLISHED, r.year, r.created_at))
        found = gaps.round_gaps(ctx, latest.id, default_target)
    else:
        if panel is None:
            panel = [
                row for g in groups_of(ctx.db, iso2) for row in build_panel(ctx, g, framework.id)
            ]
        theirs = [row for row in panel if row.nation == iso2]
        if not theirs:
            return []
        latest_row = max(theirs, key=lambda r: r.year)
        targets = gaps.targets_of(ctx, iso2, framework.id) if iso2 == ctx.who.nation else {}
        found = gaps.compute_gaps(framework, latest_row.factors, targets, default_target)
    return [
        GapRef(iso2, framework.id, g.factor_id, g.current, g.target, names[g.factor_id].name)
        for g in found
    ]


def coverage_of_nation(
    ctx: Ctx, nation: str, framework_id: str = DEFAULT_FRAMEWORK, default_target: int | None = None
) -> Coverage:
    """Coverage of one nation's gaps."""
    return nation_coverage(ctx, nation, nation_gaps(ctx, nation, framework_id, default_target))


def coverage_of_group(
    ctx: Ctx, group: str, framework_id: str = DEFAULT_FRAMEWORK, default_target: int | None = None
) -> Coverage:
    """Coverage of the gaps of every member of a region group."""
    panel = build_panel(ctx, group, framework_id)
    found = [
        gap
        for member in region_members(ctx.db, group)
        for gap in nation_gaps(ctx, member, framework_id, default_target, panel)
    ]
    return group_coverage(ctx, group, found)


@dataclass(frozen=True)
class FundedItem:
    """A roadmap item a programme funds, as its page shows it; ``action`` is empty (and the
    rest unknown) when the caller may not read the item (another nation's roadmap)."""

    id: str
    factor: str = ""
    action: str = ""
    owner: str = ""
    due: date | None = None
    status: str = ""
    progress: int = 0
    round_id: str | None = None


def funded_items(ctx: Ctx, row: Programme) -> list[FundedItem]:
    """The roadmap items ``row`` funds, read from ``assess`` as the caller may read them."""
    if not row.funds_items:
        return []
    if not ctx.who.can(Perm.ASSESS_READ):
        return [FundedItem(i) for i in row.funds_items]
    latest: dict[tuple[str, str], str] = {}
    for r in rounds.list_rounds(ctx):  # newest year first
        latest.setdefault((r.nation, r.framework_id), r.id)
    found: list[FundedItem] = []
    for item_id in row.funds_items:
        try:
            item = gaps.get_item(ctx, item_id)
        except SeawallError:
            found.append(FundedItem(item_id))
            continue
        found.append(
            FundedItem(
                item.id,
                f"{item.framework_id}:{item.factor_id}",
                item.action,
                item.owner,
                item.due,
                item.status,
                item.progress,
                latest.get((item.nation, item.framework_id)),
            )
        )
    return found


def roadmap_choices(ctx: Ctx, row: Programme) -> list[RoadmapItem]:
    """The roadmap items of the programme's nation it does not fund yet, for a writer of that
    nation to choose from (none for anyone else)."""
    if not (sharing.may_edit(ctx.who, row) and ctx.who.can(Perm.ASSESS_READ)):
        return []
    return [i for i in gaps.list_items(ctx, row.nation) if i.id not in row.funds_items]


def fund_roadmap_items(ctx: Ctx, ref: str, item_ids: list[str]) -> Programme:
    """Name roadmap items a programme funds, once ``assess`` confirms each is a roadmap item
    of the programme's nation: a programme funds its own nation's roadmap."""
    require(ctx.who, Perm.COOP_WRITE)
    row = programmes.get_programme(ctx, ref)
    for item_id in item_ids:
        item = gaps.get_item(ctx, item_id)
        if item.nation != row.nation:
            raise InvalidInput(
                f"roadmap item {item_id} is {item.nation}'s; programme {row.ref} is "
                f"{row.nation}'s: a programme funds its own nation's roadmap"
            )
    return programmes.fund_items(ctx, row.id, item_ids)


def funders_of(ctx: Ctx, item_ids: list[str]) -> dict[str, list[Programme]]:
    """The caller's nation's programmes funding each roadmap item (none for a caller who may
    not read programmes)."""
    if not ctx.who.can(Perm.COOP_READ):
        return {}
    return programmes.funding_of(ctx, item_ids)
