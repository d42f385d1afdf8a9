"""``seawall embassy``: encrypted, erasure-coded snapshots across sites."""

from __future__ import annotations

from pathlib import Path

import click

from seawall.cli.context import CliState, pass_state
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
from seawall.cli.embassy.access import share_options, share_texts_of
from seawall.cli.embassy.auditing import audit
from seawall.cli.embassy.mounting import mount
from seawall.cli.embassy.recovering import recover


@click.group()
@share_options
@pass_state
def embassy(state: CliState, share_texts: tuple[str, ...], share_files: tuple[Path, ...]) -> None:
    """Encrypted, deduplicated, erasure-coded snapshots across sites.

    With custodian shares (--share, --share-file; as many as the split needs), every command
    opens the repository with them instead of a passphrase, writing nothing to its sites: a
    node recovering while sites are down restores with them (`seawall embassy --share-file A
    --share-file B --share-file C recover ...`)."""
    state.custodian_shares = share_texts_of(share_texts, share_files)


for _command in (
    snapshots.init,
    snapshots.backup,
    snapshots.snapshots,
    snapshots.ls_cmd,
    snapshots.diff,
    snapshots.restore,
    recover,
    snapshots.list_repos,
    mount,
    finding.find,
    copying.copy,
    maintenance.check,
    audit,
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
