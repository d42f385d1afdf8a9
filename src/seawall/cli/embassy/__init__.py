"""``seawall embassy``: encrypted, erasure-coded snapshots across sites."""

from __future__ import annotations

import click

from seawall.cli.embassy import (
    copying,
    finding,
    hosting,
    keys,
    maintenance,
    rewriting,
    schedules,
    sites,
    snapshots,
)
from seawall.cli.embassy.mounting import mount


@click.group()
def embassy() -> None:
    """Encrypted, deduplicated, erasure-coded snapshots across sites."""


for _command in (
    snapshots.init,
    snapshots.backup,
    snapshots.snapshots,
    snapshots.ls_cmd,
    snapshots.diff,
    snapshots.restore,
    snapshots.list_repos,
    mount,
    finding.find,
    copying.copy,
    maintenance.check,
    maintenance.repair,
    maintenance.forget,
    rewriting.rewrite,
    maintenance.prune,
    maintenance.unlock,
    maintenance.stats,
    keys.key,
    sites.site,
    sites.exposure,
    hosting.host,
    schedules.schedule,
    schedules.run_due_cmd,
):
    embassy.add_command(_command)
