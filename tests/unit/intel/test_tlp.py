"""TLP levels, their official STIX ids, and how markings combine."""

from __future__ import annotations

import pytest
import stix2

from seawall.intel.errors import UnknownMarking
from seawall.intel.tlp import (
    MARKING_IDS,
    TLP2_EXTENSION,
    Tlp,
    effective_tlp,
    level_of_definition,
    level_of_ref,
    marking_definition,
    marking_id,
    parse_tlp,
)


def test_levels_are_ordered_from_clear_to_red() -> None:
    assert sorted(Tlp, reverse=True) == [
        Tlp.RED,
        Tlp.AMBER_STRICT,
        Tlp.AMBER,
        Tlp.GREEN,
        Tlp.CLEAR,
    ]


def test_tlp2_ids_are_the_official_ones() -> None:
    assert marking_id(Tlp.CLEAR) == "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
    assert marking_id(Tlp.GREEN) == "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
    assert marking_id(Tlp.AMBER) == "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
    assert (
        marking_id(Tlp.AMBER_STRICT) == "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
    )
    assert marking_id(Tlp.RED) == "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"


@pytest.mark.parametrize(
    ("stix2_marking", "level"),
    [
        (stix2.TLP_WHITE, Tlp.CLEAR),
        (stix2.TLP_GREEN, Tlp.GREEN),
        (stix2.TLP_AMBER, Tlp.AMBER),
        (stix2.TLP_RED, Tlp.RED),
    ],
)
def test_tlp1_markings_from_the_stix2_library_are_read(
    stix2_marking: stix2.MarkingDefinition, level: Tlp
) -> None:
    assert level_of_ref(stix2_marking.id) is level
    assert MARKING_IDS[stix2_marking.id] is level


@pytest.mark.parametrize("level", list(Tlp))
def test_definition_objects_parse_as_stix_and_declare_their_level(level: Tlp) -> None:
    body = marking_definition(level)
    parsed = stix2.parse(body, allow_custom=True)
    assert parsed.id == marking_id(level)
    assert body["extensions"][TLP2_EXTENSION]["tlp_2_0"] == level.key
    assert level_of_definition(body) is level


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("TLP:AMBER+STRICT", Tlp.AMBER_STRICT),
        ("amber-strict", Tlp.AMBER_STRICT),
        ("White", Tlp.CLEAR),
        (" tlp:red ", Tlp.RED),
        ("green", Tlp.GREEN),
    ],
)
def test_names_parse(name: str, level: Tlp) -> None:
    assert parse_tlp(name) is level


def test_unknown_names_and_refs_fail_clearly() -> None:
    with pytest.raises(UnknownMarking, match="unknown TLP level 'purple'"):
        parse_tlp("purple")
    ref = "marking-definition--00000000-0000-4000-8000-000000000001"
    with pytest.raises(UnknownMarking, match="unknown marking"):
        level_of_ref(ref)
    assert level_of_ref(ref, {ref: None}) is None


def test_strictest_marking_wins_and_unmarked_takes_the_default() -> None:
    refs = [marking_id(Tlp.GREEN), marking_id(Tlp.RED), marking_id(Tlp.AMBER)]
    assert effective_tlp(refs, Tlp.CLEAR) is Tlp.RED
    assert effective_tlp([], Tlp.AMBER) is Tlp.AMBER
    statement = "marking-definition--00000000-0000-4000-8000-000000000002"
    assert effective_tlp([statement], Tlp.GREEN, {statement: None}) is Tlp.GREEN


def test_custom_tlp_definitions_are_read_but_official_ids_cannot_be_relabelled() -> None:
    custom = {
        "type": "marking-definition",
        "id": "marking-definition--00000000-0000-4000-8000-000000000003",
        "definition_type": "tlp",
        "definition": {"tlp": "amber"},
    }
    assert level_of_definition(custom) is Tlp.AMBER
    forged = {**marking_definition(Tlp.RED), "name": "TLP:CLEAR"}
    forged["extensions"] = {TLP2_EXTENSION: {"tlp_2_0": "clear"}}
    assert level_of_definition(forged) is Tlp.RED
    statement = {**custom, "definition_type": "statement", "definition": {"statement": "x"}}
    assert level_of_definition(statement) is None
