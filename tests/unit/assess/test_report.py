"""Reports: charts in one style, the nation report as HTML and PDF, CSV and JSON exports."""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import date

from seawall.assess.benchmark import region_view
from seawall.assess.frameworks import shipped_frameworks
from seawall.assess.gaps import add_item, set_target
from seawall.assess.indices import edition_rows
from seawall.assess.participants import invite
from seawall.assess.report import charts
from seawall.assess.report.document import build_report, render_html, render_pdf, report_charts
from seawall.assess.report.export import (
    index_records,
    region_data,
    region_panel_records,
    round_records,
    to_csv,
    to_json,
)
from seawall.assess.rounds import agree, create_round, grant_consent, publish, rate
from seawall.catalogs import translations
from seawall.core import users
from seawall.core.node import Node

CMM = shipped_frameworks()["cmm-2021"]


def _seed(node: Node) -> str:
    with node.unit(node.operator()) as ctx:
        users.add_user(ctx, "tt-admin", "admin", nation="TT")
        tt_admin = users.act_as(ctx, "tt-admin")
    with node.unit(tt_admin) as ctx:
        grant_consent(ctx, "TT", "CARICOM")  # only someone of TT records TT's consent
        row = create_round(ctx, "TT", "cmm-2021", 2026)
        for n, factor in enumerate(CMM.factors()):
            agree(ctx, row.id, factor, 1 + (n + 2026) % 4)
        publish(ctx, row.id)  # and publishes TT's round to the groups TT consents to
    with node.unit(node.operator()) as ctx:
        grant_consent(ctx, "JM", "CARICOM")
        for nation, years in (("JM", (2021, 2026)),):
            for year in years:
                row = create_round(ctx, nation, "cmm-2021", year)
                for n, factor in enumerate(CMM.factors()):
                    agree(ctx, row.id, factor, 1 + (n + year) % 4)
                if nation == "JM" and year == 2026:
                    rate(
                        ctx,
                        row.id,
                        "government",
                        "D1.1",
                        4,
                        "funded strategy",
                        ["https://example.gov.jm/nss.pdf", "ev-1"],
                    )
                    rate(ctx, row.id, "academia", "D1.1", 2, "no budget line")
                    agree(ctx, row.id, "D1.1", 3, "academia: no budget line <yet>")
                    latest = row.id
                publish(ctx, row.id)
        set_target(ctx, "JM", "cmm-2021", "D5.4", 5)
        add_item(
            ctx, "JM", "cmm-2021", "D5.4", "Quarterly restore drills", "eGov", date(2027, 3, 31)
        )
    return latest


def test_charts_are_deterministic_svg() -> None:
    labels = [d.name for d in CMM.dimensions]
    one = charts.radar_chart(labels, {"2026": [2, 3, 2.5, 4, 1.5]})
    assert one.lstrip().startswith("<?xml") and "<svg" in one
    assert one == charts.radar_chart(labels, {"2026": [2, 3, 2.5, 4, 1.5]})
    assert one != charts.radar_chart(labels, {"2026": [2, 3, 2.5, 4, 2.5]})
    empty = charts.small_multiples(["D1", "D2", "D3"], {})
    assert "<svg" in empty


def test_the_nation_report_holds_every_section(node: Node) -> None:
    _seed(node)
    with node.unit(node.operator()) as ctx:
        report = build_report(ctx, "JM")
    assert [r.year for r in report.rounds] == [2021, 2026]
    assert [g.factor_id for g in report.gaps] == ["D5.4"]
    html = render_html(report)
    for needle in (
        "Jamaica (JM)",
        'alt="Radar chart of dimension scores"',
        'alt="Dimension scores by year"',
        'alt="Small multiples of the region\'s dimension scores"',
        'alt="GCI 2024 pillar scores"',
        "Quarterly restore drills",
        "academia: no budget line &lt;yet&gt;",  # user text is escaped
        'GUY <span class="muted">(alternative)</span>',
        # The GCI is cited from its publishers: Data360 with its series, ITU's own profile.
        "World Bank Data360 dataset ITU_GCI (series ITU_GCI_GCI_OVRL_SCRE",
        "https://www.itu.int/epublications/publication/global-cybersecurity-index-2024",
        "indicative only",
    ):
        assert needle in html, needle
    assert html.count("data:image/svg+xml;base64,") == 4


