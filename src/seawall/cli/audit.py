"""Audit commands: verify the chain, show entries."""

from __future__ import annotations

from datetime import datetime

import click

from seawall.catalogs import counted
from seawall.cli.context import CliState, pass_state
from seawall.cli.listing import emit_page, paging_options
from seawall.cli.output import emit_json, emit_or_table, emit_table, fmt_time, json_option, say
from seawall.core import audit as audit_log
from seawall.core.paging import PageRequest
from seawall.errors import AuditChainBroken
from seawall.intel.errors import AuditWitnessContradicts


@click.group("audit")
def group() -> None:
    """Inspect the hash-chained audit log."""


@group.command("verify")
@click.option(
    "--witnesses",
    is_flag=True,
    help="Also check the chain against the heads the partners hold for this node.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(1, 600),
    default=20.0,
    show_default=True,
    help="Seconds to wait for each partner (with --witnesses).",
)
@json_option
@pass_state
def verify(state: CliState, witnesses: bool, timeout: float, as_json: bool) -> None:
    """Check every entry; name any that was edited or deleted (exit 1 if so).

    With --witnesses, ask every linked, enabled partner for the signed head of this node's
    log it holds, and exit 1 when one shows the log was truncated or rewritten.
    """
    # Imported here: asking partners loads the HTTP client, which `audit list` need not pay for.
    from seawall.intel import witness_check

    node = state.node()
    with state.operator_unit() as ctx:
        result = audit_log.verify(ctx.db, node.audit_key)
        checks = witness_check.check_witnesses(ctx, node.settings, timeout) if witnesses else []
    contradicted = [c for c in checks if c.contradicts]
    if as_json:
        emit_json(
            {
                "ok": result.ok and not contradicted,
                "checked": result.checked,
                "problems": [
                    {"seq": p.seq, "kind": p.kind, "message": p.message} for p in result.problems
                ],
                "witnesses": [c.as_dict() for c in checks],
            }
        )
    elif witnesses:
        for check in checks:
            say(f"{check.partner}: {check.verdict}: {check.message}")
        if not checks:
            say("No linked, enabled partner to ask: nothing witnesses this log")
    if not result.ok:
        raise AuditChainBroken(
            "audit log tampered: " + "; ".join(p.message for p in result.problems)
        )
    if contradicted:
        raise AuditWitnessContradicts(
            "audit log contradicted by its witnesses: " + "; ".join(c.message for c in contradicted)
        )
    if not as_json:
        agreeing = sum(c.verdict == witness_check.AGREES for c in checks)
        witnessed = (
            f"; {agreeing} of {counted(len(checks), 'witness', 'witnesses')} agree"
            if witnesses
            else ""
        )
        say(f"Audit log intact: {counted(result.checked, 'entry', 'entries')} verified{witnessed}")


@group.command("witnessed")
@json_option
@pass_state
def witnessed(state: CliState, as_json: bool) -> None:
    """Per partner: the head of its audit log this node witnesses, and what it holds of ours."""
    from seawall.intel import witness_check

    with state.operator_unit() as ctx:
        rows = witness_check.witnessing(ctx)
    emit_or_table(
        as_json,
        [row.as_dict() for row in rows],
        "Audit heads witnessed",
        ["Partner", "Nation", "Their head", "Hash", "Signed", "Via", "Refused", "Ours held"],
        (
            [
                row.partner,
                row.nation,
                "none" if row.theirs is None else str(row.theirs),
                row.theirs_hash[:16],
                fmt_time(row.theirs_signed_at),
                row.theirs_via,
                str(row.refused),
                "none" if row.ours is None else str(row.ours),
            ]
            for row in rows
        ),
    )


@group.command("show")
@click.option("--actor", default=None, help="Only this actor.")
@click.option("--action", default=None, help="Only this action or dotted prefix (e.g. user).")
@click.option("--target", default=None, help="Only this target id.")
@click.option("--since", type=click.DateTime(), default=None, help="From this UTC time.")
@click.option("--until", type=click.DateTime(), default=None, help="Before this UTC time.")
@click.option(
    "--sort",
    type=click.Choice([o.value for o in audit_log.Order]),
    default="newest",
    show_default=True,
    help="Newest or oldest (chain order) first.",
)
@paging_options
@json_option
@pass_state
def show(
    state: CliState,
    actor: str | None,
    action: str | None,
    target: str | None,
    since: datetime | None,
    until: datetime | None,
    sort: str,
    limit: int,
    cursor: str | None,
    as_json: bool,
) -> None:
    """List entries, newest first, one page at a time, with the total."""
    from datetime import UTC

    filt = audit_log.AuditFilter(
        actor=actor,
        action=action,
        target=target,
        since=since.replace(tzinfo=UTC) if since else None,
        until=until.replace(tzinfo=UTC) if until else None,
    )
    with state.operator_unit() as ctx:
        page = audit_log.page(ctx, filt, PageRequest(limit, cursor), audit_log.Order(sort).sort)
    rows = page.items
    emit_page(
        as_json,
        page,
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
        ],
        lambda: emit_table(
            "Audit log",
            ["#", "When (UTC)", "Actor", "Action", "Target", "From"],
            [
                (
                    e.seq,
                    e.at.strftime("%Y-%m-%d %H:%M:%S"),
                    e.actor,
                    e.action,
                    e.target[:24],
                    e.source,
                )
                for e in rows
            ],
        ),
    )
