"""Nations named by ISO 3166-1 code or by English name, in any case."""

from __future__ import annotations

import pycountry
import pytest

from seawall.core.nations import normalise_nation
from seawall.errors import UnknownNation


@pytest.mark.parametrize(
    ("given", "iso2"),
    [
        ("TT", "TT"),
        ("tto", "TT"),
        ("Trinidad and Tobago", "TT"),
        ("trinidad & tobago", "TT"),
        ("  TRINIDAD AND TOBAGO ", "TT"),
        ("Republic of Trinidad and Tobago", "TT"),
        ("Jamaica", "JM"),
        ("St. Kitts and Nevis", "KN"),
        ("St Lucia", "LC"),
        ("Saint Vincent and the Grenadines", "VC"),
        ("The Bahamas", "BS"),
        ("Curacao", "CW"),
        ("Venezuela", "VE"),
        ("Bolivia", "BO"),
        ("Sint Maarten", "SX"),
        ("Dominica", "DM"),
        ("Dominican Republic", "DO"),
    ],
)
def test_a_nation_is_found_by_code_or_name(given: str, iso2: str) -> None:
    assert normalise_nation(given) == iso2


def test_every_iso_country_is_found_by_each_of_its_names() -> None:
    for country in pycountry.countries:
        for name in (country.name, getattr(country, "common_name", None)):
            if name:
                assert normalise_nation(name) == country.alpha_2, name
                assert normalise_nation(name.upper()) == country.alpha_2, name


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("ZZ", "unknown nation code 'ZZ': use an ISO 3166-1 code such as JM or JAM"),
        (
            "Atlantis",
            "unknown nation 'Atlantis': use an ISO 3166-1 code such as JM or JAM, "
            "or an English name such as Jamaica",
        ),
        # Shared by both Virgin Islands: a name that fits two nations is refused, not guessed.
        (
            "Virgin Islands",
            "unknown nation 'Virgin Islands': use an ISO 3166-1 code such as JM or JAM, "
            "or an English name such as Jamaica",
        ),
        ("", "unknown nation code '': use an ISO 3166-1 code such as JM or JAM"),
    ],
)
def test_an_unknown_nation_is_refused_in_one_line(given: str, message: str) -> None:
    with pytest.raises(UnknownNation) as caught:
        normalise_nation(given)
    assert str(caught.value) == message
