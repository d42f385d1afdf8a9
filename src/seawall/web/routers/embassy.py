"""Data-embassy pages: repositories, site health, snapshots, checks, restores and schedules."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse

from seawall.core.access import Perm, require
from seawall.db.models.embassy import EmbassyRepo
from seawall.embassy import registry, schedules, service
from seawall.embassy.exposure import Place
from seawall.embassy.health import probe_sites
from seawall.embassy.scheduling import Outcome, run_due
from seawall.errors import InvalidInput, NotFound
from seawall.web.deps import UiPage, node_of, read_form_csrf
from seawall.web.drillchart import drill_chart, readable_seconds
from seawall.web.pages import attempt, language_of, page_gettext, render
from seawall.web.sitemap import site_map

router = APIRouter(include_in_schema=False, dependencies=[Depends(read_form_csrf)])


@router.get("/embassy", response_class=HTMLResponse)
def embassy_home(request: Request, page: UiPage) -> HTMLResponse:
    """Every repository with its redundancy, last backup and last check."""
    ctx = page.ctx
    repos = [
        {
            "row": row,
            "backup": registry.last_run(ctx, row, "backup"),
            "check": registry.last_run(ctx, row, "check"),
            "restore": registry.last_run(ctx, row, "restore"),
            "exposure": registry.exposure_of(ctx, row),
        }
        for row in registry.list_repos(ctx)
    ]
    return render(request, page, "embassy/index.html", repos=repos)


@router.get("/embassy/{name}", response_class=HTMLResponse)
def embassy_repo(request: Request, name: str, page: UiPage) -> HTMLResponse:
    """One repository: sites and their health, snapshots, runs, and a restore form."""
    return _repo_page(request, page, name)


def _repo_page(
    request: Request,
    page: UiPage,
    name: str,
    status: int = 200,
    error: str = "",
    notice: str = "",
    ran: list[Outcome] | None = None,
) -> HTMLResponse:
    ctx = page.ctx
    row = registry.get_repo(ctx, name)
    runs = registry.recent_runs(ctx, row, limit=200)
    drills = [r for r in runs if r.kind == "drill"]
    runs = runs[:50]
    snapshots = [r for r in runs if r.kind == "backup" and r.outcome != "failure"]
    sites = probe_sites(row.sites)
    exposure = registry.exposure_of(ctx, row)
    language = language_of(request)
    return render(
        request,
        page,
        "embassy/repo.html",
        status=status,
        error=error,
        notice=notice,
        repo=row,
        sites=sites,
        exposure=exposure,
        site_map=site_map(exposure, [s.state for s in sites]),
        runs=runs[:15],
        snapshots=snapshots,
        last_check=registry.last_run(ctx, row, "check"),
        restore_dir=node_of(request).settings.effective_restore_dir,
        schedules=_schedules_of(page, row, drills[0].detail if drills else None, language),
        drill_chart=drill_chart(drills[:8], language=language),
        last_drill=drills[0] if drills else None,
        ran=ran,
        kinds=ADDABLE_KINDS,
    )


@router.post("/embassy/{name}/locate", response_class=HTMLResponse)
def embassy_locate(
    request: Request,
    name: str,
    page: UiPage,
    site: Annotated[str, Form(max_length=1000)],
    place: Annotated[str, Form(max_length=80)],
    lat: Annotated[float, Form()],
    lon: Annotated[float, Form()],
) -> HTMLResponse:
    """Record where one of the repository's sites is (for the map and storm exposure)."""
    ctx = page.ctx
    with attempt(ctx, savepoint=False) as tried:  # locate_site refuses before any change
        where = Place(place, lat, lon)
        url = registry.locate_site(ctx, registry.get_repo(ctx, name), site, where)
    if tried.refused:
        return _repo_page(request, page, name, status=tried.status, error=tried.error)
    located = page_gettext(request).gettext("Site %(site)s is at %(place)s.")
    return _repo_page(request, page, name, notice=located % {"site": url, "place": where.name})


