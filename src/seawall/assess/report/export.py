"""CSV and JSON exports of rounds, index editions and region views."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from typing import Any

from seawall.assess.benchmark import PanelRow, RegionView
from seawall.assess.frameworks import Framework, get_framework
from seawall.assess.indices import IndexRow
from seawall.assess.rounds import StakeholderGroup, consensus_view, get_round
from seawall.core.context import Ctx

Record = dict[str, Any]


def round_records(ctx: Ctx, round_id: str) -> list[Record]:
    """One flat record per factor of a round: each group's stage, rationale and evidence
    references (a list; one `` | ``-separated cell in CSV), the spread, agreed stage, dissent,
    the reason a stage was agreed without ratings, and the groups whose stages the caller may
    not see yet (a rater before rating: their cells are empty)."""
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
            "partial": row.partial,
            "dimension": factor.dimension_id,
            "factor": factor.factor_id,
            "factor_name": factor.factor_name,
        }
        for group in StakeholderGroup:
            record[group.value] = factor.ratings.get(group.value)
        for group in StakeholderGroup:
            refs = list(factor.evidence.get(group.value, ()))
            record[f"{group.value}_rationale"] = factor.rationales.get(group.value)
            record[f"{group.value}_evidence"] = refs
        record.update(
            {
                "spread": factor.spread,
                "disagreement": factor.disagreement,
                "agreed_stage": factor.agreed_stage,
                "agreed_stage_name": (
                    stages.name_of(factor.agreed_stage) if factor.agreed_stage is not None else None
                ),
                "dissent": factor.dissent,
                "agreed_without_ratings_because": factor.reason or None,
                "hidden_groups": list(factor.hidden),
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
    """Records as CSV with a header; columns in first-seen order, blanks for None, a list as
    its items separated by `` | ``."""
    columns: list[str] = []
    for record in records:
        columns += [k for k in record if k not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: _cell(record.get(k)) for k in columns})
    return buf.getvalue()


def _cell(value: Any) -> Any:
    """A CSV cell: blank for None, a list's items separated by `` | ``."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return " | ".join(str(v) for v in value)
    return value


def to_json(data: Any) -> str:
    """Stable, indented JSON (dates as ISO strings)."""
    return json.dumps(data, indent=2, sort_keys=True, default=str, ensure_ascii=False) + "\n"


def region_data(view: RegionView) -> Record:
    """A region view as plain data: the panel, each statement with its values and the rows
    behind it, the rankings of nations and dimensions, and what was left out."""
    return {
        "group": view.group,
        "framework": view.framework_id,
        "members": list(view.members),
        "baseline": view.baseline,
        "panel": [
            {
                "round_id": r.round_id,
                "nation": r.nation,
                "year": r.year,
                "source": r.source,
                "dimensions": r.dimensions,
                "factors": r.factors,
            }
            for r in view.panel
        ],
        "statements": [
            {
                "key": s.key,
                "text": s.text,
                "values": dict(s.values),
                "nations": list(s.nations),
                "rows": [asdict(ref) for ref in s.rows],
            }
            for s in view.statements
        ],
        "ranking": [asdict(n) for n in view.ranking],
        "dimension_ranking": [asdict(d) for d in view.dimension_ranking],
        "incomplete": [
            {"round_id": r.round_id, "nation": r.nation, "year": r.year, "agreed": len(r.factors)}
            for r in view.incomplete
        ],
        "withdrawn": [asdict(w) for w in view.withdrawn],
    }


def region_statement_records(view: RegionView) -> list[Record]:
    """One record per row behind each statement: key, English text and the row."""
    return [
        {"statement": s.key, "text": s.text, **asdict(ref)}
        for s in view.statements
        for ref in s.rows
    ]


def region_panel_records(view: RegionView, framework: Framework) -> list[Record]:
    """The whole panel, one record per round and agreed factor in the pack's order: every
    complete round, then the incomplete ones (``complete`` false), with the factor's stage
    and its dimension's score."""
    dimension_of = framework.dimension_of()
    names = {f.id: f.name for f in framework.factors().values()}
    order = list(names)  # the pack's order
    stages = framework.stages

    def records(row: PanelRow, complete: bool) -> list[Record]:
        return [
            {
                "group": view.group,
                "framework": view.framework_id,
                "round_id": row.round_id,
                "nation": row.nation,
                "year": row.year,
                "source": row.source,
                "complete": complete,
                "dimension": dimension_of[factor],
                "dimension_score": row.dimensions.get(dimension_of[factor]),
                "factor": factor,
                "factor_name": names[factor],
                "stage": stage,
                "stage_name": stages.name_of(stage),
            }
            for factor in order
            if (stage := row.factors.get(factor)) is not None
        ]

    rows = sorted(view.panel, key=lambda r: (r.nation, r.year))
    rest = sorted(view.incomplete, key=lambda r: (r.nation, r.year))
    return [rec for r in rows for rec in records(r, True)] + [
        rec for r in rest for rec in records(r, False)
    ]
