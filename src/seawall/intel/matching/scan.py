"""One pass over log lines: what matched which indicator, when, and from which host.

A pass knows nothing of the database: it gets an :class:`Index` of the indicators, the
validity window of each (by the index's indicator keys) and lines, and returns a
:class:`Tally` that adds up with others. A record counts once for each indicator it
proves, however many of its values match. Tallies adding up is what lets a large log be
read in byte ranges on every core (:func:`scan_range` runs in a worker process, which
:func:`start_worker` prepares once).
"""

from __future__ import annotations

import ctypes
import gc
import platform
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path

from seawall.intel.errors import UnreadableLog
from seawall.intel.matching.logs import LogFormat, Reader, parse_time, reader_for
from seawall.intel.matching.matcher import Index

MAX_SOURCES = 5  # acting hosts kept per indicator
Window = tuple[datetime | None, datetime | None]  # valid_from, valid_until
Windows = Sequence[Window] | Mapping[int, Window]  # by indicator key


def valid_at(window: Window, moment: datetime) -> bool:
    """Whether an indicator with this validity window was in force at ``moment``."""
    start, until = window
    return (start is None or moment >= start) and (until is None or moment < until)


@dataclass
class Found:
    """What matched one indicator: how often, first and last, the values and the hosts."""

    count: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    values: Counter[str] = field(default_factory=Counter)
    sources: Counter[str] = field(default_factory=Counter)

    def add(self, moment: datetime, values: Iterable[str], source: str | None) -> None:
        """Count one matching record at ``moment``, with the indicator values it holds."""
        self.count += 1
        self._span(moment)
        self.values.update(values)
        self._host(source, 1)

    def merge(self, other: Found) -> None:
        """Add another pass's matches of the same indicator."""
        self.count += other.count
        for moment in (other.first_seen, other.last_seen):
            if moment is not None:
                self._span(moment)
        self.values.update(other.values)
        for source, count in other.sources.items():
            self._host(source, count)

    def _span(self, moment: datetime) -> None:
        if self.first_seen is None or moment < self.first_seen:
            self.first_seen = moment
        if self.last_seen is None or moment > self.last_seen:
            self.last_seen = moment

    def _host(self, source: str | None, times: int) -> None:
        # A few hosts are enough to start from; the rest stay counted, not named.
        if source and (source in self.sources or len(self.sources) < MAX_SOURCES):
            self.sources[source] += times


@dataclass
class Tally:
    """What one or more passes found, by the matcher's indicator keys."""

    lines: int = 0
    outside_validity: int = 0
    found: dict[int, Found] = field(default_factory=dict)

    def record(
        self,
        proven: dict[int, set[str]],
        windows: Windows,
        moment: datetime,
        source: str | None,
    ) -> None:
        """Count one record that proves ``proven`` (indicator key -> values), each indicator
        once, if it was in force at ``moment``."""
        for key, values in proven.items():
            if not valid_at(windows[key], moment):
                self.outside_validity += 1
                continue
            found = self.found.get(key)
            if found is None:
                found = self.found[key] = Found()
            found.add(moment, values, source)

    def merge(self, other: Tally) -> None:
        """Add another pass."""
        self.lines += other.lines
        self.outside_validity += other.outside_validity
        for key, found in other.found.items():
            mine = self.found.get(key)
            if mine is None:
                self.found[key] = found
            else:
                mine.merge(found)


def scan(
    lines: Iterable[str],
    read: Reader,
    index: Index,
    windows: Windows,
    default: datetime,
    every: Callable[[], None] | None = None,
    into: Tally | None = None,
) -> Tally:
    """Match every line; ``every`` is called each 16,384 lines (for progress). The matches
    are added to ``into`` when given (the lines are the log's in order, after those it
    holds), else to a new tally."""
    tally = Tally() if into is None else into
    lookup = index.matcher.lookup
    count = 0
    for line in lines:
        count += 1
        if every is not None and not count & 0x3FFF:
            every()
        observed = read(line)
        if observed is None:
            continue
        when, source, values = observed
        matches = [m for kind, value in values for m in lookup(kind, value)]
        proven = index.proven(matches) if matches else None
        if proven:
            tally.record(proven, windows, parse_time(when, default), source)
    tally.lines += count
    return tally


