"""Schedules: when each repository's backup, check, audit and restore drill are due.

The pure part (:class:`Timing`, :func:`plan`) says, for a schedule and a moment, which due
time to run now and how many were missed; croniter evaluates cron expressions (in the
schedule's time zone), intervals count from when the schedule was made. The stored part adds,
lists, enables and claims schedules. A claim is a conditional update of ``done_through``
(compare and set), so two ``run-due`` passes at once, on SQLite or PostgreSQL, never run one
due time twice.

Due times between two passes are coalesced into one run, as cron never runs a job twice to
catch up. A due time is *missed* when the first pass after it came later than its grace: it
is counted and alerted, and the pass still runs the job once (a late backup beats none), as a
systemd timer with ``Persistent=true`` does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter
from sqlalchemy import or_, select, update

from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.core.refs import by_prefix
from seawall.db.models.embassy import EmbassyRepo, EmbassyRun
from seawall.db.models.schedules import EmbassySchedule
from seawall.embassy import registry
from seawall.errors import Conflict, Forbidden, InvalidInput, NotFound

KINDS = ("backup", "check", "audit", "drill")
DEFAULT_GRACE = timedelta(minutes=10)
MIN_INTERVAL = timedelta(minutes=1)
# The longest duration taken (ten years of weeks): due times stay well inside the calendar.
MAX_DURATION = timedelta(weeks=520)
# An audit samples this share of every pack's shares (check --read-data-subset).
DEFAULT_AUDIT_SUBSET = 0.1
# A run that has not finished after this long is taken as killed: the schedule runs again.
STALE_RUN = timedelta(hours=12)
# Counting missed due times stops here (a per-minute schedule down for ten weeks).
MAX_COUNT = 100_000
SHORT_ID = 8

_DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str, what: str) -> timedelta:
    """``90s``, ``30m``, ``6h``, ``1d`` or ``2w`` as a duration."""
    found = _DURATION.match(text.strip().lower())
    if not found or int(found[1]) == 0:
        raise InvalidInput(f"{what} {text!r} is not a duration such as 30m, 6h, 1d or 1w")
    seconds = int(found[1]) * _UNITS[found[2]]
    if seconds > MAX_DURATION.total_seconds():
        raise InvalidInput(f"{what} {text!r} is too long: at most 520w")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta | float | None) -> str:
    """A duration as people read it: ``1d 6h``, ``45m``, ``12s``."""
    if value is None:
        return "—"
    seconds = int(value.total_seconds() if isinstance(value, timedelta) else value)
    parts = []
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return " ".join(parts[:2]) or "0s"


# --- the pure core ------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """A cron expression (in ``timezone``) or an interval counted from ``anchor``."""

    anchor: datetime
    cron: str | None = None
    every: timedelta | None = None
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if (self.cron is None) == (self.every is None):
            raise InvalidInput("give a schedule either --cron or --every, not both or neither")
        if self.cron is not None and len(self.cron.split()) != 5:
            # croniter reads a sixth field as seconds, which would run more often than --every
            # may: a schedule's cron has the five fields of crontab, minutes first.
            raise InvalidInput(
                f"{self.cron!r} is not a cron expression of five fields, such as '0 2 * * *'"
            )
        if self.cron is not None and not croniter.is_valid(self.cron):
            raise InvalidInput(f"{self.cron!r} is not a cron expression such as '0 2 * * *'")
        if self.every is not None and self.every < MIN_INTERVAL:
            raise InvalidInput("--every must be at least 1m")
        zone(self.timezone)
        if self.cron is not None:
            try:
                self.after(self.anchor)
            except CroniterBadDateError:
                raise InvalidInput(f"{self.cron!r} never comes due (no such date)") from None

    def after(self, moment: datetime) -> datetime:
        """The first due time strictly after ``moment``."""
        if self.every is not None:
            if moment < self.anchor:
                return self.anchor + self.every
            steps = (moment - self.anchor) // self.every + 1
            return self.anchor + steps * self.every
        assert self.cron is not None
        local = moment.astimezone(zone(self.timezone))
        found: datetime = croniter(self.cron, local, ret_type=datetime).get_next(datetime)
        return found.astimezone(moment.tzinfo)

    def between(self, start: datetime, end: datetime) -> tuple[int, datetime | None]:
        """How many due times lie in (start, end], and the last of them."""
        if self.every is not None:
            first = self.after(start)
            if first > end:
                return 0, None
            count = (end - first) // self.every + 1
            return count, first + (count - 1) * self.every
        count, last, at = 0, None, self.after(start)
        while at <= end and count < MAX_COUNT:
            count, last, at = count + 1, at, self.after(at)
        return count, last


def zone(name: str) -> ZoneInfo:
    """A time zone by its IANA name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"time zone {name!r} is unknown: give an IANA name such as America/Jamaica"
        ) from None


