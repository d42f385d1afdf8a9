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


def test_each_edge_is_told_where_to_look_in_its_own_terms() -> None:
    from seawall.core.access import Perm, Principal, Role, require
    from seawall.errors import Forbidden, NotFound

    missing = NotFound("no case 'x'", cli="`seawall intel case list` shows them",
                       web="the Cases page (/intel/cases) lists them")  # fmt: skip
    assert missing.message == str(missing) == "no case 'x'; `seawall intel case list` shows them"
    assert missing.web_message == "no case 'x'; the Cases page (/intel/cases) lists them"
    assert NotFound("no case 'x'").web_message == "no case 'x'"
    viewer = Principal("jm-viewer", "JM", Role.VIEWER)
    with pytest.raises(Forbidden) as refused:
        require(viewer, Perm.AUDIT_READ)
    assert refused.value.message.startswith("jm-viewer's role (viewer) cannot read the audit log")
    assert refused.value.web_message.startswith("Your role (viewer) cannot read the audit log.")
    scoped = Principal("jm-admin", "JM", Role.ADMIN, scopes=frozenset({Perm.INTEL_READ}))
    with pytest.raises(Forbidden, match="this token of jm-admin cannot read the audit log"):
        require(scoped, Perm.AUDIT_READ)
