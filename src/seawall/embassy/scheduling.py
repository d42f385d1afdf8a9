"""``run-due``: one pass over every schedule, running what is due through the embassy service.

A pass plans each enabled schedule (:func:`~seawall.embassy.schedules.plan`), claims the
due ones, runs each as the node's operator (so it is recorded, audited and counted as
evidence like a run from the CLI), and then raises alerts: for missed due times, for a run
that failed (a check that found problems, a drill over its RTO), and for a repository whose
last good backup is older than its RPO. It ends by delivering open alerts. A pass holds no
transaction while a run works, and running it twice at once runs nothing twice.

Passphrases: a scheduled run has nobody to ask, so it reads the repository's passphrase from
a file named after it in ``SEAWALL_EMBASSY_PASSPHRASE_DIR`` (readable by its owner only, as
restic's ``--password-file``), or else from ``SEAWALL_EMBASSY_PASSPHRASE``.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from seawall.catalogs import counted
from seawall.core.access import Perm, require
from seawall.core.alerts import Delivery, deliver_alerts, raise_alert
from seawall.core.clock import Clock
from seawall.core.context import Ctx
from seawall.core.logs import log
from seawall.db.models.schedules import EmbassySchedule
from seawall.embassy import schedules, service
from seawall.embassy.hosting.store import HostedBlobs, hosted_root
from seawall.embassy.hosting.upkeep import upkeep
from seawall.embassy.schedules import Plan, format_duration
from seawall.embassy.service.auditing import audit
from seawall.embassy.service.base import Units
from seawall.embassy.service.drills import drill
from seawall.errors import ConfigError, SeawallError
from seawall.settings import Settings

PASSPHRASE_ENV = "SEAWALL_EMBASSY_PASSPHRASE"  # noqa: S105 - a variable name


def passphrase_of(settings: Settings, repo: str) -> str:
    """The passphrase a scheduled run opens ``repo`` with (see the module docstring)."""
    path = settings.effective_passphrase_dir / repo
    if path.exists():
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(
                f"{path} may be read by others (mode {stat.S_IMODE(mode):o}): chmod 600 it"
            )
        text = path.read_text().rstrip("\n")
        if text:
            return text
    from_env = os.environ.get(PASSPHRASE_ENV)
    if from_env:
        return from_env
    raise ConfigError(
        f"no passphrase for a scheduled run of {repo}: write it to {path} (mode 600) "
        f"or set {PASSPHRASE_ENV}"
    )


@dataclass(frozen=True)
class Outcome:
    """How one scheduled run (or, in a dry run, one due schedule) went."""

    schedule: str
    repo: str
    kind: str
    due_at: datetime | None
    missed: int
    outcome: str  # success, partial, failure, skipped (another pass took it), due (dry run)
    message: str


@dataclass
class Pass:
    """What one pass did."""

    ran: list[Outcome] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    delivery: Delivery = field(default_factory=Delivery)


def _execute(
    units: Units, clock: Clock, settings: Settings, row: EmbassySchedule, repo: str
) -> tuple[str, str]:
    """Run one schedule's job through the service: (outcome, one-line message)."""
    access = service.Access(units, repo, clock, passphrase=lambda: passphrase_of(settings, repo))
    if row.kind == "backup":
        done = service.backup(access, row.paths, excludes=row.excludes, tags=["scheduled"])
        note = f"; left out {len(done.skipped)} paths" if done.skipped else ""
        return "success", f"snapshot {done.snapshot.short_id}, {done.snapshot.files} files{note}"
    if row.kind == "audit":
        # Partner sites answer challenges (a few KB); a repository without any is checked.
        sample = row.read_data if isinstance(row.read_data, float) and row.read_data else 0.05
        audited = audit(access, sample)
        if any(s.auditable for s in audited.sites):
            if audited.problems:
                return "failure", f"audit found {len(audited.problems)} problems: " + (
                    audited.problems[0]
                )
            challenged = sum(s.challenged for s in audited.sites)
            return "success", f"{challenged} shares proven held by partner hosts"
    if row.kind in ("check", "audit"):
        checked = service.check(access, row.read_data or False)
        if checked.errors:
            return "failure", f"check found {counted(len(checked.errors), 'problem')}: " + (
                checked.errors[0].message
            )
        return (
            "success",
            f"{counted(checked.packs, 'pack')}, {counted(checked.shares_read, 'share')} read",
        )
    result = drill(access, scratch_dir(settings), rto_seconds=row.rto_seconds)
    return ("success" if result.passed else "failure"), result.summary()


