"""The indicators one reader may match, compiled to columns and cached until they change.

Reading 50,000 indicators through the store under TLP and parsing their patterns takes
seconds; a :class:`Compiled` set holds what matching needs of them (each indicator's id,
collection, TLP, name and validity window, and the values of each of its alternatives) as
two Arrow tables, which load in milliseconds, and the ids, collections and names as JSON
lines, read only for the indicators that matched.

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
import mmap
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import polars as pl

from seawall.core.context import Ctx
from seawall.core.logs import log
from seawall.db.models.intel import IntelCollection
from seawall.intel import decay
from seawall.intel.matching.matcher import Index, Matcher, Part
from seawall.intel.matching.observables import Kind, Observable, Term
from seawall.intel.matching.scan import Window
from seawall.intel.store.state import state_key
from seawall.intel.tlp import Tlp

CACHE_FORMAT = 7  # bump when what is cached, or how patterns or decay are read, changes
KEEP = 8  # cached sets kept per node (the newest)

_TIME = pl.Datetime("us", "UTC")
INDICATOR_SCHEMA: dict[str, Any] = {"tlp": pl.Int8, "valid_from": _TIME, "valid_until": _TIME}
LABEL_SCHEMA: dict[str, Any] = {"id": pl.String, "collection": pl.String, "name": pl.String}
PART_SCHEMA: dict[str, Any] = {
    "indicator": pl.UInt32,
    "term": pl.UInt32,
    "size": pl.UInt16,
    "kind": pl.UInt8,  # the Kind's place in KINDS
    "value": pl.String,
}
KINDS = list(Kind)
_CODES = {kind: code for code, kind in enumerate(KINDS)}
_BATCH = 65_536  # rows gathered in Python lists before they become columns
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _windows(indicators: pl.DataFrame) -> list[Window]:
    """The validity windows of these indicator rows, in order, in ``datetime.UTC``, not
    polars's ``ZoneInfo``: a record's time is compared with its indicator's window (twice
    a match), and an aware comparison across two tzinfo objects costs ten times one within
    one. Made from whole microseconds since the epoch, each distinct moment once
    (indicators imported together share theirs)."""
    micros = indicators.select(pl.col("valid_from", "valid_until").dt.epoch("us"))
    starts, untils = micros["valid_from"].to_list(), micros["valid_until"].to_list()
    made: dict[int | None, datetime | None] = {
        at: _EPOCH + timedelta(microseconds=at)
        for at in dict.fromkeys(starts + untils)
        if at is not None
    }
    made[None] = None
    return [(made[start], made[until]) for start, until in zip(starts, untils, strict=True)]


@dataclass(frozen=True)
class Indicator:
    """An indicator a match may use: its id, where it is shared and when it is valid."""

    id: str
    collection: str
    tlp: Tlp
    name: str
    window: Window


class _Builder:
    """Columns built in batches, so a million indicators never sit in Python lists."""

    def __init__(self) -> None:
        self.frames: dict[str, list[pl.DataFrame]] = {"i": [], "l": [], "p": []}
        self.rows: dict[str, list[tuple[Any, ...]]] = {"i": [], "l": [], "p": []}
        self.keys = self.terms = 0

    def add(self, indicator: Indicator, alternatives: Sequence[Term]) -> None:
        start, until = indicator.window
        self.rows["i"].append((int(indicator.tlp), start, until))
        self.rows["l"].append((indicator.id, indicator.collection, indicator.name))
        for term in alternatives:
            for observable in term:
                self.rows["p"].append(
                    (self.keys, self.terms, len(term), _CODES[observable.kind], observable.value)
                )
            self.terms += 1
        self.keys += 1
        if len(self.rows["p"]) >= _BATCH or len(self.rows["i"]) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        for name, schema in (("i", INDICATOR_SCHEMA), ("l", LABEL_SCHEMA), ("p", PART_SCHEMA)):
            self.frames[name].append(pl.DataFrame(self.rows[name], schema=schema, orient="row"))
            self.rows[name] = []

    def tables(self) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        self._flush()
        found = [pl.concat(self.frames[name], rechunk=True) for name in ("i", "l", "p")]
        return found[0], found[1], found[2]


class Labels:
    """Each indicator's id, collection and name, by key: a frame, or a cached set's file of
    JSON lines read a line at a time (by the offsets of its lines), so that naming the few
    indicators that matched never reads a million names into memory."""

    def __init__(
        self, frame: pl.DataFrame | None = None, path: Path | None = None, offsets: Any = None
    ) -> None:
        self._frame = frame
        self._path = path
        self._offsets = offsets  # numpy uint64, one more than there are lines

    def rows(self, keys: Sequence[int]) -> list[tuple[str, str, str]]:
        """The labels under ``keys``, in that order."""
        if self._frame is not None:
            taken = pl.Series(keys, dtype=pl.UInt32)
            return list(self._frame.select(pl.all().gather(taken)).iter_rows())
        assert self._path is not None
        if not keys:
            return []
        at = np.asarray(keys, dtype=np.int64)
        spans = zip(self._offsets[at].tolist(), self._offsets[at + 1].tolist(), strict=True)
        # Mapped, not read a line at a time: no call to the system (nor a wait for the
        # interpreter's lock after it) per label, while blocks are parsed beside this.
        with (
            self._path.open("rb") as file,
            mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as view,
        ):
            lines = [view[start:end] for start, end in spans]
        rows = json.loads(b"[" + b",".join(lines) + b"]")  # one decoding, not one a line
        if len(rows) != len(lines) or not all(isinstance(r, list) and len(r) == 3 for r in rows):
            raise ValueError("a cached label is not [id, collection, name]")
        return [(str(a), str(b), str(c)) for a, b, c in rows]

    def write(self, lines: BinaryIO, offsets: BinaryIO, count: int) -> None:
        """Write every label as a JSON line to ``lines`` and the lines' offsets to ``offsets``."""
        at = [0]
        for start in range(0, count, _BATCH):
            for row in self.rows(range(start, min(start + _BATCH, count))):
                line = json.dumps(list(row), ensure_ascii=False).encode() + b"\n"
                lines.write(line)
                at.append(at[-1] + len(line))
        offsets.write(np.asarray(at, dtype="<u8").tobytes())


