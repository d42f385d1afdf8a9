"""The audit log: every state change, chained by a keyed hash so edits and deletions show.

Each entry's hash is HMAC-SHA256 over the previous entry's hash and the entry's own
canonical JSON, keyed with a key derived from the node secret. Someone who can write
to the database but does not hold the node secret cannot re-forge the chain after an
edit. The ``audit_head`` row names the last entry, so removing the newest entries
shows too; appends write that row first, which keeps the chain linear on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, select, update
from sqlalchemy.orm import Session

from seawall.core.access import Perm, Principal, require
from seawall.core.clock import as_utc
from seawall.core.paging import Page, PageRequest, Sort, sql_page
from seawall.db.models import AuditEntry, AuditHead

if TYPE_CHECKING:
    from seawall.core.context import Ctx

GENESIS = "0" * 64
HEAD_ID = 1


def audit_key(node_secret: bytes) -> bytes:
    """The HMAC key for the chain, derived from (never equal to) the node secret."""
    return hashlib.blake2b(node_secret, key=b"seawall.audit.v1", digest_size=32).digest()


def _entry_hash(key: bytes, prev_hash: str, fields: dict[str, Any]) -> str:
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hmac.new(key, (prev_hash + body).encode(), hashlib.sha256).hexdigest()


def _fields(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "nation": entry.nation,
        "action": entry.action,
        "target": entry.target,
        "source": entry.source,
        "detail": entry.detail,
    }


def append(
    db: Session,
    key: bytes,
    at: datetime,
    who: Principal,
    action: str,
    target: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction.

    The head row is written before it is read, so the append holds the write lock from the
    start: on SQLite a plain read runs outside any transaction (the driver opens one at the
    first write), and two appends that both read the head before either wrote would both
    take the next number. On PostgreSQL the update takes the row lock, as FOR UPDATE would.
    """
    db.execute(update(AuditHead).where(AuditHead.id == HEAD_ID).values(seq=AuditHead.seq))
    head = db.execute(
        select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=HEAD_ID, seq=0, hash=GENESIS)
        db.add(head)
    entry = AuditEntry(
        seq=head.seq + 1,
        at=at,
        actor=who.username,
        nation=who.nation,
        action=action,
        target=target,
        source=who.source,
        detail=detail or {},
        prev_hash=head.hash,
        hash="",
    )
    entry.hash = _entry_hash(key, entry.prev_hash, _fields(entry))
    db.add(entry)
    head.seq, head.hash = entry.seq, entry.hash
    db.flush()
    return entry


@dataclass(frozen=True)
class Problem:
    """One break in the chain."""

    seq: int
    kind: str
    message: str


@dataclass(frozen=True)
class Verification:
    """What ``verify`` found."""

    checked: int
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        """True when the chain is intact."""
        return not self.problems


