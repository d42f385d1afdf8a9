"""Report charts, drawn in one house style and returned as SVG text.

Every chart uses the same palette (Okabe-Ito, readable by colour-blind readers), font sizes,
grid and spines. Figures are built with matplotlib's object API, never pyplot, so no global
state is shared between threads, and the SVG output is deterministic for the same data.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, cast

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.projections.polar import PolarAxes

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
INK = "#222222"
MUTED = "#8a8a8a"
GRID = "#d9d9d9"
HIGHLIGHT = "#D55E00"

STYLE: dict[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.labelsize": 9,
    "axes.edgecolor": MUTED,
    "axes.labelcolor": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": GRID,
    "grid.linewidth": 0.6,
    "xtick.color": INK,
    "ytick.color": INK,
    "legend.frameon": False,
    "legend.fontsize": 8,
    "svg.hashsalt": "seawall",
    "svg.fonttype": "none",
}


def _styled() -> AbstractContextManager[None]:
    # STYLE's keys are rcParams names; matplotlib types them as a Literal union.
    return mpl.rc_context(cast(Any, STYLE))


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    return buf.getvalue()


def _wrap(label: str, width: int = 16) -> str:
    return "\n".join(textwrap.wrap(label, width)) or label


def _polar(ax: Axes) -> PolarAxes:
    assert isinstance(ax, PolarAxes)
    return ax


def radar_chart(
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    highest: int = 5,
    stage_names: Sequence[str] = (),
    title: str = "",
) -> str:
    """A radar of dimension scores on 1..highest; one outline per series (e.g. per year)."""
    with _styled():
        fig = Figure(figsize=(5.2, 4.6))
        ax = _polar(fig.add_subplot(projection="polar"))
        _draw_radar(ax, labels, series, highest, label_width=18)
        if stage_names:
            ax.set_yticklabels([f"{n} {name}" for n, name in enumerate(stage_names, 1)])
        if title:
            ax.set_title(title, pad=18)
        if len(series) > 1:
            ax.legend(loc="upper right", bbox_to_anchor=(1.32, 1.12))
        return _svg(fig)


def _draw_radar(
    ax: PolarAxes,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    highest: int,
    label_width: int,
    small: bool = False,
) -> None:
    count = len(labels)
    angles = [2 * math.pi * i / count for i in range(count)]
    closed = [*angles, angles[0]]
    ax.set_theta_offset(math.pi / 2)
    ax.set_theta_direction(-1)
    ax.set_ylim(0, highest)
    ax.set_yticks(range(1, highest + 1))
    ax.set_yticklabels([] if small else [str(n) for n in range(1, highest + 1)])
    ax.set_xticks(angles)
    ax.set_xticklabels([_wrap(label, label_width) for label in labels], fontsize=6 if small else 8)
    ax.spines["polar"].set_color(GRID)
    for i, (name, values) in enumerate(series.items()):
        colour = PALETTE[i % len(PALETTE)]
        points = [*values, values[0]]
        ax.plot(closed, points, color=colour, linewidth=1.6, label=name)
        ax.fill(closed, points, color=colour, alpha=0.12)


def small_multiples(
    labels: Sequence[str],
    panels: Mapping[str, Sequence[float]],
    highest: int = 5,
    columns: int = 4,
    highlight: str | None = None,
    empty: str = "No consented, published assessments yet",
) -> str:
    """One small radar per nation, same scale and order, for a regional overview.

    ``labels`` should be short (dimension ids); the report prints the key beside the chart.
    ``empty`` is shown when there is no nation to draw.
    """
    names = list(panels)
    rows = max(1, math.ceil(len(names) / columns))
    with _styled():
        fig = Figure(figsize=(2.1 * columns, 2.2 * rows))
        if not names:
            ax = fig.add_subplot()
            ax.axis("off")
            ax.text(0.5, 0.5, empty, ha="center", color=MUTED)
            return _svg(fig)
        for i, name in enumerate(names):
            ax = _polar(fig.add_subplot(rows, columns, i + 1, projection="polar"))
            _draw_radar(ax, labels, {name: panels[name]}, highest, label_width=10, small=True)
            ax.set_title(name, fontsize=9, color=HIGHLIGHT if name == highlight else INK, pad=10)
        fig.subplots_adjust(wspace=0.6, hspace=0.7)
        return _svg(fig)


def trend_chart(
    labels: Mapping[str, str],
    points: Mapping[str, Sequence[tuple[int, float]]],
    highest: int = 5,
    title: str = "",
    axis_label: str = "Score",
) -> str:
    """Dimension scores across assessment years, one line per dimension."""
    with _styled():
        fig = Figure(figsize=(6.4, 3.2))
        ax = fig.add_subplot()
        years: set[int] = set()
        for i, (key, series) in enumerate(points.items()):
            xs = [p[0] for p in series]
            ys = [p[1] for p in series]
            years.update(xs)
            ax.plot(
                xs,
                ys,
                marker="o",
                color=PALETTE[i % len(PALETTE)],
                linewidth=1.6,
                label=labels.get(key, key),
            )
        ax.set_ylim(1, highest)
        ax.set_yticks(range(1, highest + 1))
        ax.set_xticks(sorted(years))
        ax.set_ylabel(axis_label)
        if title:
            ax.set_title(title, loc="left")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
        return _svg(fig)


def pillar_bars(
    pillars: Sequence[tuple[str, str]],
    rows: Sequence[tuple[str, Mapping[str, float]]],
    highlight: str | None = None,
    total_max: float = 100,
    tiers: Sequence[tuple[str, float]] = (),
    title: str = "",
) -> str:
    """Stacked horizontal bars of index pillars per nation, with tier thresholds marked."""
    with _styled():
        fig = Figure(figsize=(6.6, 0.32 * len(rows) + 1.4))
        ax = fig.add_subplot()
        names = [name for name, _ in rows][::-1]
        values = [parts for _, parts in rows][::-1]
        left = [0.0] * len(rows)
        for i, (key, label) in enumerate(pillars):
            widths = [v.get(key, 0.0) for v in values]
            ax.barh(names, widths, left=left, color=PALETTE[i % len(PALETTE)], label=label)
            left = [a + b for a, b in zip(left, widths, strict=True)]
        for name, threshold in tiers:
            if 0 < threshold < total_max:
                ax.axvline(threshold, color=MUTED, linewidth=0.8, linestyle="--")
                ax.text(threshold, len(rows) - 0.4, name, fontsize=7, color=MUTED, ha="center")
        ax.set_xlim(0, total_max)
        ax.grid(axis="y", visible=False)
        for tick in ax.get_yticklabels():
            if tick.get_text() == highlight:
                tick.set_color(HIGHLIGHT)
                tick.set_fontweight("bold")
        if title:
            ax.set_title(title, loc="left")
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
        return _svg(fig)
