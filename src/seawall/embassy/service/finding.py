"""``find``: which snapshots hold entries of a given name or path."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from seawall.embassy.finding import Match, find_nodes
from seawall.embassy.patterns import compile_patterns
from seawall.embassy.progress import ProgressFn
from seawall.embassy.service.base import Access, opened


def find(
    access: Access,
    patterns: Sequence[str],
    *,
    ignore_case: bool = False,
    snapshots: Sequence[str] = (),
    prefix: str = "",
    newest: datetime | None = None,
    oldest: datetime | None = None,
    progress: ProgressFn | None = None,
) -> list[Match]:
    """Entries matching any of ``patterns`` (see :mod:`seawall.embassy.patterns`), by
    snapshot then path; a bad pattern is refused before the repository is opened."""
    compiled = compile_patterns(list(patterns), ignore_case=ignore_case)
    with opened(access) as found:
        return find_nodes(
            found.repo,
            compiled,
            snapshots=snapshots,
            prefix=prefix,
            newest=newest,
            oldest=oldest,
            progress=progress,
        )
