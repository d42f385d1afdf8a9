"""What every export hands on: the objects in force now, one selection for all of them.

The STIX and MISP exports (:func:`seawall.intel.search.latest_objects`) and the sensor
files and feeds (:mod:`.feeds`) call :func:`select_live`, so an indicator that one of them
treats as decayed is never handed on as live by another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from seawall.core.context import Ctx
from seawall.db.models.intel import IntelCollection
from seawall.intel import decay
from seawall.intel.store.reading import MAX_LIMIT, Filters, StoredObject, each_object


@dataclass(frozen=True)
class Selection:
    """The objects in force now with their STIX bodies, and the first moment after now at
    which the choice may differ though nothing is written (None: never)."""

    live: list[tuple[StoredObject, dict[str, Any]]]
    changes: datetime | None


def select_live(ctx: Ctx, collection: IntelCollection, types: tuple[str, ...] = ()) -> Selection:
    """The newest visible version of each object (of ``types``, if given) that is in force
    now (:func:`seawall.intel.decay.is_live`); a sighting held in the same collection
    resets its indicator's age."""
    now = ctx.now()
    read = [
        (s, s.as_dict())
        for s in each_object(ctx, collection, Filters(types=types, limit=MAX_LIMIT))
    ]
    sightings = [body for _, body in read if body.get("type") == "sighting"]
    if types and "sighting" not in types:
        held = each_object(ctx, collection, Filters(types=("sighting",), limit=MAX_LIMIT))
        sightings = [s.as_dict() for s in held]
    sighted = decay.last_sightings(sightings, now)
    live: list[tuple[StoredObject, dict[str, Any]]] = []
    # A sighting dated ahead of the clock starts to count later; a window opens or closes.
    moments = [t for t in map(decay.counts_from, sightings) if t is not None and t > now]
    for stored, body in read:
        last = sighted.get(stored.id)
        if decay.is_live(body, now, last):
            live.append((stored, body))
        if (changes := decay.changes_at(body, now, last)) is not None:
            moments.append(changes)
    return Selection(live, min(moments, default=None))
