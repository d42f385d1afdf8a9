"""Storm exposure: the worst single footprint over a repository's sites (a pure core)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.embassy.errors import BadPlace
from seawall.embassy.exposure import Place, distance_km, storm_exposure

BELIZE_CITY = Place("Belize City", 17.4986, -88.1886)
BELMOPAN = Place("Belmopan", 17.2510, -88.7590)
KINGSTON = Place("Kingston", 17.9714, -76.7931)
BRIDGETOWN = Place("Bridgetown", 13.0975, -59.6167)
PORT_OF_SPAIN = Place("Port of Spain", 10.6549, -61.5019)

# Sites anywhere from the Gulf of Mexico to the Lesser Antilles.
caribbean = st.builds(
    Place,
    st.just("site"),
    st.floats(min_value=8, max_value=28, allow_nan=False),
    st.floats(min_value=-95, max_value=-58, allow_nan=False),
)


def test_known_distance_belize_city_to_belmopan() -> None:
    assert distance_km((BELIZE_CITY.lat, BELIZE_CITY.lon), (BELMOPAN.lat, BELMOPAN.lon)) == (
        pytest.approx(66, abs=3)
    )


def test_three_sites_in_belize_put_a_three_of_five_repository_at_risk() -> None:
    belize_river = Place("Belize River valley", 17.35, -88.45)
    places = [BELIZE_CITY, BELMOPAN, belize_river, KINGSTON, BRIDGETOWN]
    exposure = storm_exposure(places, k=3)
    assert exposure.sites == (0, 1, 2)
    assert exposure.tolerable == 2
    assert exposure.at_risk


def test_sites_a_storm_apart_are_safe_and_unlocated_sites_are_named() -> None:
    places = [BELIZE_CITY, KINGSTON, BRIDGETOWN, PORT_OF_SPAIN, None]
    exposure = storm_exposure(places, k=3)
    # Bridgetown and Port of Spain are 300 km apart: one 250 km footprint takes both, which
    # a 3-of-5 repository survives.
    assert exposure.sites == (2, 3)
    assert not exposure.at_risk
    assert exposure.unlocated == (4,)


def test_a_wider_storm_covers_bridgetown_and_port_of_spain_together() -> None:
    places = [KINGSTON, BRIDGETOWN, PORT_OF_SPAIN]
    # 300 km apart: apart under a 100 km footprint, together under a 200 km one.
    assert len(storm_exposure(places, k=2, radius_km=100).sites) == 1
    assert storm_exposure(places, k=2, radius_km=200).sites == (1, 2)


@pytest.mark.parametrize(
    ("lat", "lon", "complaint"),
    [(91, 0, "latitude 91"), (0, -181, "longitude -181"), (math.nan, 0, "latitude nan")],
)
def test_a_place_off_the_globe_is_refused(lat: float, lon: float, complaint: str) -> None:
    with pytest.raises(BadPlace, match=complaint):
        Place("Nowhere", lat, lon)


def test_a_storm_radius_must_be_sensible() -> None:
    with pytest.raises(BadPlace, match="storm radius 0 km"):
        storm_exposure([KINGSTON], k=1, radius_km=0)


@settings(max_examples=150, deadline=None)
@given(st.lists(caribbean, min_size=1, max_size=7), st.floats(min_value=20, max_value=800))
def test_the_worst_footprint_really_covers_its_sites_and_beats_any_site_centred_one(
    places: list[Place], radius: float
) -> None:
    exposure = storm_exposure(places, k=1, radius_km=radius)
    assert exposure.center is not None
    for i in exposure.sites:
        point = (places[i].lat, places[i].lon)
        assert distance_km(exposure.center, point) <= radius + 1e-6
    for centre in places:
        around = [
            p for p in places if distance_km((centre.lat, centre.lon), (p.lat, p.lon)) <= radius
        ]
        assert len(exposure.sites) >= len(around)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(caribbean, min_size=2, max_size=6),
    st.floats(min_value=20, max_value=400),
    st.floats(min_value=1.0, max_value=3.0),
)
def test_a_wider_storm_never_covers_fewer_sites(
    places: list[Place], radius: float, growth: float
) -> None:
    narrow = storm_exposure(places, k=1, radius_km=radius)
    wide = storm_exposure(places, k=1, radius_km=radius * growth)
    assert len(wide.sites) >= len(narrow.sites)
