"""Gaps below target, roadmap items and their progress over time."""

from __future__ import annotations

from datetime import date

import pytest

from seawall.assess.errors import RoadmapItemNotFound, StageOutOfRange
from seawall.assess.frameworks import shipped_frameworks
from seawall.assess.gaps import (
    add_item,
    compute_gaps,
    history,
    list_items,
    round_gaps,
    set_target,
    update_item,
)
from seawall.assess.rounds import agree, create_round
from seawall.core.access import Principal, Role
from seawall.core.clock import FrozenClock
from seawall.core.node import Node
from seawall.errors import InvalidInput, NotFound

RATER = Principal("jm-rater", "JM", Role.ASSESSOR)
FOREIGN = Principal("tt-rater", "TT", Role.ASSESSOR)


def test_gaps_are_target_minus_agreed_stage_and_only_when_positive() -> None:
    cmm = shipped_frameworks()["cmm-2021"]
    gaps = compute_gaps(cmm, {"D1.1": 2, "D1.2": 4, "D2.1": 1}, {"D1.1": 4, "D1.2": 3}, 3)
    assert [(g.factor_id, g.current, g.target, g.gap) for g in gaps] == [
        ("D1.1", 2, 4, 2),
        ("D2.1", 1, 3, 2),
    ]
    assert compute_gaps(cmm, {"D2.1": 1}, {}) == []


def test_round_gaps_use_the_nations_targets(node: Node) -> None:
    with node.unit(RATER) as ctx:
        round_id = create_round(ctx, "JM", "cmm-2021", 2026).id
        agree(ctx, round_id, "D1.2", 2)
        agree(ctx, round_id, "D5.4", 3)
        set_target(ctx, "JM", "cmm-2021", "D1.2", 4)
        with pytest.raises(StageOutOfRange):
            set_target(ctx, "JM", "cmm-2021", "D5.4", 6)
        gaps = round_gaps(ctx, round_id)
        assert [(g.factor_id, g.gap) for g in gaps] == [("D1.2", 2)]
        assert [(g.factor_id, g.gap) for g in round_gaps(ctx, round_id, 4)] == [
            ("D1.2", 2),
            ("D5.4", 1),
        ]


def test_roadmap_progress_is_kept_over_time(node: Node, clock: FrozenClock) -> None:
    with node.unit(RATER) as ctx:
        item = add_item(
            ctx, "JM", "cmm-2021", "D1.2", "Stand up a national CSIRT", "MSET", date(2027, 6, 30)
        )
        item_id = item.id
    clock.advance(days=30)
    with node.unit(RATER) as ctx:
        update_item(ctx, item_id, status="in-progress", progress=40, note="staff hired")
    clock.advance(days=60)
    with node.unit(RATER) as ctx:
        update_item(ctx, item_id, status="done", note="CSIRT operational")
        steps = [(h.status, h.progress, h.note) for h in history(ctx, item_id)]
        [listed] = list_items(ctx, "JM")
    assert steps == [
        ("planned", 0, "created"),
        ("in_progress", 40, "staff hired"),
        ("done", 100, "CSIRT operational"),
    ]
    assert (listed.status, listed.progress) == ("done", 100)


def test_bad_roadmap_updates_are_refused(node: Node) -> None:
    with node.unit(RATER) as ctx:
        item_id = add_item(ctx, "JM", "cmm-2021", "D1.2", "Act", "Owner", date(2027, 1, 1)).id
    with node.unit(RATER) as ctx:
        with pytest.raises(InvalidInput, match="0 to 100"):
            update_item(ctx, item_id, progress=150)
        with pytest.raises(InvalidInput, match="unknown roadmap status"):
            update_item(ctx, item_id, status="someday")
        with pytest.raises(RoadmapItemNotFound):
            update_item(ctx, "nope", progress=1)
    with node.unit(FOREIGN) as ctx, pytest.raises(NotFound):
        update_item(ctx, item_id, progress=10)
