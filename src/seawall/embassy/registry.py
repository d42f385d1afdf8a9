"""The node's record of its embassy repositories: names, sites, and every run's outcome.

Each backup, check, repair and restore is written three ways in one transaction: a run row (for
the UI's history and health), an audit entry, and a core evidence record that the maturity
pillar can cite (a restore drill supports incident response, D1.2; backups and checks support
infrastructure resilience, D5.4).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.core.evidence import record_evidence
from seawall.core.refs import match_prefix
from seawall.db.models.embassy import EmbassyRepo, EmbassyRun
from seawall.embassy.exposure import DEFAULT_STORM_RADIUS_KM, Exposure, Place, storm_exposure
from seawall.errors import Conflict, InvalidInput, NotFound

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")

# Which CMM 2021 factors each kind of run is evidence for.
SUPPORTS: dict[str, list[str]] = {
    "backup": ["cmm:D1.3", "cmm:D5.4"],
    "check": ["cmm:D5.4"],
    # A partner host proving it holds a sample of the shares (seawall embassy audit).
    "audit": ["cmm:D5.4"],
    "repair": ["cmm:D5.4"],
    "restore": ["cmm:D1.2", "cmm:D5.4"],
    # Knowing that no single storm takes more sites than a repository can lose.
    "exposure": ["cmm:D1.3"],
}


def check_new_name(ctx: Ctx, name: str) -> str:
    """``name`` as a repository would be registered, or the reason it cannot be.

    Call it before writing anything to the sites: a repository made there under a name that
    is then refused would be left on them with no registry row.
    """
    require(ctx.who, Perm.EMBASSY_OPERATE)
    clean = name.strip().lower()
    if not NAME.match(clean):
        raise InvalidInput(
            f"repository name {name!r} is not allowed: use lowercase letters, digits, . _ -"
        )
    taken = ctx.db.scalar(
        select(EmbassyRepo).where(EmbassyRepo.nation == ctx.who.nation, EmbassyRepo.name == clean)
    )
    if taken is not None:
        raise Conflict(f"a repository named {clean!r} is already registered; pick another name")
    return clean


def register_repo(
    ctx: Ctx, name: str, repository_id: str, sites: list[str], k: int, n: int
) -> EmbassyRepo:
    """Remember a repository under a short name for this nation."""
    clean = check_new_name(ctx, name)
    row = EmbassyRepo(
        id=ctx.ids(),
        nation=ctx.who.nation,
        name=clean,
        repository_id=repository_id,
        sites=list(sites),
        k=k,
        n=n,
        created_at=ctx.now(),
        degraded=False,
        locations={},
    )
    ctx.db.add(row)
    ctx.db.flush()
    ctx.record("embassy.repo.registered", row.id, name=clean, k=k, n=n, sites=list(sites))
    return row


def find_repo(ctx: Ctx, ref: str) -> EmbassyRepo | None:
    """A registered repository of the caller's nation by name, id (or a unique prefix of
    it) or one of its site URLs."""
    require(ctx.who, Perm.EMBASSY_READ)
    rows = list(ctx.db.scalars(select(EmbassyRepo).where(EmbassyRepo.nation == ctx.who.nation)))
    for row in rows:
        if ref in (row.name, row.id, row.repository_id) or ref in row.sites:
            return row
    return match_prefix(ref, "repository", rows, lambda row: row.id)


def get_repo(ctx: Ctx, ref: str) -> EmbassyRepo:
    """Like :func:`find_repo`, but a miss is an error that says what to do."""
    row = find_repo(ctx, ref)
    if row is None:
        raise NotFound(
            f"no repository {ref!r} registered on this node",
            cli="give a site URL or run `seawall embassy init`",
            web="the Data embassy page (/embassy) lists them",
        )
    return row


def list_repos(ctx: Ctx) -> list[EmbassyRepo]:
    """Repositories of the caller's nation."""
    require(ctx.who, Perm.EMBASSY_READ)
    stmt = select(EmbassyRepo).where(EmbassyRepo.nation == ctx.who.nation)
    return list(ctx.db.scalars(stmt.order_by(EmbassyRepo.name)))


def update_sites(ctx: Ctx, repo: EmbassyRepo, sites: list[str]) -> None:
    """Record a site replacement (a replaced site's location goes with it)."""
    require(ctx.who, Perm.EMBASSY_OPERATE)
    old = list(repo.sites)
    repo.sites = list(sites)
    repo.locations = {url: at for url, at in (repo.locations or {}).items() if url in sites}
    ctx.record("embassy.site.replaced", repo.id, name=repo.name, old=old, new=list(sites))