def read_labels(lines: Path, offsets: Path, count: int) -> Labels | None:
    """A cached set's labels, if the offsets fit the file (``count`` lines)."""
    at = np.fromfile(offsets, dtype="<u8")
    if at.size != count + 1 or at[0] != 0 or int(at[-1]) != lines.stat().st_size:
        return None
    if count and bool((np.diff(at) == 0).any()):
        return None
    return Labels(path=lines, offsets=at)


@dataclass
class Compiled:
    """Indicators by key (their row) and the values of their alternatives (a part a row).

    ``indicators`` holds what a match looks at for every indicator (TLP and window);
    ``labels`` (id, collection, name) are read only for the indicators that matched, so a
    cached set's labels stay on disk until then.
    """

    indicators: pl.DataFrame
    labels: Labels
    parts: pl.DataFrame
    not_matchable: int
    key: str = ""  # the cache key of what it was compiled from ("": compiled uncached)
    _made: dict[int, Indicator] = field(default_factory=dict, repr=False)

    @classmethod
    def of(
        cls,
        entries: Iterable[tuple[Indicator, Sequence[Term]]],
        not_matchable: int = 0,
        key: str = "",
    ) -> Compiled:
        """A compiled set of ``(indicator, its alternatives)`` pairs."""
        builder = _Builder()
        for indicator, alternatives in entries:
            builder.add(indicator, alternatives)
        indicators, labels, parts = builder.tables()
        return cls(indicators, Labels(labels), parts, not_matchable, key)

    def __len__(self) -> int:
        return self.indicators.height

    def load(self, keys: Iterable[int]) -> None:
        """Read the indicators under ``keys`` at once (:meth:`indicator` then has them)."""
        wanted = sorted(set(keys) - self._made.keys())
        if not wanted:
            return
        taken = pl.Series(wanted, dtype=pl.UInt32)
        rows = self.indicators.select(pl.all().gather(taken))
        for key, (stix_id, collection, name), tlp, window in zip(
            wanted, self.labels.rows(wanted), rows["tlp"].to_list(), _windows(rows), strict=True
        ):
            self._made[key] = Indicator(stix_id, collection, Tlp(tlp), name, window)

    def indicator(self, key: int) -> Indicator:
        """The indicator under ``key``."""
        if key not in self._made:
            self.load((key,))
        return self._made[key]

    def windows(self) -> list[Window]:
        """Every indicator's validity window, by key (in ``datetime.UTC``)."""
        return _windows(self.indicators)

    def windows_of(self, keys: Iterable[int]) -> dict[int, Window]:
        """The validity windows of the indicators under ``keys`` (in ``datetime.UTC``)."""
        wanted = sorted(set(keys))
        taken = pl.Series(wanted, dtype=pl.UInt32)
        rows = self.indicators.select(pl.col("valid_from", "valid_until").gather(taken))
        return dict(zip(wanted, _windows(rows), strict=True))

    def index(self, numbers: Iterable[int] | None = None) -> Index:
        """An index of every part, or of the parts numbered ``numbers`` only (a part that no
        record can match may be left out: its alternative is then never complete)."""
        if numbers is None:
            wanted: Iterable[int] = range(self.parts.height)
            table = self.parts
        else:  # rows, taken by number: no pass over every part
            wanted = sorted(set(numbers))
            table = self.parts.select(pl.all().gather(pl.Series(wanted, dtype=pl.UInt32)))
        entries: list[tuple[Observable, int]] = []
        parts: dict[int, Part] = {}
        for part, (indicator, term, size, kind, value) in zip(
            wanted, table.iter_rows(), strict=True
        ):
            entries.append((Observable(KINDS[kind], value), part))
            parts[part] = Part(indicator, term, size)
        return Index(Matcher.of(entries), parts)


