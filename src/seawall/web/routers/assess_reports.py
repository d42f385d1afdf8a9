"""Maturity downloads: a nation's and a region's report (PDF, HTML); rounds, indices, regions as
CSV or JSON."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from seawall.assess import benchmark, indices, rounds
from seawall.assess.frameworks import DEFAULT_FRAMEWORK, get_framework
from seawall.assess.report import document, export, regional
from seawall.core.access import Perm, require
from seawall.core.nations import normalise_nation
from seawall.errors import InvalidInput
from seawall.web.deps import UiPage, read_form_csrf
from seawall.web.pages import language_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(read_form_csrf)])


def _download(body: str | bytes, media_type: str, filename: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# A report's own <style> elements, which its page policy lets in by hash.
_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def _report_page(html: str, filename: str) -> Response:
    """An HTML report opened as a page: its own styles and data: charts, nothing else (no
    script, no request to anywhere); saving it keeps ``filename``."""
    styles = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(style.encode()).digest()).decode() + "'"
        for style in _STYLE.findall(html)
    )
    policy = (
        f"default-src 'none'; style-src {styles}; img-src data:; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    )
    return HTMLResponse(
        html,
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            "Content-Security-Policy": policy,
        },
    )


@router.get("/assess/report")
def report_download(
    request: Request,
    page: UiPage,
    nation: str = "",
    format: str = "pdf",
    framework: str = DEFAULT_FRAMEWORK,
    region: str = "CARICOM",
    tlp: str = "",
) -> Response:
    """The nation's report as PDF (a download) or HTML (a page), marked ``tlp`` (default
    TLP:AMBER)."""
    if format not in document.FORMATS:
        raise InvalidInput(f"report format {format!r}: choose pdf or html")
    iso2 = normalise_nation(nation or page.who.nation)
    built = document.build_report(page.ctx, iso2, framework, region or None, tlp=tlp or None)
    html = document.render_html(built, language_of(request))
    name = f"seawall-{iso2.lower()}-{framework}-report"
    if format == "pdf":
        return _download(document.render_pdf(html), "application/pdf", f"{name}.pdf")
    return _report_page(html, f"{name}.html")


@router.get("/assess/region/report.{fmt}")
def region_report_download(
    request: Request,
    fmt: str,
    page: UiPage,
    group: str = "CARICOM",
    framework: str = DEFAULT_FRAMEWORK,
    baseline: int | None = None,
    tlp: str = "",
) -> Response:
    """A region group's regional report as PDF (a download) or HTML (a page), in the page's
    language, marked ``tlp`` (default TLP:CLEAR)."""
    if fmt not in regional.FORMATS:
        raise InvalidInput(f"report format {fmt!r}: choose pdf or html")
    built = regional.build_regional_report(page.ctx, group, framework, baseline, tlp or None)
    html = regional.render_regional_html(built, language_of(request))
    name = f"seawall-region-{built.view.group.lower()}-{built.view.framework_id}-report"
    if fmt == "pdf":
        return _download(document.render_pdf(html), "application/pdf", f"{name}.pdf")
    return _report_page(html, f"{name}.html")


def _export(data: Any, fmt: str, name: str) -> Response:
    if fmt == "csv":
        return _download(export.to_csv(data), "text/csv; charset=utf-8", f"{name}.csv")
    if fmt == "json":
        return _download(export.to_json(data), "application/json", f"{name}.json")
    raise InvalidInput(f"export format {fmt!r}: choose csv or json")


@router.get("/assess/rounds/{round_id}/export.{fmt}")
def round_export(round_id: str, fmt: str, page: UiPage) -> Response:
    """A round as one record per factor, CSV or JSON."""
    row = rounds.get_round(page.ctx, round_id)
    data = export.round_records(page.ctx, row.id)
    return _export(data, fmt, f"seawall-{row.nation.lower()}-{row.framework_id}-{row.year}")


@router.get("/assess/index/export.{fmt}")
def index_export(
    fmt: str, page: UiPage, edition: str = indices.GCI_2024, group: str = ""
) -> Response:
    """An index edition's rows with tiers and sources, CSV or JSON."""
    require(page.who, Perm.ASSESS_READ)
    rows = indices.edition_rows(page.ctx.db, edition, group or None)
    suffix = f"-{group.lower()}" if group else ""
    return _export(export.index_records(rows), fmt, f"seawall-{edition}{suffix}")


@router.get("/assess/region/export.{fmt}")
def region_export(
    fmt: str,
    page: UiPage,
    group: str = "CARICOM",
    framework: str = DEFAULT_FRAMEWORK,
    baseline: int | None = None,
) -> Response:
    """A region view: JSON with the panel, statements and rankings, or CSV of the
    statements' rows."""
    view = benchmark.region_view(page.ctx, group, framework, baseline)
    data: Any = export.region_statement_records(view) if fmt == "csv" else export.region_data(view)
    return _export(data, fmt, f"seawall-region-{group.lower()}-{framework}")


@router.get("/assess/region/panel.{fmt}")
def region_panel_export(
    fmt: str, page: UiPage, group: str = "CARICOM", framework: str = DEFAULT_FRAMEWORK
) -> Response:
    """A region's whole panel: one record per round and factor, CSV or JSON."""
    view = benchmark.region_view(page.ctx, group, framework)
    data = export.region_panel_records(view, get_framework(page.ctx.db, view.framework_id))
    return _export(data, fmt, f"seawall-region-{group.lower()}-{framework}-panel")
