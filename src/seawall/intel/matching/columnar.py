"""The fast path for Zeek TSV logs: a columnar pre-filter, then the exact matcher.

A Zeek log is read by polars into columns (on every core), and each column's distinct
values are joined against the indicator values of their kind: names and every parent
name of them against the domains, addresses against the addresses and, as integers
under each prefix length, against the ranges, URLs (with and without their query) against
the URLs, hashes, e-mail addresses and file names against theirs. A record holding a
value that joins is a *candidate*; only the candidates go through the exact matcher
(:func:`~seawall.intel.matching.scan.scan`, the same reader and lookups as every other
log), with an index of the indicator values that joined.

The pre-filter may let through records that do not match (a value of another kind, a
value outside ASCII, any IPv6 address when an indicator is IPv6), never keep out one
that does: the exact matcher decides, so both paths find the same thing. A log the
pre-filter cannot read exactly as the line reader does (a second ``#fields`` header, a
carriage return, a short line) is left to the line reader.
"""

from __future__ import annotations

import ipaddress
import mmap
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl

from seawall.intel.matching.compiled import Compiled
from seawall.intel.matching.logs import _ZEEK_FIELDS, LogFormat, reader_for
from seawall.intel.matching.matcher import Index, Part
from seawall.intel.matching.observables import Kind, normalise
from seawall.intel.matching.scan import Tally, scan

_IPV4 = r"^\d{1,3}(?:\.\d{1,3}){3}$"  # what the line reader takes for an address
_OCTETS = r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$"
_LOWERED = (Kind.DOMAIN, Kind.HASH, Kind.EMAIL)  # looked up without case


@dataclass(frozen=True)
class Header:
    """A Zeek TSV log's header: its lines, the column names and the set separator."""

    lines: list[str]
    names: list[str]
    separator: str
    size: int  # bytes


def read_header(data: mmap.mmap | bytes) -> Header | None:
    """The header at the top of a log, if it is one the pre-filter reads as the line reader
    does: tab-separated, named columns (``ts`` first, if there), no second header."""
    lines: list[str] = []
    at = 0
    names: list[str] = []
    separator = ","
    while data[at : at + 1] == b"#":
        end = data.find(b"\n", at)
        if end == -1:
            return None
        line = bytes(data[at : end + 1]).decode("utf-8", "replace")
        lines.append(line)
        name, _, rest = line.rstrip("\n").partition("\t")
        if name.startswith("#separator") and line.rstrip("\n") != "#separator \\x09":
            return None
        if name == "#set_separator":
            separator = rest.encode().decode("unicode_escape") or ","
        elif name == "#fields":
            names = rest.split("\t")
        at = end + 1
    if not names or len(set(names)) != len(names):
        return None
    if "ts" in names and names.index("ts") != 0:
        return None  # the line reader skips a line too short to hold its time
    return Header(lines, names, separator, at)


