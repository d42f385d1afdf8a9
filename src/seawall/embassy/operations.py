"""The embassy operations as methods of an open repository, each run from its own module.

Mixed into :class:`~seawall.embassy.repository.Repository`: each method hands the store to
the operation (:mod:`.backup`, :mod:`.restore`, :mod:`.checking`, :mod:`.pruning`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from seawall.embassy.backup import BackupReport, back_up
from seawall.embassy.checking import (
    CheckReport,
    RepairReport,
    check_repository,
    repair_repository,
    replace_site,
)
from seawall.embassy.progress import ProgressFn
from seawall.embassy.pruning import (
    DEFAULT_MAX_UNUSED,
    ForgetReport,
    PruneReport,
    forget_snapshots,
    plan_prune,
    prune_packs,
)
from seawall.embassy.restore import RestoreReport, restore_snapshot
from seawall.embassy.sealing import Compression
from seawall.embassy.snapshots import DEFAULT_GROUP_BY, KeepPolicy

if TYPE_CHECKING:
    from seawall.embassy.sites.base import Site
    from seawall.embassy.store import RepositoryStore


class Operations:
    """Backup, restore, check, repair, replace a site, forget and prune, over ``self``."""

    def backup(
        self: RepositoryStore,
        paths: Sequence[str | os.PathLike[str]] = (),
        *,
        excludes: Sequence[str] = (),
        tags: Sequence[str] = (),
        stdin: BinaryIO | None = None,
        stdin_name: str = "stdin",
        degraded: bool = False,
        progress: ProgressFn | None = None,
        hostname: str | None = None,
        compression: Compression = Compression.AUTO,
    ) -> BackupReport:
        """Back up paths and/or a stream as a new snapshot (see :mod:`.backup`)."""
        return back_up(
            self,
            paths,
            excludes=excludes,
            tags=tags,
            stdin=stdin,
            stdin_name=stdin_name,
            degraded=degraded,
            progress=progress,
            hostname=hostname,
            compression=compression,
        )

    def restore(
        self: RepositoryStore,
        ref: str,
        target: str | os.PathLike[str],
        *,
        include: str | None = None,
        overwrite: bool = False,
        progress: ProgressFn | None = None,
        within: Path | None = None,
    ) -> RestoreReport:
        """Restore a snapshot under ``target``, never overwriting unless asked (and, with
        ``within``, only inside that directory)."""
        return restore_snapshot(
            self,
            ref,
            target,
            include=include,
            overwrite=overwrite,
            progress=progress,
            within=within,
        )

    def check(
        self: RepositoryStore,
        read_data: bool | float = False,
        *,
        progress: ProgressFn | None = None,
    ) -> CheckReport:
        """Verify structure, and with ``read_data`` (True or a fraction) every share read."""
        return check_repository(self, read_data, progress=progress)

    def repair(
        self: RepositoryStore, *, index: bool = False, progress: ProgressFn | None = None
    ) -> RepairReport:
        """Rebuild missing or corrupt shares and copies; clear degraded snapshots. With
        ``index``, first index every pack again from its trailer (see :mod:`.reindexing`)."""
        return repair_repository(self, index=index, progress=progress)

    def replace_site(
        self: RepositoryStore, old: int | str, new: Site, *, progress: ProgressFn | None = None
    ) -> None:
        """Swap a lost or retired site for an empty one and rebuild its shares there."""
        replace_site(self, old, new, progress=progress)

    def forget(
        self: RepositoryStore,
        policy: KeepPolicy,
        *,
        tags: Sequence[str] = (),
        group_by: Sequence[str] = DEFAULT_GROUP_BY,
        prune: bool = False,
        max_unused: float = DEFAULT_MAX_UNUSED,
        dry_run: bool = False,
    ) -> ForgetReport:
        """Remove snapshots outside ``policy`` within each ``group_by`` group (only those
        carrying all ``tags``)."""
        return forget_snapshots(
            self,
            policy,
            tags=tags,
            group_by=group_by,
            prune=prune,
            max_unused=max_unused,
            dry_run=dry_run,
        )

    def prune(
        self: RepositoryStore,
        *,
        max_unused: float = DEFAULT_MAX_UNUSED,
        dry_run: bool = False,
        progress: ProgressFn | None = None,
    ) -> PruneReport:
        """Delete unused packs and orphans; repack partly used packs (see :mod:`.pruning`)."""
        if dry_run:
            return plan_prune(self, max_unused=max_unused)
        return prune_packs(self, max_unused=max_unused, progress=progress)
