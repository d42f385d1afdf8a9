"""``seawall embassy``: encrypted, erasure-coded snapshots across sites."""

from __future__ import annotations

import click

from seawall.cli.embassy import keys, maintenance, sites, snapshots


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
    maintenance.check,
    maintenance.repair,
    maintenance.forget,
    maintenance.prune,
    maintenance.unlock,
    maintenance.stats,
    keys.key,
    sites.site,
    sites.exposure,
):
    embassy.add_command(_command)
