"""The fast path for Zeek TSV logs: a columnar pre-filter, then the exact matcher.

A Zeek log is read in blocks of about 16 MiB, two at a time. polars parses the columns
that hold values of each block (on every core), and their distinct values are joined
against the indicator values (:mod:`~seawall.intel.matching.joins`). A record holding a
value that joins is a *candidate*; only the candidates go through the exact matcher
(:func:`~seawall.intel.matching.scan.scan`, the same reader and lookups as every other
log), with an index of the indicator values that joined. Memory stays near two blocks and
their columns, however large the log.

The pre-filter may let through records that do not match, never keep out one that does:
the exact matcher decides, so both paths find the same thing. A log the pre-filter cannot
read exactly as the line reader does is left to the line reader: a carriage return (polars
drops one before a newline), a blank line, a header or comment between records, a line with
more cells than the header names, or text that is not UTF-8 (polars refuses it; the two
paths would replace bad bytes differently).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Protocol, TypeVar

import numpy as np
import polars as pl

from seawall.intel.matching.compiled import Compiled
from seawall.intel.matching.hosts import set_separator
from seawall.intel.matching.joins import Known, candidate_rows, compiled_ports, joined_parts
from seawall.intel.matching.logs import ZEEK_PORTS, LogFormat, Reader, reader_for, zeek_fields
from seawall.intel.matching.matcher import Index
from seawall.intel.matching.observables import Kind
from seawall.intel.matching.scan import Tally, Window, allocations_kept, collector_off, scan

BLOCK = 16 * 2**20  # bytes read at once (a block ends at the end of a line)
# Against this many indicator values or more, a block's lookups hold tables in proportion
# to both, so blocks are halved (at a million values: 368 MiB at the peak, not 460).
LARGE_SET = 250_000
IN_FLIGHT = 2  # blocks parsed and joined at once
# Blocks handed to the workers ahead of the one being matched: a worker that finishes a block
# starts the next at once, not when this thread has matched the one before (a queued block
# is only its place in the file; a parsed one keeps its candidate lines, their index and
# windows, not its bytes or columns).
AHEAD = 4
B = TypeVar("B")  # what a reader keeps of a block
PEEK = 2**16  # bytes at the end of a block searched for its last line end


@dataclass(frozen=True)
class Header:
    """A Zeek TSV log's header: its lines, the column names and the set separator."""

    lines: list[str]
    names: list[str]
    separator: str


def read_header(data: bytes) -> Header | None:
    """The header at the top of a log, if it is one the pre-filter reads as the line reader
    does: tab-separated, named columns (``ts`` first, if there)."""
    lines: list[str] = []
    at = 0
    names: list[str] = []
    separator = ","
    while data[at : at + 1] == b"#":
        end = data.find(b"\n", at)
        if end == -1:
            return None
        line = data[at : end + 1].decode("utf-8", "replace")
        lines.append(line)
        name, _, rest = line.rstrip("\n").partition("\t")
        if name.startswith("#separator") and line.rstrip("\n") != "#separator \\x09":
            return None
        if name == "#set_separator":
            separator = set_separator(rest)
        elif name == "#fields":
            names = rest.split("\t")
        at = end + 1
    if not names or len(set(names)) != len(names):
        return None
    if "ts" in names and names.index("ts") != 0:
        return None  # the line reader skips a line too short to hold its time
    return Header(lines, names, separator)


def _spans(raw: IO[bytes], size: int) -> Iterator[tuple[int, int]]:
    """Where the file's blocks lie (offset, length): at most ``size`` bytes each (or one line,
    if longer), each ending at the end of a line. Where a block ends is found in its last
    :data:`PEEK` bytes, so that the blocks themselves can be read where they are used."""
    at = raw.tell()
    while True:
        raw.seek(at + max(size - PEEK, 0))
        tail = raw.read(min(PEEK, size) + 1)  # one byte more: is there more after?
        if len(tail) <= min(PEEK, size):  # the rest of the file fits in this block
            if length := raw.seek(0, os.SEEK_END) - at:
                yield at, length
            return
        if cut := tail.rfind(b"\n", 0, len(tail) - 1) + 1:
            length = max(size - PEEK, 0) + cut
        else:  # no line ends in the block's last bytes
            raw.seek(at)
            block = raw.read(size)
            length = block.rfind(b"\n") + 1 or len(block) + len(raw.readline())  # or one line
        yield at, length
        at += length


def _blocks(raw: IO[bytes], size: int) -> Iterator[bytes]:
    """The file's blocks (see :func:`_spans`), read one after another."""
    for at, length in _spans(raw, size):
        yield os.pread(raw.fileno(), length, at)