def site_slot(sites: Sequence[str], ref: str, name: str) -> int:
    """The position in ``sites`` of the site ``ref`` names: its URL, or its number as people
    see it, from 1 (the CLI and the web number sites alike)."""
    if ref.isascii() and ref.isdigit():
        if not 1 <= int(ref) <= len(sites):
            raise NotFound(f"site {ref} is out of range: {name} has sites 1 to {len(sites)}")
        return int(ref) - 1
    if ref in sites:
        return list(sites).index(ref)
    raise NotFound(f"{ref} is not a site of {name}; give its URL or number (from 1)")


def locate_site(ctx: Ctx, repo: EmbassyRepo, site: str, place: Place) -> str:
    """Record where one of a repository's sites is; ``site`` is its URL or its number (from 1).

    Returns the site's URL.
    """
    require(ctx.who, Perm.EMBASSY_OPERATE)
    url = repo.sites[site_slot(repo.sites, site, repo.name)]
    at = {"place": place.name, "lat": place.lat, "lon": place.lon}
    repo.locations = {**(repo.locations or {}), url: at}
    ctx.record("embassy.site.located", repo.id, name=repo.name, site=url, **at)
    return url


def _site_places(repo: EmbassyRepo) -> list[Place | None]:
    """Each site's place, in site order; None where it was never located."""
    found: list[Place | None] = []
    for url in repo.sites:
        at = (repo.locations or {}).get(url)
        found.append(Place(at["place"], at["lat"], at["lon"]) if at else None)
    return found


def exposure_of(
    ctx: Ctx, repo: EmbassyRepo, radius_km: float = DEFAULT_STORM_RADIUS_KM
) -> Exposure:
    """The worst single storm footprint over the repository's located sites (and their places)."""
    require(ctx.who, Perm.EMBASSY_READ)
    found = storm_exposure(_site_places(repo), k=repo.k, radius_km=radius_km)
    local = tuple(i for i, url in enumerate(repo.sites) if urlsplit(url).scheme in ("file", ""))
    return replace(found, local=local)


def record_event(ctx: Ctx, repo: EmbassyRepo, action: str, **detail: Any) -> None:
    """Audit a change that is not a run (key slots, forget, prune)."""
    require(ctx.who, Perm.EMBASSY_OPERATE)
    ctx.record(f"embassy.{action}", repo.id, name=repo.name, **detail)


def record_run(
    ctx: Ctx,
    repo: EmbassyRepo,
    kind: str,
    outcome: str,
    summary: str,
    started_at: datetime,
    detail: dict[str, Any] | None = None,
    degraded: bool | None = None,
) -> EmbassyRun:
    """Record a finished run: history row, audit entry and (where it counts) evidence."""
    require(ctx.who, Perm.EMBASSY_OPERATE)
    if outcome not in ("success", "partial", "failure"):
        raise InvalidInput(f"unknown outcome {outcome!r}")
    info = detail or {}
    run = EmbassyRun(
        id=ctx.ids(),
        repo_id=repo.id,
        kind=kind,
        outcome=outcome,
        summary=summary,
        detail=info,
        actor=ctx.who.username,
        started_at=started_at,
        finished_at=ctx.now(),
    )
    ctx.db.add(run)
    if degraded is not None:
        repo.degraded = degraded
    ctx.db.flush()
    ctx.record(f"embassy.{kind}", repo.id, name=repo.name, outcome=outcome, summary=summary)
    if kind in SUPPORTS:
        record_evidence(
            ctx,
            "embassy",
            f"embassy.{kind}",
            f"Data embassy {kind} of {repo.name}: {summary}",
            SUPPORTS[kind],
            outcome=outcome,
            detail={"repository": repo.name, **info},
            occurred_at=run.finished_at,
        )
    return run


def recent_runs(ctx: Ctx, repo: EmbassyRepo, limit: int = 20) -> list[EmbassyRun]:
    """A repository's runs, newest first."""
    require(ctx.who, Perm.EMBASSY_READ)
    stmt = select(EmbassyRun).where(EmbassyRun.repo_id == repo.id)
    return list(ctx.db.scalars(stmt.order_by(EmbassyRun.started_at.desc()).limit(limit)))


def last_run(ctx: Ctx, repo: EmbassyRepo, kind: str) -> EmbassyRun | None:
    """The newest run of one kind."""
    stmt = (
        select(EmbassyRun)
        .where(EmbassyRun.repo_id == repo.id, EmbassyRun.kind == kind)
        .order_by(EmbassyRun.started_at.desc())
        .limit(1)
    )
    return ctx.db.scalar(stmt)
