"""Mounting a repository: its snapshots as a read-only filesystem until it is unmounted.

A mount is audited twice, in units of their own: ``embassy.mount.started`` when the mount is
in place (who, which repository, where, how many snapshots) and ``embassy.mount.ended`` when
it is gone (what was read, or the error that ended it).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from seawall.embassy.mounting import MountReport, require_binding, serve
from seawall.embassy.service.base import Access, opened
from seawall.errors import InvalidInput, SeawallError


def mount(
    access: Access,
    mountpoint: Path,
    *,
    ready: Callable[[MountReport], None] = lambda _r: None,
) -> MountReport:
    """Serve the repository's snapshots read-only at ``mountpoint`` until it is unmounted
    (SIGINT, SIGTERM or ``fusermount3 -u``); ``ready`` is called once they are there."""
    # Both refused before a passphrase is asked for.
    if not mountpoint.is_dir():
        raise InvalidInput(f"{mountpoint} is not a directory to mount on")
    require_binding()
    where = str(mountpoint.absolute())
    with opened(access) as found:
        started = False

        def announce(report: MountReport) -> None:
            nonlocal started
            found.event("mount.started", mountpoint=where, snapshots=report.snapshots)
            started = True
            ready(report)

        try:
            report = serve(
                found.repo,
                mountpoint,
                fsname=f"seawall:{found.row.name}",
                ready=announce,
                warn=access.warn,
            )
        except SeawallError as exc:
            if started:
                found.event("mount.ended", mountpoint=where, outcome="failure", error=exc.code)
            raise
        found.event(
            "mount.ended",
            mountpoint=where,
            files_read=report.files_read,
            bytes_read=report.bytes_read,
        )
    return report
