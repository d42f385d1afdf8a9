"""The indicators one reader may match, compiled to columns and cached until they change.

Reading 50,000 indicators through the store under TLP and parsing their patterns takes
seconds; a :class:`Compiled` set holds what matching needs of them (each indicator's id,
collection, TLP, name and validity window, and the values of each of its alternatives) as
two Arrow tables, which load in milliseconds.

The cache is one set of files per reader and per state of what they may read, under the
node's home. Its key (:func:`cache_key`) is a hash of the reader as each readable
collection's sharing policy sees them (user, organisation, nation, role, partner limits)
and of each of those collections' indicator and sighting rows (count, newest row, sum of
TLPs, count of superseded versions, newest date added; sightings restore decaying
indicators). A reader never gets another reader's set, and any
write, deletion, re-marking or supersession in a collection they read makes a new key.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import case, func, select

from seawall.core.context import Ctx
from seawall.db.models.intel import IntelCollection, IntelObject
from seawall.intel import decay
from seawall.intel.collections import reader_of
from seawall.intel.matching.matcher import Index, Matcher, Part
from seawall.intel.matching.observables import Kind, Observable, Term
from seawall.intel.matching.scan import Window
from seawall.intel.tlp import Tlp

CACHE_FORMAT = 2  # bump when what is cached, or how patterns or decay are read, changes
KEEP = 8  # cached sets kept per node (the newest)

_TIME = pl.Datetime("us", "UTC")
INDICATOR_SCHEMA: dict[str, Any] = {
    "id": pl.String,
    "collection": pl.String,
    "tlp": pl.Int8,
    "name": pl.String,
    "valid_from": _TIME,
    "valid_until": _TIME,
}
PART_SCHEMA: dict[str, Any] = {
    "indicator": pl.UInt32,
    "term": pl.UInt32,
    "size": pl.UInt16,
    "kind": pl.String,
    "value": pl.String,
}


_KINDS = {kind.value: kind for kind in Kind}


@dataclass(frozen=True)
class Indicator:
    """An indicator a match may use: its id, where it is shared and when it is valid."""

    id: str
    collection: str
    tlp: Tlp
    name: str
    window: Window


@dataclass
class Compiled:
    """Indicators by key (their row), and the values of their alternatives (a part a row)."""

    indicators: pl.DataFrame
    parts: pl.DataFrame
    not_matchable: int
    _made: dict[int, Indicator] = field(default_factory=dict, repr=False)

    @classmethod
    def of(
        cls, entries: Iterable[tuple[Indicator, Sequence[Term]]], not_matchable: int = 0
    ) -> Compiled:
        """A compiled set of ``(indicator, its alternatives)`` pairs."""
        rows: list[tuple[Any, ...]] = []
        parts: dict[str, list[Any]] = {name: [] for name in PART_SCHEMA}
        number = 0
        for key, (indicator, alternatives) in enumerate(entries):
            start, until = indicator.window
            rows.append(
                (
                    indicator.id,
                    indicator.collection,
                    int(indicator.tlp),
                    indicator.name,
                    start,
                    until,
                )
            )
            for term in alternatives:
                for observable in term:
                    parts["indicator"].append(key)
                    parts["term"].append(number)
                    parts["size"].append(len(term))
                    parts["kind"].append(observable.kind.value)
                    parts["value"].append(observable.value)
                number += 1
        indicators = pl.DataFrame(rows, schema=INDICATOR_SCHEMA, orient="row")
        return cls(indicators, pl.DataFrame(parts, schema=PART_SCHEMA), not_matchable)

    def __len__(self) -> int:
        return self.indicators.height

    def indicator(self, key: int) -> Indicator:
        """The indicator under ``key``."""
        made = self._made.get(key)
        if made is None:
            row = self.indicators.row(key, named=True)
            made = self._made[key] = Indicator(
                id=row["id"],
                collection=row["collection"],
                tlp=Tlp(row["tlp"]),
                name=row["name"],
                window=(row["valid_from"], row["valid_until"]),
            )
        return made

    def windows(self) -> list[Window]:
        """Every indicator's validity window, by key."""
        return list(self.indicators.select("valid_from", "valid_until").iter_rows())

    def index(self, numbers: Iterable[int] | None = None) -> Index:
        """An index of every part, or of the parts numbered ``numbers`` only (a part that no
        record can match may be left out: its alternative is then never complete)."""
        table = self.parts.with_row_index("part")
        if numbers is not None:
            wanted = pl.Series("part", sorted(set(numbers)), dtype=pl.UInt32)
            table = table.filter(pl.col("part").is_in(wanted.implode()))
        entries: list[tuple[Observable, int]] = []
        parts: dict[int, Part] = {}
        for part, indicator, term, size, kind, value in table.iter_rows():
            entries.append((Observable(_KINDS[kind], value), part))
            parts[part] = Part(indicator, term, size)
        return Index(Matcher.of(entries), parts)

    def values(self, kind: Kind) -> pl.Series:
        """The distinct values of one kind, as the fast path joins logs against them."""
        found = self.parts.filter(pl.col("kind") == kind.value)["value"]
        return found.unique()