def _ordered(db: Session, batch: int = 2000) -> Iterator[AuditEntry]:
    last = 0
    while True:
        rows = db.scalars(
            select(AuditEntry).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def hashes(db: Session, upto: int | None = None, batch: int = 5000) -> Iterator[tuple[int, str]]:
    """(seq, hash) of each entry in chain order, up to entry ``upto`` when given.

    Only two columns are read, so a walk of the whole log is cheap enough to run on every
    signed head a node publishes to its witnesses.
    """
    last = 0
    while True:
        stmt = select(AuditEntry.seq, AuditEntry.hash).where(AuditEntry.seq > last)
        if upto is not None:
            stmt = stmt.where(AuditEntry.seq <= upto)
        rows = db.execute(stmt.order_by(AuditEntry.seq).limit(batch)).all()
        if not rows:
            return
        for seq, digest in rows:
            yield int(seq), str(digest)
        last = int(rows[-1][0])


def verify(db: Session, key: bytes) -> Verification:
    """Walk the whole chain and name every edited, inserted or deleted entry."""
    problems: list[Problem] = []
    expected_seq, prev_hash, checked = 1, GENESIS, 0
    for entry in _ordered(db):
        checked += 1
        if entry.seq != expected_seq:
            missing = (
                f"entry {expected_seq}"
                if entry.seq == expected_seq + 1
                else f"entries {expected_seq}-{entry.seq - 1}"
            )
            problems.append(Problem(expected_seq, "deleted", f"{missing} deleted"))
        elif entry.prev_hash != prev_hash:
            problems.append(
                Problem(entry.seq, "relinked", f"entry {entry.seq} does not follow its predecessor")
            )
        if _entry_hash(key, entry.prev_hash, _fields(entry)) != entry.hash:
            problems.append(
                Problem(entry.seq, "edited", f"entry {entry.seq} ({entry.action}) was edited")
            )
        expected_seq, prev_hash = entry.seq + 1, entry.hash
    head = db.get(AuditHead, HEAD_ID)
    last_seq = expected_seq - 1
    if head is not None and head.seq > last_seq:
        span = (
            f"entry {head.seq}"
            if head.seq == last_seq + 1
            else f"entries {last_seq + 1}-{head.seq}"
        )
        problems.append(Problem(last_seq + 1, "deleted", f"{span} deleted from the end"))
    elif head is not None and head.seq == last_seq and head.hash != prev_hash:
        problems.append(Problem(last_seq, "edited", f"entry {last_seq} does not match the head"))
    return Verification(checked, tuple(problems))


@dataclass(frozen=True)
class AuditFilter:
    """Which entries to list."""

    nation: str | None = None
    actor: str | None = None
    action: str | None = None
    target: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100
    before_seq: int | None = None
    skip: str | None = None  # an action left out, as ``action`` matches (a dotted prefix)


def _actions(prefix: str) -> ColumnElement[bool]:
    """The entries whose action is ``prefix`` or below it (``auth`` is ``auth.login`` too)."""
    return (AuditEntry.action == prefix) | AuditEntry.action.startswith(
        prefix + ".", autoescape=True
    )


def _filtered(f: AuditFilter) -> Select[AuditEntry]:
    stmt = select(AuditEntry)
    if f.nation:
        stmt = stmt.where(AuditEntry.nation == f.nation)
    if f.actor:
        stmt = stmt.where(AuditEntry.actor == f.actor)
    if f.action:
        stmt = stmt.where(_actions(f.action))
    if f.skip:
        stmt = stmt.where(~_actions(f.skip))
    if f.target:
        stmt = stmt.where(AuditEntry.target == f.target)
    if f.since:
        stmt = stmt.where(AuditEntry.at >= as_utc(f.since, "since"))
    if f.until:
        stmt = stmt.where(AuditEntry.at < as_utc(f.until, "until"))
    if f.before_seq:
        stmt = stmt.where(AuditEntry.seq < f.before_seq)
    return stmt


def search(db: Session, f: AuditFilter) -> list[AuditEntry]:
    """Entries matching the filter, newest first. ``action`` matches a dotted prefix."""
    stmt = _filtered(f).order_by(AuditEntry.seq.desc()).limit(max(1, min(f.limit, 1000)))
    return list(db.scalars(stmt))


class Order(StrEnum):
    """The orders the log can be listed in."""

    NEWEST = "newest"
    OLDEST = "oldest"

    @property
    def sort(self) -> Sort:
        """The keyset order: by entry number, which follows the chain."""
        return Sort(self.value, (int,), descending=self is Order.NEWEST)


NEWEST = Order.NEWEST.sort


def page(ctx: Ctx, f: AuditFilter, request: PageRequest, sort: Sort = NEWEST) -> Page[AuditEntry]:
    """One page of the caller's nation's entries matching the filter, in chain order or newest
    first, and how many match in all (one COUNT over the same WHERE clause).

    Every edge reads the log through here: the caller needs ``audit.read``, and the filter's
    nation is always the caller's own, whatever the edge passed."""
    require(ctx.who, Perm.AUDIT_READ)
    mine = replace(f, nation=ctx.who.nation)
    found = sql_page(ctx.db, _filtered(mine), sort, [AuditEntry.seq], request, key_of=_key)
    return found.map(lambda row: row[0])


def _key(row: Any) -> tuple[int]:
    return (int(row[0].seq),)


def initialised_at(db: Session) -> datetime | None:
    """When this node was set up (its ``node.initialised`` entry), or None."""
    stmt = (
        select(AuditEntry.at)
        .where(AuditEntry.action == "node.initialised")
        .order_by(AuditEntry.seq)
        .limit(1)
    )
    return db.scalar(stmt)
