"""The index page's pillar chart: each nation's pillar scores as one stacked bar.

It is drawn in HTML rather than as a picture, so that its words are the page's (the catalogs
name the pillars), wrap on a phone and stay as large as the page's own text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from seawall.assess.indices import IndexRow
from seawall.catalogs import N_

# The pillars and tiers of the shipped GCI packs, for the catalogs; a pack's other names show as
# written.
PILLAR_NAMES = (
    N_("Legal Measures"),
    N_("Technical Measures"),
    N_("Organizational Measures"),
    N_("Capacity Development"),
    N_("Cooperation"),
)
TIER_NAMES = (
    N_("Role-modelling"),
    N_("Advancing"),
    N_("Establishing"),
    N_("Evolving"),
    N_("Building"),
)
COLOURS = 7  # the house palette's colours (.swatch-0 to .swatch-6), Okabe-Ito as in the reports


@dataclass(frozen=True)
class Part:
    """One pillar's share of a bar."""

    name: str
    value: float
    percent: float  # of the index's whole scale
    colour: int


@dataclass(frozen=True)
class Bar:
    """One nation's bar: its ISO 3166 alpha-3 code, overall score and pillar parts."""

    iso3: str
    overall: float
    parts: tuple[Part, ...]
    alternative: bool  # a second source's figures for the same nation
    mine: bool


@dataclass(frozen=True)
class Threshold:
    """Where a tier starts on the scale."""

    tier: str
    minimum: float
    percent: float


@dataclass(frozen=True)
class PillarChart:
    """The legend (pillar names with their colours), the bars and the tier thresholds."""

    legend: tuple[tuple[str, int], ...]
    bars: tuple[Bar, ...]
    thresholds: tuple[Threshold, ...]


def pillar_chart(
    pillars: Sequence[tuple[str, str]],
    rows: Sequence[IndexRow],
    nation: str | None,
    total_max: float,
    tiers: Mapping[str, float],
) -> PillarChart:
    """The chart of ``rows`` (in their order) over ``pillars`` (id, name in the page's words)."""
    scale = total_max if total_max > 0 else 100.0
    bars = tuple(
        Bar(
            iso3=row.iso3,
            overall=row.overall,
            parts=tuple(
                Part(name, row.pillars[key], 100 * row.pillars[key] / scale, i % COLOURS)
                for i, (key, name) in enumerate(pillars)
                if key in row.pillars
            ),
            alternative=not row.primary,
            mine=row.nation == nation,
        )
        for row in rows
    )
    thresholds = tuple(
        Threshold(tier, minimum, 100 * minimum / scale)
        for tier, minimum in tiers.items()
        if 0 < minimum < scale
    )
    return PillarChart(
        legend=tuple((name, i % COLOURS) for i, (_, name) in enumerate(pillars)),
        bars=bars,
        thresholds=thresholds,
    )
