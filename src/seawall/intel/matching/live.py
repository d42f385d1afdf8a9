"""Matching a followed log's batches: the reader (or, for Zeek TSV, the columnar
pre-filter a file is matched through) and the exact matcher, against the caller's
indicators as a retro-hunt widens them; and a follow run (:func:`follow_and_match`) that
matches, records and keeps its place batch by batch (the lines come from
:mod:`.following`)."""

from __future__ import annotations

import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from seawall.catalogs import counted
from seawall.core.access import Perm, Principal, require
from seawall.core.context import Ctx
from seawall.core.evidence import record_evidence
from seawall.core.node import Node
from seawall.intel.cases import SUPPORTS
from seawall.intel.matching.columnar import fast_scan
from seawall.intel.matching.compiled import Compiled
from seawall.intel.matching.following import Batching, Position, Tail, follow, save_position
from seawall.intel.matching.joins import Known
from seawall.intel.matching.loading import load_indicators
from seawall.intel.matching.logs import LogFormat, Reader, detect_format, reader_for
from seawall.intel.matching.scan import Tally, scan
from seawall.intel.matching.sightings import Hits, MatchReport, record
from seawall.intel.matching.validity import Validity
from seawall.intel.search import readable_collections


class LiveMatch:
    """A followed log's batches matched against the caller's indicators.

    The format is named or detected from the first lines (a resumed file's header counts),
    and one reader reads every batch, so Zeek's ``#fields`` header of a file carries over
    to its later batches and a rotated file's new header is read where it comes.
    """

    def __init__(
        self,
        loaded: Compiled,
        name: str,
        fmt: LogFormat | None = None,
        path: Path | None = None,
        validity: Validity | None = None,
        header: list[str] | None = None,
        fast: bool = True,
    ) -> None:
        self.name, self.fmt, self.path = name, fmt, path
        self.validity = validity or Validity()
        self.header = header or []
        self.fast = fast
        self._read: Reader | None = None
        self._columns = _header_block(self.header)  # the Zeek header the records are under
        self._key = ""
        # The ports of the endpoints in use, kept in step with the set (the reader holds it).
        self._ports: set[str] = set()
        self.use(loaded)

    def use(self, loaded: Compiled) -> None:
        """Match against ``loaded`` from now on (indicators loaded again); a set cached under
        the key of the one in use (nothing the caller may read changed) keeps its index."""
        if loaded.key and loaded.key == self._key:
            return
        self._key = loaded.key
        self.loaded = self.validity.apply(loaded)
        self._index = self.loaded.index()
        self._ports.clear()
        self._ports.update(self._index.matcher.ports)
        self._windows = self.loaded.windows()
        self._known: Known | None = None  # the pre-filter's values, built at its first batch

    def match(self, lines: list[str], default: datetime) -> MatchReport:
        """The report of one batch: its lines, and what they matched."""
        read, fmt = self._reader(lines)
        tally = self._columnar(lines, read, default) if fmt is LogFormat.ZEEK else None
        if tally is None:
            tally = scan(lines, read, self._index, self._windows, default)
        report = MatchReport(indicators=len(self.loaded), not_matchable=self.loaded.not_matchable)
        report.files[self.name] = fmt.value
        report.lines, report.outside_validity = tally.lines, tally.outside_validity
        report.bytes = sum(len(line.encode("utf-8", "replace")) for line in lines)
        self.loaded.load(tally.found)  # the labels of what matched, not of every indicator
        for key, found in tally.found.items():
            hits = Hits(indicator=self.loaded.indicator(key))
            hits.merge(found)
            hits.formats.add(fmt.value)
            report.hits[hits.indicator.id] = hits
        return report

    def _reader(self, lines: list[str]) -> tuple[Reader, LogFormat]:
        if self._read is None or self.fmt is None:
            self.fmt = self.fmt or detect_format(self.header + lines[:20])
            self._read = reader_for(self.fmt, self.path, self._ports)
            for line in self.header:
                self._read(line)
        return self._read, self.fmt

    def _columnar(self, lines: list[str], read: Reader, default: datetime) -> Tally | None:
        """A Zeek TSV batch through the columnar pre-filter, as a file is matched; None
        when it must be read line by line (a header inside it, an x509 log, whose hosts
        come from the logs beside it, or a batch the pre-filter does not read exactly)."""
        top = 0
        while top < len(lines) and lines[top].startswith("#"):
            top += 1
        if top:
            self._columns = _header_block(self._columns + lines[:top])
        body = lines[top:]
        if not self.fast or not body or any(line.startswith("#") for line in body):
            return None
        if any("certificate." in line for line in self._columns if line.startswith("#fields")):
            return None
        for line in lines[:top]:
            read(line)  # the line reader stays in step for the batches read line by line
        with tempfile.TemporaryDirectory(prefix="seawall-follow-") as folder:
            batch = Path(folder) / "batch.log"
            batch.write_text("".join(self._columns + body), encoding="utf-8", newline="")
            self._known = self._known or Known(self.loaded)
            tally = fast_scan(batch, self.loaded, default, known=self._known)
        if tally is None:
            tally = scan(body, read, self._index, self._windows, default)
        tally.lines = len(lines)
        return tally