# -- the cache -----------------------------------------------------------------------------------


def cache_key(ctx: Ctx, collections: Sequence[IntelCollection]) -> str:
    """The key of what ``ctx``'s principal may match now, in ``collections`` (readable)."""
    digest = hashlib.sha256(f"seawall-match/{CACHE_FORMAT}/{decay.THRESHOLD}".encode())
    # Sightings count too: the newest one restores a decaying indicator.
    digest.update(state_key(ctx, collections, ("indicator", "sighting")).encode())
    return digest.hexdigest()


def read_cached(folder: Path, key: str) -> Compiled | None:
    """The set cached under ``key``, or None when there is none (or it cannot be read)."""
    try:
        found = json.loads((folder / f"{key}.json").read_text())
        not_matchable = int(found["not_matchable"])
        indicators = pl.read_ipc(folder / f"{key}.indicators.arrow")
        parts = pl.read_ipc(folder / f"{key}.parts.arrow")
        labels = read_labels(
            folder / f"{key}.labels.jsonl", folder / f"{key}.offsets.bin", indicators.height
        )
    except (OSError, ValueError, TypeError, KeyError, pl.exceptions.PolarsError):
        return None  # a damaged set is compiled again, and written over
    if (
        dict(indicators.schema) != INDICATOR_SCHEMA
        or dict(parts.schema) != PART_SCHEMA
        or labels is None
    ):
        return None
    return Compiled(indicators, labels, parts, not_matchable, key)


def write_cached(folder: Path, key: str, compiled: Compiled) -> None:
    """Cache ``compiled`` under ``key`` (readable by the node's user only); older sets go.

    A cache that cannot be written is left as it is: the set was compiled all the same.
    """
    tables = {"indicators": compiled.indicators, "parts": compiled.parts}
    meta = json.dumps({"not_matchable": compiled.not_matchable}).encode()
    lines = folder / f"{key}.labels.jsonl"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        for name, table in tables.items():
            _publish(folder / f"{key}.{name}.arrow", table.write_ipc)
        _publish(
            folder / f"{key}.offsets.bin",
            lambda offsets: _publish(
                lines, lambda out: compiled.labels.write(out, offsets, len(compiled))
            ),
        )
        _publish(folder / f"{key}.json", lambda file: file.write(meta))  # last: the set is there
        _prune(folder)
    except (OSError, pl.exceptions.PolarsError) as exc:
        log.warning("intel.match.cache_unwritable", folder=str(folder), error=str(exc))


def _publish(target: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write ``target`` in one step, through a new file only the node's user may open
    (created exclusively, so a name planted in the folder is never followed)."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _prune(folder: Path) -> None:
    sets = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in sets[KEEP:]:
        stem = old.name.removesuffix(".json")
        for path in (old, *folder.glob(f"{stem}.*")):
            path.unlink(missing_ok=True)
