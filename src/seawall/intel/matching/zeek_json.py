"""The fast path for Zeek JSON logs (``LogAscii::use_json``): a columnar pre-filter, then
the exact matcher.

As for Zeek's TSV logs (:mod:`~seawall.intel.matching.columnar`), a log is read in blocks
(of about 4 MiB: :data:`BLOCK`), two at a time. polars decodes each block's records into
the fields that hold values (every one as a list of text: a set or vector is a JSON array,
any other value a one-item list), and their distinct values are joined against the
indicator values (:mod:`~seawall.intel.matching.joins`). Only the candidates go through
the exact matcher (:func:`~seawall.intel.matching.scan.scan`, with the line reader of
:attr:`LogFormat.ZEEK_JSON <seawall.intel.matching.logs.LogFormat.ZEEK_JSON>`), with an
index of the indicator values that joined.

polars decodes JSON as Python's ``json`` does except in a few places, and a record that
touches one is *read by the line reader* (its values are joined as the line reader reads
them, and the record is a candidate): a block or part of one that polars refuses (a broken
line, ``NaN``, a nested object where a value was expected; halved until a piece of
:data:`PIECE` lines is left), a ``\\u`` escape (polars turns a lone surrogate into NUL), a
wanted key written more often than polars found values for it (Python keeps the last of
two same keys, polars the first), a value that is a number, ``true`` or ``false`` (polars
writes ``2`` and ``true`` where Python reads ``2.0`` and ``True``) or an array holding
``null``, an ``intel.log`` hit (``seen.indicator``), and a line that does not start with
``{`` but holds one. Blank lines and other lines that cannot be a JSON object are counted
and skipped, as the line reader does. A log it cannot read in the same lines is left to
the line reader (None): a carriage return (polars drops one before a newline, where the
line reader keeps it), a ``#fields`` line (it would turn the rest into TSV), or a line over
:data:`~seawall.intel.matching.scan.MAX_LINE`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

from seawall.intel.matching.columnar import (
    LARGE_SET,
    Candidates,
    Moved,
    candidates,
    match_candidates,
    matched_blocks,
)
from seawall.intel.matching.compiled import Compiled
from seawall.intel.matching.joins import (
    Known,
    endpoint_rows,
    matching,
    url_rows,
)
from seawall.intel.matching.logs import ZEEK_FIELDS, ZEEK_PORTS, LogFormat, reader_for
from seawall.intel.matching.observables import Kind, domain, normalise
from seawall.intel.matching.scan import MAX_LINE, Tally

# Bytes read at once (a block ends at the end of a line). Decoding a block takes about ten
# times its size (a 16 MiB block: 175 MiB), so blocks are a quarter of a TSV log's; halved
# again against a large set of indicator values, as for TSV.
BLOCK = 4 * 2**20
PIECE = 64  # lines: a piece polars refuses is halved down to this, then read line by line
# Every value field, read as a list of text; the responder may be a server reached for a
# name (a record with a host or server_name field): looked up as both, the matcher decides.
FIELDS: dict[str, Kind | None] = {
    name: Kind.RESOLVED if name == "id.resp_h" else kind for name, kind in ZEEK_FIELDS.items()
}
# A number or a boolean, as polars writes it in a text field (never with an exponent).
_NOT_TEXT = r"^(?:-?[0-9]+(?:\.[0-9]+)?|true|false)$"
_SKIPPED = pl.Series(["", "-", "(empty)"], dtype=pl.String)


def _encodable(text: str) -> bool:
    """Whether ``text`` is UTF-8 (a lone surrogate from a ``\\u`` escape is not)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _lines(block: bytes, count: int) -> pl.Series:
    """A block's lines, as the line reader decodes them (bad UTF-8 replaced)."""
    # polars splits lines fastest, as its CSV reader (a NUL is its separator); it drops a
    # byte order mark, which Python's json refuses.
    if b"\x00" not in block and not block.startswith(b"\xef\xbb\xbf"):
        try:
            lines = pl.read_csv(
                block,
                has_header=False,
                separator="\x00",
                quote_char=None,
                schema={"line": pl.String},
            ).to_series()
            if lines.len() == count:
                return lines.fill_null("")  # blank lines
        except pl.exceptions.PolarsError:
            pass  # not UTF-8
    return pl.Series("line", block.decode("utf-8", "replace").split("\n")[:count])


def _decoded(lines: pl.Series, dtype: pl.Struct) -> pl.Series:
    """Each line decoded into ``dtype``; null where polars refuses the piece it is in."""
    try:
        found = lines.str.json_decode(dtype)
        if found.len() == lines.len():
            return found
    except pl.exceptions.PolarsError:
        pass
    if lines.len() <= PIECE:
        return pl.Series(lines.name, [None] * lines.len(), dtype=dtype)
    half = lines.len() // 2
    return pl.concat([_decoded(lines[:half], dtype), _decoded(lines[half:], dtype)])


