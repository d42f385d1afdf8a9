"""TLP 2.0 levels: one scale for every pillar (markings, partner caps, page words).

The levels are ordered from least to most restrictive: CLEAR < GREEN < AMBER <
AMBER+STRICT < RED. TLP 1.0's WHITE is read as CLEAR. How STIX carries a level (marking
definitions) is the intel pillar's business; the scale itself is core's.
"""

from __future__ import annotations

from enum import IntEnum

from seawall.errors import InvalidInput


class Tlp(IntEnum):
    """A TLP level; a larger value is a stricter marking."""

    CLEAR = 0
    GREEN = 1
    AMBER = 2
    AMBER_STRICT = 3
    RED = 4

    @property
    def label(self) -> str:
        """The level as TLP 2.0 writes it: ``TLP:AMBER+STRICT``."""
        return f"TLP:{self.key.upper()}"

    @property
    def key(self) -> str:
        """The level's lowercase name as stored and as the TLP 2.0 extension writes it."""
        return "amber+strict" if self is Tlp.AMBER_STRICT else self.name.lower()


TLP_KEYS = tuple(level.key for level in Tlp)
"""Every level's key, least restrictive first: ``clear`` ... ``red``."""

_NAMES: dict[str, Tlp] = {
    **{level.key: level for level in Tlp},
    "white": Tlp.CLEAR,
    "amber-strict": Tlp.AMBER_STRICT,
    "amber_strict": Tlp.AMBER_STRICT,
}


def parse_tlp(value: str, error: type[InvalidInput] = InvalidInput) -> Tlp:
    """A level by name (``amber+strict``, ``TLP:AMBER+STRICT``, ``white``), or ``error``."""
    key = value.strip().lower().replace(" ", "")
    key = key.removeprefix("tlp:").removeprefix("tlp-")
    try:
        return _NAMES[key]
    except KeyError:
        raise error(
            f"unknown TLP level {value!r}: use clear, green, amber, amber+strict or red"
        ) from None
