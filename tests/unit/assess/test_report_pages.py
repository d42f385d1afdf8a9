"""The reports as a minister's office receives them: every PDF page rendered to PNG and read
back, the TLP marking on every page, SAMPLE only on sample data, a summary written from the
figures, recommendations by priority, and the GCI cited from its publishers."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from seawall.assess.gaps import Gap, add_item, set_target
from seawall.assess.indices import GCI_2020, GCI_2024, shipped_rows
from seawall.assess.report.document import build_report, render_html, render_pdf
from seawall.assess.report.narrative import HIGH, LOW, MEDIUM, recommendations
from seawall.assess.report.regional import build_regional_report, render_regional_html
from seawall.assess.rounds import agree, create_round, grant_consent, publish, rate
from seawall.assess.samples import load_sample_assessments
from seawall.core.node import Node
from seawall.core.tlp import Tlp
from seawall.db.models.assess import RoadmapItem
from seawall.settings import load_settings
from tests.cli import init_node, run_seawall

# The lower half of a page (above the footer) with fewer dark pixels than this is "half empty".
FILLED = 0.03
DARK = 230  # grey level below which a pixel is ink; the SAMPLE watermark's tint is lighter


def _pages(pdf: bytes, out: Path, name: str) -> list[tuple[Path, str, float]]:
    """Each page as a PNG file, its text, and the share of ink in its lower half."""
    doc = pdfium.PdfDocument(pdf)
    pages = []
    for n, page in enumerate(doc, start=1):
        image = page.render(scale=1).to_pil().convert("L")
        path = out / f"{name}-{n}.png"
        image.save(path)
        width, height = image.size
        lower = image.crop((0, height // 2, width, height * 9 // 10)).histogram()
        ink = sum(lower[:DARK]) / sum(lower)
        pages.append((path, page.get_textpage().get_text_range(), ink))
    doc.close()
    return pages


def _visible(html: str) -> str:
    body = html.split("</style>", 1)[-1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def test_every_page_of_both_reports_renders_marked_and_the_cover_is_full(
    node: Node, tmp_path: Path
) -> None:
    with node.unit(node.operator()) as ctx:
        load_sample_assessments(ctx)
        nation = build_report(ctx, "JM")
        region = build_regional_report(ctx, "CARICOM")
    assert nation.sample and region.sample
    assert (nation.classification, region.classification) == (Tlp.AMBER, Tlp.CLEAR)
    for name, html, label in (
        ("nation", render_html(nation), "TLP:AMBER"),
        ("region", render_regional_html(region), "TLP:CLEAR"),
    ):
        pages = _pages(render_pdf(html), tmp_path, name)
        assert len(pages) >= 6, name
        for n, (path, text, _) in enumerate(pages, start=1):
            assert path.read_bytes().startswith(b"\x89PNG"), (name, n)
            # TLP 2.0: the label heads and foots every page (the cover shows it twice more).
            assert text.count(label) >= 2, (name, n)
            assert "SAMPLE" in text, (name, n)  # the watermark, on every page
        cover_text, cover_ink = pages[0][1], pages[0][2]
        assert cover_ink > FILLED, (name, cover_ink)  # the cover is not half empty
        assert "Limited disclosure" in cover_text or "not limited" in cover_text


def test_real_data_is_not_marked_sample_and_the_marking_is_the_writers(
    node: Node, tmp_path: Path
) -> None:
    with node.unit(node.operator()) as ctx:
        grant_consent(ctx, "JM", "CARICOM")
        row = create_round(ctx, "JM", "cmm-2021", 2025)
        for n, factor in enumerate(("D1.1", "D1.2", "D2.1", "D3.1")):
            agree(ctx, row.id, factor, 2 + n % 2)
        publish(ctx, row.id, partial=True)
        nation = build_report(ctx, "JM", region=None, tlp="red")
        region = build_regional_report(ctx, "CARICOM", tlp="TLP:GREEN")
    assert not nation.sample and not region.sample
    for name, html, label in (
        ("nation", render_html(nation), "TLP:RED"),
        ("region", render_regional_html(region), "TLP:GREEN"),
    ):
        assert 'class="watermark"' not in html
        for n, (_, text, _) in enumerate(_pages(render_pdf(html), tmp_path, name), start=1):
            assert "SAMPLE" not in text, (name, n)
            assert text.count(label) >= 2, (name, n)


def test_no_sentence_runs_into_the_next_and_counts_agree_in_number(node: Node) -> None:
    with node.unit(node.operator()) as ctx:
        grant_consent(ctx, "JM", "CARICOM")
        for year in (2021, 2025):
            row = create_round(ctx, "JM", "cmm-2021", year)
            for n, factor in enumerate(("D1.1", "D1.2", "D2.1")):
                agree(ctx, row.id, factor, 1 + (n + year) % 3)
            publish(ctx, row.id, partial=True)
        nation = build_report(ctx, "JM")
        region = build_regional_report(ctx, "CARICOM")
    for html in (render_html(nation), render_regional_html(region)):
        text = _visible(html)
        # "(open).Dimension": a sentence ends and the next starts without a space.
        assert not re.search(r"[a-z)]\.[A-Z]", text), re.findall(r"\S*[a-z)]\.[A-Z]\S*", text)
        assert not re.search(r"\b1 (nations|members|factors|dimensions|groups)\b", text)
    # One member reporting nothing complete, fifteen in the group: the plural is right.
    assert "0 of the 15 members of CARICOM have a complete" in _visible(
        render_regional_html(region)
    )


def _two_rounds(node: Node) -> None:
    with node.unit(node.operator()) as ctx:
        grant_consent(ctx, "JM", "CARICOM")
        for year, base in ((2021, 2), (2025, 3)):
            row = create_round(ctx, "JM", "cmm-2021", year)
            for factor in ("D1.1", "D1.2", "D2.1", "D2.2"):
                agree(ctx, row.id, factor, base + (factor == "D1.1"))
            if year == 2025:
                rate(ctx, row.id, "government", "D1.1", 5, "funded")
                rate(ctx, row.id, "academia", "D1.1", 2, "no budget line")
                rate(ctx, row.id, "academia", "D1.2", 3, "")
            publish(ctx, row.id, partial=True)
        set_target(ctx, "JM", "cmm-2021", "D2.1", 5)
        set_target(ctx, "JM", "cmm-2021", "D2.2", 4)
        add_item(ctx, "JM", "cmm-2021", "D2.2", "Awareness campaign", "MSET", date(2026, 1, 31))


def test_the_executive_summary_is_written_from_the_figures_in_each_language(
    node: Node,
) -> None:
    _two_rounds(node)
    with node.unit(node.operator()) as ctx:
        report = build_report(ctx, "JM", region=None)
    html = render_html(report)
    summary = _visible(html[html.index('id="summary"') : html.index('id="method"')])
    for needle in (
        # D1: (4 + 3) / 2 = 3.5, D2: 3; mean 3.25; each rose by one stage since 2021.
        "In its 2025 round, Jamaica scores 3.25 of 5 on average across the 2 dimensions",
        "The strongest dimension is D1 Cybersecurity Policy and Strategy (3.50); the weakest "
        "is D2 Cybersecurity Culture and Society (3.00).",
        "Since the 2021 round the mean score rose by 1.00: 2 dimensions rose and 0 fell.",
        "2 factors are below their targets, by 3 stages in all; 1 roadmap action is open "
        "(1 past due).",
        "differ by two stages or more on 1 factor.",
        "Caveat: the round was published as partial, with 4 of 23 factors agreed",
    ):
        assert needle in summary, needle
    method = _visible(html[html.index('id="method"') : html.index('id="findings"')])
    assert "Government 1 1" in method and "Academia 2 1" in method  # ratings, raters
    assert "version 2021" in method and "published as partial" in method
    findings = _visible(html[html.index('id="findings"') : html.index('id="recommendations"')])
    assert "D1 Cybersecurity Policy and Strategy 2.50 3.50 +1.00" in findings
    assert "D3 Building Cybersecurity Knowledge and Capabilities not assessed not assessed" in (
        findings
    )
    for language, words in (
        ("es", ("En su ronda de 2025, Jamaica obtiene en promedio 3.25", "Desde la ronda de 2021")),
        ("fr", ("Lors de son cycle 2025, Jamaica obtient en moyenne 3.25", "Depuis le cycle 2021")),
        ("nl", ("In de ronde van 2025 scoort Jamaica gemiddeld 3.25", "Sinds de ronde van 2021")),
    ):
        text = _visible(render_html(report, language))
        for word in words:
            assert word in text, (language, word)
        assert "Since the 2021 round" not in text


def test_a_first_round_says_so_instead_of_a_change(node: Node) -> None:
    with node.unit(node.operator()) as ctx:
        grant_consent(ctx, "JM", "CARICOM")
        row = create_round(ctx, "JM", "cmm-2021", 2025)
        agree(ctx, row.id, "D1.1", 2)
        publish(ctx, row.id, partial=True)
        html = render_html(build_report(ctx, "JM", region=None))
    text = _visible(html)
    assert "This is the first published round" in text
    assert "first round" in _visible(html[html.index('id="dimension-D1"') :])
    assert "No target is set, so no gap is measured" in text


def _item(factor: str, due: date, status: str = "planned") -> RoadmapItem:
    return RoadmapItem(factor_id=factor, action=f"act on {factor}", due=due, status=status)


def test_recommendations_come_from_gaps_and_roadmap_most_urgent_first() -> None:
    today = date(2026, 11, 23)
    gaps = [
        Gap("D1.1", "Strategy", "D1", 3, 4, 1),
        Gap("D2.1", "Mindset", "D2", 1, 4, 3),
        Gap("D3.1", "Awareness", "D3", 2, 3, 1),
    ]
    roadmap = [
        _item("D3.1", date(2026, 1, 1)),  # past due: the gap of one becomes urgent
        _item("D1.1", date(2027, 6, 1), "in_progress"),
        _item("D5.4", date(2027, 3, 1)),  # no gap: the factor is at its target
        _item("D4.1", date(2025, 1, 1), "done"),  # done: not a recommendation
    ]
    found = [(r.priority, r.factor_id, len(r.items)) for r in recommendations(gaps, roadmap, today)]
    assert found == [(HIGH, "D2.1", 0), (HIGH, "D3.1", 1), (MEDIUM, "D1.1", 1), (LOW, "D5.4", 1)]


def test_the_report_lists_recommendations_by_priority(node: Node) -> None:
    _two_rounds(node)
    with node.unit(node.operator()) as ctx:
        html = render_html(build_report(ctx, "JM", region=None))
    part = html[html.index('id="recommendations"') :]
    assert re.findall(r'<tr id="recommendation-([A-Z0-9.]+)">', part) == ["D2.1", "D2.2"]
    text = _visible(part)
    assert "High D2.1 Cybersecurity Mindset Raise from 3 Established to 5 Dynamic." in text
    assert "Awareness campaign (MSET, due 2026-01-31, planned, 0%) past due" in text


def test_the_regional_report_finds_change_and_priorities(node: Node) -> None:
    with node.unit(node.operator()) as ctx:
        load_sample_assessments(ctx)
        report = build_regional_report(ctx, "CARICOM")
    html = render_regional_html(report)
    text = _visible(html[html.index('id="summary"') : html.index('id="method"')])
    assert "6 of the 15 members of CARICOM have a complete, published round" in text
    assert "For the 6 members with an earlier complete round, the mean score rose by" in text
    findings = html[html.index('id="findings"') : html.index('id="statement-')]
    assert len(re.findall(r'<tr id="dimension-D\d">', findings)) == 5
    assert "first round" not in findings and "+0." in findings
    method = html[html.index('id="method"') : html.index('id="findings"')]
    assert len(re.findall(r'<tr id="member-[A-Z]{2}">', method)) == 15
    assert re.search(r'<tr id="member-KN"><td>KN</td><td>No consented, published round', method)
    priorities = re.findall(r'<tr id="priority-([A-Z0-9.]+)">', html)
    assert 0 < len(priorities) <= 6


def test_gci_figures_cite_their_publisher_never_a_copy(node: Node) -> None:
    rows = [*shipped_rows()[GCI_2024], *shipped_rows()[GCI_2020]]
    for row in rows:
        data360 = "World Bank Data360 dataset ITU_GCI (series ITU_GCI_GCI_OVRL_SCRE" in row.source
        itu = "https://www.itu.int/epublications/publication/global-cybersecurity-index-2024"
        assert data360 or itu in row.source, row.source
        assert not re.search(r"github|mirror|demerarawaves|as quoted", row.source, re.I), row
    with node.unit(node.operator()) as ctx:
        load_sample_assessments(ctx)
        nation_html = render_html(build_report(ctx, "JM"))
        region_html = render_regional_html(build_regional_report(ctx, "CARICOM"))
    sources = nation_html[nation_html.index('id="sources"') :]
    assert "https://data360.worldbank.org/en/dataset/ITU_GCI" in sources
    assert "https://www.itu.int/epublications/publication/global-cybersecurity-index-2024" in (
        sources
    )
    assert "ITU_GCI_LEGL_SCRE" in region_html and "github" not in region_html


def test_the_cli_marks_a_report_as_asked_and_refuses_an_unknown_marking(
    tmp_path: Path,
) -> None:
    home = init_node(tmp_path / "node")
    node = Node(load_settings(home=home))
    with node.unit(node.operator()) as ctx:
        load_sample_assessments(ctx)
    node.close()
    out = tmp_path / "jm.html"
    done = run_seawall(
        home, "assess", "report", "--nation", "JM", "--format", "html", "--out", str(out),
        "--tlp", "amber+strict",
    )  # fmt: skip
    assert done.code == 0, done.output
    assert out.read_text().count("TLP:AMBER+STRICT") >= 3
    region = tmp_path / "caricom.html"
    done = run_seawall(
        home, "assess", "report", "--group", "CARICOM", "--format", "html", "--out",
        str(region), "--tlp", "green",
    )  # fmt: skip
    assert done.code == 0 and "TLP:GREEN" in region.read_text()
    bad = run_seawall(home, "assess", "report", "--nation", "JM", "--tlp", "purple", "--out", "-")
    assert bad.code == 65 and len(bad.err.strip().splitlines()) == 1, bad.err
    assert "purple" in bad.err


@pytest.mark.parametrize("language", ["es", "fr", "nl"])
def test_the_marking_notice_speaks_the_reports_language(node: Node, language: str) -> None:
    with node.unit(node.operator()) as ctx:
        load_sample_assessments(ctx)
        html = render_html(build_report(ctx, "JM", region=None), language)
    cover = html[html.index('id="cover"') : html.index('id="summary"')]
    assert "TLP:AMBER" in cover and "Limited disclosure" not in cover
