"""Audit commands: verify the chain, show entries."""

from __future__ import annotations

from datetime import datetime

import click

from seawall.cli.context import CliState, pass_state
from seawall.cli.output import emit_json, emit_table, json_option, say
from seawall.core import audit as audit_log
from seawall.errors import AuditChainBroken


@click.group("audit")
def group() -> None:
    """Inspect the hash-chained audit log."""


@group.command("verify")
@json_option
@pass_state
def verify(state: CliState, as_json: bool) -> None:
    """Check every entry; name any that was edited or deleted (exit 1 if so)."""
    node = state.node()
    with node.unit(node.operator()) as ctx:
        result = audit_log.verify(ctx.db, node.audit_key)
    if as_json:
        emit_json(
            {
                "ok": result.ok,
                "checked": result.checked,
                "problems": [
                    {"seq": p.seq, "kind": p.kind, "message": p.message} for p in result.problems
                ],
            }
        )
    if not result.ok:
        raise AuditChainBroken(
            "audit log tampered: " + "; ".join(p.message for p in result.problems)
        )
    if not as_json:
        say(f"Audit log intact: {result.checked} entries verified")


@group.command("show")
@click.option("--actor", default=None, help="Only this actor.")
@click.option("--action", default=None, help="Only this action or dotted prefix (e.g. user).")
@click.option("--target", default=None, help="Only this target id.")
@click.option("--since", type=click.DateTime(), default=None, help="From this UTC time.")
@click.option("--until", type=click.DateTime(), default=None, help="Before this UTC time.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@json_option
@pass_state
def show(
    state: CliState,
    actor: str | None,
    action: str | None,
    target: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    as_json: bool,
) -> None:
    """List entries, newest first."""
    from datetime import UTC

    node = state.node()
    filt = audit_log.AuditFilter(
        nation=node.nation,
        actor=actor,
        action=action,
        target=target,
        since=since.replace(tzinfo=UTC) if since else None,
        until=until.replace(tzinfo=UTC) if until else None,
        limit=limit,
    )
    with node.unit(node.operator()) as ctx:
        rows = audit_log.search(ctx.db, filt)
    if as_json:
        emit_json(
            [
                {
                    "seq": e.seq,
                    "at": e.at,
                    "actor": e.actor,
                    "nation": e.nation,
                    "action": e.action,
                    "target": e.target,
                    "source": e.source,
                    "detail": e.detail,
                }
                for e in rows
            ]
        )
        return
    emit_table(
        "Audit log",
        ["#", "When (UTC)", "Actor", "Action", "Target", "From"],
        [
            (e.seq, e.at.strftime("%Y-%m-%d %H:%M:%S"), e.actor, e.action, e.target[:24], e.source)
            for e in rows
        ],
    )
