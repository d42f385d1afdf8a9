"""The embassy's runs: backup, restore, check, repair, forget, prune and site replacement.

Each one authorises, opens, runs, summarises and records through :mod:`.base`, so a run is
recorded the same way whichever edge started it. The run row, audit entry and evidence are the
record that assess cites (a restore drill for CMM D1.2), so their detail must not depend on the
edge.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from seawall.catalogs import counted
from seawall.core.context import Ctx
from seawall.db.models.embassy import EmbassyRepo
from seawall.embassy import registry
from seawall.embassy.backup import BackupReport, back_up
from seawall.embassy.checking import CheckReport, check_repository
from seawall.embassy.errors import BadSiteUrl, RestoreWouldOverwrite, SnapshotMissing
from seawall.embassy.exposure import DEFAULT_STORM_RADIUS_KM, Exposure
from seawall.embassy.progress import ProgressFn
from seawall.embassy.pruning import (
    DEFAULT_MAX_UNUSED,
    ForgetReport,
    PruneReport,
    forget_snapshots,
    plan_prune,
    prune_packs,
)
from seawall.embassy.repairing import RepairReport, repair_repository
from seawall.embassy.repairing import replace_site as replace_store_site
from seawall.embassy.repository import Repository
from seawall.embassy.restore import RestoreReport, restore_snapshot, target_inside
from seawall.embassy.sealing import Compression
from seawall.embassy.service.base import (
    Access,
    authorise,
    opened,
    run,
)
from seawall.embassy.sites import open_site, redact_url
from seawall.embassy.snapshots import DEFAULT_GROUP_BY, KeepPolicy


def backup(
    access: Access,
    paths: Sequence[str | os.PathLike[str]] = (),
    *,
    excludes: Sequence[str] = (),
    tags: Sequence[str] = (),
    stdin: BinaryIO | None = None,
    stdin_name: str = "stdin",
    degraded: bool = False,
    compression: Compression = Compression.AUTO,
    progress: ProgressFn | None = None,
) -> BackupReport:
    """Back up ``paths`` (and/or ``stdin``) as a new snapshot, and record the run."""
    row = authorise(access)

    def summarise(r: BackupReport) -> tuple[str, dict[str, Any]]:
        snap = r.snapshot
        return (
            f"snapshot {snap.short_id}: {snap.files} files, {snap.size} bytes, "
            f"{r.stored_bytes} new bytes stored",
            {
                "snapshot": snap.id,
                "files": snap.files,
                "bytes": snap.size,
                "stored_bytes": r.stored_bytes,
                "degraded": snap.degraded,
            },
        )

    return run(
        access,
        row,
        "backup",
        lambda repo: back_up(
            repo,
            paths,
            excludes=excludes,
            tags=tags,
            stdin=stdin,
            stdin_name=stdin_name,
            degraded=degraded,
            progress=progress,
            compression=compression,
        ),
        summarise,
        asked={"paths": [str(p) for p in paths], "stdin": stdin is not None},
        degraded=lambda r: True if r.snapshot.degraded else None,
    )


@dataclass(frozen=True)
class Restored:
    """What a restore wrote, and the directory it wrote under (resolved inside ``within``)."""

    report: RestoreReport
    target: Path


def restore(
    access: Access,
    snapshot: str,
    target: str | os.PathLike[str],
    *,
    include: str | None = None,
    overwrite: bool = False,
    within: Path | None = None,
    drill: bool = False,
    progress: ProgressFn | None = None,
) -> Restored:
    """Restore ``snapshot`` under ``target`` (with ``within``, only inside that directory),
    every piece verified first, and record the run; a ``drill`` is marked as one."""
    row = authorise(access)
    # A target outside ``within`` is refused before anything is opened: no drill ran.
    into = target_inside(within, str(target)) if within is not None else Path(target)
    marked = {"drill": True} if drill else {}
    asked = {"snapshot": snapshot, "target": str(into), **marked}
    report = run(
        access,
        row,
        "restore",
        lambda repo: restore_snapshot(
            repo,
            snapshot,
            into,
            include=include,
            overwrite=overwrite,
            progress=progress,
            within=within,
        ),
        lambda r: (
            f"{snapshot} restored: {counted(r.files, 'file')}, {counted(r.bytes, 'byte')}",
            {**asked, "files": r.files, "bytes": r.bytes},
        ),
        asked=asked,
        refusals=(SnapshotMissing, RestoreWouldOverwrite),
    )
    return Restored(report, into)


def check(
    access: Access, read_data: bool | float = False, *, progress: ProgressFn | None = None
) -> CheckReport:
    """Verify the repository (with ``read_data``, True or a fraction, every share read) and
    record the run: partial when it found errors."""
    row = authorise(access)

    def work(repo: Repository) -> CheckReport:
        report = check_repository(repo, read_data, progress=progress)
        repo.warnings.clear()  # a damaged index file is one of the problems the report lists
        return report

    return run(
        access,
        row,
        "check",
        work,
        lambda r: (
            f"{counted(r.packs, 'pack')}, {counted(r.shares_read, 'share')} read, "
            f"{counted(len(r.errors), 'problem')}",
            {
                "packs": r.packs,
                "shares_read": r.shares_read,
                "read_data": read_data,
                "problems": [p.message for p in r.errors],
            },
        ),
        asked={"read_data": read_data},
    )


def repair(
    access: Access, *, index: bool = False, progress: ProgressFn | None = None
) -> RepairReport:
    """Rebuild missing or corrupt shares (with ``index``, the index first) and record the run;
    a repair that finishes leaves the repository no longer degraded."""
    row = authorise(access)
    return run(
        access,
        row,
        "repair",
        lambda repo: repair_repository(repo, index=index, progress=progress),
        lambda r: (
            f"{counted(r.shares_rebuilt, 'share')} rebuilt, "
            f"{counted(r.objects_copied, 'object')} copied",
            r.to_doc(),
        ),
        asked={"index": index},
        degraded=lambda _r: False,
    )


def assess_exposure(
    ctx: Ctx, ref: str, radius_km: float = DEFAULT_STORM_RADIUS_KM
) -> tuple[EmbassyRepo, Exposure]:
    """The repository and the worst single storm footprint over its located sites, recorded
    (like a check) once any site is located: the maturity pillar cites it as risk assessment."""
    row = registry.get_repo(ctx, ref)
    found = registry.exposure_of(ctx, row, radius_km)
    if found.sites:
        hit = [redact_url(row.sites[i]) for i in found.sites]
        registry.record_run(
            ctx,
            row,
            "exposure",
            "partial" if found.at_risk else "success",
            f"one {found.radius_km:g} km storm footprint covers {len(hit)} of {row.n} sites"
            + (f"; more than the {found.tolerable} it can lose" if found.at_risk else ""),
            ctx.now(),
            {"sites": hit, "radius_km": found.radius_km, "at_risk": found.at_risk},
        )
    return row, found


@dataclass(frozen=True)
class Forgotten:
    """What forget did, and when each snapshot it looked at was taken."""

    report: ForgetReport
    times: dict[str, datetime]


def forget(
    access: Access,
    policy: KeepPolicy,
    *,
    tags: Sequence[str] = (),
    group_by: Sequence[str] = DEFAULT_GROUP_BY,
    prune: bool = False,
    max_unused: float = DEFAULT_MAX_UNUSED,
    dry_run: bool = False,
) -> Forgotten:
    """Remove snapshots outside ``policy`` (and with ``prune`` the data no snapshot uses),
    audited as done or, when it fails half done, with its error."""
    with opened(access) as found, found.changing("forget", pruned=prune):
        times = {s.id: s.time for s in found.repo.snapshots()}
        report = forget_snapshots(
            found.repo,
            policy,
            tags=tags,
            group_by=group_by,
            prune=prune,
            max_unused=max_unused,
            dry_run=dry_run,
        )
        if not dry_run:
            found.event(
                "forget",
                kept=len(report.kept),
                removed=list(report.removed),
                group_by=list(group_by),
                pruned=prune,
            )
    return Forgotten(report, times)


def prune(
    access: Access,
    *,
    max_unused: float = DEFAULT_MAX_UNUSED,
    dry_run: bool = False,
    progress: ProgressFn | None = None,
) -> PruneReport:
    """Delete data no snapshot uses and repack partly used packs, audited as done or, when it
    fails half done, with its error; a dry run changes and audits nothing."""
    with opened(access) as found, found.changing("prune"):
        if dry_run:
            report = plan_prune(found.repo, max_unused=max_unused)
        else:
            report = prune_packs(found.repo, max_unused=max_unused, progress=progress)
        if not dry_run:
            found.event("prune", **asdict(report))
    return report


def replace_site(access: Access, old: str, new: str, *, progress: ProgressFn | None = None) -> None:
    """Swap site ``old`` (its URL, or its number from 1) for the empty site at URL ``new``,
    rebuild its shares there and record the new sites, audited as done or, when it fails
    half done, with its error."""
    with opened(access) as found:
        which: int | str = old
        if old.isascii() and old.isdigit():  # its number, from 1
            which = registry.site_slot(found.repo.config.sites, old, found.row.name)
        if isinstance(which, str) and which not in found.repo.config.sites:
            raise BadSiteUrl(f"{redact_url(old)} is not one of this repository's sites")
        with found.changing("site.replaced", old=redact_url(old), new=redact_url(new)):
            replace_store_site(found.repo, which, open_site(new), progress=progress)
        with found.units() as ctx:
            registry.update_sites(ctx, ctx.db.merge(found.row), list(found.repo.config.sites))
