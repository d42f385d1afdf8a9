"""``seawall embassy schedule ...`` and ``seawall embassy run-due``: timed backups, checks,
audits and restore drills, for a systemd timer or ``seawall serve`` to run."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import click

from seawall.cli.context import CliState, pass_state
from seawall.cli.embassy.access import fraction, repo_option
from seawall.cli.output import emit_json, emit_or_say, emit_or_table, fmt_time, json_option, say
from seawall.db.models.schedules import EmbassySchedule
from seawall.embassy import schedules
from seawall.embassy.schedules import RpoState, describe, format_duration, parse_duration
from seawall.embassy.scheduling import run_due


@click.group("schedule")
def schedule() -> None:
    """Backups, checks, audits and restore drills on a schedule."""


def _duration(option: str) -> Any:
    def convert(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
        return None if value is None else parse_duration(value, option)

    return convert


@schedule.command("add")
@repo_option
@click.argument("kind", type=click.Choice(schedules.KINDS))
@click.argument("paths", nargs=-1)
@click.option("--cron", default=None, help="A cron expression, e.g. '0 2 * * *'.")
@click.option(
    "--every", default=None, callback=_duration("--every"), help="An interval: 30m, 6h, 1d, 1w."
)
@click.option("--tz", "timezone", default="UTC", show_default=True, help="Time zone of --cron.")
@click.option(
    "--grace",
    default="10m",
    show_default=True,
    callback=_duration("--grace"),
    help="How late a run may start before its due time counts as missed.",
)
@click.option("--exclude", "excludes", multiple=True, help="Glob to leave out (backup).")
@click.option("--read-data-subset", default=None, help="Share of shares to read (check, audit).")
@click.option("--rpo", default=None, callback=_duration("--rpo"), help="Backup: RPO, e.g. 1d.")
@click.option("--rto", default=None, callback=_duration("--rto"), help="Drill: RTO target.")
@json_option
@pass_state
def add(
    state: CliState,
    repo_ref: str,
    kind: str,
    paths: tuple[str, ...],
    cron: str | None,
    every: timedelta | None,
    timezone: str,
    grace: timedelta,
    excludes: tuple[str, ...],
    read_data_subset: str | None,
    rpo: timedelta | None,
    rto: timedelta | None,
    as_json: bool,
) -> None:
    """Schedule KIND (backup PATH..., check, audit or drill) for a repository."""
    subset = fraction(read_data_subset, "--read-data-subset") if read_data_subset else None
    request = schedules.Request(
        kind, cron, every, timezone, grace, paths, excludes, subset, rpo, rto
    )
    with state.operator_unit() as ctx:
        row = schedules.add_schedule(ctx, repo_ref, request)
        first = schedules.timing_of(row).after(row.done_through)
        doc = _doc(row, repo_ref)
    emit_or_say(
        as_json,
        doc,
        f"schedule {row.id[:8]}: {kind} of {repo_ref}, {describe(row)}; first due "
        f"{fmt_time(first)} UTC",
    )


def _doc(row: EmbassySchedule, repo: str, rpo: RpoState | None = None) -> dict[str, Any]:
    due = schedules.timing_of(row).after(row.done_through) if row.enabled else None
    doc: dict[str, Any] = {
        "id": row.id,
        "repo": repo,
        "kind": row.kind,
        "cron": row.cron,
        "every_seconds": row.every_seconds,
        "timezone": row.timezone,
        "grace_seconds": row.grace_seconds,
        "paths": row.paths,
        "excludes": row.excludes,
        "read_data": row.read_data,
        "rpo_seconds": row.rpo_seconds,
        "rto_seconds": row.rto_seconds,
        "enabled": row.enabled,
        "next_due": due,
        "last_run": row.last_run_at,
        "last_outcome": row.last_outcome or None,
        "last_message": row.last_message or None,
        "missed": row.missed,
    }
    if rpo is not None and row.kind == "backup" and row.rpo_seconds:
        doc["last_backup"] = rpo.last_backup
        doc["backup_age_seconds"] = int(rpo.age.total_seconds())
        doc["rpo_exceeded"] = rpo.exceeded
    return doc


def _target(doc: dict[str, Any]) -> str:
    if doc["rpo_seconds"]:
        age = doc.get("backup_age_seconds")
        mark = " EXCEEDED" if doc.get("rpo_exceeded") else ""
        return f"age {format_duration(age)} / RPO {format_duration(doc['rpo_seconds'])}{mark}"
    if doc["rto_seconds"]:
        return f"RTO {format_duration(doc['rto_seconds'])}"
    if doc["read_data"]:
        return f"reads {doc['read_data']:.0%}"
    return ""


@schedule.command("list")
@click.option("--repo", "repo_ref", default=None, help="Only this repository's schedules.")
@json_option
@pass_state
def list_cmd(state: CliState, repo_ref: str | None, as_json: bool) -> None:
    """Schedules, when each is next due, how the last run went, and backup age against RPO."""
    with state.operator_unit() as ctx:
        rpo = {s.repo: s for s in schedules.rpo_states(ctx)}
        docs = [
            _doc(row, name, rpo.get(name)) for row, name in schedules.list_schedules(ctx, repo_ref)
        ]
    emit_or_table(
        as_json,
        docs,
        "Schedules",
        ["Id", "Repository", "Kind", "When", "Next due", "Last run", "Outcome", "Missed", "Target"],
        [
            [
                d["id"][:8],
                d["repo"],
                d["kind"],
                describe_doc(d),
                fmt_time(d["next_due"]) if d["enabled"] else "disabled",
                fmt_time(d["last_run"]),
                d["last_outcome"] or "—",
                d["missed"],
                _target(d),
            ]
            for d in docs
        ],
        drop=("Missed", "Last run"),
    )


def describe_doc(doc: dict[str, Any]) -> str:
    """A schedule's timing from its JSON form."""
    if doc["cron"]:
        zone = "" if doc["timezone"] == "UTC" else f" ({doc['timezone']})"
        return f"cron {doc['cron']}{zone}"
    return f"every {format_duration(doc['every_seconds'])}"