@router.post("/embassy/{name}/restore", response_class=HTMLResponse)
def embassy_restore(
    request: Request,
    name: str,
    page: UiPage,
    snapshot: Annotated[str, Form(max_length=80)],
    target: Annotated[str, Form(max_length=1000)],
    passphrase: Annotated[str, Form(max_length=1024)],
    include: Annotated[str, Form(max_length=1000)] = "",
) -> HTMLResponse:
    """Restore a snapshot on the node into a directory; every piece is verified first."""
    node = node_of(request)
    within = node.settings.effective_restore_dir
    access = service.Access(
        lambda: nullcontext(page.ctx), name, node.clock, passphrase=lambda: passphrase
    )
    # No savepoint: the service records a failed run, and that record stays.
    with attempt(page.ctx, savepoint=False) as tried:
        done = service.restore(access, snapshot, target, include=include or None, within=within)
    if tried.refused:
        return _repo_page(request, page, name, status=tried.status, error=tried.error)
    report = done.report
    return _repo_page(
        request,
        page,
        name,
        notice=(
            page_gettext(request).gettext(
                "Restored %(files)s files (%(bytes)s bytes) to %(target)s."
            )
            % {"files": report.files, "bytes": f"{report.bytes:,}", "target": done.target}
            + " "
            + report.refusals()
        ).strip(),
    )


# --- schedules --------------------------------------------------------------------------------

# The kinds the form offers. A backup schedule names paths on the node for the node's process
# to read, so the pillar lets only the node's operator add one (`seawall embassy schedule add
# ... backup PATH` on the node), as the web restores only inside the restore directory.
ADDABLE_KINDS = ("check", "audit", "drill")


def _schedules_of(
    page: UiPage, repo: EmbassyRepo, last_drill: dict[str, Any] | None, language: str
) -> list[dict[str, Any]]:
    """The repository's schedules as the page shows them: timing, next due, last run, target."""
    ctx = page.ctx
    rpo = next((s for s in schedules.rpo_states(ctx) if s.repo == repo.name), None)
    shown = []
    for row, _name in schedules.list_schedules(ctx, repo.id):
        every = schedules.format_duration(row.every_seconds) if row.every_seconds else ""
        item: dict[str, Any] = {
            "row": row,
            "every": every,
            "next_due": schedules.timing_of(row).after(row.done_through) if row.enabled else None,
            "read_data": f"{row.read_data:.0%}" if row.read_data else "",
            "rpo": schedules.format_duration(row.rpo_seconds) if row.rpo_seconds else "",
            "rto": schedules.format_duration(row.rto_seconds) if row.rto_seconds else "",
        }
        if row.kind == "backup" and row.rpo_seconds and rpo is not None:
            item["backup_age"] = schedules.format_duration(rpo.age)
            item["rpo_exceeded"] = rpo.exceeded
        if row.kind == "drill" and last_drill is not None:
            measured = last_drill.get("rto_measured_seconds")
            item["drill_measured"] = (
                readable_seconds(measured, language) if measured is not None else "—"
            )
            item["drill_passed"] = bool(last_drill.get("passed"))
        shown.append(item)
    return shown


def _owned(page: UiPage, name: str, schedule_id: str) -> str:
    """The schedule's id, when it is one of this repository's (else 404)."""
    row, repo = schedules.get_schedule(page.ctx, schedule_id)
    if repo.id != registry.get_repo(page.ctx, name).id:
        raise NotFound(f"repository {name} has no schedule {schedule_id[:8]}")
    return row.id


def _percent(text: str) -> float | None:
    if not text.strip():
        return None
    try:
        value = float(text.strip().rstrip("%")) / 100
    except ValueError:
        raise InvalidInput(f"read-data subset {text!r} is not a percentage like 10") from None
    if not 0 < value <= 1:
        raise InvalidInput("the read-data subset must be above 0% up to 100%")
    return value


