"""``seawall coop coverage``: which maturity gaps programmes cover, and which nobody does."""

from __future__ import annotations

from typing import Any

import click

from seawall.cli.context import CliState, pass_state
from seawall.cli.coop.programmes import acting
from seawall.cli.output import emit_or_table, json_option, say
from seawall.coop.coverage import Cell, Coverage
from seawall.errors import InvalidInput
from seawall.web.gap_feed import DEFAULT_FRAMEWORK, coverage_of_group, coverage_of_nation


def cell_doc(cell: Cell) -> dict[str, Any]:
    """A cell as JSON."""
    gap = cell.gap
    return {
        "nation": gap.nation,
        "factor": gap.ref,
        "name": gap.factor_name,
        "current": gap.current,
        "target": gap.target,
        "programmes": [{"ref": o.ref, "nation": o.nation, "name": o.name} for o in cell.programmes],
        "past": [{"ref": o.ref, "nation": o.nation, "name": o.name} for o in cell.past],
        "uncovered": cell.uncovered,
        "duplication": cell.duplicated,
    }


def coverage_doc(coverage: Coverage) -> dict[str, Any]:
    """Coverage as JSON: every gap, and the counts."""
    return {
        "gaps": [cell_doc(c) for c in coverage.cells],
        "uncovered": len(coverage.uncovered),
        "duplication": len(coverage.duplicated),
    }


@click.command("coverage")
@click.option("--nation", default=None, help="One nation's gaps.")
@click.option("--group", default=None, help="Every member of a region group (e.g. OECS).")
@click.option("--framework", "framework_id", default=DEFAULT_FRAMEWORK, show_default=True)
@click.option(
    "--default-target",
    type=int,
    default=None,
    help="Target for factors without one (a hub holds no other nation's targets).",
)
@click.option("--as", "as_user", default=None, metavar="USER", help="Act as this node user.")
@json_option
@pass_state
def coverage(
    state: CliState,
    nation: str | None,
    group: str | None,
    framework_id: str,
    default_target: int | None,
    as_user: str | None,
    as_json: bool,
) -> None:
    """For every factor below its target, the programmes that address it."""
    if (nation is None) == (group is None):
        raise InvalidInput("give --nation NATION or --group GROUP")
    if as_user:
        click.get_current_context().find_root().meta["seawall.coop.as"] = as_user
    with acting(state) as ctx:
        if nation is not None:
            found = coverage_of_nation(ctx, nation, framework_id, default_target)
        else:
            found = coverage_of_group(ctx, str(group), framework_id, default_target)
    doc = coverage_doc(found)
    emit_or_table(
        as_json,
        doc,
        f"Gap coverage: {doc['uncovered']} uncovered, {doc['duplication']} possible duplication",
        ["Nation", "Factor", "Stage", "Programmes", "Flag"],
        (
            (
                g["nation"],
                g["factor"],
                f"{g['current']} -> {g['target']}",
                ", ".join(p["ref"] for p in g["programmes"]) or "-",
                "UNCOVERED"
                if g["uncovered"]
                else "possible duplication"
                if g["duplication"]
                else "",
            )
            for g in doc["gaps"]
        ),
    )
    if group is not None and default_target is None and not as_json:
        say(
            "Only the targets held on this node count (a nation's targets stay on its node): "
            "give --default-target STAGE to see every member's gaps."
        )


COMMANDS = (coverage,)
