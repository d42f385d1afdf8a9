"""One function per embassy operation: authorise, open, run, summarise and record.

The CLI, the web and the sample loader call :func:`backup`, :func:`restore`, :func:`check`,
:func:`repair`, :func:`forget`, :func:`prune` and :func:`replace_site` here, so a run is recorded
the same way whichever edge started it. The run row, audit entry and evidence are the record
that assess cites (a restore drill for CMM D1.2), so their detail must not depend on the edge.

Repository work can take hours, so it never runs inside a unit of work: each caller hands over a
factory of units (:data:`Units`) and every record is written in a unit of its own.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from seawall.core.access import Perm, require
from seawall.core.clock import Clock
from seawall.core.context import Ctx
from seawall.db.models.embassy import EmbassyRepo
from seawall.embassy import registry
from seawall.embassy.backup import BackupReport, back_up
from seawall.embassy.checking import (
    CheckReport,
    RepairReport,
    check_repository,
    repair_repository,
)
from seawall.embassy.checking import replace_site as replace_store_site
from seawall.embassy.errors import BadSiteUrl, RestoreWouldOverwrite, SnapshotMissing
from seawall.embassy.exposure import DEFAULT_STORM_RADIUS_KM, Exposure
from seawall.embassy.keys import KeyChange, change_keys
from seawall.embassy.progress import ProgressFn
from seawall.embassy.pruning import (
    DEFAULT_MAX_UNUSED,
    ForgetReport,
    PruneReport,
    forget_snapshots,
    plan_prune,
    prune_packs,
)
from seawall.embassy.repository import Repository
from seawall.embassy.restore import RestoreReport, restore_snapshot, target_inside
from seawall.embassy.sealing import Compression
from seawall.embassy.sites import open_site, redact_url
from seawall.embassy.sites.base import Site
from seawall.embassy.snapshots import DEFAULT_GROUP_BY, KeepPolicy
from seawall.errors import NotFound, SeawallError

Units = Callable[[], AbstractContextManager[Ctx]]
"""Opens a unit of work as the caller (the CLI's operator, a web page's user, the demo)."""

T = TypeVar("T")


def _no_warning(_warning: str) -> None:
    """Drop a warning (callers with nobody to tell)."""


@dataclass(frozen=True)
class Access:
    """Who reaches which repository, and with what key.

    ``passphrase`` is asked for only once the repository is found, and not at all when a
    ``recovery_key`` opens it. With ``adopt``, a site URL that no registered repository holds is
    opened and registered (the CLI's way to take over a repository made elsewhere); without it,
    only registered repositories are opened.
    """

    units: Units
    ref: str
    clock: Clock
    passphrase: Callable[[], str]
    recovery_key: bytes | None = None
    adopt: bool = False
    # What did not stop the operation but needs someone (an index file damaged everywhere).
    warn: Callable[[str], None] = _no_warning


@dataclass
class Opened:
    """An open repository, its registry row, and the units its records are written in."""

    units: Units
    repo: Repository
    row: EmbassyRepo

    def event(self, action: str, **detail: Any) -> None:
        """Audit a change that is not a run (key slots, forget, prune, unlock)."""
        with self.units() as ctx:
            registry.record_event(ctx, ctx.db.merge(self.row), action, **detail)

    def change_keys(
        self,
        action: str,
        change: KeyChange,
        deliver: Callable[[KeyChange], None] = lambda _c: None,
        **detail: Any,
    ) -> None:
        """Carry out a key change in the order of :func:`change_keys`: audited (and its
        shares handed out) in one transaction before any site holds the new slot; a
        failure to publish is audited with its error."""

        @contextmanager
        def record() -> Iterator[None]:
            with self.units() as ctx:
                registry.record_event(ctx, ctx.db.merge(self.row), action, **detail)
                yield

        def failed(exc: SeawallError) -> None:
            self.event(action, outcome="failure", error=exc.code, **detail)

        change_keys(self.repo, change, record=record, deliver=deliver, failed=failed)

    @contextmanager
    def changing(self, action: str, **detail: Any) -> Iterator[None]:
        """A change that can fail half done (snapshots deleted, then the prune fails): a
        failure is audited as ``action`` with its error before it is raised; a success
        audits its own details."""
        try:
            yield
        except SeawallError as exc:
            self.event(action, outcome="failure", error=exc.code, **detail)
            raise


def create(
    units: Units,
    name: str,
    sites: Sequence[Site],
    passphrase: Callable[[], str],
    *,
    k: int,
    clock: Clock,
) -> str:
    """Create a repository across ``sites`` and register it as ``name``; its id.

    The name is checked before anything is written to the sites: a repository made there
    under a name that is then refused would be left on them with no registry row.
    """
    with units() as ctx:
        registry.check_new_name(ctx, name)
    repo = Repository.init(sites, passphrase(), name=name, k=k, clock=clock)
    try:
        config = repo.config
        with units() as ctx:
            registry.register_repo(ctx, name, config.id, list(config.sites), k, config.n)
    finally:
        repo.close()
    return config.id


def _authorise(access: Access) -> EmbassyRepo | None:
    """Check the caller may operate the repository; its row, or None for a URL to adopt."""
    with access.units() as ctx:
        # Opening a repository with its key reads every snapshot: an operator's act.
        require(ctx.who, Perm.EMBASSY_OPERATE)
        row = registry.find_repo(ctx, access.ref)
    if row is None and not (access.adopt and "://" in access.ref):
        hint = "its name or any one site URL" if access.adopt else "the name it is registered under"
        raise NotFound(f"no repository {access.ref!r} on this node; give {hint}")
    return row


@contextmanager
def _open(access: Access, row: EmbassyRepo | None) -> Iterator[Opened]:
    """Open the repository from its registry row (or adopt the site URL ``access.ref``)."""
    urls = row.sites if row else [access.ref]
    key = access.recovery_key
    repo = Repository.open(
        [open_site(url) for url in urls],
        None if key else access.passphrase(),
        recovery_key=key,
        connect=open_site,
        clock=access.clock,
    )
    try:
        if row is None:
            config = repo.config
            with access.units() as ctx:
                row = registry.find_repo(ctx, config.id) or registry.register_repo(
                    ctx, config.name, config.id, list(config.sites), config.k, config.n
                )
        yield Opened(access.units, repo, row)
    finally:
        for warning in repo.warnings:
            access.warn(warning)
        repo.close()


@contextmanager
def opened(access: Access) -> Iterator[Opened]:
    """The repository opened for an operation that is not a run (keys, unlock, listings)."""
    with _open(access, _authorise(access)) as found:
        yield found


def _record(
    units: Units,
    row: EmbassyRepo,
    kind: str,
    outcome: str,
    summary: str,
    started: datetime,
    detail: dict[str, Any],
    degraded: bool | None = None,
) -> None:
    """The one place a run is recorded: history row, audit entry and evidence."""
    with units() as ctx:
        registry.record_run(
            ctx, ctx.db.merge(row), kind, outcome, summary, started, detail, degraded
        )


def _run(
    access: Access,
    row: EmbassyRepo | None,
    kind: str,
    work: Callable[[Repository], T],
    summarise: Callable[[T], tuple[str, dict[str, Any]]],
    *,
    asked: dict[str, Any],
    degraded: Callable[[T], bool | None] = lambda _r: None,
    refusals: tuple[type[SeawallError], ...] = (),
) -> T:
    """Open, do the work and record the run (success, partial or failure).

    A failure to open is a failed run too: a drill that cannot open the repository failed.
    ``refusals`` refuse the request as typed (a snapshot id that matches none, a target that
    holds the files already): no run happened, so none is recorded, and a typo is not a failed
    restore drill in the maturity evidence. ``asked`` is what the run was asked to do; a
    failure records it with the error's code.
    """
    started = access.clock.now()
    try:
        with _open(access, row) as found:
            row = found.row
            result = work(found.repo)
    except refusals:
        raise
    except SeawallError as exc:
        if row is not None:  # a URL that never opened has no row to record against
            failed = {**asked, "error": exc.code}
            _record(access.units, row, kind, "failure", exc.message, started, failed)
        raise
    summary, detail = summarise(result)
    outcome = "partial" if detail.get("problems") else "success"
    _record(access.units, row, kind, outcome, summary, started, detail, degraded(result))
    return result


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
    row = _authorise(access)

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

    return _run(
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
    row = _authorise(access)
    # A target outside ``within`` is refused before anything is opened: no drill ran.
    into = target_inside(within, str(target)) if within is not None else Path(target)
    marked = {"drill": True} if drill else {}
    asked = {"snapshot": snapshot, "target": str(into), **marked}
    report = _run(
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
            f"{snapshot} restored: {r.files} files, {r.bytes} bytes",
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
    row = _authorise(access)

    def work(repo: Repository) -> CheckReport:
        report = check_repository(repo, read_data, progress=progress)
        repo.warnings.clear()  # a damaged index file is one of the problems the report lists
        return report

    return _run(
        access,
        row,
        "check",
        work,
        lambda r: (
            f"{r.packs} packs, {r.shares_read} shares read, {len(r.errors)} problems",
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
    row = _authorise(access)
    return _run(
        access,
        row,
        "repair",
        lambda repo: repair_repository(repo, index=index, progress=progress),
        lambda r: (
            f"{r.shares_rebuilt} shares rebuilt, {r.objects_copied} objects copied",
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
    """Swap site ``old`` (its URL, or its index from 0) for the empty site at URL ``new``,
    rebuild its shares there and record the new sites, audited as done or, when it fails
    half done, with its error."""
    with opened(access) as found:
        which: int | str = int(old) if old.isascii() and old.isdigit() else old
        if isinstance(which, str) and which not in found.repo.config.sites:
            raise BadSiteUrl(f"{redact_url(old)} is not one of this repository's sites")
        with found.changing("site.replaced", old=redact_url(old), new=redact_url(new)):
            replace_store_site(found.repo, which, open_site(new), progress=progress)
        with found.units() as ctx:
            registry.update_sites(ctx, ctx.db.merge(found.row), list(found.repo.config.sites))
