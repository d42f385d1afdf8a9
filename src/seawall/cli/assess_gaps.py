"""``seawall assess gaps`` and ``roadmap``: factors below target and the actions that close them."""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from seawall.assess import gaps, rounds
from seawall.cli.assess import framework_option, unit
from seawall.cli.context import CliState, pass_state
from seawall.cli.output import emit_or_say, emit_or_table, json_option, say
from seawall.db.models.assess import RoadmapItem
from seawall.errors import InvalidInput


@click.group("gaps")
def gaps_group() -> None:
    """Gaps: factors whose agreed stage is below the nation's target."""


@gaps_group.command("show")
@click.argument("ref", metavar="ROUND")
@click.option("--default-target", type=int, default=None, help="Target for factors without one.")
@json_option
@pass_state
def gaps_show(state: CliState, ref: str, default_target: int | None, as_json: bool) -> None:
    """List the factors of a round below their target, and by how much."""
    with unit(state) as ctx:
        found = gaps.round_gaps(ctx, rounds.find_round(ctx, ref).id, default_target)
    records = [
        {
            "factor": g.factor_id,
            "name": g.factor_name,
            "dimension": g.dimension_id,
            "current": g.current,
            "target": g.target,
            "gap": g.gap,
        }
        for g in found
    ]
    emit_or_table(
        as_json,
        records,
        "Gaps",
        ["Factor", "Name", "Current", "Target", "Gap"],
        ((r["factor"], r["name"], r["current"], r["target"], r["gap"]) for r in records),
    )


@gaps_group.command("target")
@click.option("--nation", required=True)
@framework_option
@click.option("--factor", required=True)
@click.option("--stage", type=int, required=True, help="The stage the nation aims for.")
@pass_state
def gaps_target(state: CliState, nation: str, framework_id: str, factor: str, stage: int) -> None:
    """Set the stage a nation aims for on a factor."""
    with unit(state) as ctx:
        row = gaps.set_target(ctx, nation, framework_id, factor, stage)
    say(f"Target for {row.nation} {row.factor_id} set to stage {row.stage}")


@click.group("roadmap")
def roadmap_group() -> None:
    """Roadmap items: actions that close gaps, with owners, due dates and progress."""


def _item_record(item: RoadmapItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "nation": item.nation,
        "framework": item.framework_id,
        "factor": item.factor_id,
        "action": item.action,
        "owner": item.owner,
        "due": item.due.isoformat(),
        "status": item.status,
        "progress": item.progress,
    }


def _parse_due(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"due date {value!r} is not a date: use YYYY-MM-DD") from None


@roadmap_group.command("add")
@click.option("--nation", required=True)
@framework_option
@click.option("--factor", required=True)
@click.option("--action", required=True, help="What will be done.")
@click.option("--owner", required=True, help="Who is responsible.")
@click.option("--due", required=True, help="Due date, YYYY-MM-DD.")
@click.option("--status", default="planned", show_default=True)
@json_option
@pass_state
def roadmap_add(
    state: CliState,
    nation: str,
    framework_id: str,
    factor: str,
    action: str,
    owner: str,
    due: str,
    status: str,
    as_json: bool,
) -> None:
    """Add a roadmap action for a factor."""
    when = _parse_due(due)
    with unit(state) as ctx:
        item = gaps.add_item(ctx, nation, framework_id, factor, action, owner, when, status)
        record = _item_record(item)
    emit_or_say(
        as_json, record, f"Added roadmap item {item.id} for {item.factor_id}, due {record['due']}"
    )


@roadmap_group.command("list")
@click.option("--nation", required=True)
@click.option("--framework", "framework_id", default=None)
@json_option
@pass_state
def roadmap_list(state: CliState, nation: str, framework_id: str | None, as_json: bool) -> None:
    """List a nation's roadmap, soonest due first, with each item's history."""
    with unit(state) as ctx:
        records = []
        for item in gaps.list_items(ctx, nation, framework_id):
            record = _item_record(item)
            record["history"] = [
                {"at": h.at, "status": h.status, "progress": h.progress, "note": h.note}
                for h in gaps.history(ctx, item.id)
            ]
            records.append(record)
    emit_or_table(
        as_json,
        records,
        "Roadmap",
        ["Id", "Factor", "Action", "Owner", "Due", "Status", "Done"],
        (
            (
                r["id"],
                r["factor"],
                r["action"],
                r["owner"],
                r["due"],
                r["status"],
                f"{r['progress']}%",
            )
            for r in records
        ),
    )


@roadmap_group.command("update")
@click.argument("item_id", metavar="ITEM")
@click.option("--status", default=None, help="planned, in_progress, done or dropped.")
@click.option("--progress", type=int, default=None, help="Percent done, 0-100.")
@click.option("--note", default="", help="What changed.")
@json_option
@pass_state
def roadmap_update(
    state: CliState,
    item_id: str,
    status: str | None,
    progress: int | None,
    note: str,
    as_json: bool,
) -> None:
    """Record progress on a roadmap item; every update is kept."""
    with unit(state) as ctx:
        item = gaps.update_item(ctx, item_id, status, progress, note)
        record = _item_record(item)
    emit_or_say(as_json, record, f"Roadmap item {item.id}: {item.status}, {item.progress}% done")


COMMANDS = (gaps_group, roadmap_group)
