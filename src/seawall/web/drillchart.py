"""The restore-drill chart: each recent drill's measured recovery time against its RTO target,
drawn as an inline SVG of horizontal bars (no script, no CDN).

One row per drill, oldest at the top. All rows share one linear scale, up to the largest
target or measured time, so a drill well within its target shows as a short bar far left of
its target's tick: the distance is the margin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from babel.numbers import format_decimal

from seawall.db.models.embassy import EmbassyRun
from seawall.embassy.schedules import format_duration

# Below this the bar of a drill measured in milliseconds against hours would not show.
MIN_BAR = 3.0


@dataclass(frozen=True)
class DrillBar:
    """One drill: where its row sits, its bar, its target's tick and its labels."""

    at: datetime
    y: float
    width: float
    target_x: float | None
    measured_text: str
    target_text: str
    passed: bool


@dataclass(frozen=True)
class DrillChart:
    """Everything the template draws."""

    width: int
    height: int
    left: float  # where the bars start (the dates are written left of it)
    span: float  # the width a bar of the scale's largest time takes
    row: float
    bars: tuple[DrillBar, ...]
    scale_text: str


def _seconds(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def drill_chart(
    drills: Sequence[EmbassyRun],
    *,
    width: int = 420,
    left: float = 92.0,
    right: float = 56.0,
    row: float = 30.0,
    language: str = "en",
) -> DrillChart | None:
    """The chart of ``drills`` (drill runs, newest first, as the history lists them), or None
    when none measured a recovery time."""
    measured = [
        (run, seconds, _seconds(run.detail.get("rto_target_seconds")))
        for run in reversed(drills)
        if (seconds := _seconds(run.detail.get("rto_measured_seconds"))) is not None
    ]
    if not measured:
        return None
    top = max(max(seconds, target or 0.0) for _, seconds, target in measured) or 1.0
    span = width - left - right
    bars = []
    for i, (run, seconds, target) in enumerate(measured):
        bars.append(
            DrillBar(
                at=run.finished_at,
                y=8 + i * row,
                width=max(MIN_BAR, span * seconds / top),
                target_x=None if target is None else left + span * target / top,
                measured_text=readable_seconds(seconds, language),
                target_text=format_duration(target) if target is not None else "",
                passed=bool(run.detail.get("passed", run.outcome == "success")),
            )
        )
    return DrillChart(
        width=width,
        height=int(16 + len(bars) * row),
        left=left,
        span=span,
        row=row,
        bars=tuple(bars),
        scale_text=format_duration(top),
    )


def readable_seconds(seconds: float, language: str = "en") -> str:
    """A measured time: tenths of a second under a minute (``0,4 s`` in French), else as
    durations read."""
    if seconds >= 60:
        return format_duration(seconds)
    return f"{format_decimal(seconds, '0.0', locale=language)} s"