# -- the cache -----------------------------------------------------------------------------------


def cache_key(ctx: Ctx, collections: Sequence[IntelCollection]) -> str:
    """The key of what ``ctx``'s principal may match now, in ``collections`` (readable)."""
    digest = hashlib.sha256(f"seawall-match/{CACHE_FORMAT}/{decay.THRESHOLD}".encode())
    rows = IntelObject
    for collection in collections:
        # Sightings count too: the newest one restores a decaying indicator.
        state = ctx.db.execute(
            select(
                rows.type,
                func.count(),
                func.max(rows.seq),
                func.sum(rows.tlp),
                func.sum(case((rows.superseded, 1), else_=0)),
                func.max(rows.date_added),
            )
            .where(rows.collection_id == collection.id, rows.type.in_(("indicator", "sighting")))
            .group_by(rows.type)
            .order_by(rows.type)
        ).all()
        reader = reader_of(ctx, collection)
        digest.update(
            json.dumps(
                [
                    collection.id,
                    collection.alias,
                    repr(reader),
                    [[str(v) for v in r] for r in state],
                ]
            ).encode()
        )
    return digest.hexdigest()


def read_cached(folder: Path, key: str) -> Compiled | None:
    """The set cached under ``key``, or None when there is none (or it cannot be read)."""
    meta = folder / f"{key}.json"
    try:
        found = json.loads(meta.read_text())
        indicators = pl.read_ipc(folder / f"{key}.indicators.arrow")
        parts = pl.read_ipc(folder / f"{key}.parts.arrow")
    except (OSError, ValueError, pl.exceptions.PolarsError):
        return None
    if dict(indicators.schema) != INDICATOR_SCHEMA or dict(parts.schema) != PART_SCHEMA:
        return None
    return Compiled(indicators, parts, int(found["not_matchable"]))


def write_cached(folder: Path, key: str, compiled: Compiled) -> None:
    """Cache ``compiled`` under ``key`` (readable by the node's user only); older sets go."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    written: list[Path] = []
    for name, table in (("indicators", compiled.indicators), ("parts", compiled.parts)):
        target = folder / f"{key}.{name}.arrow"
        temporary = target.with_suffix(f".{os.getpid()}.tmp")
        table.write_ipc(temporary)
        temporary.chmod(0o600)
        temporary.replace(target)
        written.append(target)
    meta = folder / f"{key}.json"
    temporary = meta.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps({"not_matchable": compiled.not_matchable}))
    temporary.chmod(0o600)
    temporary.replace(meta)  # written last: a set is there once its meta is
    _prune(folder)


def _prune(folder: Path) -> None:
    sets = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in sets[KEEP:]:
        stem = old.name.removesuffix(".json")
        for path in (old, *folder.glob(f"{stem}.*.arrow")):
            path.unlink(missing_ok=True)
