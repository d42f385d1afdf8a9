"""Repository locks: shared for backups, exclusive for prune and repair, with stale detection.

A lock is sealed JSON at ``locks/<id>`` on every reachable site::

    {"version": 1, "id": "...", "exclusive": false, "hostname": "...", "pid": 123,
     "time": "<ISO 8601>", "refreshed": "<ISO 8601>"}

A holder refreshes its lock every few minutes. A lock is stale when it was not
refreshed for :data:`STALE_AFTER`, or when it names this host and a process that
no longer exists; an exclusive locker deletes stale locks and goes ahead.

So a holder must stop writing before others may take its lock as stale (as restic
does): a lock that went :data:`GIVE_UP_AFTER` without a refresh that reached a site,
or that another process removed, is lost for good, and the run raises
:class:`LockLost` at its next safe point (before a pack, an index file, a snapshot
or a deletion is written).
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from seawall.embassy.errors import (
    IO_ERRORS,
    SITE_ERRORS,
    IntegrityError,
    LockLost,
    RepositoryLocked,
    TooFewSites,
)
from seawall.embassy.store import RepositoryStore
from seawall.errors import SeawallError

STALE_AFTER = timedelta(minutes=30)
REFRESH_EVERY = timedelta(minutes=5)
# A holder whose lock went this long without a refresh stops writing: others take it as
# stale at STALE_AFTER, and the margin (one and a half refreshes, as restic leaves) covers
# a refresh under way, clocks that differ a little, and the way to the next safe point.
GIVE_UP_AFTER = STALE_AFTER - REFRESH_EVERY * 3 / 2

# Locks this process released but could not delete everywhere (a site was down): stale by
# definition, although their pid is alive.
RELEASED: set[str] = set()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class Lock:
    """One process's claim on the repository."""

    id: str
    exclusive: bool
    hostname: str
    pid: int
    time: datetime
    refreshed: datetime

    @property
    def name(self) -> str:
        """Object name on a site."""
        return f"locks/{self.id}"

    def to_json(self) -> bytes:
        """Sealed-plaintext JSON."""
        doc = {
            "version": 1,
            "id": self.id,
            "exclusive": self.exclusive,
            "hostname": self.hostname,
            "pid": self.pid,
            "time": self.time.isoformat(),
            "refreshed": self.refreshed.isoformat(),
        }
        return json.dumps(doc, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Lock:
        """Parse; ValueError when malformed."""
        try:
            doc = json.loads(data)
            return cls(
                id=str(doc["id"]),
                exclusive=bool(doc["exclusive"]),
                hostname=str(doc["hostname"]),
                pid=int(doc["pid"]),
                time=datetime.fromisoformat(doc["time"]),
                refreshed=datetime.fromisoformat(doc["refreshed"]),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError("malformed lock") from exc

    def refreshed_at(self, now: datetime) -> Lock:
        """A copy refreshed at ``now``."""
        return replace(self, refreshed=now)

    def is_stale(self, now: datetime) -> bool:
        """True when the holder is gone or silent for too long."""
        if self.id in RELEASED or now - self.refreshed > STALE_AFTER:
            return True
        return self.hostname == socket.gethostname() and not _pid_alive(self.pid)

    def conflicts_with(self, other: Lock) -> bool:
        """Two live locks conflict when either is exclusive."""
        return self.id != other.id and (self.exclusive or other.exclusive)

    def describe(self) -> str:
        """One line naming the holder (no secrets)."""
        kind = "exclusive" if self.exclusive else "shared"
        return f"{kind} lock by pid {self.pid} on {self.hostname} since {self.time:%Y-%m-%d %H:%M}Z"


def new_lock(*, exclusive: bool, now: datetime) -> Lock:
    """A lock for this process."""
    return Lock(os.urandom(8).hex(), exclusive, socket.gethostname(), os.getpid(), now, now)


def _minutes(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 60:g}"


class HeldLock:
    """A lock this process holds: refreshed in the background, checked at safe points.

    ``holders`` are the sites the last write reached. The lock is lost, for good, when every
    one of them that answers no longer holds it (another process took it as stale and
    removed it), or when it went :data:`GIVE_UP_AFTER` without a refresh reaching a site. A
    lost lock is never written again: whoever removed it may be pruning.
    """

    def __init__(self, repo: RepositoryStore, lock: Lock) -> None:
        self.repo = repo
        self.lock = lock
        self.holders: set[int] = set()
        self.lost = ""
        self._mutex = threading.Lock()

    def write(self, lock: Lock) -> list[SeawallError]:
        """Write ``lock`` to every reachable site; the sites' errors (none took it if all)."""
        data = self.repo.seal_meta(lock.name, lock.to_json())
        up = self.repo.reachable(fresh=True)
        jobs = [(i, self.repo.io.submit(site.put, lock.name, data)) for i, site in up]
        written: set[int] = set()
        errors: list[SeawallError] = []
        for i, job in jobs:
            try:
                job.result()
                written.add(i)
            except SITE_ERRORS as exc:
                errors.append(exc)
        if written:
            self.lock, self.holders = lock, written
        elif not errors:
            errors.append(TooFewSites("no site is reachable to hold the lock; check the sites"))
        return errors

    def refresh(self) -> bool:
        """Write the lock again with the time now; False when it is lost or no site took it."""
        with self._mutex:
            now = self.repo.clock.now()
            self._expire(now)
            if not self.lost and self._removed():
                self.lost = "another process removed it, taking it as stale"
            if self.lost:
                return False
            before = self.lock
            self.write(self.lock.refreshed_at(now))
            return self.lock is not before

    def _removed(self) -> bool:
        answered = False
        for i in self.holders:
            site = self.repo.sites[i]
            if site is None:
                continue
            try:
                if site.stat(self.lock.name) is not None:
                    return False
            except SITE_ERRORS:
                continue  # a site that does not answer says nothing either way
            answered = True
        return answered

    def _expire(self, now: datetime) -> None:
        if not self.lost and now - self.lock.refreshed > GIVE_UP_AFTER:
            self.lost = (
                f"not refreshed for {_minutes(now - self.lock.refreshed)} minutes; others "
                f"take a lock as stale after {_minutes(STALE_AFTER)}"
            )

    def check(self) -> None:
        """A safe point: raise :class:`LockLost` when the lock is lost or past its deadline."""
        self._expire(self.repo.clock.now())
        if self.lost:
            raise LockLost(
                f"the repository lock was lost ({self.lost}): stopped before writing more, "
                "and the repository stays readable; run the command again"
            )

    def confirm(self) -> None:
        """Refresh now, then check: before publishing a snapshot or deleting data."""
        self.refresh()
        self.check()


class LockStore(RepositoryStore, Protocol):
    """A store that keeps the locks it holds, so that its writes can check them."""

    holding: list[HeldLock]


@contextmanager
def hold(repo: LockStore, *, exclusive: bool) -> Iterator[HeldLock]:
    """Hold a shared or exclusive lock, refreshed every :data:`REFRESH_EVERY` meanwhile.

    RepositoryLocked when another live lock conflicts. The repository checks the lock at
    its safe points (:meth:`RepositoryStore.check_lock`) while it is held.
    """
    mine = new_lock(exclusive=exclusive, now=repo.clock.now())
    _check_locks(repo, mine, write_stale=exclusive)
    held = HeldLock(repo, mine)
    errors = held.write(mine)
    if not held.holders:
        raise errors[0]
    try:
        # Re-read after writing: two racing holders both see each other and back off.
        _check_locks(repo, mine, write_stale=False)
    except RepositoryLocked:
        _release(repo, mine)
        raise
    stop = threading.Event()

    def refresh() -> None:
        while not stop.wait(REFRESH_EVERY.total_seconds()):
            if not held.refresh() and held.lost:
                return  # lost for good; the run stops at its next safe point

    refresher = threading.Thread(target=refresh, name="embassy-lock", daemon=True)
    refresher.start()
    repo.holding.append(held)
    try:
        yield held
    finally:
        repo.holding.remove(held)
        stop.set()
        refresher.join()
        _release(repo, held.lock)


def _read_locks(repo: RepositoryStore) -> list[Lock]:
    return list(_read_lock_objects(repo)[0].values())


def _read_lock_objects(repo: RepositoryStore) -> tuple[dict[str, Lock], set[str]]:
    """The readable locks by object name, and the names of lock objects that do not open."""
    locks: dict[str, Lock] = {}
    unreadable: set[str] = set()
    for name in sorted(repo.names("locks/")):
        try:
            lock = Lock.from_json(repo.get_meta(name))
        except (*IO_ERRORS, IntegrityError, ValueError):
            unreadable.add(name)
            continue
        if lock.name == name:
            locks[name] = lock
        else:
            unreadable.add(name)  # sealed under its own name, so only a bug puts it elsewhere
    return locks, unreadable


@dataclass(frozen=True)
class UnlockReport:
    """Locks ``remove_locks`` (``unlock``) removed and live ones it left, oldest first."""

    removed: tuple[Lock, ...]
    kept: tuple[Lock, ...]
    # Objects under locks/ that do not open as locks (they block nothing); removed with all.
    unreadable: int = 0
    remove_all: bool = False


def remove_locks(repo: RepositoryStore, *, remove_all: bool = False) -> UnlockReport:
    """Remove stale locks (see :meth:`Lock.is_stale`), or with ``remove_all`` every lock.

    Removing a live lock stops its holder at its next safe point (:class:`LockLost`), so
    ``remove_all`` is for a run known to be gone whose lock is not stale yet. Locks are
    deleted from every reachable site; a site that is down keeps its copy.
    """
    now = repo.clock.now()
    locks, unreadable = _read_lock_objects(repo)
    ordered = sorted(locks.values(), key=lambda lock: (lock.time, lock.id))
    doomed = [lock for lock in ordered if remove_all or lock.is_stale(now)]
    for lock in doomed:
        _drop(repo, lock.name, fresh=True)
    if remove_all:
        for name in sorted(unreadable):
            _drop(repo, name, fresh=True)
    kept = tuple(lock for lock in ordered if lock not in doomed)
    return UnlockReport(
        tuple(doomed), kept, len(unreadable) if remove_all else 0, remove_all=remove_all
    )


def _check_locks(repo: RepositoryStore, mine: Lock, *, write_stale: bool) -> None:
    now = repo.clock.now()
    for other in _read_locks(repo):
        if other.id == mine.id:
            continue
        if other.is_stale(now):
            if write_stale:
                _drop(repo, other.name)
            continue
        if mine.conflicts_with(other):
            unlock = f"seawall embassy unlock --repo {repo.config.name}"
            raise RepositoryLocked(
                f"repository is locked: {other.describe()}, refreshed "
                f"{_minutes(max(now - other.refreshed, timedelta(0)))} minutes ago; wait for "
                f"that run to end. If it is gone (killed, or its node down), `{unlock}` "
                f"removes its lock once {_minutes(STALE_AFTER)} minutes pass without a "
                f"refresh, and `{unlock} --remove-all` at once"
            )


def _drop(repo: RepositoryStore, name: str, *, fresh: bool = False) -> None:
    for _, site in repo.reachable(fresh=fresh):
        with suppress(*SITE_ERRORS):
            site.delete(name)


def _release(repo: RepositoryStore, lock: Lock) -> None:
    RELEASED.add(lock.id)
    # Probed afresh: a site that failed during the run may hold the lock again.
    _drop(repo, lock.name, fresh=True)
