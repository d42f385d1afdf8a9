"""``seawall embassy mount``: browse the snapshots as a read-only filesystem."""

from __future__ import annotations

from pathlib import Path

import click

from seawall.cli.context import CliState, pass_state
from seawall.cli.embassy.access import access_to, repo_option
from seawall.cli.output import say
from seawall.embassy import service
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

    report = service.mount(access_to(state, repo_ref), mountpoint, ready=ready)
    say(f"Unmounted {mountpoint}: {report.files_read} files read ({report.bytes_read:,} bytes)")
