"""The site map: where a repository's sites are, drawn as an inline SVG (no tiles, no CDN).

An equirectangular view around the located sites, scaled so that a kilometre is as long
east-west as north-south at the map's middle latitude, with a graticule every few degrees and
the worst storm footprint drawn as a circle.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from seawall.embassy.exposure import EARTH_RADIUS_KM, Exposure

KM_PER_DEGREE = math.radians(1) * EARTH_RADIUS_KM


@dataclass(frozen=True)
class MapPoint:
    """A located site on the map."""

    number: int
    x: float
    y: float
    place: str
    state: str
    # Where the label's baseline sits below the point: labels of close sites are stacked.
    label_dy: float = 4.0


@dataclass(frozen=True)
class GridLine:
    """A parallel or meridian, with its label."""

    x1: float
    y1: float
    x2: float
    y2: float
    label: str


@dataclass(frozen=True)
class SiteMap:
    """Everything the template draws."""

    width: int
    height: int
    points: tuple[MapPoint, ...]
    grid: tuple[GridLine, ...]
    footprint: tuple[float, float, float] | None


def site_map(
    exposure: Exposure,
    states: Sequence[str],
    *,
    width: int = 560,
    height: int = 320,
    pad: float = 24.0,
) -> SiteMap | None:
    """The map of the located sites (with each one's state), or None when none is located."""
    located = [(i, p) for i, p in enumerate(exposure.places) if p is not None]
    if not located:
        return None
    reach = exposure.radius_km / KM_PER_DEGREE if exposure.center else 0.0
    lats = [p.lat for _, p in located]
    lons = [p.lon for _, p in located]
    if exposure.center:
        lats += [exposure.center[0] - reach, exposure.center[0] + reach]
    mid = math.radians((min(lats) + max(lats)) / 2)
    squeeze = max(0.2, math.cos(mid))
    if exposure.center:
        lons += [exposure.center[1] - reach / squeeze, exposure.center[1] + reach / squeeze]
    # At least 4 degrees across, so one site alone still sits on a readable grid.
    south, north = _span(min(lats), max(lats), 4.0)
    west, east = _span(min(lons), max(lons), 4.0 / squeeze)
    scale = min((width - 2 * pad) / ((east - west) * squeeze), (height - 2 * pad) / (north - south))
    left = (width - (east - west) * squeeze * scale) / 2
    top = (height - (north - south) * scale) / 2

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return left + (lon - west) * squeeze * scale, top + (north - lat) * scale

    points = _stack_labels([MapPoint(i, *xy(p.lat, p.lon), p.name, states[i]) for i, p in located])
    # The grid covers the whole drawing, not only the span fitted into it.
    top_lat = north + top / scale
    bottom_lat = top_lat - height / scale
    left_lon = west - left / (squeeze * scale)
    right_lon = left_lon + width / (squeeze * scale)
    step = _grid_step(max(top_lat - bottom_lat, right_lon - left_lon))
    grid: list[GridLine] = []
    for lat in _ticks(bottom_lat, top_lat, step):
        x1, y = xy(lat, left_lon)
        x2, _ = xy(lat, right_lon)
        grid.append(GridLine(x1, y, x2, y, f"{abs(lat):g}°{'N' if lat >= 0 else 'S'}"))
    for lon in _ticks(left_lon, right_lon, step):
        x, y1 = xy(top_lat, lon)
        _, y2 = xy(bottom_lat, lon)
        grid.append(GridLine(x, y1, x, y2, f"{abs(lon):g}°{'E' if lon >= 0 else 'W'}"))
    footprint = None
    if exposure.center and exposure.sites:
        cx, cy = xy(*exposure.center)
        footprint = (cx, cy, reach * scale)
    return SiteMap(width, height, points, tuple(grid), footprint)


def _stack_labels(points: list[MapPoint]) -> tuple[MapPoint, ...]:
    """Move a label down a line while it would overprint the label of a site drawn before."""
    placed: list[MapPoint] = []
    for point in sorted(points, key=lambda p: (p.y, p.x)):
        dy = point.label_dy
        while any(
            abs((point.y + dy) - (other.y + other.label_dy)) < 13 and abs(point.x - other.x) < 110
            for other in placed
        ):
            dy += 13
        placed.append(replace(point, label_dy=dy))
    return tuple(sorted(placed, key=lambda p: p.number))


def _span(low: float, high: float, least: float) -> tuple[float, float]:
    """``low``..``high`` widened by a fifth each side, and to at least ``least`` in all."""
    margin = max((high - low) * 0.2, (least - (high - low)) / 2, 0.5)
    return low - margin, high + margin


def _grid_step(extent: float) -> float:
    for step in (1.0, 2.0, 5.0, 10.0, 20.0, 30.0):
        if extent / step <= 8:
            return step
    return 45.0


def _ticks(low: float, high: float, step: float) -> list[float]:
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step) + 1)]
