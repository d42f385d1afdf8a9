"""Storm exposure: could one storm's footprint take out more sites than a repository can lose?

A k-of-n repository survives the loss of n - k sites. Sites close together fail together: a
hurricane cuts power, floods and closes roads over hundreds of kilometres. Given where the
sites are, this finds the largest set of them that one circular footprint of a given radius
covers. When that set is larger than n - k, one storm there could make the data unreadable.

Footprints are searched among circles centred on each site, on the midpoint of each pair,
and on the two circles of the radius through each pair of sites no more than a diameter
apart. A set that fits in some circle of the radius is covered by one of these unless it
needs three sites on its edge; the search can miss such a set and so under-report by a site,
never over-report.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from seawall.embassy.errors import BadPlace

EARTH_RADIUS_KM = 6371.0088
# Tropical-storm-force winds reach 150-300 km from a large hurricane's centre; the rain,
# surge and grid failures that close a data centre reach as far.
DEFAULT_STORM_RADIUS_KM = 250.0


@dataclass(frozen=True)
class Place:
    """Where a site is: a name people know, and its latitude and longitude in degrees."""

    name: str
    lat: float
    lon: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", self.name.strip())  # as typed into a form or a CLI
        if not (math.isfinite(self.lat) and -90 <= self.lat <= 90):
            raise BadPlace(f"latitude {self.lat} is not between -90 and 90 degrees")
        if not (math.isfinite(self.lon) and -180 <= self.lon <= 180):
            raise BadPlace(f"longitude {self.lon} is not between -180 and 180 degrees")
        if not self.name or len(self.name) > 80:
            raise BadPlace("a place needs a name of 1 to 80 characters, e.g. 'Belize City'")


@dataclass(frozen=True)
class Exposure:
    """The worst single footprint over a repository's located sites."""

    radius_km: float
    tolerable: int
    sites: tuple[int, ...]
    center: tuple[float, float] | None
    # Every site's place, in site order (None where it was never located).
    places: tuple[Place | None, ...]
    # The sites (by index) that are folders on this node's own disks (``file://``), as the
    # demo's are: wherever they are said to be, one fault of this machine takes them together.
    local: tuple[int, ...] = ()

    @property
    def unlocated(self) -> tuple[int, ...]:
        """The sites (by index) whose place is not known."""
        return tuple(i for i, place in enumerate(self.places) if place is None)

    @property
    def all_local(self) -> bool:
        """True when every site is a folder on this machine: a demo, not a spread."""
        return bool(self.places) and len(self.local) == len(self.places)

    @property
    def at_risk(self) -> bool:
        """True when one footprint covers more sites than the repository can lose."""
        return len(self.sites) > self.tolerable


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points in kilometres (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def storm_exposure(
    places: Sequence[Place | None], *, k: int, radius_km: float = DEFAULT_STORM_RADIUS_KM
) -> Exposure:
    """The most sites (by index in ``places``) that one footprint of ``radius_km`` covers."""
    if not (math.isfinite(radius_km) and 0 < radius_km <= 5000):
        raise BadPlace(f"storm radius {radius_km:g} km is not between 0 and 5,000 km")
    located = [(i, (p.lat, p.lon)) for i, p in enumerate(places) if p is not None]
    best: tuple[int, ...] = ()
    center: tuple[float, float] | None = None
    for candidate in _candidates([point for _, point in located], radius_km):
        covered = tuple(i for i, point in located if distance_km(candidate, point) <= radius_km)
        if len(covered) > len(best):
            best, center = covered, candidate
    return Exposure(radius_km, max(0, len(places) - k), best, center, tuple(places))


def _candidates(points: list[tuple[float, float]], radius_km: float) -> list[tuple[float, float]]:
    """Footprint centres worth trying: each site, each pair's midpoint, circles through pairs."""
    found = list(points)
    for a_index, a in enumerate(points):
        for b in points[a_index + 1 :]:
            # A local flat map around the pair: good to a fraction of a percent at these sizes.
            mid_lat = (a[0] + b[0]) / 2
            kx = math.radians(1) * EARTH_RADIUS_KM * math.cos(math.radians(mid_lat))
            ky = math.radians(1) * EARTH_RADIUS_KM
            ax, ay = a[1] * kx, a[0] * ky
            bx, by = _unwrap(a[1], b[1]) * kx, b[0] * ky
            mx, my = (ax + bx) / 2, (ay + by) / 2
            found.append((my / ky, _wrap(mx / kx)))
            half = math.hypot(bx - ax, by - ay) / 2
            if 0 < half <= radius_km:
                reach = math.sqrt(radius_km**2 - half**2)
                ux, uy = (by - ay) / (2 * half), -(bx - ax) / (2 * half)
                for sign in (1, -1):
                    cx, cy = mx + sign * reach * ux, my + sign * reach * uy
                    found.append((max(-90.0, min(90.0, cy / ky)), _wrap(cx / kx)))
    return found


def _unwrap(origin: float, lon: float) -> float:
    """``lon`` shifted by whole turns to lie within 180 degrees of ``origin``."""
    while lon - origin > 180:
        lon -= 360
    while lon - origin < -180:
        lon += 360
    return lon


def _wrap(lon: float) -> float:
    return (lon + 180) % 360 - 180
