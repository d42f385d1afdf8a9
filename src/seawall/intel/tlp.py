"""The STIX marking definitions that carry TLP 2.0 levels (:mod:`seawall.core.tlp`).

TLP 1.0 markings are read onto the same scale, with WHITE read as CLEAR. An object marked
more than once is as restricted as its strictest marking.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from seawall.core.tlp import Tlp as Tlp  # the scale is core's; STIX markings are here
from seawall.core.tlp import parse_tlp as core_parse_tlp
from seawall.intel.errors import UnknownMarking

TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_CREATED = "2022-10-01T00:00:00.000Z"
TLP1_CREATED = "2017-01-20T00:00:00.000Z"


# The official STIX ids (cti-stix-common-objects, TLP 2.0 extension; STIX 2.1 §7.2.1.4).
TLP2_IDS: dict[Tlp, str] = {
    Tlp.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Tlp.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Tlp.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Tlp.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Tlp.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP1_IDS: dict[str, tuple[Tlp, str]] = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": (Tlp.CLEAR, "white"),
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": (Tlp.GREEN, "green"),
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": (Tlp.AMBER, "amber"),
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": (Tlp.RED, "red"),
}
MARKING_IDS: dict[str, Tlp] = {
    **{ref: level for level, ref in TLP2_IDS.items()},
    **{ref: level for ref, (level, _) in TLP1_IDS.items()},
}


def parse_tlp(value: str) -> Tlp:
    """A level by name (``amber+strict``, ``TLP:AMBER+STRICT``, ``white``), or UnknownMarking."""
    return core_parse_tlp(value, UnknownMarking)


def marking_id(level: Tlp) -> str:
    """The TLP 2.0 marking-definition id for a level."""
    return TLP2_IDS[level]


def marking_definition(level: Tlp) -> dict[str, Any]:
    """The official TLP 2.0 marking-definition object for a level."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_IDS[level],
        "created": TLP2_CREATED,
        "name": level.label,
        "extensions": {
            TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level.key}
        },
    }


def level_of_definition(obj: Mapping[str, Any]) -> Tlp | None:
    """The level a marking-definition object declares, or None for a non-TLP marking."""
    ref = obj.get("id")
    if isinstance(ref, str) and ref in MARKING_IDS:
        # An official id always means its official level, whatever the body claims.
        return MARKING_IDS[ref]
    extensions = obj.get("extensions")
    if isinstance(extensions, Mapping):
        ext = extensions.get(TLP2_EXTENSION)
        if isinstance(ext, Mapping) and "tlp_2_0" in ext:
            return parse_tlp(str(ext["tlp_2_0"]))
    if obj.get("definition_type") == "tlp":
        definition = obj.get("definition")
        if isinstance(definition, Mapping) and "tlp" in definition:
            return parse_tlp(str(definition["tlp"]))
        raise UnknownMarking(f"{ref}: a tlp marking definition without a 'tlp' level")
    return None


def level_of_ref(ref: str, known: Mapping[str, Tlp | None] | None = None) -> Tlp | None:
    """The level a marking reference stands for: None for a known non-TLP marking.

    ``known`` maps the ids of marking definitions this node holds to their levels.
    A reference to anything else is refused, since Seawall cannot tell how far
    the object may travel.
    """
    if ref in MARKING_IDS:
        return MARKING_IDS[ref]
    if known is not None and ref in known:
        return known[ref]
    raise UnknownMarking(
        f"unknown marking {ref!r}: use a TLP marking-definition id "
        "or send the marking-definition object first"
    )


def strictest(levels: Iterable[Tlp]) -> Tlp | None:
    """The most restrictive of some levels, or None when there are none."""
    return max(levels, default=None)


def effective_tlp(
    refs: Iterable[str], default: Tlp, known: Mapping[str, Tlp | None] | None = None
) -> Tlp:
    """The level an object travels under: its strictest TLP marking, else ``default``."""
    found = [level for ref in refs if (level := level_of_ref(ref, known)) is not None]
    return max(found) if found else default