class ZeekFile:
    """A Zeek TSV log mapped in memory, with where each line ends.

    :meth:`open` gives None when the pre-filter cannot read the log exactly as the line
    reader does: a carriage return (it stays in the last cell), a blank line, or a header
    or comment between records. (Text that is not UTF-8, which the two paths would replace
    differently, is refused by polars.)
    """

    def __init__(self, data: mmap.mmap, header: Header, ends: npt.NDArray[np.intp]) -> None:
        self.data = data
        self.header = header
        self.ends = ends  # offset of each line's newline
        self.lines = len(ends) + (1 if data[len(data) - 1 :] != b"\n" else 0)
        self.tail = 0  # comment lines after the records (``#close``)
        while self.records > 0 and self._line(self.lines - 1 - self.tail).startswith(b"#"):
            self.tail += 1

    @classmethod
    @contextmanager
    def open(cls, path: Path) -> Iterator[ZeekFile | None]:
        """The log at ``path``, mapped while the block runs."""
        with path.open("rb") as raw:
            if os.fstat(raw.fileno()).st_size == 0:
                yield None
                return
            with mmap.mmap(raw.fileno(), 0, access=mmap.ACCESS_READ) as data:
                found = cls._checked(data)
                try:
                    yield found
                finally:
                    if found is not None:
                        found.ends = np.empty(0, dtype=np.intp)

    @classmethod
    def _checked(cls, data: mmap.mmap) -> ZeekFile | None:
        header = read_header(data)
        if header is None or data.find(b"\r") != -1:
            return None
        octets = np.frombuffer(data, dtype=np.uint8)
        try:
            ends = _newlines(octets)
            # Where each line after the first starts: '\n' is a blank line, '#' a comment.
            starts = octets[ends[ends < len(octets) - 1] + 1]
        finally:
            del octets  # the map closes only when no view of it is left
        found = cls(data, header, ends)
        if (starts == 0x0A).any():
            return None
        comments = int(np.count_nonzero(starts == 0x23)) + 1  # and the header's first line
        if comments != len(header.lines) + found.tail:
            return None  # a comment or header between records
        return found

    def _start(self, number: int) -> int:
        return 0 if number == 0 else int(self.ends[number - 1]) + 1

    def _line(self, number: int) -> bytes:
        end = int(self.ends[number]) + 1 if number < len(self.ends) else len(self.data)
        return bytes(self.data[self._start(number) : end])

    @property
    def records(self) -> int:
        """How many record lines the log holds."""
        return self.lines - len(self.header.lines) - self.tail

    def record(self, row: int) -> str:
        """The text of record ``row`` (from 0), as the line reader reads it."""
        return self._line(len(self.header.lines) + row).decode("utf-8", "replace")


@dataclass
class Prefiltered:
    """What the pre-filter kept: candidate record lines and the parts they may match."""

    lines: list[str]
    parts: set[int]

    def parts_of(self, index: Index) -> list[Part]:
        """The index's parts the pre-filter kept."""
        return [index.parts[number] for number in self.parts]


class _Values:
    """The indicator values of each kind, as series and as parts."""

    def __init__(self, compiled: Compiled) -> None:
        self.parts = compiled.parts.with_row_index("part")
        self.by_kind = {kind: compiled.values(kind) for kind in Kind}
        ips = self.by_kind[Kind.IP]
        self.ipv6 = bool(ips.str.contains(":", literal=True).any())
        ranges = ips.filter(ips.str.contains("/", literal=True) & ~ips.str.contains(":"))
        self.ranges: dict[int, pl.Series] = {}
        by_prefix: dict[int, list[int]] = {}
        for text in ranges:
            network = ipaddress.IPv4Network(text)
            by_prefix.setdefault(network.prefixlen, []).append(int(network.network_address))
        for prefix, numbers in by_prefix.items():
            self.ranges[prefix] = pl.Series(numbers, dtype=pl.UInt32).unique()

    def has(self, kind: Kind) -> bool:
        return self.by_kind[kind].len() > 0


_BLOCK = 1 << 26  # bytes looked at by numpy at once (its temporary arrays are this large)


def _newlines(octets: npt.NDArray[np.uint8]) -> npt.NDArray[np.intp]:
    """Where each newline is."""
    ends = [
        np.flatnonzero(octets[start : start + _BLOCK] == 0x0A) + start
        for start in range(0, len(octets), _BLOCK)
    ]
    return np.concatenate(ends)


def _in(values: pl.Expr, found: pl.Series) -> pl.Expr:
    return values.is_in(found.implode())


def _parents(names: pl.Series, domains: pl.Series) -> tuple[pl.Series, set[str]]:
    """Which names are a domain or under one, and the domains they are under."""
    hit = pl.Series([False] * names.len())
    joined: set[str] = set()
    current = names
    while current.null_count() < current.len():
        found = current.is_in(domains.implode()).fill_null(False)
        if found.any():
            hit = hit | found
            joined.update(current.filter(found).to_list())
        current = current.str.splitn(".", 2).struct.field("field_1")
    return hit, joined


def _ipv4_numbers(values: pl.Series) -> pl.Series:
    """Each dotted-quad address as an integer; null for anything else."""
    octets = values.str.extract_groups(_OCTETS)
    number = pl.lit(0, dtype=pl.UInt64)
    for at in range(4):
        octet = octets.struct.field(str(at + 1)).cast(pl.UInt64, strict=False)
        number = number * 256 + pl.when(octet <= 255).then(octet).otherwise(None)
    return pl.select(number.alias("n")).to_series()


