"""The regional report of a group: cover, statements with their figures, rankings, the panel,
what was left out and where every round came from, as HTML, PDF, from the CLI and the web."""

from __future__ import annotations

import re
from base64 import b64encode
from collections.abc import Iterator
from hashlib import sha256
from pathlib import Path

import httpx
import pytest
from markupsafe import escape
from sqlalchemy import select

from seawall.assess.report.document import render_pdf
from seawall.assess.report.regional import build_regional_report, render_regional_html
from seawall.assess.rounds import agree, create_round, grant_consent, list_rounds, publish
from seawall.assess.samples import NOTE, load_sample_assessments
from seawall.core import users
from seawall.core.node import Node
from seawall.core.tlp import Tlp
from seawall.db.models.assess import ReceivedRound
from seawall.settings import load_settings
from seawall.web.app import create_app
from tests.cli import init_node, run_seawall
from tests.conftest import LiveServer, serve_in_thread, sign_in_by_form

WITHDRAWN = {"at": "2025-11-03T10:00:00+00:00", "by": "tt-admin", "reason": "figures revised"}


def _sampled(node: Node) -> None:
    """The sample rounds, Jamaica's open 2026 round published partial (left out as
    incomplete), and Trinidad and Tobago's 2021 round withdrawn from CARICOM."""
    with node.unit(node.operator()) as ctx:
        load_sample_assessments(ctx)
        open_round = next(r for r in list_rounds(ctx) if r.status == "open")
        publish(ctx, open_round.id, partial=True)
        # A withdrawal arrives in a signed package from the nation's node; the hub keeps it
        # on the round as below (assess/publication.py, _withdraw).
        held = ctx.db.scalars(
            select(ReceivedRound).where(ReceivedRound.nation == "TT", ReceivedRound.year == 2021)
        ).one()
        held.groups = {g: who for g, who in held.groups.items() if g != "CARICOM"}
        held.withdrawn = {"CARICOM": WITHDRAWN}


def test_the_regional_report_holds_every_section(node: Node) -> None:
    _sampled(node)
    with node.unit(node.operator()) as ctx:
        report = build_regional_report(ctx, "caricom")
    view = report.view
    assert [n.nation for n in view.ranking] == ["JM", "TT", "GY", "BB", "BZ", "LC"]
    assert report.sample and report.classification is Tlp.CLEAR
    assert (report.reporting, len(view.members)) == (6, 15)
    html = render_regional_html(report)
    for statement in view.statements:
        assert str(escape(statement.text)) in html, statement.key
    # The ranking's rows, in order, with the GCI tier.
    assert re.findall(r'<tr id="rank-([A-Z]{2})"', html) == ["JM", "TT", "GY", "BB", "BZ", "LC"]
    assert re.search(r'<tr id="rank-JM">.*?T3 Establishing', html, re.S)
    for needle in (
        '<html lang="en">',
        "Caribbean Community (CARICOM)",
        "Regional cybersecurity maturity report",
        "TLP:CLEAR",
        '<div class="watermark">SAMPLE</div>',
        NOTE,
        "6 of 15 members",
        "tr { break-inside: avoid; }",
        "thead { display: table-header-group; }",
        'id="left-out"',
        'alt="Small multiples of the region\'s dimension scores"',
        "Entered at this hub",
        "This node",
    ):
        assert needle in html, needle
    left_out = html[html.index('id="left-out"') : html.index('id="annex"')]
    assert '<tr id="incomplete-JM-2026">' in left_out
    assert "9 of 23" in left_out  # Jamaica's open round agreed D1 and D2
    assert '<tr id="withdrawn-TT-2021">' in left_out
    assert all(WITHDRAWN[k][:10] in left_out for k in ("at", "by", "reason"))
    # Every round in the report, left out or not, has a row in the annex saying where it
    # came from: Jamaica's from this node, the others' entered at the hub as sample data.
    annex = html[html.index('id="annex"') :]
    origins = re.findall(r'<tr id="origin-([A-Z]{2}-\d{4})">.*?</tr>', annex, re.S)
    assert set(origins) == {f"{r.nation}-{r.year}" for r in view.panel} | {"JM-2026", "TT-2021"}
    assert {(o.nation, o.source, o.sample) for o in report.origins} == {
        ("JM", "here", True),
        *((n, "entered", True) for n in ("TT", "BB", "BZ", "GY", "LC")),
    }
    assert html.count("data:image/svg+xml;base64,") == 1