@dataclass(frozen=True)
class Candidates:
    """A block's candidate lines, an index of the indicator values its own records joined
    (a record matches none other), and those indicators' validity windows."""

    lines: list[str]
    index: Index | None = None
    windows: dict[int, Window] = field(default_factory=dict)


def candidates(
    lines: list[str], joined: set[tuple[Kind, str]], known: Known, compiled: Compiled
) -> Candidates:
    """What the exact matcher needs for one block's candidate lines, made where the block
    was parsed (a worker thread): the thread that matches the blocks in order is then left
    only the lines to match, and never waits there for polars's threads."""
    if not lines:
        return Candidates([])
    parts = joined_parts(known, joined)
    index = compiled.index(parts)
    windows = compiled.windows_of({index.parts[number].indicator for number in parts})
    return Candidates(lines, index, windows)


@dataclass
class _Block:
    """What one block held: its lines, which were comments, and the candidates."""

    count: int
    comments: list[int]
    found: Candidates


class _Reader:
    """One log's blocks, parsed and joined as they come (:meth:`read`, in any thread), and
    their candidates matched in the log's order (:meth:`add`)."""

    def __init__(
        self,
        header: Header,
        known: Future[Known],
        ports: Iterable[int],
        compiled: Compiled,
        path: Path,
        default: datetime,
    ) -> None:
        names = header.names
        self.fields = zeek_fields(names)
        self.wanted = list(self.fields)
        if "host" in names and "uri" in names:
            self.wanted += [n for n in ("host", "uri") if n not in self.fields]
        texts = {str(port) for port in ports}
        if texts:  # endpoints: the address columns are fields already
            self.wanted += [n for n in ZEEK_PORTS if n in names]
        self.schema = dict.fromkeys(names, pl.String)
        self._known = known  # built while the first blocks are parsed
        self.header = header
        self.compiled = compiled
        self.default = default
        self.count = 0  # lines so far, as the line reader counts them
        self.comments: list[int] = []  # line numbers of ``#`` lines
        self.tally = Tally()
        self.line = reader_for(LogFormat.ZEEK, path, texts)
        for line in header.lines:
            self.line(line)

    @property
    def known(self) -> Known:
        """The indicator values the blocks are joined against."""
        return self._known.result()

    def read(self, block: bytes) -> _Block | None:
        """Pre-filter one block (in any thread: polars and numpy let go of the GIL); None
        when the log is not one the pre-filter reads."""
        if b"\r" in block:
            return None
        octets = np.frombuffer(block, dtype=np.uint8)
        ends = np.flatnonzero(octets == 0x0A)
        if not block.endswith(b"\n"):  # the last line of a file without a final newline
            ends = np.append(ends, len(block) - 1)
        starts = np.concatenate(([0], ends[:-1] + 1))
        first = octets[starts]
        del octets
        if (first == 0x0A).any():
            return None  # a blank line
        comment = first == 0x23
        records = np.flatnonzero(~comment)
        if records.size and records[-1] - records[0] + 1 != records.size:
            return None  # a comment between records (only the header and #close may be)
        joined: set[tuple[Kind, str]] = set()
        lines: list[str] = []
        if records.size:
            # Comments lead or trail the records: polars parses the records alone, without
            # looking for comments (a third faster).
            body = block[starts[records[0]] : ends[records[-1]] + 1]
            frame = (
                pl.scan_csv(
                    body,
                    separator="\t",
                    has_header=False,
                    quote_char=None,
                    schema=self.schema,
                    empty_string_is_null=False,
                )
                .select(self.wanted)
                .collect(engine="in-memory")  # no streaming engine to start for one block
            )
            del body
            if frame.height != len(records):
                return None
            separator = self.header.separator
            rows = candidate_rows(
                frame,
                self.fields,
                separator,
                self.known,
                joined,
                lists=separator.encode() in block,
                brackets=b"<" in block or b">" in block,
                ascii=block.isascii(),
            )
            lines = [
                block[starts[line] : ends[line] + 1].decode("utf-8", "replace")
                for line in records[rows]
            ]
        found = candidates(lines, joined, self.known, self.compiled)
        return _Block(len(starts), np.flatnonzero(comment).tolist(), found)

    def add(self, found: _Block) -> None:
        """Match one block's candidates, in the log's order."""
        self.comments += [n + self.count for n in found.comments]
        self.count += found.count
        match_candidates(found.found, self.line, self)

    def finish(self) -> Tally | None:
        """What matched, if the only comments are the header and the lines after the last
        record (``#close``)."""
        head = len(self.header.lines)
        tail = [n for n in self.comments if n >= head]
        if tail and tail != list(range(self.count - len(tail), self.count)):
            return None
        if self.comments[:head] != list(range(head)):
            return None
        self.tally.lines = self.count
        return self.tally


