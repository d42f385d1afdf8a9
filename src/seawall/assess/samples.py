"""Sample assessments for demonstration nodes; every rationale says they are not real.

The stages are invented (derived deterministically from the nation, year and factor), so a
demo node shows a region panel, trends, a consensus in progress, gaps and a roadmap. They are
never presented as results of a real CMM review: each rating and consensus note says so. The GCI
figures shown beside them are the real, sourced ones shipped in ``assess/data``.
"""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date

from sqlalchemy import select

from seawall.assess.entry import CSV, enter_rounds
from seawall.assess.frameworks import DEFAULT_FRAMEWORK, get_framework
from seawall.assess.gaps import add_item, set_target, update_item
from seawall.assess.rounds import (
    StakeholderGroup,
    agree,
    consenting_groups,
    create_round,
    grant_consent,
    publish,
    rate,
)
from seawall.core.context import Ctx
from seawall.db.models.assess import ReceivedRound, Round

NOTE = "Sample data for demonstration; not a real assessment"
FRAMEWORK = DEFAULT_FRAMEWORK
# Invented starting levels per nation (1-5 scale) and the years of their sample rounds.
NATIONS = {"JM": 2.4, "TT": 2.3, "BB": 1.9, "BZ": 1.6, "GY": 1.7, "LC": 1.5}
YEARS = (2021, 2025)
OPEN_YEAR = 2026
DIMENSION_BIAS = {"D1": 0.4, "D2": -0.5, "D3": 0.2, "D4": 0.3, "D5": -0.4}


def _jitter(*parts: object) -> float:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return digest[0] / 255 - 0.5  # in [-0.5, 0.5], the same on every run


def sample_stage(nation: str, year: int, dimension: str, factor: str) -> int:
    """The invented stage of a factor in a sample round."""
    growth = 0.6 * (year - YEARS[0]) / (YEARS[-1] - YEARS[0])
    level = NATIONS[nation] + growth + DIMENSION_BIAS.get(dimension, 0.0)
    return max(1, min(5, round(level + 1.4 * _jitter(nation, year, factor))))


def load_sample_assessments(ctx: Ctx) -> list[str]:
    """Create the sample rounds that do not exist yet; returns the new round ids.

    The node's own nation gets rounds of its own (published, and one open); the others are
    entered as a hub enters the rounds of nations without a node (:mod:`.entry`), since no
    node records another nation's consent on its behalf.
    """
    framework = get_framework(ctx.db, FRAMEWORK)
    dimension_of = framework.dimension_of()
    own = ctx.who.nation
    created: list[str] = []
    if own in NATIONS:
        created += _own_rounds(ctx, own, dimension_of)
    created += _entered_rounds(ctx, [n for n in NATIONS if n != own], dimension_of)
    if created and own == "JM":
        _sample_roadmap(ctx)
    return created


def _own_rounds(ctx: Ctx, nation: str, dimension_of: dict[str, str]) -> list[str]:
    created: list[str] = []
    if "CARICOM" not in consenting_groups(ctx.db, nation):
        grant_consent(ctx, nation, "CARICOM")
    for year in (*YEARS, OPEN_YEAR):
        exists = ctx.db.scalar(
            select(Round.id).where(
                Round.nation == nation, Round.framework_id == FRAMEWORK, Round.year == year
            )
        )
        if exists is not None:
            continue
        row = create_round(ctx, nation, FRAMEWORK, year)
        created.append(row.id)
        for factor, dimension in dimension_of.items():
            stage = sample_stage(nation, year, dimension, factor)
            if year == OPEN_YEAR:
                for n, group in enumerate(StakeholderGroup):
                    spread = round(2.4 * _jitter(group, factor, n))
                    rate(ctx, row.id, group.value, factor, max(1, min(5, stage + spread)), NOTE)
                if dimension in {"D1", "D2"}:
                    agree(ctx, row.id, factor, stage, NOTE)
            else:
                agree(ctx, row.id, factor, stage, NOTE)
        if year != OPEN_YEAR:
            publish(ctx, row.id)
    return created


def _entered_rounds(ctx: Ctx, nations: list[str], dimension_of: dict[str, str]) -> list[str]:
    """The other nations' sample rounds, entered at this node as a hub enters them."""
    held = {
        (nation, year)
        for nation, year in ctx.db.execute(
            select(ReceivedRound.nation, ReceivedRound.year).where(
                ReceivedRound.framework_id == FRAMEWORK
            )
        )
    }
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["nation", "year", "framework", "factor", "stage", "source", "dissent"])
    rows = 0
    for nation in nations:
        for year in YEARS:
            if (nation, year) in held:
                continue
            for factor, dimension in dimension_of.items():
                stage = sample_stage(nation, year, dimension, factor)
                writer.writerow([nation, year, FRAMEWORK, factor, stage, NOTE, NOTE])
                rows += 1
    if not rows:
        return []
    entered = enter_rounds(ctx, out.getvalue().encode(), "sample data", CSV, ("CARICOM",))
    return [e.round_id for e in entered]


def _sample_roadmap(ctx: Ctx) -> None:
    for factor in ("D1.2", "D2.1", "D5.4"):
        set_target(ctx, "JM", FRAMEWORK, factor, 4)
    csirt = add_item(
        ctx,
        "JM",
        FRAMEWORK,
        "D1.2",
        "Sample: 24/7 national CSIRT cover",
        "JaCIRT",
        date(2027, 6, 30),
    )
    update_item(ctx, csirt.id, status="in_progress", progress=40, note=NOTE)
    add_item(
        ctx,
        "JM",
        FRAMEWORK,
        "D5.4",
        "Sample: quarterly restore drills from the data embassy",
        "eGov Jamaica Limited",
        date(2027, 3, 31),
    )