@dataclass(frozen=True)
class Plan:
    """What a pass at one moment does with one schedule."""

    run_for: datetime | None  # the due time to run now (the latest one passed), if any
    missed: int  # due times whose grace ran out before this pass
    first_missed: datetime | None
    done_through: datetime  # what the schedule's ``done_through`` becomes


def plan(timing: Timing, done_through: datetime, now: datetime, grace: timedelta) -> Plan:
    """Which due time to run at ``now``, given every due time up to ``done_through`` is done.

    All due times in (done_through, now] are coalesced into one run of the latest; those of
    them older than ``grace`` at ``now`` were missed.
    """
    _, latest = timing.between(done_through, now)
    if latest is None:
        return Plan(None, 0, None, done_through)
    missed, _ = timing.between(done_through, now - grace - timedelta(microseconds=1))
    first = timing.after(done_through) if missed else None
    return Plan(latest, missed, first, latest)


# --- stored schedules ---------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """What a new schedule should do (from the CLI's options)."""

    kind: str
    cron: str | None = None
    every: timedelta | None = None
    timezone: str = "UTC"
    grace: timedelta = DEFAULT_GRACE
    paths: Sequence[str] = ()
    excludes: Sequence[str] = ()
    read_data: float | None = None
    rpo: timedelta | None = None
    rto: timedelta | None = None


def _check(request: Request) -> None:
    kind = request.kind
    if kind not in KINDS:
        raise InvalidInput(f"schedule kind {kind!r} is unknown: choose {', '.join(KINDS)}")
    if kind == "backup" and not request.paths:
        raise InvalidInput("a backup schedule needs the paths to back up")
    if kind != "backup" and (request.paths or request.excludes):
        raise InvalidInput("only a backup schedule takes paths and --exclude")
    if any(not p.startswith("/") for p in request.paths):
        raise InvalidInput("a scheduled backup's paths must be absolute (they run from no cwd)")
    if request.rpo is not None and kind != "backup":
        raise InvalidInput("--rpo belongs to a backup schedule")
    if kind == "drill" and request.rto is None:
        raise InvalidInput("a drill schedule needs --rto, the restore time it must beat")
    if request.rto is not None and kind != "drill":
        raise InvalidInput("--rto belongs to a drill schedule")
    if request.read_data is not None and kind not in ("check", "audit"):
        raise InvalidInput("--read-data-subset belongs to a check or audit schedule")


def _seconds(value: timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds())