@schedule.command("remove")
@click.argument("schedule_id")
@pass_state
def remove(state: CliState, schedule_id: str) -> None:
    """Delete a schedule (its runs stay in the history)."""
    with state.operator_unit() as ctx:
        row = schedules.remove_schedule(ctx, schedule_id)
    say(f"schedule {row.id[:8]} removed")


def _toggle(state: CliState, schedule_id: str, enabled: bool) -> None:
    with state.operator_unit() as ctx:
        row = schedules.set_enabled(ctx, schedule_id, enabled)
    say(f"schedule {row.id[:8]} {'enabled' if enabled else 'disabled'}")


@schedule.command("enable")
@click.argument("schedule_id")
@pass_state
def enable(state: CliState, schedule_id: str) -> None:
    """Enable a schedule; due times that passed while it was off are skipped."""
    _toggle(state, schedule_id, True)


@schedule.command("disable")
@click.argument("schedule_id")
@pass_state
def disable(state: CliState, schedule_id: str) -> None:
    """Disable a schedule: run-due leaves it alone, and nothing counts as missed."""
    _toggle(state, schedule_id, False)


@click.command("run-due")
@click.option("--dry-run", is_flag=True, help="Say what is due; run and record nothing.")
@json_option
@pass_state
def run_due_cmd(state: CliState, dry_run: bool, as_json: bool) -> None:
    """Run every schedule that is due, once; exit 1 when a run failed (for a systemd timer)."""
    node = state.node()
    done = run_due(
        lambda: state.operator_unit("scheduler"), node.clock, node.settings, dry_run=dry_run
    )
    rows = [
        {
            "schedule": r.schedule,
            "repo": r.repo,
            "kind": r.kind,
            "due_at": r.due_at,
            "missed": r.missed,
            "outcome": r.outcome,
            "message": r.message,
        }
        for r in done.ran
    ]
    if as_json:
        emit_json(
            {
                "dry_run": dry_run,
                "ran": rows,
                "alerts": done.alerts,
                "delivered": [{"alert": a, "channel": c} for a, c in done.delivery.sent],
                "delivery_failed": [{"alert": a, "error": e} for a, e in done.delivery.failed],
            }
        )
    elif not rows:
        say("nothing is due")
    else:
        emit_or_table(
            False,
            rows,
            "Due now" if dry_run else "Scheduled runs",
            ["Schedule", "Repository", "Kind", "Due", "Missed", "Outcome", "Message"],
            [
                [
                    r.schedule[:8],
                    r.repo,
                    r.kind,
                    fmt_time(r.due_at),
                    r.missed,
                    r.outcome,
                    r.message,
                ]
                for r in done.ran
            ],
        )
    if not as_json:
        for raised in done.alerts:
            say(f"alert: {raised}")
        for _alert, error in done.delivery.failed:
            say(f"alert delivery failed: {error} (tried again next run)")
    if any(r.outcome == "failure" for r in done.ran):
        raise click.exceptions.Exit(1)
