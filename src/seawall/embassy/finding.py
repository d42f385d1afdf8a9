"""``find``: the entries of the snapshots whose name or path matches a glob pattern.

Restic's ``find``: every snapshot's tree is read (or those named) and each file, directory
and symlink matched against the patterns (:mod:`.patterns`), optionally only under one path
and only with a modification time in a range.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING

from seawall.embassy.patterns import PathPattern
from seawall.embassy.progress import Progress, ProgressFn, ignore_progress
from seawall.embassy.snapshots import Node, Snapshot, is_under
from seawall.errors import InvalidInput

if TYPE_CHECKING:
    from seawall.embassy.store import RepositoryStore


@dataclass(frozen=True)
class Match:
    """One entry that matched, and the snapshot it is in."""

    snapshot: Snapshot
    node: Node

    @property
    def mtime(self) -> datetime:
        """The entry's modification time (UTC)."""
        return datetime.fromtimestamp(self.node.mtime_ns / 1e9, UTC)


def select_snapshots(repo: RepositoryStore, refs: Sequence[str]) -> list[Snapshot]:
    """The snapshots ``refs`` name (ids, unique prefixes, ``latest``), or all; oldest first.

    SnapshotMissing names the first ref that matches none.
    """
    if not refs:
        return repo.snapshots()
    chosen = {snap.id: snap for snap in (repo.find_snapshot(ref) for ref in refs)}
    return sorted(chosen.values(), key=lambda s: (s.time, s.id))


def find_nodes(
    repo: RepositoryStore,
    patterns: Sequence[PathPattern],
    *,
    snapshots: Sequence[str] = (),
    prefix: str = "",
    newest: datetime | None = None,
    oldest: datetime | None = None,
    progress: ProgressFn | None = None,
) -> list[Match]:
    """Entries matching any of ``patterns``, by snapshot (oldest first), then path.

    ``prefix`` keeps those at or under that path; ``oldest`` and ``newest`` those modified
    in that range (both ends included).
    """
    report = progress or ignore_progress
    under = prefix.strip("/")
    low = _ns(oldest) if oldest is not None else None
    high = _ns(newest) if newest is not None else None
    found: list[Match] = []
    with repo.lock(exclusive=False):
        chosen = select_snapshots(repo, snapshots)
        total = sum(s.size for s in chosen)
        done = searched = 0
        for snap in chosen:
            for node in repo.tree(snap):
                searched += 1
                if not is_under(node.path, under):
                    continue
                if (low is not None and node.mtime_ns < low) or (
                    high is not None and node.mtime_ns > high
                ):
                    continue
                if any(p.matches(node.path) for p in patterns):
                    found.append(Match(snap, node))
            done += snap.size
            report(Progress("find", files=searched, bytes=done, total_bytes=total))
    return found


def _ns(when: datetime) -> int:
    delta = when - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


def parse_when(text: str, option: str) -> datetime:
    """A date or date-time given to ``option`` (UTC unless it carries an offset).

    A date alone is the start of that day for ``--oldest`` and its end for ``--newest``, so
    ``--newest 2026-01-31`` takes in the whole of that day.
    """
    plain = text.strip()
    try:
        day = date.fromisoformat(plain)
    except ValueError:
        pass
    else:
        if option == "--newest":
            return datetime.combine(day, time.max, UTC)
        return datetime.combine(day, time.min, UTC)
    try:
        when = datetime.fromisoformat(plain)
    except ValueError:
        raise InvalidInput(
            f"{option} {text!r} is not a date or time; give e.g. 2026-01-31 or '2026-01-31 18:00'"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)
