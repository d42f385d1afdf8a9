"""``seawall intel attack``: MITRE ATT&CK import, and the technique heat map."""

from __future__ import annotations

from pathlib import Path

import click

from seawall.catalogs import counted
from seawall.cli.context import CliState, pass_state
from seawall.cli.output import emit_json, emit_table, err_console, json_option
from seawall.errors import InvalidInput
from seawall.intel import attack as core
from seawall.intel import heatmap as heat
from seawall.intel.errors import UnreadableIntel


@click.group("attack")
def attack() -> None:
    """MITRE ATT&CK: reference techniques, and where the nations see them."""


@attack.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--collection",
    "alias",
    default=core.DEFAULT_ALIAS,
    show_default=True,
    help="Reference collection (created TLP:CLEAR and open to the node if absent).",
)
@json_option
@pass_state
def import_bundle(state: CliState, file: Path, alias: str, as_json: bool) -> None:
    """Import an ATT&CK STIX bundle (enterprise-attack.json, ics-attack.json).

    Re-importing adds only the objects whose ``modified`` changed. Exits 65 when any
    object was rejected; the valid rest is still stored.
    """
    try:
        core.check_size(file.stat().st_size, file.name)
        data = file.read_bytes()
    except OSError as exc:
        raise UnreadableIntel(f"cannot read {file}: {exc.strerror or exc}") from None
    objects = core.read_bundle(data, file.name)
    with state.operator_unit() as ctx:
        report = core.import_attack(ctx, objects, alias)
    if as_json:
        emit_json(report.as_json())
    else:
        err_console.print(
            f"{report.collection}: {len(report.added)} added, {report.unchanged} unchanged, "
            f"{len(report.rejected)} rejected ({', '.join(report.domains) or 'ATT&CK'}, "
            f"{counted(report.total, 'object')})",
            highlight=False,
            soft_wrap=True,
        )
        for ref in report.rejected:
            err_console.print(f"rejected {ref.message}", highlight=False, soft_wrap=True)
    if report.rejected:
        raise click.exceptions.Exit(InvalidInput.exit_code)


@attack.command("heatmap")
@click.option("--nation", default=None, help="One nation's links (default: the region's).")
@click.option(
    "--domain",
    type=click.Choice(sorted(heat.DOMAINS)),
    default=None,
    help="The matrix (default: enterprise-attack when imported).",
)
@json_option
@pass_state
def heatmap(state: CliState, nation: str | None, domain: str | None, as_json: bool) -> None:
    """Techniques by tactic: how many objects and sightings are linked to each."""
    with state.operator_unit() as ctx:
        found = heat.heatmap(ctx, nation, domain)
    if as_json:
        emit_json(found.as_json())
        return
    who = found.nation or "region"
    title = f"{found.matrix or found.domain}: {who} ({counted(found.linked, 'technique')} linked)"
    rows = [
        (column.name, cell.attack_id, cell.name, str(cell.objects), str(cell.sightings))
        for column in found.columns
        for cell in column.cells
        if cell.score
    ]
    rows += [("-", c.attack_id, c.name, str(c.objects), str(c.sightings)) for c in found.unplaced]
    emit_table(title, ["Tactic", "Technique", "Name", "Objects", "Sightings"], rows)
