"""``seawall alerts``: what needs someone now, and acknowledging it."""

from __future__ import annotations

import click

from seawall.cli.context import CliState, pass_state
from seawall.cli.output import emit_or_say, emit_or_table, fmt_time, json_option, say
from seawall.core import alerts as core_alerts
from seawall.db.models.alerts import Alert


@click.group("alerts")
def group() -> None:
    """Alerts: failed or missed scheduled runs, copies older than their RPO."""


def _doc(row: Alert) -> dict[str, object]:
    return {
        "id": row.id,
        "kind": row.kind,
        "subject": row.subject,
        "message": row.message,
        "raised_at": row.raised_at,
        "last_raised_at": row.last_raised_at,
        "count": row.count,
        "acknowledged_at": row.acknowledged_at,
        "acknowledged_by": row.acknowledged_by,
        "delivered_to": len(row.delivered_to or []),
        "delivery_error": row.delivery_error or None,
    }


@group.command("list")
@click.option("--all", "everything", is_flag=True, help="Acknowledged alerts too.")
@json_option
@pass_state
def list_cmd(state: CliState, everything: bool, as_json: bool) -> None:
    """Open alerts, newest first (with --all, acknowledged ones too)."""
    with state.operator_unit() as ctx:
        rows = core_alerts.list_alerts(ctx, everything=everything)
    if not rows and not as_json:
        say("no open alerts" if not everything else "no alerts")
        return
    emit_or_table(
        as_json,
        [_doc(row) for row in rows],
        "Alerts",
        ["Id", "Raised", "Kind", "Subject", "Times", "Message", "Acknowledged"],
        [
            [
                row.id[:8],
                fmt_time(row.last_raised_at),
                row.kind,
                row.subject,
                row.count,
                row.message,
                f"{row.acknowledged_by} {fmt_time(row.acknowledged_at)}"
                if row.acknowledged_at
                else "",
            ]
            for row in rows
        ],
    )


@group.command("ack")
@click.argument("alert_id")
@click.option("--note", default="", help="What is being done about it (audited).")
@json_option
@pass_state
def ack(state: CliState, alert_id: str, note: str, as_json: bool) -> None:
    """Acknowledge an alert (its id, or its first 8 characters)."""
    with state.operator_unit() as ctx:
        row = core_alerts.acknowledge(ctx, alert_id, note)
        doc = _doc(row)
    emit_or_say(as_json, doc, f"alert {row.id[:8]} acknowledged ({row.kind}: {row.subject})")
