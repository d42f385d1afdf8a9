"""Copy snapshots from one repository into another, recorded as a run of the one copied into.

The caller must operate both repositories. The source is opened first and read under a shared
lock; the copy is a run of the target (history row, audit entry and evidence there), so a
nation moving to new sites or a new partner has the move in the new repository's history.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

from seawall.embassy.copying import CopyReport, copy_snapshots
from seawall.embassy.errors import SameRepository, SnapshotMissing, WrongPassphrase
from seawall.embassy.progress import ProgressFn
from seawall.embassy.service.base import Access, authorise, open_repository, run
from seawall.embassy.sites import redact_url


@contextmanager
def _side(option: str, ref: str) -> Iterator[None]:
    """A wrong passphrase (or recovery key) names the side it was given for."""
    try:
        yield
    except WrongPassphrase as exc:
        raise WrongPassphrase(f"{option} {redact_url(ref)}: {exc.message}") from None


def copy(
    source: Access,
    target: Access,
    snapshots: Sequence[str] = (),
    *,
    progress: ProgressFn | None = None,
) -> CopyReport:
    """Copy ``snapshots`` (all when none) from ``source`` into ``target``, skipping those
    copied already, and record the run in ``target``'s history."""
    if source.ref == target.ref:
        raise SameRepository(
            f"--from and --to both name {redact_url(source.ref)}; give the repository to copy "
            "into as --to"
        )
    source_row = authorise(source)
    target_row = authorise(target)
    if source_row is not None and target_row is not None and source_row.id == target_row.id:
        raise SameRepository(
            f"{source.ref} and {target.ref} are the same repository ({source_row.name}); "
            "give the repository to copy into as --to"
        )
    with ExitStack() as stack:
        with _side("--from", source.ref):
            opened = stack.enter_context(open_repository(source, source_row))
        origin = opened.row.name
        asked: dict[str, Any] = {"from": origin, "snapshots": list(snapshots)}

        def summarise(r: CopyReport) -> tuple[str, dict[str, Any]]:
            return (
                f"{len(r.copied)} snapshots copied from {origin}, {len(r.skipped)} held "
                f"already, {r.stored_bytes} bytes stored",
                {
                    **asked,
                    "copied": {c.source: c.snapshot for c in r.copied},
                    "skipped": list(r.skipped),
                    "new_bytes": r.new_bytes,
                    "stored_bytes": r.stored_bytes,
                },
            )

        with _side("--to", target.ref):
            return run(
                target,
                target_row,
                "copy",
                lambda repo: copy_snapshots(opened.repo, repo, snapshots, progress=progress),
                summarise,
                asked=asked,
                refusals=(SnapshotMissing, SameRepository),
            )
