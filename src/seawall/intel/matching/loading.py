"""The indicators a caller may match logs against, read through the store under TLP.

The indicators are read through the store, so TLP and collection audiences decide which
ones a match may use, as for every other read. Revoked indicators are left out; an
indicator counts only while it is in force at the time of the log record (``valid_from``
to ``valid_until``, or until its decay score falls below the threshold), which the scan
decides per record.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.db.models.intel import IntelCollection
from seawall.intel import decay
from seawall.intel.matching.compiled import (
    Compiled,
    Indicator,
    cache_key,
    read_cached,
    write_cached,
)
from seawall.intel.matching.matcher import Index
from seawall.intel.matching.observables import Term, terms
from seawall.intel.matching.scan import Window
from seawall.intel.search import readable_collections
from seawall.intel.store.reading import MAX_LIMIT, Filters, StoredObject, each_object
from seawall.intel.validation import parse_timestamp


class Loaded:
    """A compiled set as one run uses it: the exact path's index and windows are built only
    when a log needs them (the fast path indexes only the values its logs hold)."""

    def __init__(self, compiled: Compiled) -> None:
        self.compiled = compiled

    def indicator(self, key: int) -> Indicator:
        """The indicator under ``key``."""
        return self.compiled.indicator(key)

    @cached_property
    def index(self) -> Index:
        """The index of every indicator value."""
        return self.compiled.index()

    @cached_property
    def windows(self) -> list[Window]:
        """Every indicator's validity window, by key."""
        return self.compiled.windows()


def _window(body: dict[str, Any], prop: str) -> datetime | None:
    value = body.get(prop)
    return parse_timestamp(value, str(body.get("id", "")), prop) if isinstance(value, str) else None


def stored_of_type(
    ctx: Ctx, kind: str, collections: Sequence[IntelCollection] | None = None
) -> Iterator[tuple[IntelCollection, StoredObject]]:
    """Every stored object of one STIX type the caller may read, collection by collection
    (in ``collections``, the caller's readable ones, when the caller has them already)."""
    for collection in readable_collections(ctx) if collections is None else collections:
        for stored in each_object(ctx, collection, Filters(types=(kind,), limit=MAX_LIMIT)):
            yield collection, stored


class _Matchable:
    """The newest version of every indicator the caller may read, as ``(indicator, its
    alternatives)`` pairs, read while they are compiled (so that a million of them never
    sit in a list); revoked ones are left out, and those no alternative of which can match
    are counted (:attr:`not_matchable`)."""

    def __init__(self, ctx: Ctx, collections: Sequence[IntelCollection]) -> None:
        self.ctx = ctx
        self.collections = collections
        self.not_matchable = 0

    def __iter__(self) -> Iterator[tuple[Indicator, tuple[Term, ...]]]:
        ctx, collections = self.ctx, self.collections
        seen: set[str] = set()
        # A sighting restores a decaying indicator: the newest one the caller may read counts.
        sightings = (stored.as_dict() for _, stored in stored_of_type(ctx, "sighting", collections))
        last = decay.last_sightings(sightings, ctx.now())
        for collection, stored in stored_of_type(ctx, "indicator", collections):
            body = stored.as_dict()
            stix_id = stored.id
            pattern = body.get("pattern")
            if stix_id in seen or body.get("revoked") is True:
                continue
            seen.add(stix_id)
            found = terms(pattern) if body.get("pattern_type") == "stix" and pattern else None
            if not found:
                self.not_matchable += 1
                continue
            # In force from valid_from until valid_until, or until its score decays.
            window = (_window(body, "valid_from"), decay.live_until(body, last.get(stix_id)))
            name = str(body.get("name") or pattern)
            yield Indicator(stix_id, collection.alias, stored.tlp, name, window), found


def load_indicators(ctx: Ctx, cache: Path | None = None) -> Compiled:
    """The newest version of every indicator the caller may read, compiled to match.

    Revoked indicators are left out. Each one's window runs from its ``valid_from`` to
    :func:`seawall.intel.decay.live_until`: its ``valid_until``, or the moment its decay
    score (restored by the newest sighting the caller may read) falls below the threshold.

    With ``cache`` (a folder), the set is read from there when what the caller may read
    has not changed since it was written, and written there when it has.
    """
    require(ctx.who, Perm.INTEL_READ)
    collections = readable_collections(ctx)
    key = cache_key(ctx, collections) if cache is not None else ""
    if cache is not None:
        cached = read_cached(cache, key)
        if cached is not None:
            return cached
    read = _Matchable(ctx, collections)
    compiled = replace(Compiled.of(read, key=key), not_matchable=read.not_matchable)
    if cache is not None:
        write_cached(cache, key, compiled)
    return compiled
