"""``seawall embassy mount``: browse the snapshots as a read-only filesystem."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from seawall.catalogs import counted
from seawall.cli.context import CliState, pass_state
from seawall.cli.embassy.access import access_to, repo_option
from seawall.cli.output import say

if TYPE_CHECKING:
    from seawall.embassy.mounting import MountReport


@click.command()
@click.argument("mountpoint", type=click.Path(path_type=Path))
@repo_option
@pass_state
def mount(state: CliState, mountpoint: Path, repo_ref: str) -> None:
    """Show the snapshots read-only at MOUNTPOINT (FUSE) until Ctrl-C or fusermount3 -u."""

    def ready(report: MountReport) -> None:
        count = f"{report.snapshots} snapshot{'' if report.snapshots == 1 else 's'}"
        say(
            f"Mounted {report.repository} ({count}) at {mountpoint}; Ctrl-C or "
            f"`fusermount3 -u {mountpoint}` unmounts it"
        )

    # Imported here: the FUSE binding costs every other command's start-up otherwise.
    from seawall.embassy.service.mounting import mount as mount_snapshots

    report = mount_snapshots(access_to(state, repo_ref), mountpoint, ready=ready)
    say(
        f"Unmounted {mountpoint}: {counted(report.files_read, 'file')} read "
        f"({counted(report.bytes_read, 'byte', grouped=True)})"
    )
