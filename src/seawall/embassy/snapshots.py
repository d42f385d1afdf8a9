"""Snapshots, their trees of file nodes, and the keep policy of ``forget``.

A snapshot (``snapshots/<id>``) and its tree (``trees/<id>``, same id) are sealed
JSON. The tree lists nodes in path order; paths are ``/``-separated and relative
(the source's absolute path without its leading ``/``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import TypeAdapter, ValidationError

from seawall.embassy.errors import IntegrityError
from seawall.errors import InvalidInput

NodeType = Literal["file", "dir", "symlink"]


@dataclass(frozen=True)
class Node:
    """One file, directory or symlink in a snapshot."""

    path: str
    type: NodeType
    mode: int
    mtime_ns: int
    size: int = 0
    target: str = ""
    chunks: tuple[str, ...] = ()
    inode: int = 0
    ctime_ns: int = 0
    # Owner as numbers and as names (-1 and "" when not recorded, as in trees written before
    # owners were): a restore as root gives the names' ids where they exist, else the numbers.
    uid: int = -1
    gid: int = -1
    user: str = ""
    group: str = ""
    # A file that is a hard link to a file stored before it in the same snapshot: its path.
    # The node keeps its own chunks too, so it restores alone when the other is left out.
    link_of: str = ""
    # Extended attributes (POSIX ACLs among them): name and base64 value, in name order.
    xattrs: tuple[tuple[str, str], ...] = ()

    def to_doc(self) -> dict[str, Any]:
        """JSON form, omitting empty fields."""
        doc: dict[str, Any] = {
            "path": self.path,
            "type": self.type,
            "mode": self.mode,
            "mtime_ns": self.mtime_ns,
        }
        if self.uid >= 0:
            doc.update(uid=self.uid, gid=self.gid, user=self.user, group=self.group)
        if self.xattrs:
            doc["xattrs"] = dict(self.xattrs)
        if self.type == "file":
            doc.update(size=self.size, chunks=list(self.chunks), inode=self.inode)
            doc["ctime_ns"] = self.ctime_ns
            if self.link_of:
                doc["link_of"] = self.link_of
        if self.type == "symlink":
            doc["target"] = self.target
        return doc

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Node:
        """Parse the JSON form."""
        if doc["type"] not in ("file", "dir", "symlink"):
            raise ValueError("unknown node type")
        return cls(
            path=str(doc["path"]),
            type=doc["type"],
            mode=int(doc["mode"]),
            mtime_ns=int(doc["mtime_ns"]),
            size=int(doc.get("size", 0)),
            target=str(doc.get("target", "")),
            chunks=tuple(str(c) for c in doc.get("chunks", ())),
            inode=int(doc.get("inode", 0)),
            ctime_ns=int(doc.get("ctime_ns", 0)),
            uid=int(doc.get("uid", -1)),
            gid=int(doc.get("gid", -1)),
            user=str(doc.get("user", "")),
            group=str(doc.get("group", "")),
            link_of=str(doc.get("link_of", "")),
            xattrs=tuple(sorted((str(k), str(v)) for k, v in doc.get("xattrs", {}).items())),
        )


@dataclass(frozen=True)
class Snapshot:
    """A point-in-time backup: what was saved, when, from where."""

    id: str
    time: datetime
    hostname: str
    paths: tuple[str, ...]
    tags: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    degraded: bool = False
    files: int = 0
    size: int = 0
    new_bytes: int = 0
    parent: str | None = None
    # The id of the snapshot this one is a copy of (that one's own original, if it was a copy).
    original: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def short_id(self) -> str:
        """First 8 hex digits, as shown to people."""
        return self.id[:8]

    def to_json(self) -> bytes:
        """Sealed-plaintext JSON."""
        doc = asdict(self)
        doc["version"] = 1
        doc["time"] = self.time.isoformat()
        doc["paths"] = list(self.paths)
        doc["tags"] = list(self.tags)
        doc["excludes"] = list(self.excludes)
        if self.original is None:
            del doc["original"]  # only a copy has one
        return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes, name: str) -> Snapshot:
        """Parse the JSON form; IntegrityError unless every field has its declared type."""
        try:
            _VERSION_DOC.validate_json(data, strict=True)
            snap = _SNAPSHOT_DOC.validate_json(data, strict=True)
        except ValidationError:
            raise IntegrityError(f"{name} is not a valid snapshot") from None
        if (offset := snap.time.utcoffset()) is not None:
            # The same tzinfo fromisoformat gives (timezone.utc for +00:00), not pydantic's own.
            snap = replace(snap, time=snap.time.replace(tzinfo=timezone(offset)))
        return snap

    @property
    def origin(self) -> str:
        """The id of the snapshot this one was first copied from, or its own."""
        return self.original or self.id

    def mark(self, *, degraded: bool) -> Snapshot:
        """A copy with the degraded flag set or cleared."""
        return replace(self, degraded=degraded)


@dataclass(frozen=True)
class _Version:
    """The version field of a snapshot document, read before the rest (format §9)."""

    version: Literal[1]


# Built once: a snapshot is read on every listing, restore and forget. Strict JSON mode: a
# number is never a string, a string never a list; unknown fields are ignored, as the format
# says readers must.
_VERSION_DOC = TypeAdapter(_Version)
_SNAPSHOT_DOC = TypeAdapter(Snapshot)


def dump_tree(nodes: Iterable[Node]) -> bytes:
    """Sealed-plaintext JSON of a tree."""
    doc = {"version": 1, "nodes": [n.to_doc() for n in nodes]}
    return json.dumps(doc, separators=(",", ":")).encode()


def load_tree(data: bytes, name: str) -> list[Node]:
    """Parse a tree."""
    try:
        doc = json.loads(data)
        if doc.get("version") != 1:
            raise ValueError("version")
        return [Node.from_doc(n) for n in doc["nodes"]]
    except (ValueError, KeyError, TypeError):
        raise IntegrityError(f"{name} is not a valid tree") from None


def is_under(path: str, prefix: str) -> bool:
    """True when ``path`` is ``prefix`` or inside it (an empty prefix holds everything)."""
    return not prefix or path == prefix or path.startswith(prefix + "/")


@dataclass(frozen=True)
class KeepPolicy:
    """How many snapshots ``forget`` keeps per period (restic's semantics)."""

    last: int = 0
    hourly: int = 0
    daily: int = 0
    weekly: int = 0
    monthly: int = 0
    yearly: int = 0

    @property
    def empty(self) -> bool:
        """True when the policy would keep nothing."""
        return not any(asdict(self).values())


def _bucket(kind: str, when: datetime) -> tuple[int, ...]:
    if kind == "hourly":
        return (when.year, when.month, when.day, when.hour)
    if kind == "daily":
        return (when.year, when.month, when.day)
    if kind == "weekly":
        year, week, _ = when.isocalendar()
        return (year, week)
    if kind == "monthly":
        return (when.year, when.month)
    return (when.year,)


# What ``forget`` may group snapshots by: the fields a snapshot records about its source.
GROUP_FIELDS = ("host", "paths", "tags")
# restic's default: a directory and a database dump backed up from one host are two groups,
# so a keep policy never trades one for the other.
DEFAULT_GROUP_BY = ("host", "paths")

GroupKey = dict[str, str | tuple[str, ...]]


def parse_group_by(text: str) -> tuple[str, ...]:
    """``host,paths`` as a tuple of fields in canonical order; empty text groups nothing."""
    fields = {part.strip() for part in text.split(",") if part.strip()}
    unknown = sorted(fields - set(GROUP_FIELDS))
    if unknown:
        raise InvalidInput(
            f"--group-by {','.join(unknown)!r} is not a snapshot field; use a comma-separated "
            f"list of {', '.join(GROUP_FIELDS)}, or '' for no grouping"
        )
    return tuple(f for f in GROUP_FIELDS if f in fields)


def group_key(snapshot: Snapshot, group_by: Sequence[str]) -> GroupKey:
    """The values of ``group_by`` for ``snapshot`` (paths and tags sorted, as restic does)."""
    key: GroupKey = {}
    for name in GROUP_FIELDS:
        if name in group_by:
            if name == "host":
                key[name] = snapshot.hostname
            else:
                key[name] = tuple(sorted(getattr(snapshot, name)))
    return key


@dataclass(frozen=True)
class SnapshotGroup:
    """Snapshots that share one group key, oldest first."""

    key: GroupKey
    snapshots: tuple[Snapshot, ...]


def group_snapshots(snapshots: Iterable[Snapshot], group_by: Sequence[str]) -> list[SnapshotGroup]:
    """Snapshots grouped by the fields ``group_by`` names, groups in key order."""
    groups: dict[str, tuple[GroupKey, list[Snapshot]]] = {}
    for snap in sorted(snapshots, key=lambda s: (s.time, s.id)):
        key = group_key(snap, group_by)
        groups.setdefault(json.dumps(key, sort_keys=True), (key, []))[1].append(snap)
    return [SnapshotGroup(key, tuple(snaps)) for _, (key, snaps) in sorted(groups.items())]


def keep_reasons(snapshots: Sequence[Snapshot], policy: KeepPolicy) -> dict[str, list[str]]:
    """Ids to keep, each with the rules that keep it (``daily snapshot``, as restic says).

    Each rule keeps the newest snapshot of each of its last N periods.
    """
    ordered = sorted(snapshots, key=lambda s: s.time, reverse=True)
    reasons: dict[str, list[str]] = {s.id: ["last snapshot"] for s in ordered[: policy.last]}
    for kind in ("hourly", "daily", "weekly", "monthly", "yearly"):
        budget: int = getattr(policy, kind)
        last: tuple[int, ...] | None = None
        for snap in ordered:
            if budget <= 0:
                break
            bucket = _bucket(kind, snap.time)
            if bucket != last:
                reasons.setdefault(snap.id, []).append(f"{kind} snapshot")
                budget -= 1
                last = bucket
    return reasons


def select_kept(snapshots: Sequence[Snapshot], policy: KeepPolicy) -> set[str]:
    """Ids to keep: the newest snapshot of each of the last N periods of each kind."""
    return set(keep_reasons(snapshots, policy))


@dataclass(frozen=True)
class DiffEntry:
    """One difference between two snapshots: ``+`` added, ``-`` removed, ``M`` modified."""

    change: Literal["+", "-", "M"]
    path: str


def diff_trees(old: Sequence[Node], new: Sequence[Node]) -> list[DiffEntry]:
    """What changed from the tree ``old`` to the tree ``new``, in path order."""
    a = {n.path: n for n in old}
    b = {n.path: n for n in new}
    out: list[DiffEntry] = []
    for path in sorted(a.keys() | b.keys()):
        if path not in b:
            out.append(DiffEntry("-", path))
        elif path not in a:
            out.append(DiffEntry("+", path))
        else:
            x, y = a[path], b[path]
            if (x.type, x.mode, x.size, x.target, x.chunks) != (
                y.type,
                y.mode,
                y.size,
                y.target,
                y.chunks,
            ) or (x.type != "dir" and x.mtime_ns != y.mtime_ns):
                out.append(DiffEntry("M", path))
    return out
