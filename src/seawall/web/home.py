"""The state of the nation for the home page, composed from the pillars at the edge.

The pillars never import each other, so this is the one place that reads all three for the
dashboard. Each number comes from a pillar's own read function, which applies the caller's
role, scopes and TLP; a pillar the caller may not read is left out (``None``), never shown as
zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from seawall.core import audit
from seawall.core.access import Perm
from seawall.core.context import Ctx
from seawall.db.models.core import AuditEntry

if TYPE_CHECKING:  # the pillars are imported where used: a page needs only those it may read
    from seawall.intel.sync import PartnerStatus

WEEK = timedelta(days=7)
# Sign-ins and sign-outs: hidden from the recent activity unless asked for.
SIGN_INS = "auth"
ACTIVITY_WINDOW = 200
ACTIVITY_SHOWN = 8
# How long the page waits for the embassy's sites to answer a probe.
PROBE_WAIT = 2.0


# --- maturity ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """One dimension's score in the latest published round."""

    name: str
    score: float
    percent: float  # of the framework's highest stage, for the bar's width


@dataclass(frozen=True)
class Overdue:
    """A roadmap action past its due date and not done."""

    factor_id: str
    action: str
    owner: str
    due: date


@dataclass(frozen=True)
class Maturity:
    """The latest published round's scores, the open round's progress, GCI 2024, overdue
    roadmap actions."""

    framework: str
    published_id: str | None
    published_year: int | None
    bars: tuple[Bar, ...]
    highest: int
    open_id: str | None
    open_year: int | None
    agreed: int
    factors: int
    gci_score: float | None
    gci_tier: tuple[str, str | None] | None
    overdue: tuple[Overdue, ...]


def maturity(ctx: Ctx) -> Maturity | None:
    """The nation's CMM picture, or None for a caller who may not read assessments."""
    if not ctx.who.can(Perm.ASSESS_READ):
        return None
    from seawall.assess import frameworks, gaps, indices, rounds

    nation = ctx.who.nation
    cmm = frameworks.available_frameworks(ctx.db)[frameworks.DEFAULT_FRAMEWORK]
    mine = sorted(
        (r for r in rounds.list_rounds(ctx) if r.nation == nation and r.framework_id == cmm.id),
        key=lambda r: (r.year, r.created_at),
    )
    published = [r for r in mine if r.status == rounds.PUBLISHED]
    still_open = [r for r in mine if r.status == rounds.OPEN]
    highest = cmm.stages.highest
    bars: tuple[Bar, ...] = ()
    if published:
        scores = rounds.round_dimension_scores(ctx.db, published[-1])
        bars = tuple(
            Bar(d.name, scores[d.id], 100 * scores[d.id] / highest if highest else 0)
            for d in cmm.dimensions
            if d.id in scores
        )
    agreed = len(rounds.agreed_stages(ctx.db, still_open[-1].id)) if still_open else 0
    gci = [r for r in indices.edition_rows(ctx.db, indices.GCI_2024) if r.nation == nation]
    today = ctx.now().date()
    overdue = tuple(
        Overdue(i.factor_id, i.action, i.owner, i.due)
        for i in gaps.list_items(ctx, nation)
        if i.due < today and i.status not in (gaps.ItemStatus.DONE, gaps.ItemStatus.DROPPED)
    )
    return Maturity(
        framework=cmm.name,
        published_id=published[-1].id if published else None,
        published_year=published[-1].year if published else None,
        bars=bars,
        highest=highest,
        open_id=still_open[-1].id if still_open else None,
        open_year=still_open[-1].year if still_open else None,
        agreed=agreed,
        factors=len(cmm.factors()),
        gci_score=gci[0].overall if gci else None,
        gci_tier=(gci[0].tier_id, gci[0].tier_name) if gci and gci[0].tier_id else None,
        overdue=overdue,
    )


# --- collective defence -----------------------------------------------------------------