def test_the_report_is_written_in_the_language_asked_for(node: Node) -> None:
    _seed(node)
    with node.unit(node.operator()) as ctx:
        report = build_report(ctx, "JM")
    english, spanish = render_html(report), render_html(report, "es")
    assert '<html lang="en">' in english
    assert '"Page " counter(page) " of " counter(pages)' in english
    for needle in (
        '<html lang="es">',
        "Jamaica: informe de madurez en ciberseguridad",
        "Resumen ejecutivo",
        "Hallazgos por dimensión",
        "2026, publicado",  # the round's status, translated
        "Recomendaciones",
        "Quarterly restore drills",  # user text as written, and escaped
        "academia: no budget line &lt;yet&gt;",
        '"Página " counter(page) " de " counter(pages)',
        'alt="Gráfico radial de las puntuaciones por dimensión"',
        "tienen al menos una dimensión en Start-up",  # a statement; stages are data
    ):
        assert needle in spanish, needle
    for english_words in ("Executive summary", "Recommendations", "have at least one dimension"):
        assert english_words in english and english_words not in spanish
    # The charts speak it too: the trend's axis (SVG text, not glyph outlines).
    trend = report_charts(report, translations("es").gettext)["trend"]
    svg = base64.b64decode(trend.removeprefix("data:image/svg+xml;base64,")).decode()
    assert ">Puntuación<" in svg and ">Score<" not in svg


def test_the_report_renders_to_pdf(node: Node) -> None:
    _seed(node)
    with node.unit(node.operator()) as ctx:
        pdf = render_pdf(render_html(build_report(ctx, "JM", region=None)))
    assert pdf.startswith(b"%PDF-")
    assert len(pdf) > 20_000


def test_a_round_exports_to_csv_with_one_column_per_group(node: Node) -> None:
    round_id = _seed(node)
    with node.unit(node.operator()) as ctx:
        records = round_records(ctx, round_id)
    rows = list(csv.DictReader(io.StringIO(to_csv(records))))
    assert len(rows) == 23
    d11 = rows[0]
    assert (d11["factor"], d11["government"], d11["academia"], d11["civil_society"]) == (
        "D1.1",
        "4",
        "2",
        "",
    )
    assert (d11["agreed_stage"], d11["agreed_stage_name"], d11["disagreement"]) == (
        "3",
        "Established",
        "True",
    )
    # Each group's rationale and evidence beside its stage (evidence refs joined by " | ").
    assert (d11["government_rationale"], d11["government_evidence"]) == (
        "funded strategy",
        "ev-1 | https://example.gov.jm/nss.pdf",
    )
    assert (d11["academia_rationale"], d11["academia_evidence"]) == ("no budget line", "")
    assert (d11["civil_society_rationale"], d11["civil_society_evidence"]) == ("", "")
    as_json = json.loads(to_json(records))[0]
    assert as_json["government_evidence"] == ["ev-1", "https://example.gov.jm/nss.pdf"]
    assert as_json["civil_society_rationale"] is None


def test_the_report_has_an_annex_of_rationales_and_evidence(node: Node) -> None:
    _seed(node)
    with node.unit(node.operator()) as ctx:
        html = render_html(build_report(ctx, "JM", region=None))
    annex = html[html.index('id="rationales"') :]
    for needle in (
        "Rationales and evidence",
        "D1.1",
        "funded strategy",
        "ev-1",
        "https://example.gov.jm/nss.pdf",
        "no budget line",
    ):
        assert needle in annex, needle


def test_index_json_rows_carry_iso3_scores_and_tier(node: Node) -> None:
    with node.unit(node.operator()) as ctx:
        rows = index_records(edition_rows(ctx.db, "gci-2024", "CARIBBEAN"))
    data = json.loads(to_json(rows))
    jamaica = next(r for r in data if r["iso3"] == "JAM")
    assert jamaica["overall"] == 58.0284
    assert jamaica["pillar_legal"] == 16.407
    assert (jamaica["tier"], jamaica["tier_name"]) == ("T3", "Establishing")
    assert "Data360" in jamaica["source"]


def test_region_json_links_each_statement_to_its_rows(node: Node) -> None:
    _seed(node)
    with node.unit(node.operator()) as ctx:
        data = json.loads(to_json(region_data(region_view(ctx, "CARICOM"))))
    assert data["group"] == "CARICOM"
    assert {(r["nation"], r["year"]) for r in data["panel"]} == {
        ("JM", 2021),
        ("JM", 2026),
        ("TT", 2026),
    }
    panel_ids = {r["round_id"] for r in data["panel"]}
    statements = {s["key"]: s for s in data["statements"]}
    assert list(statements) == [
        "start_up",
        "dynamic",
        "dynamic_factor",
        "improved",
        "leaders",
        "strongest",
        "weakest",
    ]
    for statement in statements.values():
        assert {row["round_id"] for row in statement["rows"]} <= panel_ids
        assert (statement["values"]["total"], statement["values"]["members"]) == (2, 15)
    assert [(n["rank"], n["nation"], n["year"], n["tier_id"]) for n in data["ranking"]] == [
        (r["rank"], r["nation"], 2026, "T3") for r in data["ranking"]
    ]
    assert {n["nation"] for n in data["ranking"]} == {"JM", "TT"}
    assert [d["dimension"] for d in data["dimension_ranking"]] != []
    assert data["baseline"] is None


