"""``seawall assess round export``, ``withdraw`` and ``import``: rounds that travel to a hub."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from seawall.assess import publication
from seawall.cli.assess import unit
from seawall.cli.assess_rounds import round_group
from seawall.cli.context import CliState, pass_state
from seawall.cli.output import emit_json, json_option, read_input, say, writable, write_file

_OUT = click.option(
    "-o",
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write.",
)


@round_group.command("export")
@click.argument("ref", metavar="ROUND")
@_OUT
@click.option("--signed", is_flag=True, help="A round package signed by this node, for a hub.")
@click.option(
    "--group",
    "groups",
    multiple=True,
    help="Only for this region group's hub (repeat; default: every group consented to).",
)
@click.option("--ratings", is_flag=True, help="Include each stakeholder group's ratings.")
@pass_state
def round_export(
    state: CliState, ref: str, out: Path, signed: bool, groups: tuple[str, ...], ratings: bool
) -> None:
    """Write a published round: its agreed stages, dissent and metadata (JSON, or signed)."""
    writable(out)
    with unit(state) as ctx:
        if signed:
            made = publication.export_round(
                ctx, state.node().settings, ref, groups=groups, ratings=ratings
            )
            data, round_id, sent = made.data, made.round_id, made.groups
        else:
            doc = publication.round_document(ctx, ref, groups=groups, ratings=ratings)
            data = json.dumps(doc, indent=2, sort_keys=True).encode() + b"\n"
            round_id, sent = doc["round"]["id"], tuple(doc["groups"])
    write_file(out, data)
    kind = "signed round package" if signed else "round"
    say(f"Wrote {out}: {kind} {round_id} for {', '.join(sent)}")


@round_group.command("withdraw")
@click.argument("ref", metavar="ROUND")
@click.option("--group", required=True, help="The region group to withdraw the round from.")
@click.option("--reason", required=True, help="Why: the hub shows it with the withdrawal.")
@_OUT
@pass_state
def round_withdraw(state: CliState, ref: str, group: str, reason: str, out: Path) -> None:
    """Write a signed withdrawal of a published round from a region group, for its hub."""
    writable(out)
    with unit(state) as ctx:
        made = publication.withdraw_round(ctx, state.node().settings, ref, group, reason)
    write_file(out, made.data)
    say(f"Wrote {out}: withdrawal of round {made.round_id} from {made.groups[0]}")


@round_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@pass_state
def round_import(state: CliState, file: Path, as_json: bool) -> None:
    """At a hub: verify a nation's signed round package (or withdrawal) and hold it."""
    data = read_input(file)
    with unit(state) as ctx:
        done = publication.import_round(ctx, data)
    record: dict[str, Any] = {
        "round": done.round_id,
        "nation": done.nation,
        "action": done.action,
        "outcome": done.outcome,
        "groups": list(done.groups),
    }
    if as_json:
        emit_json(record)
        return
    said = {
        "stored": "now held for",
        "replaced": "replaced by a newer package for",
        "unchanged": "unchanged (this package is not newer than the one held) for",
        "withdrawn": "withdrawn from",
        "not_held": "not held here; nothing to withdraw from",
    }[done.outcome]
    say(f"Round {done.round_id} of {done.nation}: {said} {', '.join(done.groups)}")


COMMANDS: tuple[click.Command, ...] = ()
