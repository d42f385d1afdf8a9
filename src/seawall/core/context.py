"""The unit of work every core call runs in: a session, a principal, a clock and ids."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from seawall.core import audit
from seawall.core.access import Principal
from seawall.core.clock import Clock, IdFactory


@dataclass
class Ctx:
    """Everything a core call needs; built by :meth:`seawall.core.node.Node.unit`."""

    db: Session
    who: Principal
    clock: Clock
    ids: IdFactory
    audit_key: bytes

    def now(self) -> datetime:
        """The injected clock's time."""
        return self.clock.now()

    def record(self, action: str, target: str = "", **detail: Any) -> None:
        """Append an audit entry in this unit's transaction."""
        audit.append(self.db, self.audit_key, self.now(), self.who, action, target, detail)
