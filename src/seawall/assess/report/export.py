"""CSV and JSON exports of rounds, index editions and region views."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from typing import Any

from seawall.assess.benchmark import RegionView
from seawall.assess.frameworks import get_framework
from seawall.assess.indices import IndexRow
from seawall.assess.rounds import StakeholderGroup, consensus_view, get_round
from seawall.core.context import Ctx

Record = dict[str, Any]


def round_records(ctx: Ctx, round_id: str) -> list[Record]:
    """One flat record per factor of a round: group ratings, spread, agreed stage, dissent."""
    row = get_round(ctx, round_id)
    framework = get_framework(ctx.db, row.framework_id)
    stages = framework.stages
    records: list[Record] = []
    for factor in consensus_view(ctx, round_id):
        record: Record = {
            "round_id": row.id,
            "nation": row.nation,
            "framework": row.framework_id,
            "year": row.year,
            "status": row.status,
            "dimension": factor.dimension_id,
            "factor": factor.factor_id,
            "factor_name": factor.factor_name,
        }
        for group in StakeholderGroup:
            record[group.value] = factor.ratings.get(group.value)
        record.update(
            {
                "spread": factor.spread,
                "disagreement": factor.disagreement,
                "agreed_stage": factor.agreed_stage,
                "agreed_stage_name": (
                    stages.name_of(factor.agreed_stage) if factor.agreed_stage else None
                ),
                "dissent": factor.dissent,
            }
        )
        records.append(record)
    return records


def index_records(rows: Iterable[IndexRow]) -> list[Record]:
    """Index rows as records: nation codes, scores, tier, source and whether primary."""
    return [
        {
            "edition": r.edition,
            "iso2": r.nation,
            "iso3": r.iso3,
            "overall": r.overall,
            **{f"pillar_{k}": v for k, v in r.pillars.items()},
            "tier": r.tier_id,
            "tier_name": r.tier_name,
            "primary": r.primary,
            "source": r.source,
            "note": r.note,
        }
        for r in rows
    ]


def to_csv(records: Sequence[Mapping[str, Any]]) -> str:
    """Records as CSV with a header; columns in first-seen order, blanks for None."""
    columns: list[str] = []
    for record in records:
        columns += [k for k in record if k not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: "" if record.get(k) is None else record.get(k) for k in columns})
    return buf.getvalue()


def to_json(data: Any) -> str:
    """Stable, indented JSON (dates as ISO strings)."""
    return json.dumps(data, indent=2, sort_keys=True, default=str, ensure_ascii=False) + "\n"


def region_data(view: RegionView) -> Record:
    """A region view as plain data: the panel and each statement with the rows behind it."""
    return {
        "group": view.group,
        "framework": view.framework_id,
        "members": list(view.members),
        "panel": [
            {
                "round_id": r.round_id,
                "nation": r.nation,
                "year": r.year,
                "dimensions": r.dimensions,
                "factors": r.factors,
            }
            for r in view.panel
        ],
        "statements": [
            {
                "key": s.key,
                "text": s.text,
                "nations": list(s.nations),
                "rows": [asdict(ref) for ref in s.rows],
            }
            for s in view.statements
        ],
        "incomplete": [
            {"round_id": r.round_id, "nation": r.nation, "year": r.year, "agreed": len(r.factors)}
            for r in view.incomplete
        ],
        "withdrawn": [asdict(w) for w in view.withdrawn],
    }