def _header_block(lines: list[str]) -> list[str]:
    """The last Zeek header in ``lines`` (a new one starts at ``#separator``), without
    ``#close``: what a batch of the records under it needs to be read on its own."""
    block: list[str] = []
    for line in lines:
        if line.startswith("#separator"):
            block = []
        if line.startswith("#") and not line.startswith("#close"):
            block.append(line)
    return block


# -- matching and recording what is followed -----------------------------------------------------

RELOAD = 300.0  # seconds between loads of the indicators while following


def match_batch(
    ctx: Ctx, live: LiveMatch, lines: list[str], collection: str | None, batch: str = ""
) -> MatchReport:
    """Match one batch and, with a ``collection``, record its sightings there (``batch``
    names the batch in their ids); a batch that matched something is written to the audit
    log as ``intel.logs.followed``."""
    require(ctx.who, Perm.INTEL_READ)
    report = live.match(lines, ctx.now())
    if collection is not None and report.hits:
        record(ctx, report, readable_collections(ctx, collection)[0], "/" + batch)
    if report.hits:
        ctx.record(
            "intel.logs.followed",
            live.name,
            lines=report.lines,
            matched=len(report.hits),
            records=sum(h.count for h in report.hits.values()),
            recorded=len(report.recorded),
        )
    return report


@dataclass(frozen=True)
class Following:
    """What a follow runs with: where it records, where it keeps its place, how it batches."""

    collection: str | None = None
    state: Path | None = None
    batching: Batching = field(default_factory=Batching)
    cache: Path | None = None  # the compiled indicators' cache folder (see .compiled)


def follow_and_match(
    node: Node,
    who: Principal,
    tail: Tail,
    live: LiveMatch,
    stop: threading.Event,
    how: Following,
    shown: Callable[[MatchReport], None],
) -> int:
    """Follow ``tail`` until ``stop`` (or a pipe's end), matching and recording each batch in
    its own transaction, then saving the position after it; returns the lines read."""
    loaded_at = time.monotonic()
    # A batch is named by where it starts and ends: in a file, by its device, inode and
    # offset; in a pipe, by this run and the batch's number.
    run, number = uuid.uuid4().hex, 0
    start = _place(tail.position())

    def flush(lines: list[str], position: Position | None) -> None:
        nonlocal loaded_at, start, number
        number += 1
        end = _place(position) if position is not None else f"{run}/{number}"
        with node.unit(who) as ctx:
            if time.monotonic() - loaded_at >= RELOAD:
                live.use(load_indicators(ctx, how.cache))
                loaded_at = time.monotonic()
            report = match_batch(ctx, live, lines, how.collection, f"{start}-{end}")
        if how.state is not None and position is not None:
            save_position(how.state, position)
        start = end
        matched.update(report.hits)
        shown(report)

    matched: set[str] = set()
    lines = follow(tail, flush, stop, how.batching)
    # As for a one-off match: detection against shared indicators is incident-response
    # capacity (CMM 2021 D1.2), on record once a follow by a CIRT member has read lines.
    if who.can(Perm.INTEL_WRITE) and lines:
        with node.unit(who) as ctx:
            record_evidence(
                ctx,
                "intel",
                "intel.logs.followed",
                f"Followed {live.name} ({live.fmt.value if live.fmt else 'empty'}): matched "
                f"{counted(lines, 'log line', grouped=True)} as written against "
                f"{counted(len(live.loaded), 'shared indicator', grouped=True)}: "
                f"{len(matched):,} matched",
                SUPPORTS,
                detail={
                    "lines": lines,
                    "log": live.name,
                    "format": live.fmt.value if live.fmt else None,
                    "indicators": len(live.loaded),
                    "matched": len(matched),
                },
            )
    return lines


def _place(position: Position | None) -> str:
    if position is None:
        return "top"
    return f"{position.device}:{position.inode}:{position.offset}"
