"""Data-embassy pages: repositories, site health, snapshots, checks and restores."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse

from seawall.embassy import registry, service
from seawall.embassy.exposure import Place
from seawall.embassy.health import probe_sites
from seawall.web.deps import UiPage, node_of, read_form_csrf
from seawall.web.pages import attempt, page_gettext, render
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
    request: Request, page: UiPage, name: str, status: int = 200, error: str = "", notice: str = ""
) -> HTMLResponse:
    ctx = page.ctx
    row = registry.get_repo(ctx, name)
    runs = registry.recent_runs(ctx, row, limit=50)
    snapshots = [r for r in runs if r.kind == "backup" and r.outcome != "failure"]
    sites = probe_sites(row.sites)
    exposure = registry.exposure_of(ctx, row)
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
