"""The stage engine: indicator answers to stages, stages to dimension scores, and lifts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.assess.errors import StageOutOfRange
from seawall.assess.scoring import (
    check_stage,
    dimension_score,
    dimension_scores,
    factor_stage,
    lift,
)

FAST = settings(max_examples=150, deadline=None)


@st.composite
def answered_factor(draw: st.DrawFn) -> tuple[dict[int, list[str]], set[str]]:
    """A factor's indicators by stage (1-5, some stages empty) and a set of met ids."""
    indicators: dict[int, list[str]] = {}
    for stage in range(1, 6):
        count = draw(st.integers(min_value=0, max_value=3))
        indicators[stage] = [f"s{stage}i{n}" for n in range(count)]
    every = [i for ids in indicators.values() for i in ids]
    met = draw(st.sets(st.sampled_from(every))) if every else set()
    return indicators, met


@FAST
@given(answered_factor())
def test_a_stage_is_reached_only_when_it_and_all_lower_are_met(
    case: tuple[dict[int, list[str]], set[str]],
) -> None:
    indicators, met = case
    stage = factor_stage(indicators, met)
    assert 1 <= stage <= 5
    if stage > 1:
        for s in range(1, stage + 1):
            assert all(i in met for i in indicators[s])
    if stage < 5:
        # the next stage is not reached: something at or below it is unmet
        assert any(i not in met for s in range(1, stage + 2) for i in indicators[s])


@FAST
@given(answered_factor(), st.data())
def test_meeting_another_indicator_never_lowers_the_stage(
    case: tuple[dict[int, list[str]], set[str]], data: st.DataObject
) -> None:
    indicators, met = case
    every = [i for ids in indicators.values() for i in ids]
    if not every:
        return
    extra = data.draw(st.sampled_from(every))
    assert factor_stage(indicators, met | {extra}) >= factor_stage(indicators, met)


@FAST
@given(answered_factor())
def test_meeting_the_lift_reaches_the_next_stage(
    case: tuple[dict[int, list[str]], set[str]],
) -> None:
    indicators, met = case
    step = lift(indicators, met)
    stage = factor_stage(indicators, met)
    if step is None:
        assert stage == 5
        return
    assert step.current == stage
    assert step.target == stage + 1
    assert all(i not in met for i in step.unmet)
    assert factor_stage(indicators, met | set(step.unmet)) >= step.target


@FAST
@given(st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=10))
def test_dimension_score_stays_within_one_to_five(stages: list[int]) -> None:
    score = dimension_score(stages)
    assert 1.0 <= score <= 5.0
    assert min(stages) <= score <= max(stages)


def test_missing_one_formative_indicator_holds_a_factor_at_start_up() -> None:
    indicators = {1: ["a"], 2: ["b", "c"], 3: ["d"]}
    assert factor_stage(indicators, {"a", "b", "d"}) == 1
    assert factor_stage(indicators, {"a", "b", "c", "d"}) == 5  # 4 and 5 have no indicators


def test_lift_names_the_unmet_indicators_of_the_lowest_unmet_stage() -> None:
    indicators = {1: ["a"], 2: ["b", "c"], 3: ["d", "e"], 4: ["f"], 5: ["g"]}
    step = lift(indicators, {"a", "b", "c", "e", "f"})
    assert step is not None
    assert (step.current, step.target, step.unmet) == (2, 3, ("d",))


def test_lift_at_dynamic_is_none() -> None:
    assert lift({1: ["a"], 5: ["z"]}, {"a", "z"}) is None


def test_dimension_scores_group_factors_by_dimension() -> None:
    scores = dimension_scores(
        {"D1.1": 2, "D1.2": 3, "D2.1": 1}, {"D1.1": "D1", "D1.2": "D1", "D2.1": "D2"}
    )
    assert scores == {"D1": 2.5, "D2": 1.0}


@pytest.mark.parametrize("bad", [0, 6, -1, True])
def test_stage_outside_the_scale_is_refused(bad: int) -> None:
    with pytest.raises(StageOutOfRange, match="from 1 to 5"):
        check_stage(bad)


def test_dimension_score_refuses_a_stage_off_the_scale() -> None:
    with pytest.raises(StageOutOfRange):
        dimension_score([3, 7])
