"""``seawall embassy copy``: snapshots from one repository into another (new sites, a new
partner), opened and sealed again on this node."""

from __future__ import annotations

from dataclasses import replace

import click

from seawall.catalogs import counted
from seawall.cli.context import CliState, pass_state
from seawall.cli.embassy.access import access_to, ask_passphrase, progress_bar
from seawall.cli.embassy.limits import limit_options, limited
from seawall.cli.output import emit_json, json_option, say
from seawall.embassy.service.copying import copy as copy_snapshots

FROM_PASSPHRASE_ENV = "SEAWALL_EMBASSY_FROM_PASSPHRASE"  # noqa: S105 - a variable name


def ask_from_passphrase() -> str:
    """The passphrase of the repository copied from, from the environment or asked for."""
    return ask_passphrase(
        env=FROM_PASSPHRASE_ENV, label="Passphrase of the repository to copy from"
    )


@click.command("copy")
@click.option(
    "--from", "from_ref", required=True, help="Repository to copy from: name or a site URL."
)
@click.option("--to", "to_ref", required=True, help="Repository to copy into: name or a site URL.")
@click.option(
    "--snapshot",
    "snapshots",
    multiple=True,
    help="Copy only this snapshot (id or prefix, or latest); repeat. Default: all.",
)
@limit_options
@json_option
@pass_state
def copy(
    state: CliState,
    from_ref: str,
    to_ref: str,
    snapshots: tuple[str, ...],
    limit_upload: int | None,
    limit_download: int | None,
    as_json: bool,
) -> None:
    """Copy snapshots into another repository; those copied already are skipped."""
    source = replace(access_to(state, from_ref), passphrase=ask_from_passphrase)
    with limited(state, limit_upload, limit_download), progress_bar(not as_json) as progress:
        report = copy_snapshots(source, access_to(state, to_ref), snapshots, progress=progress)
    if as_json:
        emit_json(
            {
                "copied": [
                    {
                        "source": c.source,
                        "snapshot": c.snapshot,
                        "bytes": c.bytes,
                        "new_bytes": c.new_bytes,
                    }
                    for c in report.copied
                ],
                "skipped": list(report.skipped),
                "packs_written": report.packs_written,
                "packs_reused": report.packs_reused,
                "new_bytes": report.new_bytes,
                "stored_bytes": report.stored_bytes,
            }
        )
        return
    for c in report.copied:
        say(
            f"Snapshot {c.source[:8]} copied as {c.snapshot[:8]}: "
            f"{counted(c.bytes, 'byte', grouped=True)}"
        )
    say(
        f"{counted(len(report.copied), 'snapshot')} copied, {len(report.skipped)} held already; "
        f"{counted(report.new_bytes, 'new byte', grouped=True)}, "
        f"{counted(report.stored_bytes, 'byte', grouped=True)} stored"
    )
