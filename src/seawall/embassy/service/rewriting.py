"""``rewrite``: remove paths from existing snapshots, audited."""

from __future__ import annotations

from collections.abc import Sequence

from seawall.embassy.patterns import compile_patterns
from seawall.embassy.progress import ProgressFn
from seawall.embassy.rewriting import RewriteReport, rewrite_snapshots
from seawall.embassy.service.base import Access, opened


def rewrite(
    access: Access,
    excludes: Sequence[str],
    *,
    snapshots: Sequence[str] = (),
    forget: bool = False,
    dry_run: bool = False,
    progress: ProgressFn | None = None,
) -> RewriteReport:
    """Write the snapshots holding entries ``excludes`` cover again without them (with
    ``forget``, deleting the old ones), audited as done or, when it fails half done, with its
    error; a dry run changes and audits nothing.

    The audit entry names the excludes as given and, per snapshot, how many entries went:
    the names of the entries removed may be the very data the rewrite is erasing.
    """
    patterns = compile_patterns(list(excludes))  # refused before anything is opened
    with opened(access) as found:
        for ref in snapshots:  # a typo is refused as typed, not audited as a failed rewrite
            found.repo.find_snapshot(ref)
        if dry_run:
            return rewrite_snapshots(
                found.repo, patterns, snapshots=snapshots, forget=forget, dry_run=True
            )
        with found.changing("rewrite", excludes=list(excludes), forget=forget):
            report = rewrite_snapshots(
                found.repo, patterns, snapshots=snapshots, forget=forget, progress=progress
            )
            found.event(
                "rewrite",
                excludes=list(excludes),
                rewritten=[
                    {"original": r.original, "new": r.new, "removed": len(r.removed)}
                    for r in report.rewritten
                ],
                unchanged=len(report.unchanged),
                forgotten=list(report.forgotten),
                forget=forget,
            )
    return report
