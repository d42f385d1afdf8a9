"""The audit log under concurrent writers: every append lands, in one unbroken chain."""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select

from seawall.core import audit
from seawall.core.node import Node
from seawall.db.models import AuditEntry

WRITERS = 4
EACH = 25


def test_concurrent_appends_never_collide_and_keep_the_chain(any_node: Node) -> None:
    failures: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def write(n: int) -> None:
        try:
            start.wait()
            for i in range(EACH):
                with any_node.unit(any_node.operator()) as ctx:
                    # A read before the append, as commands do: the race was between the
                    # head's read and the insert of the next entry.
                    ctx.db.scalar(select(func.count()).select_from(AuditEntry))
                    time.sleep(0.001)
                    ctx.record("test.appended", f"{n}/{i}")
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    with any_node.unit(any_node.operator()) as ctx:
        appended = ctx.db.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "test.appended")
        )
        verdict = audit.verify(ctx.db, any_node.audit_key)
    assert appended == WRITERS * EACH
    assert verdict.ok, verdict.problems