def test_the_panel_export_has_every_round_and_every_factor(node: Node) -> None:
    _seed(node)
    with node.unit(node.operator()) as ctx:
        view = region_view(ctx, "CARICOM")
        records = region_panel_records(view, CMM)
    factors = list(CMM.factors())
    assert len(records) == 3 * len(factors)
    assert {(r["nation"], r["year"]) for r in records} == {("JM", 2021), ("JM", 2026), ("TT", 2026)}
    by_round = {r.round_id: r for r in view.panel}
    for record in records:
        row = by_round[record["round_id"]]
        assert record["stage"] == row.factors[record["factor"]]
        assert record["dimension_score"] == row.dimensions[record["dimension"]]
        assert record["complete"] is True
    first = records[0]
    assert list(first)[:8] == [
        "group",
        "framework",
        "round_id",
        "nation",
        "year",
        "source",
        "complete",
        "dimension",
    ]
    text = to_csv(records)
    assert len(text.splitlines()) == 1 + 3 * len(factors)
    assert text.startswith("group,framework,round_id,nation,year,source,complete,dimension,")


def test_the_report_uses_the_latest_published_round_and_shows_open_ones_as_drafts(
    node: Node,
) -> None:
    _seed(node)
    with node.unit(node.operator()) as ctx:
        draft = create_round(ctx, "JM", "cmm-2021", 2027)
        agree(ctx, draft.id, "D1.1", 5, "a draft's figure")
        report = build_report(ctx, "JM")
    assert [r.year for r in report.rounds] == [2021, 2026]
    assert [(d.year, d.status, d.agreed) for d in report.drafts] == [(2027, "open", 1)]
    assert report.latest is not None and report.latest.year == 2026
    d11 = next(f for f in report.factors if f.factor_id == "D1.1")
    assert d11.agreed_stage == 3  # the published round's, not the draft's 5
    html = render_html(report)
    summary = html[html.index('id="summary"') : html.index('id="drafts"')]
    assert "2027" not in summary and "a draft&#39;s figure" not in html
    drafts = html[html.index('id="drafts"') : html.index('id="findings"')]
    assert "Open rounds (drafts), not used in this report: 2027 (1 of 23 factors agreed)" in drafts


def test_a_dimension_without_agreed_factors_is_not_assessed_never_zero(node: Node) -> None:
    with node.unit(node.operator()) as ctx:
        grant_consent(ctx, "JM", "CARICOM")
        row = create_round(ctx, "JM", "cmm-2021", 2026)
        for factor in ("D1.1", "D1.2", "D2.1"):
            agree(ctx, row.id, factor, 2)
        publish(ctx, row.id, partial=True)
        report = build_report(ctx, "JM", region=None)
    assert report.latest is not None
    assert (report.latest.scores, report.latest.partial) == ({"D1": 2.0, "D2": 2.0}, True)
    html = render_html(report)
    findings = html[html.index('id="findings"') :]
    scores = findings[: findings.index("</table>")]
    assert scores.count("not assessed") == 3  # D3, D4, D5; never 0 or 0.00
    assert "0.00" not in scores
    radar = base64.b64decode(report_charts(report)["radar"].split(",", 1)[1]).decode()
    assert "<svg" in radar  # the outline has a gap where a dimension is not assessed
    assert "2026, published" in html
    assert "It was published as partial: 3 of 23 factors agreed." in html
    assert "Caveat: the round was published as partial, with 3 of 23 factors agreed" in html


def test_a_stage_agreed_without_ratings_exports_its_reason(node: Node) -> None:
    with node.unit(node.operator()) as ctx:
        users.add_user(ctx, "jm-rater", "assessor", nation="JM")
        row = create_round(ctx, "JM", "cmm-2021", 2027)
        invite(ctx, row.id, "government", raters=["jm-rater"])  # the round is bound now
        agree(ctx, row.id, "D1.2", 2, reason="the ministry's own audit stands for it")
        records = {r["factor"]: r for r in round_records(ctx, row.id)}
    assert records["D1.2"]["agreed_without_ratings_because"] == (
        "the ministry's own audit stands for it"
    )
    assert records["D1.1"]["agreed_without_ratings_because"] is None
    assert records["D1.2"]["hidden_groups"] == []
