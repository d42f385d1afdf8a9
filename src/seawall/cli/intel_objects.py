"""``seawall intel revoke|remark|extend|correlate``: one object's revisions and correlations."""

from __future__ import annotations

import click

from seawall.cli.context import CliState, pass_state
from seawall.cli.output import emit_json, emit_or_table, json_option, say
from seawall.intel import correlation, revisions, search
from seawall.intel.collections import get_collection
from seawall.intel.search import Version

COLLECTION = click.option(
    "--collection", "collection_ref", required=True, help="The collection holding the object."
)


def _done(version: Version, said: str, as_json: bool) -> None:
    if as_json:
        emit_json(version.body)
    else:
        say(f"{said} {version.id} (version {version.body.get('modified')}, {version.tlp.label})")


@click.command("revoke")
@click.argument("object_id")
@COLLECTION
@json_option
@pass_state
def revoke(state: CliState, object_id: str, collection_ref: str, as_json: bool) -> None:
    """Revoke an object your nation holds: a final version that matching and exports skip."""
    with state.operator_unit() as ctx:
        version = revisions.revoke(ctx, collection_ref, object_id)
    _done(version, "Revoked", as_json)


@click.command("remark")
@click.argument("object_id")
@click.argument("tlp")
@COLLECTION
@json_option
@pass_state
def remark(state: CliState, object_id: str, tlp: str, collection_ref: str, as_json: bool) -> None:
    """Re-mark an object your nation holds with TLP (the same or stricter, never looser)."""
    with state.operator_unit() as ctx:
        version = revisions.remark(ctx, collection_ref, object_id, tlp)
    _done(version, "Re-marked", as_json)


@click.command("extend")
@click.argument("object_id")
@click.argument("until")
@COLLECTION
@json_option
@pass_state
def extend(state: CliState, object_id: str, until: str, collection_ref: str, as_json: bool) -> None:
    """Move an indicator's valid_until later (UNTIL like 2027-01-31T00:00:00Z)."""
    with state.operator_unit() as ctx:
        version = revisions.extend(ctx, collection_ref, object_id, until)
    _done(version, "Extended", as_json)


@click.command("correlate")
@click.argument("object_id")
@COLLECTION
@json_option
@pass_state
def correlate(state: CliState, object_id: str, collection_ref: str, as_json: bool) -> None:
    """The other objects you may read that hold a value this object holds."""
    with state.operator_unit() as ctx:
        newest = search.history(ctx, get_collection(ctx, collection_ref), object_id)[0]
        found = correlation.correlated(ctx, newest)
    emit_or_table(
        as_json,
        [
            {
                "collection": c.collection,
                "id": c.id,
                "type": c.type,
                "name": c.name,
                "tlp": c.tlp.label,
                "nation": c.owner_nation,
                "shared": [{"kind": o.kind.value, "value": o.value} for o in c.shared],
            }
            for c in found.objects
        ],
        "Correlated objects",
        ["Name", "Type", "Shared value", "TLP", "Nation", "Collection"],
        (
            (
                c.name,
                c.type,
                ", ".join(o.value for o in c.shared),
                c.tlp.label,
                c.owner_nation,
                c.collection,
            )
            for c in found.objects
        ),
    )


COMMANDS = (revoke, remark, extend, correlate)
