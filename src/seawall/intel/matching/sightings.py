"""Matching logs against the indicators a caller may read, and recording STIX sightings.

Which indicators a match may use is :mod:`~seawall.intel.matching.loading`'s part. Each
matched indicator becomes one STIX 2.1 ``sighting`` per run: how many log records
matched, when first and last, sighted by this nation's identity. The sighting is marked
with the stricter of its collection's default and the indicator's own marking, so a
sighting never travels further than what it is a sighting of. It names the log formats
and counts, never the values matched (its collection may reach people the indicator's does
not, so it repeats nothing of the indicator) nor the internal hosts that touched them:
those stay in the local report.
"""

from __future__ import annotations

import gzip
import io
import multiprocessing
import os
import stat
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from itertools import chain
from pathlib import Path
from typing import IO, Any, cast

from seawall.catalogs import counted
from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.core.evidence import record_evidence
from seawall.db.models.intel import IntelCollection
from seawall.intel import decay
from seawall.intel.cases import SUPPORTS, link_objects
from seawall.intel.collections import default_marking
from seawall.intel.errors import UnreadableLog
from seawall.intel.identity import NAMESPACE, identity_id, nation_of_identity
from seawall.intel.matching.columnar import FastScan, fast_scan
from seawall.intel.matching.compiled import Indicator
from seawall.intel.matching.loading import Loaded, load_indicators, stored_of_type
from seawall.intel.matching.logs import LogFormat, detect_format, reader_for
from seawall.intel.matching.scan import (
    MAX_LINE,
    Found,
    Tally,
    over_long,
    scan,
    scan_range,
    start_worker,
)
from seawall.intel.matching.validity import Validity
from seawall.intel.matching.zeek_json import json_fast_scan
from seawall.intel.search import readable_collections
from seawall.intel.store.reading import (
    MAX_LIMIT,
    Filters,
    StoredObject,
    query_objects,
)
from seawall.intel.store.writing import ObjectRef, add_objects
from seawall.intel.tlp import Tlp, marking_id
from seawall.intel.validation import format_timestamp, parse_timestamp

Progress = Callable[[int, int], None]
SPLIT_AT = 32 * 2**20  # a plain log larger than this is read on every core ...
CHUNK = 8 * 2**20  # ... in byte ranges of this size


def cache_folder(home: Path) -> Path:
    """Where a node (its ``home``) caches compiled indicator sets, one per reader and state
    of what they may read (see :mod:`.compiled`): every edge that matches uses it."""
    return home / "cache" / "matching"


@dataclass(kw_only=True)
class Hits(Found):
    """What one indicator matched in a run, and in which log formats."""

    indicator: Indicator
    formats: set[str] = field(default_factory=set)


