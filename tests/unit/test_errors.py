"""Typed errors and the one parser of typed choices."""

from __future__ import annotations

from enum import StrEnum

import pytest

from seawall.errors import InvalidInput, parse_choice


class Colour(StrEnum):
    DEEP_BLUE = "deep_blue"
    SEA_GREEN = "sea-green"


class UnknownColour(InvalidInput):
    code = "unknown_colour"


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("deep_blue", Colour.DEEP_BLUE),
        ("  Deep Blue ", Colour.DEEP_BLUE),
        ("deep-blue", Colour.DEEP_BLUE),
        ("SEA-GREEN", Colour.SEA_GREEN),
    ],
)
def test_a_choice_is_read_whatever_its_case_and_separators(typed: str, meant: Colour) -> None:
    assert parse_choice(Colour, "colour", typed) is meant


def test_an_unknown_choice_names_every_choice_in_the_callers_error_type() -> None:
    with pytest.raises(
        InvalidInput, match=r"^unknown colour 'red': choose one of deep_blue, sea-green$"
    ):
        parse_choice(Colour, "colour", "red")
    with pytest.raises(UnknownColour) as caught:
        parse_choice(Colour, "colour", "red", UnknownColour)
    assert caught.value.code == "unknown_colour"