def add_schedule(ctx: Ctx, repo_ref: str, request: Request) -> EmbassySchedule:
    """Schedule a kind of run for a registered repository; its first due time is after now."""
    require(ctx.who, Perm.EMBASSY_OPERATE)
    if request.kind == "backup" and not ctx.who.node_operator:
        # A backup reads any path the node's process can: only the node's own operator (the
        # CLI on the node) names them, never a signed-in custodian who holds the passphrase.
        raise Forbidden(
            f"{ctx.who.username} may not schedule a backup: a backup reads the node's own "
            "files, so it is scheduled on the node",
            cli="its operator runs `seawall embassy schedule add`",
            web="its operator schedules it with the command line",
        )
    _check(request)
    now = ctx.now()
    Timing(now, request.cron, request.every, request.timezone)  # refuses a bad timing
    repo = registry.get_repo(ctx, repo_ref)
    read_data = request.read_data
    if request.kind == "audit" and read_data is None:
        read_data = DEFAULT_AUDIT_SUBSET
    row = EmbassySchedule(
        id=ctx.ids(),
        repo_id=repo.id,
        kind=request.kind,
        cron=request.cron,
        every_seconds=_seconds(request.every),
        timezone=request.timezone,
        grace_seconds=int(request.grace.total_seconds()),
        paths=list(request.paths),
        excludes=list(request.excludes),
        read_data=read_data,
        rpo_seconds=_seconds(request.rpo),
        rto_seconds=_seconds(request.rto),
        enabled=True,
        created_at=now,
        created_by=ctx.who.username,
        done_through=now,
        last_outcome="",
        last_message="",
        missed=0,
    )
    ctx.db.add(row)
    ctx.db.flush()
    ctx.record(
        "embassy.schedule.added",
        row.id,
        name=repo.name,
        kind=row.kind,
        when=describe(row),
        paths=row.paths,
        rpo_seconds=row.rpo_seconds,
        rto_seconds=row.rto_seconds,
    )
    return row


def timing_of(row: EmbassySchedule) -> Timing:
    """The stored schedule's timing."""
    every = timedelta(seconds=row.every_seconds) if row.every_seconds else None
    return Timing(row.created_at, row.cron, every, row.timezone)


def describe(row: EmbassySchedule) -> str:
    """``cron 0 2 * * * (America/Jamaica)`` or ``every 6h``."""
    if row.cron:
        return f"cron {row.cron}" + ("" if row.timezone == "UTC" else f" ({row.timezone})")
    return f"every {format_duration(row.every_seconds)}"


def list_schedules(ctx: Ctx, repo_ref: str | None = None) -> list[tuple[EmbassySchedule, str]]:
    """The nation's schedules (of one repository), each with its repository's name."""
    require(ctx.who, Perm.EMBASSY_READ)
    stmt = (
        select(EmbassySchedule, EmbassyRepo.name)
        .join(EmbassyRepo, EmbassyRepo.id == EmbassySchedule.repo_id)
        .where(EmbassyRepo.nation == ctx.who.nation)
    )
    if repo_ref is not None:
        stmt = stmt.where(EmbassyRepo.id == registry.get_repo(ctx, repo_ref).id)
    ordered = stmt.order_by(EmbassyRepo.name, EmbassySchedule.kind, EmbassySchedule.created_at)
    return [(row, name) for row, name in ctx.db.execute(ordered)]


def get_schedule(ctx: Ctx, ref: str) -> tuple[EmbassySchedule, EmbassyRepo]:
    """A schedule of the caller's nation by id or a unique prefix of it (``seawall.core.refs``)."""
    require(ctx.who, Perm.EMBASSY_READ)
    stmt = (
        select(EmbassySchedule)
        .join(EmbassyRepo, EmbassyRepo.id == EmbassySchedule.repo_id)
        .where(EmbassyRepo.nation == ctx.who.nation)
    )
    row = by_prefix(ctx.db, stmt, EmbassySchedule.id, ref, "schedule")
    if row is None:
        raise NotFound(
            f"no schedule {ref!r}",
            cli="`seawall embassy schedule list` shows them",
            web="the repository's page lists them",
        )
    repo = ctx.db.get(EmbassyRepo, row.repo_id)
    assert repo is not None  # the join found it
    return row, repo