def run_due(
    units: Units,
    clock: Clock,
    settings: Settings,
    *,
    dry_run: bool = False,
    http: httpx.Client | None = None,
) -> Pass:
    """Run every due schedule once, raise the alerts they call for, and deliver alerts."""
    done = Pass()
    with units() as ctx:
        # Running what is due claims schedules before any job opens a repository: an operator's act.
        require(ctx.who, Perm.EMBASSY_OPERATE)
        listed = [(row, name) for row, name in schedules.list_schedules(ctx) if row.enabled]
        for row, _name in listed:
            ctx.db.expunge(row)
    for row, repo in listed:
        now = clock.now()
        chosen = schedules.plan(schedules.timing_of(row), row.done_through, now, _grace(row))
        if chosen.run_for is None:
            continue
        if dry_run:
            done.ran.append(
                Outcome(row.id, repo, row.kind, chosen.run_for, chosen.missed, "due", "")
            )
            continue
        with units() as ctx:
            taken = schedules.claim(ctx, row, row.done_through, chosen)
            if taken and chosen.missed:
                done.alerts.append(_missed(ctx, row, repo, chosen))
        if not taken:
            done.ran.append(
                Outcome(
                    row.id, repo, row.kind, chosen.run_for, 0, "skipped", "taken by another pass"
                )
            )
            continue
        try:
            outcome, message = _execute(units, clock, settings, row, repo)
        except SeawallError as exc:
            outcome, message = "failure", exc.message
        with units() as ctx:
            schedules.finish(ctx, row.id, outcome, message)
            ctx.record(
                "embassy.schedule.ran",
                row.id,
                name=repo,
                kind=row.kind,
                due_at=chosen.run_for.isoformat(),
                outcome=outcome,
            )
            if outcome == "failure":
                raise_alert(
                    ctx,
                    "embassy.schedule.failed",
                    f"{repo} {row.kind}",
                    f"scheduled {row.kind} of {repo} due {chosen.run_for:%Y-%m-%d %H:%M} UTC "
                    f"failed: {message}",
                )
                done.alerts.append(f"embassy.schedule.failed {repo} {row.kind}")
        done.ran.append(
            Outcome(row.id, repo, row.kind, chosen.run_for, chosen.missed, outcome, message)
        )
    if not dry_run:
        done.alerts.extend(_check_rpo(units))
        done.alerts.extend(_host_upkeep(units, settings))
        done.delivery = deliver_alerts(units, settings, http=http)
    return done


def _grace(row: EmbassySchedule) -> timedelta:
    return timedelta(seconds=row.grace_seconds)


def _missed(ctx: Ctx, row: EmbassySchedule, repo: str, chosen: Plan) -> str:
    first = chosen.first_missed
    since = f" since {first:%Y-%m-%d %H:%M} UTC" if first else ""
    raise_alert(
        ctx,
        "embassy.schedule.missed",
        f"{repo} {row.kind}",
        f"scheduled {row.kind} of {repo} missed {chosen.missed} due times{since} "
        f"(no pass within the {format_duration(row.grace_seconds)} grace); running it now",
    )
    ctx.record("embassy.schedule.missed", row.id, name=repo, kind=row.kind, count=chosen.missed)
    return f"embassy.schedule.missed {repo} {row.kind}"


def _check_rpo(units: Units) -> list[str]:
    raised = []
    with units() as ctx:
        for state in schedules.rpo_states(ctx):
            if not state.exceeded:
                continue
            last = (
                f"last good backup {state.last_backup:%Y-%m-%d %H:%M} UTC"
                if state.last_backup
                else "no good backup yet"
            )
            raise_alert(
                ctx,
                "embassy.rpo.exceeded",
                state.repo,
                f"{state.repo}: {last}, {format_duration(state.age)} ago, "
                f"beyond its RPO of {format_duration(state.rpo)}",
            )
            raised.append(f"embassy.rpo.exceeded {state.repo}")
    return raised


def _host_upkeep(units: Units, settings: Settings) -> list[str]:
    """As a host: purge what guests released once retention allows, alert on ended
    agreements; a failure is logged and the pass goes on to deliver alerts."""
    try:
        with units() as ctx:
            done = upkeep(ctx, lambda: HostedBlobs(hosted_root(settings)))
    except SeawallError as exc:
        log.error("embassy.hosting.upkeep_failed", error=exc.code)
        return []
    for agreement, purged in done.purged.items():
        log.info("embassy.hosting.swept", agreement=agreement, purged=purged)
    return done.alerts


def scratch_dir(settings: Settings) -> Path:
    """Where drills restore (and delete again): ``drills`` in the restore directory."""
    return settings.effective_restore_dir / "drills"


class Ticker:
    """``seawall serve``'s background job: one :func:`run_due` pass every ``interval``
    seconds, as a systemd timer would start ``seawall embassy run-due``, run by APScheduler's
    background scheduler. Passes never overlap (one instance at most; a pass that overran its
    slot is not run twice to catch up); a pass that fails is logged and the next one runs."""

    def __init__(
        self, units: Units, clock: Clock, settings: Settings, interval: float | None = None
    ) -> None:
        self.units, self.clock, self.settings = units, clock, settings
        self.interval = interval if interval is not None else settings.schedule_interval_seconds
        self._scheduler = BackgroundScheduler(daemon=True)
        self.passes = 0

    def start(self) -> Ticker:
        """Start the scheduler; the first pass runs at once."""
        self._scheduler.add_job(
            self._pass,
            IntervalTrigger(seconds=self.interval),
            id="seawall-run-due",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
        )
        self._scheduler.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the scheduler, waiting for a pass under way to end."""
        del timeout  # APScheduler waits for the running pass itself
        self._scheduler.shutdown(wait=True)

    def _pass(self) -> None:
        try:
            done = run_due(self.units, self.clock, self.settings)
            for ran in done.ran:
                log.info(
                    "embassy.schedule.ran",
                    repo=ran.repo,
                    kind=ran.kind,
                    outcome=ran.outcome,
                    missed=ran.missed,
                )
        except Exception:  # the scheduler must outlive one bad pass
            log.exception("embassy.schedule.pass_failed")
        self.passes += 1
