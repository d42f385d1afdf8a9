"""Gaps and roadmaps: how far each factor is below its target, and the actions to close it.

A target is the stage a nation aims for on a factor. A gap is the target minus the agreed stage
of a round, shown only when positive. Roadmap items (an action, an owner, a due date, a status)
hang off a factor of a nation; each update is kept, so progress can be shown over time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import select

from seawall.assess.errors import RoadmapItemNotFound
from seawall.assess.frameworks import Framework, get_framework
from seawall.assess.rounds import MAX_YEAR, MIN_YEAR, agreed_stages, check_factor, get_round
from seawall.assess.scoring import check_stage
from seawall.core.access import Perm, require, require_nation
from seawall.core.context import Ctx
from seawall.core.nations import normalise_nation
from seawall.core.refs import by_prefix
from seawall.db.models.assess import RoadmapItem, RoadmapProgress, Target
from seawall.errors import InvalidInput, parse_choice


class ItemStatus(StrEnum):
    """Where a roadmap item stands."""

    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DROPPED = "dropped"


def parse_status(value: str) -> ItemStatus:
    """A roadmap status by name, or a clear error listing the choices."""
    return parse_choice(ItemStatus, "roadmap status", value)


@dataclass(frozen=True)
class Gap:
    """A factor below its target."""

    factor_id: str
    factor_name: str
    dimension_id: str
    current: int
    target: int
    gap: int


def compute_gaps(
    framework: Framework,
    current: Mapping[str, int],
    targets: Mapping[str, int],
    default_target: int | None = None,
) -> list[Gap]:
    """Factors whose agreed stage is below their target (pure), in framework order."""
    dimension_of = framework.dimension_of()
    gaps: list[Gap] = []
    for factor in framework.factors().values():
        stage = current.get(factor.id)
        target = targets.get(factor.id, default_target)
        if stage is None or target is None or target <= stage:
            continue
        gaps.append(
            Gap(factor.id, factor.name, dimension_of[factor.id], stage, target, target - stage)
        )
    return gaps


def set_target(ctx: Ctx, nation: str, framework_id: str, factor_id: str, stage: int) -> Target:
    """Set the stage a nation aims for on a factor."""
    require(ctx.who, Perm.ASSESS_RATE)
    iso2 = normalise_nation(nation)
    require_nation(ctx.who, iso2, f"nation {iso2} targets")
    framework = get_framework(ctx.db, framework_id)
    check_factor(framework, factor_id)
    check_stage(stage, framework.stages.highest, f"target for {factor_id}", framework.stages.lowest)
    row = ctx.db.get(Target, (iso2, framework.id, factor_id))
    if row is None:
        row = Target(nation=iso2, framework_id=framework.id, factor_id=factor_id)
        ctx.db.add(row)
    row.stage = stage
    row.set_at = ctx.now()
    row.set_by = ctx.who.username
    ctx.db.flush()
    ctx.record("assess.target.set", iso2, framework=framework.id, factor=factor_id, stage=stage)
    return row


def targets_of(ctx: Ctx, nation: str, framework_id: str) -> dict[str, int]:
    """A nation's targets for a framework, by factor."""
    require(ctx.who, Perm.ASSESS_READ)
    require_nation(ctx.who, nation, f"nation {nation} targets")
    stmt = select(Target).where(Target.nation == nation, Target.framework_id == framework_id)
    return {t.factor_id: t.stage for t in ctx.db.scalars(stmt)}


def round_gaps(ctx: Ctx, round_id: str, default_target: int | None = None) -> list[Gap]:
    """Gaps of a round's agreed stages against the nation's targets (or a default target)."""
    row = get_round(ctx, round_id)
    framework = get_framework(ctx.db, row.framework_id)
    if default_target is not None:
        check_stage(
            default_target, framework.stages.highest, "default target", framework.stages.lowest
        )
    targets = targets_of(ctx, row.nation, framework.id)
    return compute_gaps(framework, agreed_stages(ctx.db, row.id), targets, default_target)