def remove_schedule(ctx: Ctx, ref: str) -> EmbassySchedule:
    """Delete a schedule (its runs stay in the repository's history)."""
    require(ctx.who, Perm.EMBASSY_OPERATE)
    row, repo = get_schedule(ctx, ref)
    ctx.db.delete(row)
    ctx.db.flush()
    ctx.record("embassy.schedule.removed", row.id, name=repo.name, kind=row.kind)
    return row


def set_enabled(ctx: Ctx, ref: str, enabled: bool) -> EmbassySchedule:
    """Enable or disable a schedule. Enabling starts it afresh: the due times that passed
    while it was disabled are neither run nor missed."""
    require(ctx.who, Perm.EMBASSY_OPERATE)
    row, repo = get_schedule(ctx, ref)
    if row.enabled == enabled:
        state = "enabled" if enabled else "disabled"
        raise Conflict(f"schedule {row.id[:SHORT_ID]} is {state} already")
    row.enabled = enabled
    if enabled:
        row.done_through = max(row.done_through, ctx.now())
    ctx.db.flush()
    action = "enabled" if enabled else "disabled"
    ctx.record(f"embassy.schedule.{action}", row.id, name=repo.name, kind=row.kind)
    return row


def claim(ctx: Ctx, row: EmbassySchedule, seen: datetime, chosen: Plan) -> bool:
    """Take the schedule's due run for this pass: True when this pass moved ``done_through``
    from ``seen`` (no other pass did first) and no run of it is still going."""
    now = ctx.now()
    taken = ctx.db.execute(
        update(EmbassySchedule)
        .where(
            EmbassySchedule.id == row.id,
            EmbassySchedule.enabled.is_(True),
            EmbassySchedule.done_through == seen,
            or_(
                EmbassySchedule.running_since.is_(None),
                EmbassySchedule.running_since <= now - STALE_RUN,
            ),
        )
        .values(
            done_through=chosen.done_through,
            running_since=now,
            last_due_at=chosen.run_for,
            missed=EmbassySchedule.missed + chosen.missed,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(taken.rowcount == 1)  # type: ignore[attr-defined]


def finish(ctx: Ctx, schedule_id: str, outcome: str, message: str) -> None:
    """Record how a claimed run ended, and free the schedule for its next due time."""
    ctx.db.execute(
        update(EmbassySchedule)
        .where(EmbassySchedule.id == schedule_id)
        .values(
            running_since=None,
            last_run_at=ctx.now(),
            last_outcome=outcome,
            last_message=message[:2000],
        )
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class RpoState:
    """A repository's last good backup against its recovery point objective."""

    repo: str
    rpo: timedelta
    last_backup: datetime | None
    age: timedelta  # since the last good backup (or since the schedule was made)

    @property
    def exceeded(self) -> bool:
        """Whether more than the RPO of data would be lost now."""
        return self.age > self.rpo


def rpo_states(ctx: Ctx) -> list[RpoState]:
    """Each repository with an RPO (the tightest of its backup schedules), oldest copy first."""
    require(ctx.who, Perm.EMBASSY_READ)
    tightest: dict[str, tuple[EmbassySchedule, str]] = {}
    for row, name in list_schedules(ctx):
        if row.kind != "backup" or row.rpo_seconds is None or not row.enabled:
            continue
        held = tightest.get(row.repo_id)
        if held is None or row.rpo_seconds < (held[0].rpo_seconds or 0):
            tightest[row.repo_id] = (row, name)
    now = ctx.now()
    found = []
    for repo_id, (row, name) in tightest.items():
        last = ctx.db.scalar(
            select(EmbassyRun.finished_at)
            .where(
                EmbassyRun.repo_id == repo_id,
                EmbassyRun.kind == "backup",
                EmbassyRun.outcome != "failure",
            )
            .order_by(EmbassyRun.finished_at.desc())
            .limit(1)
        )
        age = now - (last or row.created_at)
        found.append(RpoState(name, timedelta(seconds=row.rpo_seconds or 0), last, age))
    return sorted(found, key=lambda s: s.rpo - s.age)
