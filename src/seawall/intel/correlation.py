"""Correlation: the other objects that hold an observable this one holds.

Values are looked up in the observable index (:mod:`seawall.intel.observable_index`),
across every collection and every nation's objects the caller may read, and each hit is
read through the store's policy: the SQL of
:func:`seawall.intel.store.visibility.visible` narrows the lookup and
:func:`~seawall.intel.store.visibility.allows` checks every row again. Only the newest
version the caller sees of each object counts, and its observables are compared again
by value, so a key collision or a value only an older version held correlates nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.db.models.intel import IntelCollection, IntelObject
from seawall.db.models.intel_correlation import IntelObservable
from seawall.intel.collections import can_read, list_collections, reader_of
from seawall.intel.matching.observables import Observable
from seawall.intel.observable_index import observables_of, value_key
from seawall.intel.search import summary_of
from seawall.intel.store.visibility import allows, visible
from seawall.intel.tlp import Tlp

# Per collection: a value held by thousands of objects (a public resolver) is named, and
# the rest counted as "more", rather than paged into one page.
CORRELATION_LIMIT = 200


@dataclass(frozen=True)
class Correlated:
    """Another object sharing at least one observable, as the caller sees it."""

    collection: str
    id: str
    type: str
    name: str
    tlp: Tlp
    owner_nation: str
    shared: tuple[Observable, ...]


@dataclass(frozen=True)
class Correlation:
    """The objects sharing an observable with one object, and whether more were left out."""

    observables: tuple[Observable, ...]
    objects: list[Correlated]
    more: bool


def correlated(ctx: Ctx, obj: Any, limit: int = CORRELATION_LIMIT) -> Correlation:
    """The other objects the caller may see that share an observable with ``obj``.

    ``obj`` is any stored version with ``id``, ``type`` and ``body`` (a dict), such as
    :class:`seawall.intel.search.Version`; other versions and copies of the same id
    are not counted.
    """
    require(ctx.who, Perm.INTEL_READ)
    mine = observables_of(str(obj.type), obj.body)
    if not mine:
        return Correlation((), [], False)
    keys = sorted({value_key(o) for o in mine})
    wanted = set(mine)
    found: list[Correlated] = []
    more = False
    for collection in list_collections(ctx):
        if can_read(ctx, collection):
            hits, cut = _in_collection(ctx, collection, str(obj.id), keys, wanted, limit)
            found += hits
            more = more or cut
    found.sort(key=lambda c: (c.type, c.name, c.collection, c.id))
    return Correlation(mine, found, more)


def _in_collection(
    ctx: Ctx,
    collection: IntelCollection,
    own_id: str,
    keys: list[int],
    wanted: set[Observable],
    limit: int,
) -> tuple[list[Correlated], bool]:
    reader = reader_of(ctx, collection)
    ids = list(
        ctx.db.scalars(
            select(IntelObject.stix_id)
            .join(IntelObservable, IntelObservable.object_seq == IntelObject.seq)
            .where(
                IntelObservable.value_key.in_(keys),
                IntelObject.collection_id == collection.id,
                IntelObject.stix_id != own_id,
                visible(reader),
            )
            .distinct()
            .order_by(IntelObject.stix_id)
            .limit(limit + 1)
        )
    )
    cut = len(ids) > limit
    if not ids:
        return [], False
    rows = ctx.db.scalars(
        select(IntelObject).where(
            IntelObject.collection_id == collection.id,
            IntelObject.stix_id.in_(ids[:limit]),
            visible(reader),
        )
    )
    newest: dict[str, IntelObject] = {}
    for row in rows:
        if allows(reader, row):
            held = newest.get(row.stix_id)
            if held is None or (row.version, row.seq) > (held.version, held.seq):
                newest[row.stix_id] = row
    hits: list[Correlated] = []
    for row in newest.values():
        body = json.loads(row.body)
        shared = tuple(o for o in observables_of(row.type, body) if o in wanted)
        if shared:
            hits.append(
                Correlated(
                    collection=collection.alias,
                    id=row.stix_id,
                    type=row.type,
                    name=summary_of(body),
                    tlp=Tlp(row.tlp),
                    owner_nation=row.owner_nation,
                    shared=shared,
                )
            )
    return hits, cut


__all__ = ["CORRELATION_LIMIT", "Correlated", "Correlation", "correlated"]