def test_real_data_has_no_sample_mark(node: Node) -> None:
    with node.unit(node.operator()) as ctx:
        grant_consent(ctx, "JM", "CARICOM")
        row = create_round(ctx, "JM", "cmm-2021", 2025)
        for factor in ("D1.1", "D1.2", "D1.3"):
            agree(ctx, row.id, factor, 3)
        publish(ctx, row.id, partial=True)
        report = build_regional_report(ctx, "CARICOM")
    html = render_regional_html(report)
    assert not report.sample and report.reporting == 0
    assert "watermark" not in html.split("</style>")[1] and "TLP:CLEAR" in html
    assert '<tr id="incomplete-JM-2025">' in html


def test_the_regional_report_is_written_in_the_language_asked_for(node: Node) -> None:
    _sampled(node)
    with node.unit(node.operator()) as ctx:
        report = build_regional_report(ctx, "CARICOM")
    for language, words in (
        ("es", ("Informe regional de madurez en ciberseguridad", "Resumen ejecutivo", "MUESTRA")),
        ("fr", ("Rapport régional de maturité en cybersécurité", "Synthèse", "EXEMPLE")),
        ("nl", ("Regionaal rapport over cyberbeveiligingsvolwassenheid", "Samenvatting")),
    ):
        html = render_regional_html(report, language)
        assert f'<html lang="{language}">' in html
        for word in words:
            assert word in html, (language, word)
        assert "Executive summary" not in html


def test_the_regional_report_renders_to_pdf(node: Node) -> None:
    _sampled(node)
    with node.unit(node.operator()) as ctx:
        pdf = render_pdf(render_regional_html(build_regional_report(ctx, "CARICOM")))
    # Every page rendered to PNG and read back: tests/unit/assess/test_report_pages.py.
    assert pdf.startswith(b"%PDF-") and len(pdf) > 20_000


def test_the_cli_writes_a_regional_report_and_refuses_group_with_nation(tmp_path: Path) -> None:
    home = init_node(tmp_path / "node")
    node = Node(load_settings(home=home))
    with node.unit(node.operator()) as ctx:
        load_sample_assessments(ctx)
    node.close()
    out = tmp_path / "caricom.html"
    done = run_seawall(
        home, "assess", "report", "--group", "CARICOM", "--format", "html", "--out", str(out),
        "--baseline", "2021", "--language", "fr",
    )  # fmt: skip
    assert done.code == 0, done.output
    text = out.read_text()
    assert '<html lang="fr">' in text and "CARICOM" in text and "EXEMPLE" in text
    pdf = tmp_path / "caricom.pdf"
    assert run_seawall(home, "assess", "report", "--group", "CARICOM", "--out", str(pdf)).code == 0
    assert pdf.read_bytes().startswith(b"%PDF")
    both = run_seawall(
        home, "assess", "report", "--group", "CARICOM", "--nation", "JM", "--out", "-"
    )
    assert both.code == 65
    assert len(both.err.strip().splitlines()) == 1, both.err
    assert "--group" in both.err and "--nation" in both.err
    neither = run_seawall(home, "assess", "report", "--out", "-")
    assert neither.code == 65 and len(neither.err.strip().splitlines()) == 1


@pytest.fixture
def server(node: Node) -> Iterator[LiveServer]:
    _sampled(node)
    with node.unit(node.operator()) as ctx:
        users.add_user(ctx, "coordinator", "admin", password="coordinator-horse-battery")
    live = serve_in_thread(create_app(node=node))
    yield live
    live.stop()


def test_the_region_page_offers_the_regional_report(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        sign_in_by_form(http, "coordinator", "coordinator-horse-battery")
        page = http.get("/assess/region", params={"group": "CARICOM", "baseline": "2021"})
        assert page.status_code == 200
        form = page.text.split('id="region-report-form"')[1].split("</form>")[0]
        assert 'action="/assess/region/report.pdf"' in page.text
        for name, value in (("group", "CARICOM"), ("framework", "cmm-2021"), ("baseline", "2021")):
            assert f'name="{name}" value="{value}"' in form
        html = http.get("/assess/region/report.html", params={"group": "CARICOM"})
        assert html.status_code == 200
        assert html.headers["content-type"].startswith("text/html")
        # The HTML report opens as a page (not a download), its own <style> and data: charts
        # allowed by the page's policy, and nothing else.
        assert html.headers["content-disposition"] == (
            'inline; filename="seawall-region-caricom-cmm-2021-report.html"'
        )
        policy = html.headers["content-security-policy"]
        style = html.text.split("<style>")[1].split("</style>")[0]
        assert "'sha256-" + b64encode(sha256(style.encode()).digest()).decode() + "'" in policy
        assert "default-src 'none'" in policy and "img-src data:" in policy
        assert "script-src" not in policy
        assert '<div class="watermark">SAMPLE</div>' in html.text
        pdf = http.get("/assess/region/report.pdf", params={"group": "CARICOM", "baseline": "2021"})
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        bad = http.get("/assess/region/report.doc", params={"group": "CARICOM"})
        assert bad.status_code == 422
