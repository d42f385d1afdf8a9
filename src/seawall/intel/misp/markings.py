"""MISP TLP tags and distribution levels as TLP markings, and markings back as levels.

The rules are in docs/intel.md ("Markings"): an item takes the strictest of its TLP tag
and the widest marking its distribution level allows, and never comes out looser than
the event it belongs to.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from seawall.intel.errors import UnknownMarking
from seawall.intel.tlp import Tlp, marking_id, parse_tlp

DISTRIBUTIONS = {
    0: "Your organisation only",
    1: "This community only",
    2: "Connected communities",
    3: "All communities",
    4: "Sharing group",
    5: "Inherit event",
}
# The widest marking each distribution level allows. "This community" is the users of
# one instance, which is what GREEN means on a Seawall node (every authenticated user);
# "connected communities" are the federation. A sharing group is a list of named
# recipients: RED. "All communities" sets no limit of its own.
_LIMITS = {0: Tlp.AMBER_STRICT, 1: Tlp.GREEN, 2: Tlp.GREEN, 3: Tlp.CLEAR, 4: Tlp.RED}
# On export: the distribution that carries each marking no further than it may go. An
# AMBER event stays on the receiving instance (1) with its tlp:amber tag, and RED goes
# out as "Your organisation only" with its tlp:red tag, since a sharing group needs an
# id that only the receiving MISP knows.
_DISTRIBUTION_OF = {
    Tlp.CLEAR: 3,
    Tlp.GREEN: 2,
    Tlp.AMBER: 1,
    Tlp.AMBER_STRICT: 0,
    Tlp.RED: 0,
}


def distribution_limit(level: int) -> Tlp:
    """The widest TLP marking a MISP distribution level (0-4) allows."""
    if level not in _LIMITS:
        raise UnknownMarking(
            f"MISP distribution {level!r} is not a level this node knows: use 0-5 "
            "(5, inherit, takes the event's level)"
        )
    return _LIMITS[level]


def distribution_of(level: Tlp) -> int:
    """The MISP distribution level an object marked ``level`` is exported with."""
    return _DISTRIBUTION_OF[level]


# The widest distribution an object so marked may keep when its sender chose it: MISP's
# "all communities" is still a closed community of MISP instances, which TLP:GREEN
# allows, so a GREEN object that came as distribution 3 goes back as 3.
_WIDEST = {Tlp.CLEAR: 3, Tlp.GREEN: 3, Tlp.AMBER: 1, Tlp.AMBER_STRICT: 0, Tlp.RED: 0}


def widest_distribution(level: Tlp) -> int:
    """The widest MISP distribution (0-3) an object marked ``level`` may be exported with."""
    return _WIDEST[level]


def tag_names(item: Mapping[str, Any]) -> list[str]:
    """The names of an item's tags (its ``Tag`` list and, on an event, its ``EventTag`` list)."""
    tags = item.get("Tag") or []
    if isinstance(item.get("EventTag"), list):
        tags = [*tags, *(t.get("Tag", {}) for t in item["EventTag"] if isinstance(t, Mapping))]
    return [str(t["name"]) for t in tags if isinstance(t, Mapping) and t.get("name")]


def is_tlp_tag(name: str) -> bool:
    """Whether a tag names a TLP level (``tlp:ex:`` tags are free text, not levels)."""
    return name.strip().lower().startswith("tlp:") and not name.lower().startswith("tlp:ex:")


def tlp_of_tags(names: Iterable[str]) -> Tlp | None:
    """The strictest TLP level among MISP tags (``tlp:amber``), or UnknownMarking."""
    levels: list[Tlp] = []
    for name in names:
        if is_tlp_tag(name):
            try:
                levels.append(parse_tlp(name))
            except UnknownMarking:
                raise UnknownMarking(
                    f"tag {name!r} is not a TLP level: use tlp:clear, tlp:white, tlp:green, "
                    "tlp:amber, tlp:amber+strict or tlp:red"
                ) from None
    return max(levels, default=None)


def parse_distribution(value: Any, inherited: int | None) -> int | None:
    """An item's distribution level (0-4): ``inherited`` when unset or 5, else UnknownMarking."""
    if value is None or value == "":
        return inherited
    try:
        level = int(value)
    except (TypeError, ValueError):
        raise UnknownMarking(f"MISP distribution {value!r} is not a number 0-5") from None
    if level == 5:
        return inherited
    distribution_limit(level)
    return level


def marking_of(tags: Iterable[str], distribution: int | None) -> Tlp | None:
    """The marking for a MISP item: the strictest of its TLP tag and its distribution's limit.

    Without a TLP tag the distribution decides, but never looser than GREEN: an
    untagged event is not made public because it may travel to all communities.
    Without either, None: the collection's default marking applies.
    """
    tagged = tlp_of_tags(tags)
    limit = distribution_limit(distribution) if distribution is not None else None
    if tagged is None:
        return None if limit is None else max(limit, Tlp.GREEN)
    return tagged if limit is None else max(tagged, limit)


def marking_refs(level: Tlp | None) -> dict[str, Any]:
    """The ``object_marking_refs`` property of an object marked ``level``; none for None."""
    return {"object_marking_refs": [marking_id(level)]} if level is not None else {}