@dataclass
class MatchReport:
    """A run: what was read, which indicators matched, and what was recorded."""

    files: dict[str, str] = field(default_factory=dict)  # path -> format
    lines: int = 0
    bytes: int = 0
    indicators: int = 0
    not_matchable: int = 0
    outside_validity: int = 0
    hits: dict[str, Hits] = field(default_factory=dict)
    collection: str | None = None
    recorded: list[ObjectRef] = field(default_factory=list)
    already_recorded: list[ObjectRef] = field(default_factory=list)
    case: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The report for scripts."""
        return {
            "files": self.files,
            "lines": self.lines,
            "bytes": self.bytes,
            "indicators": self.indicators,
            "not_matchable": self.not_matchable,
            "outside_validity": self.outside_validity,
            "matched": [
                {
                    "indicator": h.indicator.id,
                    "name": h.indicator.name,
                    "collection": h.indicator.collection,
                    "tlp": h.indicator.tlp.label,
                    "count": h.count,
                    "first_seen": format_timestamp(h.first_seen) if h.first_seen else None,
                    "last_seen": format_timestamp(h.last_seen) if h.last_seen else None,
                    "values": dict(h.values.most_common()),
                    "sources": dict(h.sources.most_common()),
                    "formats": sorted(h.formats),
                }
                for h in self.ranked()
            ],
            "collection": self.collection,
            "recorded": [r.id for r in self.recorded],
            "already_recorded": [r.id for r in self.already_recorded],
            "case": self.case,
        }

    def ranked(self) -> list[Hits]:
        """The matched indicators, most matched first."""
        return sorted(self.hits.values(), key=lambda h: (-h.count, h.indicator.id))


@dataclass(frozen=True)
class Stream:
    """A log read from a stream (standard input, say) rather than a file, named for the report."""

    name: str
    data: IO[bytes]


Source = Path | Stream


@contextmanager
def _open_log(source: Source) -> Iterator[tuple[IO[str], IO[bytes], bool]]:
    """A log as text (gzip-compressed logs too), the raw bytes (for progress), and whether
    it is compressed."""
    if isinstance(source, Stream):
        yield _decoded(io.BufferedReader(_Counted(source.data)))
        return
    try:
        raw = source.open("rb")
    except OSError as exc:
        raise UnreadableLog(f"cannot read {source}: {exc.strerror or exc}") from None
    with raw:
        yield _decoded(raw)


class _Counted(io.RawIOBase):
    """A stream that counts what is read from it (a pipe cannot say where it is)."""

    def __init__(self, data: IO[bytes]) -> None:
        self.data = data
        self.count = 0

    def readable(self) -> bool:
        """It is read, never written."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Read into ``buffer``; returns how many bytes came."""
        chunk = self.data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        self.count += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        """How many bytes were read so far."""
        return self.count


def _decoded(raw: io.BufferedReader) -> tuple[IO[str], IO[bytes], bool]:
    compressed = raw.peek(2)[:2] == b"\x1f\x8b"
    stream = cast(IO[bytes], gzip.GzipFile(fileobj=raw)) if compressed else raw
    # A line ends at "\n" only, as Zeek and Suricata end records and as the byte ranges
    # and the fast paths split them: a lone "\r" is part of its line, and "\r\n" is kept.
    text = io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="\n")
    return text, raw, compressed


def _name(source: Source) -> str:
    return str(source) if isinstance(source, Path) else source.name


def _lines(text: IO[str], path: Source, number: int = 0) -> Iterator[str]:
    """A log's lines after the ``number`` already read; a file that breaks while read (a
    cut gzip stream) or holds a line too long to be a record is one clear error."""
    try:
        while line := text.readline(MAX_LINE):
            number += 1
            if len(line) == MAX_LINE and not line.endswith("\n"):
                raise over_long(_name(path), f"line {number:,}")
            yield line
    except (OSError, EOFError, zlib.error) as exc:  # zlib.error: a garbled gzip stream
        reason = str(exc) or type(exc).__name__
        raise UnreadableLog(
            f"{_name(path)} broke off while being read ({reason}); nothing was recorded"
        ) from None


def _head(text: IO[str], path: Source, count: int = 20) -> list[str]:
    lines: list[str] = []
    for line in _lines(text, path):
        if "\x00" in line:
            raise UnreadableLog(
                f"{_name(path)} holds binary data, not log lines: give the text log "
                "(gzip-compressed is fine)"
            )
        lines.append(line)
        if len(lines) >= count:
            break
    return lines


