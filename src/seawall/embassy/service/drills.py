"""Restore drills: restore the latest snapshot somewhere disposable, verify it, time it.

A drill is a restore (recorded like any other, ``drill: true``, evidence for CMM D1.2) of the
newest snapshot into a fresh directory under the node's restore directory. Every chunk is
authenticated as the restore writes it; the drill then checks that each file, directory and
link of the snapshot is there with its size. The wall time from opening the repository to the
last byte written is the recovery time measured, and the drill records it as evidence (pass
or fail against the RTO target) before the directory is deleted.

A recovery (:func:`recover`) is the same for real: the restored tree is kept, and the time
measured runs from when recovery began (given; by default, when the recovering node was set
up) to the last byte, which is the recovery time a storm actually cost.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from seawall.core.evidence import record_evidence
from seawall.db.models.embassy import EmbassyRepo
from seawall.embassy import registry
from seawall.embassy.repository import Repository
from seawall.embassy.restore import RestoreReport, restore_snapshot
from seawall.embassy.service.base import Access, authorise, run
from seawall.embassy.snapshots import Node, Snapshot
from seawall.errors import InvalidInput, SeawallError

# The CMM factor a timed restore drill supports: incident response and crisis management.
SUPPORTS = ["cmm:D1.2"]


@dataclass(frozen=True)
class Drill:
    """How a drill went: what it restored, how long it took, and whether that was in time."""

    snapshot: str
    files: int
    bytes: int
    seconds: float
    rto_seconds: float | None
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """Restored whole, and within the RTO target when there is one."""
        in_time = self.rto_seconds is None or self.seconds <= self.rto_seconds
        return in_time and not self.problems

    def summary(self) -> str:
        """One line for the run history and the evidence."""
        target = "" if self.rto_seconds is None else f" against an RTO of {self.rto_seconds:g} s"
        verdict = "passed" if self.passed else "failed"
        problems = f"; {len(self.problems)} problems" if self.problems else ""
        return (
            f"restore drill of {self.snapshot[:8]} {verdict}: {self.files} files, "
            f"{self.bytes} bytes in {self.seconds:.1f} s{target}{problems}"
        )


def compare(nodes: list[Node], root: Path) -> list[str]:
    """What of the snapshot's ``nodes`` the restored tree under ``root`` lacks or has wrong."""
    problems = []
    for node in nodes:
        path = root / node.path
        if node.type == "symlink":
            ok = path.is_symlink()
        elif node.type == "dir":
            ok = path.is_dir() and not path.is_symlink()
        else:
            ok = path.is_file() and not path.is_symlink() and path.stat().st_size == node.size
        if not ok:
            problems.append(f"{node.path}: not restored as the snapshot holds it")
    return problems


def drill(
    access: Access,
    scratch: Path,
    *,
    rto_seconds: float | None = None,
    timer: Callable[[], float] = time.monotonic,
) -> Drill:
    """Restore the latest snapshot under ``scratch``, verify and time it, record the restore
    run and the drill's evidence, and delete what it restored."""
    row = authorise(access)
    scratch.mkdir(mode=0o700, parents=True, exist_ok=True)
    into = Path(tempfile.mkdtemp(prefix="drill-", dir=scratch))
    started = timer()
    try:
        return _timed_restore(
            access, row, "latest", into, scratch, rto_seconds, lambda: timer() - started, True
        )
    finally:
        shutil.rmtree(into, ignore_errors=True)


def recover(
    access: Access,
    target: Path,
    *,
    since: datetime,
    snapshot: str = "latest",
    rto_seconds: float | None = None,
) -> Drill:
    """A real recovery: restore ``snapshot`` into ``target`` (kept), verify it against the
    snapshot, and record the recovery time from ``since`` (when recovery began, e.g. when
    the new node was set up) to the last byte as drill evidence, against ``rto_seconds``."""
    row = authorise(access)
    if since > access.clock.now():
        raise InvalidInput(f"recovery began {since:%Y-%m-%d %H:%M} UTC, which is still to come")
    return _timed_restore(
        access,
        row,
        snapshot,
        target,
        None,
        rto_seconds,
        lambda: (access.clock.now() - since).total_seconds(),
        False,
        {"recovery": True, "since": since.isoformat()},
    )


def _timed_restore(
    access: Access,
    row: EmbassyRepo | None,
    snapshot: str,
    into: Path,
    within: Path | None,
    rto_seconds: float | None,
    elapsed: Callable[[], float],
    drill: bool,
    extra: dict[str, Any] | None = None,
) -> Drill:
    """Restore, compare with the snapshot, and record the restore run and the drill;
    ``row`` is what :func:`authorise` returned for ``access``."""
    began = access.clock.now()
    found: dict[str, Any] = {}

    def work(repo: Repository) -> RestoreReport:
        snap: Snapshot = repo.find_snapshot(snapshot)
        found["snapshot"] = snap.id
        report = restore_snapshot(repo, snap.id, into, within=within)
        found["seconds"] = elapsed()
        found["problems"] = compare(repo.tree(snap), into)
        return report

    marked = {"drill": True} if drill else {"recovery": True}
    asked: dict[str, Any] = {"snapshot": snapshot, "target": str(into), **marked}
    try:
        report = run(
            access,
            row,
            "restore",
            work,
            lambda r: (
                f"{found['snapshot'][:8]} restored: {r.files} files, {r.bytes} bytes",
                {
                    **asked,
                    "snapshot": found["snapshot"],
                    "files": r.files,
                    "bytes": r.bytes,
                    "problems": found["problems"],
                },
            ),
            asked=asked,
        )
    except SeawallError as exc:
        result = Drill(found.get("snapshot", ""), 0, 0, elapsed(), rto_seconds, (exc.message,))
        _record(access, result, began, error=exc.code, extra=extra)
        raise
    result = Drill(
        found["snapshot"],
        report.files,
        report.bytes,
        found["seconds"],
        rto_seconds,
        tuple(found["problems"]),
    )
    _record(access, result, began, extra=extra)
    return result


def _record(
    access: Access,
    result: Drill,
    began: datetime,
    error: str = "",
    extra: dict[str, Any] | None = None,
) -> None:
    """The drill's own record: a ``drill`` run (audited as ``embassy.drill``) and evidence
    with the measured recovery time against the target."""
    detail: dict[str, Any] = {
        "snapshot": result.snapshot,
        "files": result.files,
        "bytes": result.bytes,
        "rto_measured_seconds": round(result.seconds, 3),
        "rto_target_seconds": result.rto_seconds,
        "passed": result.passed,
        "problems": list(result.problems),
    }
    if error:
        detail["error"] = error
    detail.update(extra or {})
    outcome = "success" if result.passed else "failure"
    with access.units() as ctx:
        repo = registry.get_repo(ctx, access.ref)
        run_row = registry.record_run(ctx, repo, "drill", outcome, result.summary(), began, detail)
        record_evidence(
            ctx,
            "embassy",
            "embassy.drill",
            f"Data embassy restore drill of {repo.name}: {result.summary()}",
            SUPPORTS,
            outcome=outcome,
            detail={"repository": repo.name, **detail},
            occurred_at=run_row.finished_at,
        )