@dataclass(frozen=True)
class PartnerSync:
    """A partner's sync state as the dashboard says it."""

    name: str
    nation: str
    state: str  # "ok", "backoff", "failing", "never", "disabled"
    last_sync: datetime | None
    lag: timedelta | None
    queued: int
    next_attempt: datetime | None


@dataclass(frozen=True)
class Defence:
    """New indicators this week by TLP, sightings this week, open cases, partners' sync."""

    indicators: tuple[tuple[str, int], ...]  # (TLP key, count), least strict first
    indicator_total: int
    sightings: int
    cases: tuple[tuple[str, int], ...]  # (severity, count), most severe first
    case_total: int
    partners: tuple[PartnerSync, ...]


def _partner_state(status: PartnerStatus, now: datetime) -> PartnerSync:
    p = status.partner
    last = max((t for t in (status.last_pull_at, status.last_push_at) if t), default=None)
    if p.disabled:
        state = "disabled"
    elif status.next_attempt_at is not None and status.next_attempt_at > now:
        state = "backoff"
    elif status.last_error:
        state = "failing"
    elif last is None:
        state = "never"
    else:
        state = "ok"
    return PartnerSync(
        p.name,
        p.nation,
        state,
        last,
        now - last if last else None,
        status.queue_depth,
        status.next_attempt_at,
    )


def defence(ctx: Ctx) -> Defence | None:
    """This week's intelligence and the partners' sync, or None without intel access."""
    if not ctx.who.can(Perm.INTEL_READ):
        return None
    from seawall.intel import overview
    from seawall.intel.sync import partner_statuses

    now = ctx.now()
    arrived = overview.arrivals_since(ctx, now - WEEK)
    cases = overview.open_cases_by_severity(ctx)
    partners = (
        tuple(_partner_state(s, now) for s in partner_statuses(ctx))
        if ctx.who.can(Perm.PARTNERS_READ)
        else ()
    )
    return Defence(
        indicators=tuple((t.key, n) for t, n in arrived.indicators.items()),
        indicator_total=arrived.indicator_total,
        sightings=arrived.sightings,
        cases=tuple((s.value, n) for s, n in cases.items()),
        case_total=sum(cases.values()),
        partners=partners,
    )


# --- data embassy -----------------------------------------------------------------------


@dataclass(frozen=True)
class RepoHealth:
    """One repository: last backup against its RPO, last check and drill, sites, storms."""

    name: str
    k: int
    n: int
    last_backup: datetime | None
    backup_age: timedelta | None
    rpo: timedelta | None
    rpo_exceeded: bool
    last_check: datetime | None
    check_outcome: str | None
    last_drill: datetime | None
    drill_outcome: str | None
    sites: tuple[str, ...]  # "up", "empty" or "down", in site order
    storm_takes: int
    storm_tolerable: int
    at_risk: bool
    unlocated: int
    all_local: bool  # every site a folder on this machine: a demo, not a spread

    @property
    def sites_up(self) -> int:
        """Sites that answered with the repository."""
        return self.sites.count("up")


def site_states(urls: list[str], wait: float = PROBE_WAIT) -> list[str]:
    """Each site's state ("up", "empty", "down"), probed all at once; a site that has not
    answered within ``wait`` seconds is "down" for this page."""
    from seawall.embassy.health import probe_sites

    return [site.state for site in probe_sites(urls, wait)]


