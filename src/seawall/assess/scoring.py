"""The stage engine: indicator answers to factor stages, factor stages to dimension scores.

Pure functions over plain data, so the rules can be property-tested:

- A factor's stage is the highest stage ``s`` such that every indicator of ``s`` and of every
  lower stage is met. The lowest stage (CMM's Start-up, SIM3's 0) is the floor: a factor is
  never below it. A stage with no indicators is met trivially.
- A dimension's score is the mean of its factors' stages, on the scale's range (1-5 for CMM,
  0-4 for SIM3).
- What lifts a factor to the next stage is every unmet indicator at or below that stage. Once
  the floor is met that is exactly the unmet indicators of the lowest unmet stage; below the
  floor it also names the unmet floor indicators, which the next stage needs too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import fmean

from seawall.assess.errors import StageOutOfRange

LOWEST = 1
"""The floor of a scale unless a caller names another (a 0-based scale such as SIM3's)."""


def factor_stage(
    indicators: Mapping[int, Sequence[str]],
    met: Iterable[str],
    highest: int = 5,
    lowest: int = LOWEST,
) -> int:
    """The stage a factor reaches given which indicator ids are met."""
    done = set(met)
    stage = lowest
    for s in range(lowest, highest + 1):
        if not all(i in done for i in indicators.get(s, ())):
            break
        stage = s
    return stage


@dataclass(frozen=True)
class Lift:
    """What a factor needs to reach ``target``: the indicators still unmet."""

    current: int
    target: int
    unmet: tuple[str, ...]


def lift(
    indicators: Mapping[int, Sequence[str]],
    met: Iterable[str],
    highest: int = 5,
    lowest: int = LOWEST,
) -> Lift | None:
    """What would lift a factor to its next stage, or None at the top stage."""
    done = set(met)
    current = factor_stage(indicators, done, highest, lowest)
    if current >= highest:
        return None
    target = current + 1
    unmet = tuple(
        i for s in range(lowest, target + 1) for i in indicators.get(s, ()) if i not in done
    )
    return Lift(current, target, unmet)


def dimension_score(stages: Iterable[int], highest: int = 5, lowest: int = LOWEST) -> float:
    """The mean of a dimension's factor stages; every stage must be on the scale."""
    values = list(stages)
    if not values:
        raise StageOutOfRange("a dimension score needs at least one rated factor")
    for value in values:
        check_stage(value, highest, lowest=lowest)
    return fmean(values)


def dimension_scores(
    factor_stages: Mapping[str, int],
    dimension_of: Mapping[str, str],
    highest: int = 5,
    lowest: int = LOWEST,
) -> dict[str, float]:
    """Scores of every dimension with at least one staged factor, keyed by dimension id."""
    grouped: dict[str, list[int]] = {}
    for factor, stage in factor_stages.items():
        grouped.setdefault(dimension_of[factor], []).append(stage)
    return {d: dimension_score(v, highest, lowest) for d, v in grouped.items()}


def check_stage(stage: int, highest: int = 5, what: str = "stage", lowest: int = LOWEST) -> int:
    """Return ``stage`` when it is on the scale lowest..highest; otherwise a clear error."""
    if isinstance(stage, bool) or not isinstance(stage, int) or not lowest <= stage <= highest:
        raise StageOutOfRange(
            f"{what} {stage!r} is outside the scale: use a whole number from {lowest} to {highest}"
        )
    return stage