class Matching(Protocol):
    """What a log's reader matches its candidates into."""

    compiled: Compiled
    default: datetime
    tally: Tally


def match_candidates(found: Candidates, read: Reader, into: Matching) -> None:
    """Match one block's candidate lines (after those of the blocks before it); the matched
    indicators' names are read while the next blocks are parsed."""
    if found.index is None:
        return
    scan(found.lines, read, found.index, found.windows, into.default, into=into.tally)
    into.compiled.load(into.tally.found)


class Blocks(Protocol[B]):
    """A log's reader for :func:`matched_blocks`: what it keeps of a block (in any thread),
    and its candidates matched in the log's order."""

    def read(self, block: bytes) -> B | None: ...

    def add(self, found: B) -> None: ...


Moved = Callable[[int], None]  # told the bytes matched so far, after each block


def matched_blocks(raw: IO[bytes], reader: Blocks[B], size: int, every: Moved | None) -> bool:
    """Give ``reader`` the blocks of ``raw`` (of about ``size`` bytes): :data:`IN_FLIGHT`
    read at once in worker threads while this thread adds the ones before them, in order
    (up to ``IN_FLIGHT + AHEAD`` are handed over at once, so that no worker waits for this
    thread), with the cycle collector off and freed memory kept for the next blocks
    (:func:`~seawall.intel.matching.scan.collector_off`,
    :func:`~seawall.intel.matching.scan.allocations_kept`). False as soon as a block is one
    the reader cannot read exactly."""
    pending: deque[tuple[Future[B | None], int]] = deque()
    done = 0

    def take() -> bool:
        nonlocal done
        future, length = pending.popleft()
        found = future.result()
        if found is None:
            return False
        reader.add(found)
        done += length
        if every is not None:
            every(done)
        return True

    def read(at: int, length: int) -> B | None:  # in a worker: the block is read there too
        return reader.read(os.pread(raw.fileno(), length, at))

    with collector_off(), allocations_kept(), ThreadPoolExecutor(max_workers=IN_FLIGHT) as pool:
        try:
            for at, length in _spans(raw, size):
                pending.append((pool.submit(read, at, length), length))
                if len(pending) >= IN_FLIGHT + AHEAD and not take():
                    return False
            while pending:
                if not take():
                    return False
        finally:
            for future, _ in pending:  # a log given up on: the blocks queued are not read
                future.cancel()
    return True


def _matched(
    path: Path,
    compiled: Compiled,
    default: datetime,
    block_size: int,
    known: Known | None,
    every: Moved | None,
) -> Tally | None:
    with path.open("rb") as raw:
        top = b""
        while (line := raw.readline()).startswith(b"#"):
            top += line
        header = read_header(top)
        if header is None:
            return None
        raw.seek(0)
        with ThreadPoolExecutor(max_workers=1) as aside:
            if known is None:
                sets, ports = aside.submit(Known, compiled), compiled_ports(compiled).keys()
            else:
                sets, ports = aside.submit(lambda: known), known.ports.keys()
            reader = _Reader(header, sets, ports, compiled, path, default)
            if not matched_blocks(raw, reader, block_size, every):
                return None
    return reader.finish()


class FastScan(Protocol):
    """A columnar fast path: a log's tally, or None when it cannot read the log exactly."""

    def __call__(
        self,
        path: Path,
        compiled: Compiled,
        default: datetime,
        block_size: int | None = None,
        known: Known | None = None,
        every: Moved | None = None,
    ) -> Tally | None: ...


def fast_scan(
    path: Path,
    compiled: Compiled,
    default: datetime,
    block_size: int | None = None,
    known: Known | None = None,
    every: Moved | None = None,
) -> Tally | None:
    """A Zeek TSV log matched through the pre-filter, in blocks of about ``block_size``
    bytes (:data:`BLOCK`, or half of it against a :data:`LARGE_SET`); None when the log is
    not one it reads exactly (the caller then reads it line by line). ``known`` is
    ``compiled``'s values, when the caller keeps them for many logs; ``every`` is told the
    bytes matched so far after each block (for progress)."""
    if block_size is None:
        block_size = BLOCK // 2 if compiled.parts.height >= LARGE_SET else BLOCK
    try:
        return _matched(path, compiled, default, block_size, known, every)
    except (OSError, ValueError, pl.exceptions.PolarsError):
        return None  # unreadable, or a ragged or broken line: the line reader says what