def _size_and_time(path: Path) -> tuple[int, datetime]:
    try:
        found = path.stat()
    except OSError as exc:
        raise UnreadableLog(f"cannot read {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(found.st_mode):
        raise UnreadableLog(f"{path} is not a file; give log files (folders are not walked)")
    return found.st_size, datetime.fromtimestamp(found.st_mtime, UTC)


# The logs read through a columnar pre-filter (when plain files): Zeek TSV and Zeek JSON.
_COLUMNAR: dict[LogFormat, FastScan] = {
    LogFormat.ZEEK: fast_scan,
    LogFormat.ZEEK_JSON: json_fast_scan,
}


def _workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def match_logs(
    ctx: Ctx,
    paths: Iterable[Source],
    fmt: LogFormat | None = None,
    progress: Progress | None = None,
    split_at: int = SPLIT_AT,
    chunk: int = CHUNK,
    cache: Path | None = None,
    fast: bool = True,
    validity: Validity | None = None,
) -> MatchReport:
    """Match log files against the caller's indicators; nothing is stored (see :func:`record`).

    A Zeek TSV or Zeek JSON file goes through a columnar fast path (``fast``). Another
    plain log of ``split_at`` bytes or more is cut into byte ranges of ``chunk`` bytes,
    matched on every core. ``cache`` is a folder for the compiled indicators (see :mod:`.compiled`).
    ``validity`` widens the indicators' windows for a retro-hunt (see :mod:`.validity`).
    """
    files = list(paths)
    # Each file's size, and the time a line without its own was written by: when the file
    # last changed. A stream's size counts as it is read, and its lines are from now.
    sized = [(0, ctx.now()) if isinstance(path, Stream) else _size_and_time(path) for path in files]
    loaded = Loaded((validity or Validity()).apply(load_indicators(ctx, cache)))
    report = MatchReport(
        indicators=len(loaded.compiled), not_matchable=loaded.compiled.not_matchable
    )
    total = sum(size for size, _ in sized)
    done = 0
    with ExitStack() as pool_scope:
        pool: ProcessPoolExecutor | None = None
        for path, (size, default) in zip(files, sized, strict=True):
            with _open_log(path) as (text, raw, compressed):
                head = _head(text, path)
                chosen = fmt or detect_format(head)
                report.files[_name(path)] = chosen.value
                tally = None
                columnar = _COLUMNAR.get(chosen) if fast and not compressed else None
                if columnar is not None and isinstance(path, Path):
                    moved = None if progress is None else partial(_moved, progress, done, total)
                    tally = columnar(path, loaded.compiled, default, every=moved)
                if tally is None and (
                    isinstance(path, Path)
                    and not compressed
                    and size >= split_at
                    and _workers() > 1
                ):
                    pool = pool or pool_scope.enter_context(_pool(loaded))
                    header = [line for line in head if line.startswith("#")]
                    split = Split(path, size, chunk, chosen, header, default)
                    tally = _scan_split(pool, split, done, total, progress)
                elif tally is None:
                    every = None
                    if progress is not None:
                        every = partial(_report_progress, progress, raw, done, total)
                    held = path if isinstance(path, Path) else None
                    read = reader_for(chosen, held, loaded.index.matcher.ports)
                    lines = chain(head, _lines(text, path, len(head)))
                    tally = scan(lines, read, loaded.index, loaded.windows, default, every)
                read_bytes = size if isinstance(path, Path) else raw.tell()
            _add(report, loaded, tally, chosen)
            done += size
            report.bytes += read_bytes
    if progress is not None:
        progress(total, total)
    ctx.record(
        "intel.logs.matched",
        "logs",
        files=len(files),
        lines=report.lines,
        indicators=report.indicators,
        matched=len(report.hits),
    )
    # Detection against shared indicators is incident-response capacity (CMM 2021 D1.2),
    # on record when a CIRT member (intel.write) ran it on logs that held something.
    if ctx.who.can(Perm.INTEL_WRITE) and report.lines:
        _record_evidence(ctx, report)
    return report


def _record_evidence(ctx: Ctx, report: MatchReport) -> None:
    record_evidence(
        ctx,
        "intel",
        "intel.logs.matched",
        f"Matched {counted(report.lines, 'log line', grouped=True)} "
        f"({', '.join(sorted(set(report.files.values())))}) against "
        f"{counted(report.indicators, 'shared indicator', grouped=True)}: "
        f"{len(report.hits):,} matched",
        SUPPORTS,
        detail={
            "lines": report.lines,
            "formats": sorted(set(report.files.values())),
            "indicators": report.indicators,
            "matched": len(report.hits),
        },
    )


def _report_progress(progress: Progress, raw: IO[bytes], done: int, total: int) -> None:
    progress(done + raw.tell(), total)


def _moved(progress: Progress, done: int, total: int, read: int) -> None:
    progress(done + read, total)


def _pool(loaded: Loaded) -> ProcessPoolExecutor:
    # spawn, not fork: this process holds database connections and a progress thread.
    return ProcessPoolExecutor(
        max_workers=_workers(),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=start_worker,
        initargs=(loaded.index, loaded.windows),
    )


@dataclass(frozen=True)
class Split:
    """A large log to match in byte ranges, with what every range needs to read it."""

    path: Path
    size: int
    chunk: int
    fmt: LogFormat
    header: list[str]
    default: datetime


def _scan_split(
    pool: ProcessPoolExecutor, split: Split, done: int, total: int, progress: Progress | None
) -> Tally:
    ranges = [
        (start, min(start + split.chunk, split.size)) for start in range(0, split.size, split.chunk)
    ]
    futures = {
        pool.submit(
            scan_range, str(split.path), start, end, split.fmt, split.header, split.default
        ): end - start
        for start, end in ranges
    }
    tally = Tally()
    for future in as_completed(futures):
        tally.merge(future.result())
        done += futures[future]
        if progress is not None:
            progress(done, total)
    return tally


def _add(report: MatchReport, loaded: Loaded, tally: Tally, fmt: LogFormat) -> None:
    report.lines += tally.lines
    report.outside_validity += tally.outside_validity
    for key, found in tally.found.items():
        indicator = loaded.indicator(key)
        hits = report.hits.get(indicator.id)
        if hits is None:
            hits = report.hits[indicator.id] = Hits(indicator=indicator)
        hits.merge(found)
        hits.formats.add(fmt.value)


def sighting_of(
    hits: Hits, nation: str, default: Tlp, now: datetime, batch: str = ""
) -> dict[str, Any]:
    """The STIX 2.1 sighting of one matched indicator, as this nation records it; ``batch``
    names a followed log's batch (where it starts and ends), so two batches are two
    sightings and a batch matched again after a restart is the same one."""
    first, last = hits.first_seen or now, hits.last_seen or now
    indicator = hits.indicator
    # The same matches of the same indicator are the same sighting: matching a log twice
    # records it once.
    name = f"seawall/sighting/{nation}/{indicator.id}/{first.isoformat()}/{last.isoformat()}"
    records = "1 log record" if hits.count == 1 else f"{hits.count} log records"
    return {
        "type": "sighting",
        "spec_version": "2.1",
        "id": f"sighting--{uuid.uuid5(NAMESPACE, f'{name}/{hits.count}' + batch)}",
        "created": format_timestamp(now),
        "modified": format_timestamp(now),
        "created_by_ref": identity_id(nation),
        "sighting_of_ref": indicator.id,
        "first_seen": format_timestamp(first),
        "last_seen": format_timestamp(last),
        "count": min(hits.count, 999_999_999),
        "where_sighted_refs": [identity_id(nation)],
        # Counts and formats only: the matched values are the indicator's words.
        "description": (
            f"{records} ({', '.join(sorted(hits.formats))}) on {nation} networks matched "
            "the indicator"
        ),
        "object_marking_refs": [marking_id(max(default, indicator.tlp))],
    }


def record(
    ctx: Ctx, report: MatchReport, collection: IntelCollection, batch: str = ""
) -> MatchReport:
    """Store one sighting per matched indicator in ``collection``; a sighting held already is
    counted, not stored again."""
    require(ctx.who, Perm.INTEL_WRITE)
    default = default_marking(collection)
    now = ctx.now()
    sightings = [sighting_of(h, ctx.who.nation, default, now, batch) for h in report.ranked()]
    held = _held(ctx, collection, [str(s["id"]) for s in sightings])
    fresh = [s for s in sightings if s["id"] not in held]
    report.collection = collection.alias
    report.already_recorded = [
        ObjectRef(str(s["id"]), str(s["modified"]), "recorded by an earlier match")
        for s in sightings
        if s["id"] in held
    ]
    for start in range(0, len(fresh), 500):
        result = add_objects(ctx, collection, fresh[start : start + 500], request_id="match")
        report.recorded += result.added
        report.already_recorded += result.duplicates
    return report


def _by_ids(ctx: Ctx, collection: IntelCollection, ids: list[str]) -> Iterator[StoredObject]:
    """The newest visible version of each of ``ids`` the collection holds (by id index)."""
    for start in range(0, len(ids), 200):
        filters = Filters(ids=tuple(ids[start : start + 200]), limit=MAX_LIMIT)
        yield from query_objects(ctx, collection, filters).objects


def _held(ctx: Ctx, collection: IntelCollection, ids: list[str]) -> set[str]:
    return {o.id for o in _by_ids(ctx, collection, ids)}


def link_to_case(ctx: Ctx, report: MatchReport, case_ref: str) -> MatchReport:
    """Link the sightings a :func:`record` stored (now or before) to a case."""
    sighted = [r.id for r in report.recorded + report.already_recorded]
    formats = ", ".join(sorted(set(report.files.values())))
    case = link_objects(ctx, case_ref, sighted, why=f"matched in {formats} logs")
    report.case = case.id
    return report


@dataclass
class Sighted:
    """An indicator as the region has sighted it: by which nations, how often, how lately."""

    indicator: str
    name: str
    tlp: Tlp | None
    collection: str | None
    nations: dict[str, int] = field(default_factory=dict)  # nation -> lines counted
    sightings: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        """The row for scripts."""
        return {
            "indicator": self.indicator,
            "name": self.name,
            "tlp": self.tlp.label if self.tlp is not None else None,
            "nations": self.nations,
            "sightings": self.sightings,
            "first_seen": format_timestamp(self.first_seen) if self.first_seen else None,
            "last_seen": format_timestamp(self.last_seen) if self.last_seen else None,
        }


def sighted_in(body: Mapping[str, Any], created_by_ref: str | None) -> list[str]:
    """The nations where a sighting was made: its ``where_sighted_refs``, else its creator
    (not the nation that stored it, which may have received it from a partner)."""
    where = body.get("where_sighted_refs") or [created_by_ref]
    return sorted({nation_of_identity(str(ref)) or "?" for ref in where})


def regional_sightings(ctx: Ctx, min_nations: int = 1) -> list[Sighted]:
    """Every indicator sighted in the sightings the caller may read, by nation, the most
    widely sighted first: what several nations see at once is a regional campaign."""
    require(ctx.who, Perm.INTEL_READ)
    rows: dict[str, Sighted] = {}
    seen: set[str] = set()
    for _, stored in stored_of_type(ctx, "sighting"):
        if stored.id in seen:
            continue  # the same sighting in two collections counts once
        seen.add(stored.id)
        body = stored.as_dict()
        if not decay.is_evidence(body):
            continue  # a MISP false-positive or expiration sighting: not seen in use
        target = str(body.get("sighting_of_ref", ""))
        row = rows.setdefault(target, Sighted(target, target, None, None))
        raw_count = body.get("count")
        count = raw_count if isinstance(raw_count, int) else 1
        for nation in sighted_in(body, stored.created_by_ref):
            row.nations[nation] = row.nations.get(nation, 0) + count
        row.sightings += 1
        for prop in ("first_seen", "last_seen"):
            if isinstance(body.get(prop), str):
                moment = parse_timestamp(body[prop], stored.id, prop)
                row.first_seen = min(row.first_seen or moment, moment)
                row.last_seen = max(row.last_seen or moment, moment)
    # Name the sighted indicators the reader may read, by id, not by reading them all.
    for collection in readable_collections(ctx):
        unnamed = [target for target, row in rows.items() if row.collection is None]
        for stored in _by_ids(ctx, collection, unnamed):
            named = rows[stored.id]
            named.name = str(stored.as_dict().get("name") or stored.id)
            named.tlp, named.collection = stored.tlp, collection.alias
    found = [row for row in rows.values() if len(row.nations) >= min_nations]
    return sorted(found, key=lambda r: (-len(r.nations), -r.sightings, r.indicator))