def embassy(ctx: Ctx) -> tuple[RepoHealth, ...] | None:
    """Each repository's state, or None for a caller who may not read the embassy."""
    if not ctx.who.can(Perm.EMBASSY_READ):
        return None
    from seawall.embassy import registry
    from seawall.embassy.schedules import rpo_states

    repos = registry.list_repos(ctx)
    rpo = {s.repo: s for s in rpo_states(ctx)}
    states = iter(site_states([u for r in repos for u in r.sites]))
    out = []
    for row in repos:
        sites = tuple(next(states) for _ in row.sites)
        backup = registry.last_run(ctx, row, "backup")
        check = registry.last_run(ctx, row, "check")
        drill = registry.last_run(ctx, row, "drill")
        exposure = registry.exposure_of(ctx, row)
        held = rpo.get(row.name)
        last_backup = held.last_backup if held else (backup.finished_at if backup else None)
        out.append(
            RepoHealth(
                name=row.name,
                k=row.k,
                n=len(row.sites),
                last_backup=last_backup,
                backup_age=held.age if held else (ctx.now() - last_backup if last_backup else None),
                rpo=held.rpo if held else None,
                rpo_exceeded=bool(held and held.exceeded),
                last_check=check.finished_at if check else None,
                check_outcome=check.outcome if check else None,
                last_drill=drill.finished_at if drill else None,
                drill_outcome=drill.outcome if drill else None,
                sites=sites,
                storm_takes=len(exposure.sites),
                storm_tolerable=exposure.tolerable,
                at_risk=exposure.at_risk,
                unlocated=len(exposure.unlocated),
                all_local=exposure.all_local,
            )
        )
    return tuple(out)


# --- recent activity --------------------------------------------------------------------


@dataclass(frozen=True)
class Activity:
    """Repeats of one action by one actor, shown as one line ("admin auth.login", 12 times)."""

    actor: str
    action: str
    count: int
    last_at: datetime


def group_activity(entries: list[AuditEntry], shown: int) -> list[Activity]:
    """Entries (newest first) as one line per actor and action, newest line first."""
    groups: dict[tuple[str, str], Activity] = {}
    for e in entries:
        key = (e.actor, e.action)
        held = groups.get(key)
        if held is None:
            if len(groups) == shown:
                continue
            groups[key] = Activity(e.actor, e.action, 1, e.at)
        else:
            groups[key] = Activity(e.actor, e.action, held.count + 1, held.last_at)
    return list(groups.values())


def recent_activity(ctx: Ctx, sign_ins: bool = False) -> list[Activity] | None:
    """The nation's latest audited actions, grouped; None without the right to read the
    audit log."""
    if not ctx.who.can(Perm.AUDIT_READ):
        return None
    # Sign-ins are left out by the query, so a flood of them never fills the window.
    wanted = audit.AuditFilter(
        nation=ctx.who.nation, limit=ACTIVITY_WINDOW, skip=None if sign_ins else SIGN_INS
    )
    return group_activity(audit.search(ctx.db, wanted), ACTIVITY_SHOWN)


@dataclass(frozen=True)
class Attention:
    """A state that needs a person, read from the figures rather than raised as an alert:
    a partner in backoff or failing, a repository with sites down."""

    kind: str  # "backoff", "failing" or "sites-down"
    subject: str
    at: datetime | None = None
    count: int = 0


def attention_of(found: Defence | None, repos: tuple[RepoHealth, ...] | None) -> list[Attention]:
    """What of the figures goes at the top with the alerts."""
    out = [
        Attention(p.state, p.name, at=p.next_attempt)
        for p in (found.partners if found else ())
        if p.state in ("backoff", "failing")
    ]
    out += [
        Attention("sites-down", r.name, count=r.n - r.sites_up)
        for r in repos or ()
        if r.sites_up < r.n
    ]
    return out


@dataclass(frozen=True)
class Home:
    """Everything the home page shows besides the raised alerts."""

    maturity: Maturity | None
    defence: Defence | None
    embassy: tuple[RepoHealth, ...] | None
    activity: list[Activity] | None
    attention: list[Attention]


def state_of_nation(ctx: Ctx, sign_ins: bool = False) -> Home:
    """The home page's numbers for the caller, each within what the caller may read."""
    found, repos = defence(ctx), embassy(ctx)
    return Home(
        maturity(ctx), found, repos, recent_activity(ctx, sign_ins), attention_of(found, repos)
    )