def add_item(
    ctx: Ctx,
    nation: str,
    framework_id: str,
    factor_id: str,
    action: str,
    owner: str,
    due: date,
    status: str = "planned",
) -> RoadmapItem:
    """Add a roadmap action for a factor; its first progress entry is recorded with it."""
    require(ctx.who, Perm.ASSESS_RATE)
    iso2 = normalise_nation(nation)
    require_nation(ctx.who, iso2, f"nation {iso2} roadmap")
    framework = get_framework(ctx.db, framework_id)
    check_factor(framework, factor_id)
    state = parse_status(status)
    if not action.strip() or not owner.strip():
        raise InvalidInput("a roadmap item needs an action and an owner")
    if not MIN_YEAR <= due.year <= MAX_YEAR:
        raise InvalidInput(
            f"due date {due.isoformat()} is not plausible: use a year {MIN_YEAR}-{MAX_YEAR}"
        )
    item = RoadmapItem(
        id=ctx.ids(),
        nation=iso2,
        framework_id=framework.id,
        factor_id=factor_id,
        action=action.strip(),
        owner=owner.strip(),
        due=due,
        status=state.value,
        progress=100 if state is ItemStatus.DONE else 0,
        created_at=ctx.now(),
        created_by=ctx.who.username,
    )
    ctx.db.add(item)
    ctx.db.flush()
    _log(ctx, item, "created")
    ctx.record("assess.roadmap.added", item.id, nation=iso2, factor=factor_id, due=due.isoformat())
    return item


def _log(ctx: Ctx, item: RoadmapItem, note: str) -> None:
    ctx.db.add(
        RoadmapProgress(
            item_id=item.id,
            at=ctx.now(),
            status=item.status,
            progress=item.progress,
            note=note,
            by=ctx.who.username,
        )
    )
    ctx.db.flush()


def get_item(ctx: Ctx, item_id: str) -> RoadmapItem:
    """A roadmap item of the caller's nation."""
    require(ctx.who, Perm.ASSESS_READ)
    stmt = select(RoadmapItem)
    if not ctx.who.node_operator:
        stmt = stmt.where(RoadmapItem.nation == ctx.who.nation)
    item = by_prefix(ctx.db, stmt, RoadmapItem.id, item_id, "roadmap item")
    if item is None:
        raise RoadmapItemNotFound(
            f"no roadmap item {item_id!r} visible to {ctx.who.username}",
            cli="list them with `seawall assess roadmap list`",
            web="a round's Gaps page lists them",
        )
    require_nation(ctx.who, item.nation, f"roadmap item {item_id!r}")
    return item


def update_item(
    ctx: Ctx,
    item_id: str,
    status: str | None = None,
    progress: int | None = None,
    note: str = "",
) -> RoadmapItem:
    """Record progress on an item: a new status and/or percent done, kept in its history."""
    require(ctx.who, Perm.ASSESS_RATE)
    item = get_item(ctx, item_id)
    if status is None and progress is None:
        raise InvalidInput("give a new status or a progress percentage")
    if status is not None:
        item.status = parse_status(status).value
    if progress is not None:
        if isinstance(progress, bool) or not 0 <= progress <= 100:
            raise InvalidInput(f"progress {progress!r} must be a percentage from 0 to 100")
        if item.status == ItemStatus.DONE and progress != 100:
            raise InvalidInput(
                f"a done item is 100% done, not {progress}%: give --progress 100, or a status "
                "such as in_progress"
            )
        item.progress = progress
    elif item.status == ItemStatus.DONE:
        item.progress = 100
    _log(ctx, item, note.strip())
    ctx.record("assess.roadmap.updated", item.id, status=item.status, progress=item.progress)
    return item


def list_items(ctx: Ctx, nation: str, framework_id: str | None = None) -> list[RoadmapItem]:
    """A nation's roadmap, soonest due first."""
    require(ctx.who, Perm.ASSESS_READ)
    iso2 = normalise_nation(nation)
    require_nation(ctx.who, iso2, f"nation {iso2} roadmap")
    stmt = select(RoadmapItem).where(RoadmapItem.nation == iso2)
    if framework_id is not None:
        framework_id = get_framework(ctx.db, framework_id).id  # an unknown one is named
        stmt = stmt.where(RoadmapItem.framework_id == framework_id)
    return list(ctx.db.scalars(stmt.order_by(RoadmapItem.due, RoadmapItem.created_at)))


def history(ctx: Ctx, item_id: str) -> Sequence[RoadmapProgress]:
    """An item's progress entries, oldest first."""
    item = get_item(ctx, item_id)
    stmt = (
        select(RoadmapProgress)
        .where(RoadmapProgress.item_id == item.id)
        .order_by(RoadmapProgress.at, RoadmapProgress.id)
    )
    return list(ctx.db.scalars(stmt))
