"""What every export hands on: the objects in force now, one selection for all of them.

The STIX and MISP exports (:func:`seawall.intel.search.latest_objects`) and the sensor
files and feeds (:mod:`.feeds`) call :func:`select_live`, so an indicator that one of them
treats as decayed is never handed on as live by another.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from seawall.core.context import Ctx
from seawall.db.models.intel import IntelCollection
from seawall.intel import decay
from seawall.intel.store.reading import MAX_LIMIT, Filters, StoredObject, each_object


def select_live(
    ctx: Ctx, collection: IntelCollection, types: tuple[str, ...] = ()
) -> list[tuple[StoredObject, dict[str, Any]]]:
    """The newest visible version of each object (of ``types``, if given) that is in force
    now (:func:`seawall.intel.decay.is_live`), with its STIX body; a sighting held in the
    same collection resets its indicator's age."""
    now = ctx.now()
    read = [
        (s, s.as_dict())
        for s in each_object(ctx, collection, Filters(types=types, limit=MAX_LIMIT))
    ]
    sightings: Iterable[dict[str, Any]] = (body for _, body in read)
    if types and "sighting" not in types:
        held = each_object(ctx, collection, Filters(types=("sighting",), limit=MAX_LIMIT))
        sightings = (s.as_dict() for s in held)
    sighted = decay.last_sightings(sightings, now)
    return [(s, body) for s, body in read if decay.is_live(body, now, sighted.get(s.id))]
