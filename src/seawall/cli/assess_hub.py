"""``seawall assess round export``, ``send``, ``withdraw`` and ``import``: rounds that travel
to a hub, and rounds a hub enters from CSV or JSON for nations without a node."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from seawall.assess import entry, publication
from seawall.catalogs import counted
from seawall.cli.assess import unit
from seawall.cli.assess_rounds import round_group
from seawall.cli.context import CliState, pass_state
from seawall.cli.output import emit_json, json_option, read_input, say, writable, write_file
from seawall.errors import InvalidInput

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
@click.option(
    "-o",
    "--out",
    "out",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the signed withdrawal to this file, to carry by hand.",
)
@pass_state
def round_withdraw(state: CliState, ref: str, group: str, reason: str, out: Path | None) -> None:
    """Withdraw a published round from a region group: queued for its hub, or written out."""
    if out is not None:
        writable(out)
    with unit(state) as ctx:
        made = publication.withdraw(ctx, state.node().settings, ref, group, reason)
        hubs = publication.hubs_for(ctx, made.groups)
    if out is not None:
        write_file(out, made.data)
        say(f"Wrote {out}: withdrawal of round {made.round_id} from {made.groups[0]}")
    for name in hubs:
        say(f"Withdrawal queued for hub {name}: run `seawall partner deliver`")
    if out is None and not hubs:
        say(f"No partner is hub for {made.groups[0]}: write the withdrawal with -o and carry it")


@round_group.command("send")
@click.argument("ref", metavar="ROUND")
@click.option("--group", "groups", multiple=True, help="Only this group's hub (repeat).")
@json_option
@pass_state
def round_send(state: CliState, ref: str, groups: tuple[str, ...], as_json: bool) -> None:
    """Queue a published round again for the hubs of its groups (a hub added since)."""
    with unit(state) as ctx:
        sent = publication.send_round(ctx, state.node().settings, ref, groups)
    if as_json:
        emit_json(
            {"round": sent.round_id, "queued_for": {h: list(g) for h, g in sent.hubs.items()}}
        )
    elif not sent.hubs:
        say("No partner is hub for those groups: add one with `seawall partner add --hub-for`")
    for hub, served in [] if as_json else sent.hubs.items():
        say(f"Round {sent.round_id} queued for hub {hub} ({', '.join(served)})")


@round_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(entry.FORMATS),
    default=None,
    help="What FILE holds (default: told from its content).",
)
@click.option(
    "--group",
    "groups",
    multiple=True,
    help="Count rounds entered from CSV or JSON only in this region group (repeat).",
)
@json_option
@pass_state
def round_import(
    state: CliState, file: Path, fmt: str | None, groups: tuple[str, ...], as_json: bool
) -> None:
    """At a hub: hold a nation's signed round package (or withdrawal), or enter rounds from
    CSV or JSON for nations without a node."""
    data = read_input(file)
    kind = fmt or entry.detect_format(data)
    if kind != entry.PACKAGE:
        with unit(state) as ctx:
            entered = entry.enter_rounds(ctx, data, file.name, kind, groups)
        _said_entered(entered, as_json)
        return
    if groups:
        raise InvalidInput(
            "--group is for rounds entered from CSV or JSON: a package names its groups"
        )
    with unit(state) as ctx:
        done = publication.import_round(ctx, data)
    record: dict[str, Any] = {
        "round": done.round_id,
        "nation": done.nation,
        "action": done.action,
        "outcome": done.outcome,
        "groups": list(done.groups),
        "replaced_entered": list(done.replaced_entered),
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
    if done.replaced_entered:
        say(f"It replaces the round entered here: {', '.join(done.replaced_entered)}")


def _said_entered(entered: list[entry.Entered], as_json: bool) -> None:
    if as_json:
        emit_json(
            [
                {
                    "round": e.round_id,
                    "nation": e.nation,
                    "year": e.year,
                    "framework": e.framework_id,
                    "rows": e.rows,
                    "outcome": e.outcome,
                    "groups": list(e.groups),
                }
                for e in entered
            ]
        )
        return
    for e in entered:
        done = "entered" if e.outcome == "stored" else "entered again, replacing the last entry,"
        say(
            f"Round {e.round_id} of {e.nation} {e.year} ({e.framework_id}, "
            f"{counted(e.rows, 'factor')}): "
            f"{done} for {', '.join(e.groups)}"
        )


COMMANDS: tuple[click.Command, ...] = ()
