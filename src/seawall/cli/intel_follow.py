"""``seawall intel match --follow``: a growing log matched as it is written, until stopped."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.text import Text

from seawall.catalogs import counted
from seawall.cli.output import err_console, fmt_time
from seawall.core.node import Node
from seawall.errors import InvalidInput
from seawall.intel.matching.following import FileTail, PipeTail, Tail, load_position
from seawall.intel.matching.live import Following, LiveMatch, follow_and_match
from seawall.intel.matching.loading import load_indicators
from seawall.intel.matching.logs import LogFormat
from seawall.intel.matching.sightings import MatchReport
from seawall.intel.matching.validity import Validity
from seawall.intel.search import readable_collections


@contextmanager
def _stopped_by_signals() -> Iterator[threading.Event]:
    """An event SIGTERM and Ctrl-C set (instead of stopping at once), so the batch being read
    is matched and recorded, and the position saved, before the command ends."""
    stop = threading.Event()
    caught = (signal.SIGTERM, signal.SIGINT)
    before = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in caught}
    try:
        yield stop
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def _say(message: str) -> None:
    err_console.print(Text(message), highlight=False, soft_wrap=True)


def _shown(as_json: bool) -> Any:
    def show(report: MatchReport) -> None:
        if as_json:  # one line a batch (JSON lines), for a script reading as it comes
            print(json.dumps(report.as_json()), flush=True)
            return
        for hits in report.ranked():
            hosts = ", ".join(hits.sources) or "-"
            print(
                f"{fmt_time(hits.last_seen)}  {', '.join(hits.values)}  "
                f"{counted(hits.count, 'record', grouped=True)}  hosts: {hosts}  "
                f"{hits.indicator.tlp.label}  "
                f"{hits.indicator.name}"
                + (f"  (recorded in {report.collection})" if report.collection else ""),
                flush=True,
            )

    return show


def follow_logs(
    node: Node,
    log: Path,
    fmt: LogFormat | None,
    how: Following,
    validity: Validity,
    as_json: bool,
) -> None:
    """Follow one log (or standard input) until SIGTERM, Ctrl-C or the pipe's end."""
    if str(log) == "-" and how.state is not None:
        raise InvalidInput("--state keeps a file's place; standard input has none to keep")
    who = node.operator()
    with node.unit(who) as ctx:
        loaded = load_indicators(ctx, how.cache)
        if how.collection is not None:
            readable_collections(ctx, how.collection)  # refused now, not at the first match
    tail: Tail
    if str(log) == "-":
        tail = PipeTail(sys.stdin.buffer)
    else:
        tail = FileTail.resume(log, load_position(how.state) if how.state else None)
    for note in tail.notes:
        _say(note)
    name = "stdin" if str(log) == "-" else str(log)
    path = None if str(log) == "-" else log
    live = LiveMatch(loaded, name, fmt, path, validity, tail.header)
    with _stopped_by_signals() as stop:
        _say(
            f"Following {name} against {counted(len(loaded), 'indicator', grouped=True)} "
            f"(batches of {counted(how.batching.records, 'line', grouped=True)} or "
            f"{how.batching.seconds:g} s); "
            "Ctrl-C or SIGTERM to stop"
        )
        lines = follow_and_match(node, who, tail, live, stop, how, _shown(as_json))
    _say(f"Read {counted(lines, 'line', grouped=True)} from {name}")