@router.post("/embassy/{name}/schedules", response_class=HTMLResponse)
def embassy_schedule_add(
    request: Request,
    name: str,
    page: UiPage,
    kind: Annotated[Literal["backup", "check", "audit", "drill"], Form()],
    cron: Annotated[str, Form(max_length=200)] = "",
    every: Annotated[str, Form(max_length=20)] = "",
    timezone: Annotated[str, Form(max_length=64)] = "UTC",
    grace: Annotated[str, Form(max_length=20)] = "10m",
    read_data: Annotated[str, Form(max_length=10)] = "",
    rto: Annotated[str, Form(max_length=20)] = "",
) -> HTMLResponse:
    """Schedule a check, audit or restore drill of the repository, as `schedule add` does."""
    ctx = page.ctx
    with attempt(ctx) as tried:
        added = schedules.add_schedule(
            ctx,
            name,
            schedules.Request(
                kind,
                cron=cron.strip() or None,
                every=schedules.parse_duration(every, "--every") if every.strip() else None,
                timezone=timezone.strip() or "UTC",
                grace=schedules.parse_duration(grace or "10m", "--grace"),
                read_data=_percent(read_data),
                rto=schedules.parse_duration(rto, "--rto") if rto.strip() else None,
            ),
        )
        first = schedules.timing_of(added).after(added.done_through)
    if tried.refused:
        return _repo_page(request, page, name, status=tried.status, error=tried.error)
    words = page_gettext(request)
    said = words.gettext("Scheduled: %(kind)s of %(repo)s, first due %(due)s UTC.")
    due = f"{first:%Y-%m-%d %H:%M}"
    return _repo_page(
        request, page, name, notice=said % {"kind": words.gettext(kind), "repo": name, "due": due}
    )


@router.post("/embassy/{name}/schedules/{schedule_id}/{action}", response_class=HTMLResponse)
def embassy_schedule_change(
    request: Request,
    name: str,
    schedule_id: str,
    action: Literal["enable", "disable", "remove"],
    page: UiPage,
) -> HTMLResponse:
    """Enable, disable or remove one of the repository's schedules."""
    ctx = page.ctx
    with attempt(ctx) as tried:
        found = _owned(page, name, schedule_id)
        if action == "remove":
            schedules.remove_schedule(ctx, found)
        else:
            schedules.set_enabled(ctx, found, action == "enable")
    if tried.refused:
        return _repo_page(request, page, name, status=tried.status, error=tried.error)
    words = page_gettext(request)
    said = {
        "enable": words.gettext("Schedule %(id)s enabled."),
        "disable": words.gettext("Schedule %(id)s disabled."),
        "remove": words.gettext("Schedule %(id)s removed."),
    }[action]
    return _repo_page(request, page, name, notice=said % {"id": found[:8]})


@router.post("/embassy/{name}/run-due", response_class=HTMLResponse)
def embassy_run_due(request: Request, name: str, page: UiPage) -> HTMLResponse:
    """Run every due schedule once now, as `seawall embassy run-due` does, as the signed-in
    user (each run recorded and audited under their name), and show what ran."""
    node = node_of(request)
    who = page.who
    with attempt(page.ctx) as tried:
        # run_due claims schedules before any run authorises: refuse a caller who may not
        # operate the embassy before it starts.
        require(who, Perm.EMBASSY_OPERATE)
        registry.get_repo(page.ctx, name)
    if tried.refused:
        return _repo_page(request, page, name, status=tried.status, error=tried.error)
    # Each run in its own unit of work, none held while a job works (see run_due).
    done = run_due(lambda: node.unit(who), node.clock, node.settings)
    page.ctx.db.expire_all()
    words = page_gettext(request)
    failed = any(r.outcome == "failure" for r in done.ran)
    if not done.ran:
        return _repo_page(request, page, name, notice=words.gettext("Nothing was due."))
    said = words.ngettext(
        "Ran %(num)s due schedule.", "Ran %(num)s due schedules.", len(done.ran)
    ) % {"num": len(done.ran)}
    if failed:
        return _repo_page(request, page, name, error=said, ran=done.ran)
    return _repo_page(request, page, name, notice=said, ran=done.ran)