def _lower(values: pl.Series) -> pl.Series:
    """``str.lower`` of each value: polars for ASCII, Python for the rest (they differ)."""
    lowered = values.str.to_lowercase()
    other = values.str.contains(r"^[\x00-\x7f]*$").not_().arg_true()
    if other.len():
        python = pl.Series([v.lower() for v in values.gather(other).to_list()], dtype=pl.String)
        lowered = lowered.scatter(other, python)
    return lowered


def _matching(
    values: pl.Series, kind: Kind | None, sets: _Values, joined: set[tuple[Kind, str]]
) -> pl.Series:
    """The distinct cell values that may match an indicator; adds the indicator values hit.

    A cell of no set kind (``host``, ``answers``) is an address when the line reader
    takes it for one (``host_kind``), else a name."""
    if kind is not None:
        return values.filter(_matching_kind(values, kind, sets, joined))
    is_ip = values.str.contains(":", literal=True) | values.str.contains(_IPV4)
    ips, names = values.filter(is_ip), values.filter(~is_ip)
    return pl.concat(
        [
            ips.filter(_matching_kind(ips, Kind.IP, sets, joined)),
            names.filter(_matching_kind(names, Kind.DOMAIN, sets, joined)),
        ]
    )


def _matching_kind(
    values: pl.Series, kind: Kind, sets: _Values, joined: set[tuple[Kind, str]]
) -> pl.Series:
    known = sets.by_kind[kind]
    if not known.len() or not values.len():
        return pl.Series([False] * values.len(), dtype=pl.Boolean)
    if kind is Kind.DOMAIN:
        hit, domains = _parents(_lower(values).str.strip_chars_end("."), known)
        joined.update((Kind.DOMAIN, d) for d in domains)
        return hit
    if kind is Kind.IP:
        hit = values.is_in(known.implode())
        joined.update((Kind.IP, v) for v in values.filter(hit).to_list())
        if sets.ipv6:
            hit = hit | values.str.contains(":", literal=True)
        if sets.ranges:
            numbers = _ipv4_numbers(values)
            for prefix, networks in sets.ranges.items():
                size = 1 << (32 - prefix)
                network = (numbers - numbers % size).cast(pl.UInt32, strict=False)
                inside = network.is_in(networks.implode()).fill_null(False)
                if inside.any():
                    hit = hit | inside
                    for number in network.filter(inside).unique().to_list():
                        joined.add((Kind.IP, f"{ipaddress.IPv4Address(number)}/{prefix}"))
        return hit
    shown = _lower(values) if kind in _LOWERED else values
    hit = shown.is_in(known.implode())
    joined.update((kind, v) for v in shown.filter(hit).to_list())
    return hit


