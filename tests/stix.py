"""STIX 2.1 objects for tests, with fixed ids and dates.

An object's id is a UUIDv4 made from a number (``sid("indicator", 1)``), so a test can name
it before it exists. Every object is stamped ``STAMP`` unless given ``stamp=``: a test that
exports, feeds or matches by the real clock must stamp its indicators from now (an address
decays about 29 days after its ``valid_from``, see ``seawall.intel.decay``). ``tlp=None``
leaves the object unmarked.
"""

from __future__ import annotations

import uuid
from typing import Any

from seawall.intel.tlp import Tlp, marking_id

STAMP = "2026-11-01T10:00:00.000Z"


def sid(kind: str, n: int) -> str:
    """The id of object number ``n`` of ``kind``."""
    return f"{kind}--{uuid.UUID(int=n, version=4)}"


def domain(value: str) -> str:
    """The STIX pattern matching one domain name."""
    return f"[domain-name:value = '{value}']"


def stix(
    kind: str, n: int, tlp: Tlp | None = Tlp.GREEN, *, stamp: str = STAMP, **props: Any
) -> dict[str, Any]:
    """Object number ``n`` of ``kind``, created and modified at ``stamp``, marked ``tlp``."""
    made: dict[str, Any] = {
        "type": kind,
        "spec_version": "2.1",
        "id": sid(kind, n),
        "created": stamp,
        "modified": stamp,
    }
    if tlp is not None:
        made["object_marking_refs"] = [marking_id(tlp)]
    return {**made, **props}


def indicator(
    n: int, pattern: str, tlp: Tlp | None = Tlp.GREEN, *, stamp: str = STAMP, **extra: Any
) -> dict[str, Any]:
    """Indicator ``n``, named "indicator n" and valid from ``stamp`` unless ``extra`` says."""
    props = {
        "name": f"indicator {n}",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": stamp,
        **extra,
    }
    return stix("indicator", n, tlp, stamp=stamp, **props)


def sighting(
    n: int, of: str, tlp: Tlp | None = Tlp.GREEN, *, stamp: str = STAMP, **extra: Any
) -> dict[str, Any]:
    """Sighting ``n`` of the object ``of``."""
    return stix("sighting", n, tlp, stamp=stamp, sighting_of_ref=of, **extra)


def relationship(
    n: int,
    source: str,
    kind: str,
    target: str,
    tlp: Tlp | None = Tlp.GREEN,
    *,
    stamp: str = STAMP,
    **extra: Any,
) -> dict[str, Any]:
    """Relationship ``n``: ``source`` ``kind`` ``target`` (e.g. an indicator "indicates" ...)."""
    return stix(
        "relationship",
        n,
        tlp,
        stamp=stamp,
        relationship_type=kind,
        source_ref=source,
        target_ref=target,
        **extra,
    )