@contextmanager
def collector_off() -> Iterator[None]:
    """The cycle collector off while a log is matched (as it was, after).

    Matching makes millions of short-lived objects that hold no cycles, so reference counting
    frees them all; the collector, triggered by their number, would walk every object the
    process holds each time (a node's modules and models: 20-130 ms a million log lines).
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


# glibc's mallopt parameters, and its defaults for them (mallopt(3)).
_TRIM_THRESHOLD, _MMAP_THRESHOLD = -1, -3
_DEFAULT_THRESHOLD = 128 * 1024
_KEPT_BELOW = 32 * 2**20  # allocations under this come from the heap (glibc's largest)
_kept = 0  # scans keeping allocations now
_kept_lock = threading.Lock()


@cache
def _glibc() -> ctypes.CDLL | None:
    if platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


@contextmanager
def allocations_kept() -> Iterator[None]:
    """glibc's malloc keeps what a log's blocks free for the blocks after, and gives it back
    to the system after (on other C libraries, nothing changes).

    A block's buffers (the bytes read, numpy's arrays over them) are megabytes each: glibc
    maps each afresh and unmaps it when freed, so every block's pages were faulted in and
    zeroed again by the kernel (about a fifth of a scan's CPU time). While any scan runs,
    allocations under 32 MiB come from the heap and the heap is not trimmed.
    """
    global _kept
    libc = _glibc()
    if libc is None:
        yield
        return
    with _kept_lock:
        if not _kept:
            libc.mallopt(_MMAP_THRESHOLD, _KEPT_BELOW)
            libc.mallopt(_TRIM_THRESHOLD, 2**30)
        _kept += 1
    try:
        yield
    finally:
        with _kept_lock:
            _kept -= 1
            if not _kept:
                libc.mallopt(_TRIM_THRESHOLD, _DEFAULT_THRESHOLD)
                libc.mallopt(_MMAP_THRESHOLD, _DEFAULT_THRESHOLD)
                libc.malloc_trim(0)


# No log record is this long: a longer "line" is a file that is not line-per-record (a JSON
# array on one line, a dump), and reading it whole could take all the memory there is.
MAX_LINE = 2**20


def over_long(name: str, where: str) -> UnreadableLog:
    """The error for a line over :data:`MAX_LINE`; nothing has been recorded when it is raised."""
    return UnreadableLog(
        f"{name} has a line over 1 MiB ({where}), so it is not one record per line; "
        "give a line-per-record log (a JSON array becomes one with `jq -c '.[]'`)"
    )


# -- a worker process's side ---------------------------------------------------------------------

_WORKER: tuple[Index, Windows] | None = None


def start_worker(index: Index, windows: Windows) -> None:
    """Keep the index in this worker process for the ranges it will scan."""
    global _WORKER
    _WORKER = (index, windows)


def _lines_in(path: str, start: int, end: int) -> Iterable[str]:
    # A line belongs to the range it starts in: skip the one that starts before ``start``.
    with open(path, "rb") as raw:
        if start:
            raw.seek(start - 1)
            raw.readline()
        at = raw.tell()
        while at < end:
            line = raw.readline(MAX_LINE)
            if not line:
                return
            if len(line) == MAX_LINE and not line.endswith(b"\n"):
                raise over_long(path, f"at byte {at:,}")
            at += len(line)
            yield line.decode("utf-8", "replace")


def scan_range(
    path: str, start: int, end: int, fmt: LogFormat, header: list[str], default: datetime
) -> Tally:
    """Scan the lines that start in ``[start, end)`` of a file, in a worker process."""
    if _WORKER is None:
        raise RuntimeError("scan_range runs in a worker prepared by start_worker")
    index, windows = _WORKER
    # An x509 log names hosts from the logs beside it.
    read = reader_for(fmt, Path(path), index.matcher.ports)
    for line in header:  # Zeek's #fields header, read from the top of the file
        read(line)
    return scan(_lines_in(path, start, end), read, index, windows, default)
