"""Repository locks: shared for backups, exclusive for prune and repair, with stale detection.

A lock is sealed JSON at ``locks/<id>`` on every reachable site::

    {"version": 1, "id": "...", "exclusive": false, "hostname": "...", "pid": 123,
     "time": "<ISO 8601>", "refreshed": "<ISO 8601>"}

A holder refreshes its lock every few minutes. A lock is stale when it was not
refreshed for :data:`STALE_AFTER`, or when it names this host and a process that
no longer exists.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

STALE_AFTER = timedelta(minutes=30)
REFRESH_EVERY = timedelta(minutes=5)

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