@dataclass
class _Block:
    """What one block held: its line count and its candidates."""

    count: int
    found: Candidates


class _Reader:
    """One log's blocks, decoded and joined as they come (:meth:`read`, in any thread), and
    their candidates matched in the log's order (:meth:`add`)."""

    def __init__(self, known: Known, compiled: Compiled, path: Path, default: datetime) -> None:
        self.known = known
        self.compiled = compiled
        self.default = default
        self.count = 0
        self.tally = Tally()
        self.ports = {str(port) for port in known.ports}
        self.line = reader_for(LogFormat.ZEEK_JSON, path, self.ports)
        self.url = known.has(Kind.URL)
        schema: dict[str, pl.DataType] = {name: pl.List(pl.String) for name in FIELDS}
        if self.url:
            schema["uri"] = pl.String()
        if known.ports:
            schema.update((name, pl.String()) for name in ZEEK_PORTS)
        self.dtype = pl.Struct(schema)

    def read(self, block: bytes) -> _Block | None:
        """Pre-filter one block (in any thread: polars lets go of the GIL); None when the
        log is not one the pre-filter reads in the same lines."""
        if not block:
            return _Block(0, Candidates([]))
        ends = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 0x0A)
        whole = block.endswith(b"\n")  # else the last line of a file without a final newline
        count = ends.size + (not whole)
        rest = len(block) - (int(ends[-1]) + 1 if ends.size else 0)
        if max(int(np.diff(ends, prepend=-1).max(initial=0)), rest) >= MAX_LINE:
            return None  # the line reader says whether it is too long to be a record
        if b"\r" in block:
            return None
        lines = _lines(block, count)
        if lines.str.starts_with("#fields").any():
            return None
        opens = lines.str.starts_with("{")
        doubt = lines.str.contains("\\u", literal=True)
        doubt = doubt | lines.str.contains('"seen.indicator"', literal=True)
        records = lines
        if not opens.all():  # Python's json skips white space before the object
            doubt = doubt | (~opens & lines.str.contains("{", literal=True))
            records = pl.select(pl.when(opens).then(lines).otherwise(pl.lit("{}"))).to_series()
        decoded = _decoded(records, self.dtype)
        del records
        frame = decoded.struct.unnest()
        doubt = doubt | decoded.is_null()
        del decoded
        nulls = bool(lines.str.contains("null", literal=True).any())
        doubt = doubt | self._twice(lines, frame, nulls)
        joined: set[tuple[Kind, str]] = set()
        rows: list[pl.Series] = []
        for name, kind in FIELDS.items():
            column = frame[name]
            if column.null_count() == column.len():
                continue
            hit, odd = self._field(column, kind, joined, nulls)
            rows.append(hit)
            doubt = doubt | odd
        rows += self._urls_and_ports(frame, joined)
        del frame
        doubtful = doubt.arg_true()
        if doubtful.len():
            self._join_as_read(lines.gather(doubtful).to_list(), joined)
            rows.append(doubtful.cast(pl.UInt32))
        taken = pl.concat(rows).unique().sort() if rows else pl.Series([], dtype=pl.UInt32)
        ending = [line + "\n" for line in lines.gather(taken).to_list()]
        if not whole and ending and taken[-1] == count - 1:
            ending[-1] = ending[-1][:-1]
        return _Block(count, candidates(ending, joined, self.known, self.compiled))

    def _twice(self, lines: pl.Series, frame: pl.DataFrame, nulls: bool) -> pl.Series:
        """Where a line names a key polars reads more often than polars found a value for
        it (a key written twice, or as null): Python keeps the last, polars the first."""
        if not nulls:  # every key there has a value: count only the keys found
            frame = frame.select(c.name for c in frame.iter_columns() if c.null_count() < c.len())
        if not frame.width:
            return pl.repeat(False, lines.len(), dtype=pl.Boolean, eager=True)
        found = frame.select(pl.sum_horizontal(pl.all().is_not_null().cast(pl.UInt32)))
        named = pl.sum_horizontal(
            pl.col("line").str.count_matches(f'"{name}"', literal=True).cast(pl.UInt32)
            for name in frame.columns
        )
        return lines.to_frame("line").select(named).to_series() > found.to_series()

    def _field(
        self, column: pl.Series, kind: Kind | None, joined: set[tuple[Kind, str]], nulls: bool
    ) -> tuple[pl.Series, pl.Series]:
        """The rows whose items of one field join an indicator value, and where polars may
        have read an item otherwise than Python (a number, a boolean, a null item)."""
        items = pl.DataFrame({"item": column}).with_row_index("row").explode("item")
        items = items.drop_nulls("item")
        distinct = items["item"].unique()
        shown = distinct.str.strip_chars("<>")  # SMTP addresses come in angle brackets
        wanted = shown.filter(~shown.is_in(_SKIPPED.implode()))
        kept = matching(wanted.unique(), kind, self.known, joined)
        hit_items = distinct.filter(shown.is_in(kept.implode()))
        odd_items = distinct.filter(distinct.str.contains(_NOT_TEXT))
        hit = items.filter(pl.col("item").is_in(hit_items.implode()))["row"]
        if nulls:  # an array may hold null (Python reads it as "None")
            odd = (column.list.drop_nulls().list.len() != column.list.len()).fill_null(False)
        else:
            odd = pl.repeat(False, column.len(), dtype=pl.Boolean, eager=True)
        if odd_items.len():
            rows = items.filter(pl.col("item").is_in(odd_items.implode()))["row"]
            odd = odd | pl.int_range(column.len(), eager=True).is_in(rows.implode())
        return hit, odd

    def _urls_and_ports(
        self, frame: pl.DataFrame, joined: set[tuple[Kind, str]]
    ) -> list[pl.Series]:
        """The rows whose URL (host and URI) or endpoint port joins an indicator value."""
        rows: list[pl.Series] = []
        if self.url and frame["uri"].null_count() < frame.height:
            # The line reader takes a host that is text; a one-item list may pass here.
            hosts = pl.col("host")
            host = pl.when(hosts.list.len() == 1).then(hosts.list.first()).alias("host")
            urls = frame.select(host, "uri")
            rows.append(url_rows(urls, self.known, joined))
        if self.known.ports:
            rows.append(endpoint_rows(frame.select(ZEEK_PORTS), self.known, joined))
        return rows

    def _join_as_read(self, lines: list[str], joined: set[tuple[Kind, str]]) -> None:
        """Join the values of lines as the line reader reads them."""
        read = reader_for(LogFormat.ZEEK_JSON, None, self.ports)
        by_kind: dict[Kind, set[str]] = {}
        for line in lines:
            observed = read(line)
            for kind, value in observed[2] if observed else ():
                by_kind.setdefault(kind, set()).add(value)
        for kind, values in by_kind.items():
            if kind is Kind.URL:
                for value in values:
                    shown = normalise(Kind.URL, value)
                    if shown and _encodable(shown):
                        joined.update({(kind, shown), (kind, shown.partition("?")[0])})
            elif kind is Kind.ENDPOINT:
                for value in values:
                    port = value.rpartition(":")[2]
                    found = self.known.ports.get(int(port)) if port.isdigit() else None
                    joined.update((kind, endpoint) for endpoint in found or ())
            else:
                texts = sorted(v for v in values if _encodable(v))
                matching(pl.Series(texts, dtype=pl.String), kind, self.known, joined)
                if kind is Kind.DOMAIN:
                    # A lone surrogate (\ud800) polars cannot hold: the name IDNA makes of
                    # it, if any, and its parents. Indicator values hold none, so a value
                    # of any other kind holding one matches nothing.
                    for value in values.difference(texts):
                        name = domain(value) or ""
                        labels = name.split(".")
                        joined.update(
                            (kind, ".".join(labels[at:])) for at in range(len(labels)) if name
                        )

    def add(self, found: _Block) -> None:
        """Match one block's candidates, in the log's order, against an index of the
        indicator values its own records joined (a record matches none other)."""
        self.count += found.count
        match_candidates(found.found, self.line, self)