def prefilter(path: Path, log: ZeekFile, compiled: Compiled) -> Prefiltered | None:
    """The candidate record lines of a Zeek TSV log, and the parts they may match; None
    when polars reads a different number of records than the log holds."""
    names, separator = log.header.names, log.header.separator
    wanted = [n for n in names if n in _ZEEK_FIELDS]
    if "host" in names and "uri" in names:
        wanted += [n for n in ("host", "uri") if n not in wanted]
    frame = (
        pl.scan_csv(
            path,
            separator="\t",
            has_header=False,
            comment_prefix="#",
            quote_char=None,
            schema=dict.fromkeys(names, pl.String),
            empty_string_is_null=False,
        )
        .select(wanted)
        .collect()
    )
    if frame.height != log.records:
        return None
    sets = _Values(compiled)
    joined: set[tuple[Kind, str]] = set()
    rows: list[pl.Series] = []
    for name in wanted:
        if name not in _ZEEK_FIELDS:
            continue
        # Logs repeat themselves: each distinct cell is split and looked at once.
        cells = frame[name].unique()
        cells = cells.filter(~cells.is_in(pl.Series(["-", "(empty)", ""]).implode()))
        items = pl.DataFrame({"cell": cells}).with_columns(
            pl.col("cell").str.split(separator).alias("item")
        )
        items = items.explode("item").with_columns(pl.col("item").str.strip_chars("<>"))
        kept = _matching(items["item"].unique(), _ZEEK_FIELDS[name], sets, joined)
        if kept.len():
            hit_cells = items.filter(_in(pl.col("item"), kept))["cell"]
            rows.append(frame.select(pl.arg_where(_in(pl.col(name), hit_cells))).to_series())
    if "host" in names and "uri" in names and sets.has(Kind.URL):
        rows.append(_url_rows(frame, sets, joined))
    candidates = pl.concat(rows).unique().sort() if rows else pl.Series([], dtype=pl.UInt32)
    lines = [log.record(row) for row in candidates.to_list()]
    parts = sets.parts.filter(
        pl.struct("kind", "value").is_in(
            pl.DataFrame(
                {"kind": [k.value for k, _ in joined], "value": [v for _, v in joined]},
                schema={"kind": pl.String, "value": pl.String},
            )
            .to_struct()
            .implode()
        )
    )["part"]
    if sets.ipv6:  # every IPv6 indicator value: the exact path normalises addresses
        parts = pl.concat([parts, sets.parts.filter(pl.col("value").str.contains(":"))["part"]])
    return Prefiltered(lines, set(parts.to_list()))


def _url_rows(frame: pl.DataFrame, sets: _Values, joined: set[tuple[Kind, str]]) -> pl.Series:
    """Records whose URL (``http://`` host and URI) is an indicator's, with or without its
    query. Printable ASCII is normalised here; anything else as the exact path does."""
    host, uri = pl.col("host"), pl.col("uri")
    with_url = frame.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("row"), host, uri)
    with_url = with_url.filter(
        uri.is_not_null() & (uri != "-") & host.is_not_null() & (host != "-") & (host != "")
    ).select("row", pl.concat_str([host, uri]).alias("rest"))
    rest = pl.col("rest")
    clean = rest.str.contains(r"^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$")
    pieces = rest.str.splitn("/", 2)
    shown = pl.concat_str(
        [
            pl.lit("http://"),
            pieces.struct.field("field_0").str.to_lowercase(),
            pl.when(pieces.struct.field("field_1").is_not_null())
            .then(pl.lit("/") + pieces.struct.field("field_1"))
            .otherwise(pl.lit("")),
        ]
    )
    urls = with_url.filter(clean).select("row", shown.alias("shown"))
    other = with_url.filter(~clean)
    if other.height:
        exact = [normalise(Kind.URL, f"http://{r}") for r in other["rest"].to_list()]
        urls = pl.concat(
            [urls, pl.DataFrame({"row": other["row"], "shown": pl.Series(exact, dtype=pl.String)})]
        )
    urls = urls.with_columns(
        pl.col("shown").str.splitn("?", 2).struct.field("field_0").alias("bare")
    )
    known = sets.by_kind[Kind.URL]
    found = urls.filter(_in(pl.col("shown"), known) | _in(pl.col("bare"), known))
    for pair in found.select("shown", "bare").iter_rows():
        joined.update((Kind.URL, url) for url in pair)
    return found["row"]


def fast_scan(path: Path, compiled: Compiled, default: datetime) -> Tally | None:
    """A Zeek TSV log matched through the pre-filter; None when the log is not one it reads
    exactly (the caller then reads it line by line)."""
    try:
        with ZeekFile.open(path) as log:
            if log is None:
                return None
            try:
                kept = prefilter(path, log, compiled)
            except pl.exceptions.PolarsError:
                return None  # a ragged or broken line: the line reader says what it is
            if kept is None:
                return None
            header, lines = log.header.lines, log.lines
    except (OSError, ValueError):
        return None
    index = compiled.index(kept.parts)
    keys = {part.indicator for part in kept.parts_of(index)}
    windows = {key: compiled.indicator(key).window for key in keys}
    read = reader_for(LogFormat.ZEEK, path)
    tally = scan(iter(header + kept.lines), read, index, windows, default)
    tally.lines = lines
    return tally