def _matched(
    path: Path,
    compiled: Compiled,
    default: datetime,
    block_size: int,
    known: Known | None,
    every: Moved | None,
) -> Tally | None:
    reader = _Reader(known or Known(compiled), compiled, path, default)
    with path.open("rb") as raw:
        if not matched_blocks(raw, reader, block_size, every):
            return None
    reader.tally.lines = reader.count
    return reader.tally


def json_fast_scan(
    path: Path,
    compiled: Compiled,
    default: datetime,
    block_size: int | None = None,
    known: Known | None = None,
    every: Moved | None = None,
) -> Tally | None:
    """A Zeek JSON log matched through the pre-filter, in blocks of about ``block_size``
    bytes (:data:`BLOCK`, or half of it against a
    :data:`~seawall.intel.matching.columnar.LARGE_SET`); None when the log is not one it
    reads in the same lines (the caller then reads it line by line). ``known`` is
    ``compiled``'s values, when the caller keeps them for many logs; ``every`` is told the
    bytes matched so far after each block (for progress)."""
    if block_size is None:
        block_size = BLOCK // 2 if compiled.parts.height >= LARGE_SET else BLOCK
    try:
        return _matched(path, compiled, default, block_size, known, every)
    except (OSError, ValueError, pl.exceptions.PolarsError):
        return None  # unreadable: the line reader says what
