"""Outside indices: the shipped GCI 2024 figures, tiers, CSV imports and comparability."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import func, select

from seawall.assess.errors import EditionExists, IndexCsvInvalid
from seawall.assess.frameworks import shipped_frameworks
from seawall.assess.indices import (
    comparability_note,
    edition_rows,
    import_edition,
    parse_index_csv,
    shipped_rows,
)
from seawall.core.node import Node
from seawall.db.models import AuditEntry
from seawall.db.models.assess import IndexEdition, IndexScore

HEADER = "iso3,overall,legal,technical,organizational,capacity_development,cooperation,source\n"
GOOD = HEADER + (
    "JAM,60.5,17,7,16,9,11.5,ITU GCI 2026 country profile JAM\n"
    "TTO,57,9,7,17,13,11,ITU GCI 2026 country profile TTO\n"
)


def test_sixteen_caribbean_states_are_shipped_with_a_source_per_row() -> None:
    primary = [r for r in shipped_rows()["gci-2024"] if r.primary]
    assert len(primary) == 16
    assert len({r.nation for r in primary}) == 16
    assert all("Data360" in r.source for r in primary)


def test_pillars_sum_to_the_overall_score() -> None:
    for row in shipped_rows()["gci-2024"]:
        assert math.isclose(sum(row.pillars.values()), row.overall, abs_tol=0.011), row.nation


def test_tiers_are_computed_from_the_thresholds() -> None:
    tiers = {r.nation: r.tier_name for r in shipped_rows()["gci-2024"] if r.primary}
    assert tiers["DO"] == "Establishing"  # 75.83
    assert tiers["JM"] == "Establishing"  # 58.03
    assert tiers["GY"] == "Evolving"  # 47.38
    assert tiers["AG"] == "Building"  # 18.20


def test_guyana_keeps_both_published_values_each_with_its_source() -> None:
    guyana = [r for r in shipped_rows()["gci-2024"] if r.nation == "GY"]
    assert {(r.overall, r.primary) for r in guyana} == {(47.3799, True), (47.23, False)}
    profile = next(r for r in guyana if not r.primary)
    assert "country profile" in profile.source
    assert profile.pillars["capacity_development"] == 8.35
    assert len({r.source for r in guyana}) == 2


def test_2020_and_2024_are_flagged_as_not_strictly_comparable(node: Node) -> None:
    with node.unit(node.operator()) as ctx:
        note = comparability_note(ctx.db, "gci-2024", "gci-2020")
        assert "not strictly comparable" in note or "indicative only" in note
        assert comparability_note(ctx.db, "gci-2020", "gci-2024") == note
    assert all("not strictly comparable" in r.note for r in shipped_rows()["gci-2020"])


def test_a_group_filter_keeps_only_its_members(node: Node) -> None:
    with node.unit(node.operator()) as ctx:
        caricom = {r.nation for r in edition_rows(ctx.db, "gci-2024", "CARICOM")}
    assert "JM" in caricom
    assert "DO" not in caricom  # the Dominican Republic is not a CARICOM member
    assert "CU" not in caricom


def test_an_edition_imports_with_a_source_for_every_number(node: Node) -> None:
    with node.unit(node.operator()) as ctx:
        rows = import_edition(ctx, GOOD, "gci26.csv", "gci-2024", "gci-2026", 2026)
    assert {(r.nation, r.tier_id) for r in rows} == {("JM", "T3"), ("TT", "T3")}
    with node.unit(node.operator()) as ctx:
        scores = list(ctx.db.scalars(select(IndexScore)))
        assert len(scores) == 12
        assert all(s.source.startswith("ITU GCI 2026 country profile") for s in scores)
        assert "assess.index.imported" in set(ctx.db.scalars(select(AuditEntry.action)))
        assert [r.nation for r in edition_rows(ctx.db, "gci-2026")] == ["JM", "TT"]
        with pytest.raises(EditionExists):
            import_edition(ctx, GOOD, "gci26.csv", "gci-2024", "gci-2026", 2026)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (HEADER + "JAM,60.5,17,,16,9,11.5,src\n", r"row 2 column technical: missing score"),
        (GOOD + "BRB,40,n/a,7,16,9,8,src\n", r"row 4 column legal: 'n/a' is not a number"),
        (HEADER + "JAM,60.5,17,7,16,9,11.5,\n", r"row 2 column source: missing source"),
        (HEADER + "XXX,60.5,17,7,16,9,11.5,src\n", r"row 2 column iso3: unknown nation 'XXX'"),
        (HEADER + "JAM,60.5,27,7,16,9,11.5,src\n", r"row 2 column legal: 27.0 is outside 0-20"),
        (HEADER + "JAM,nan,17,7,16,9,11.5,src\n", r"row 2 column overall: 'nan' is not a finite"),
        ("iso3,overall,legal\nJAM,1,1\n", r"missing column\(s\) technical, organizational"),
        (HEADER, r"no data rows"),
    ],
)
def test_a_bad_csv_names_row_and_column_and_stores_nothing(
    node: Node, text: str, message: str
) -> None:
    with node.unit(node.operator()) as ctx, pytest.raises(IndexCsvInvalid, match=message):
        import_edition(ctx, text, "bad.csv", "gci-2024", "gci-2026", 2026)
    with node.unit(node.operator()) as ctx:
        assert ctx.db.scalar(select(func.count()).select_from(IndexEdition)) == 0
        assert ctx.db.scalar(select(func.count()).select_from(IndexScore)) == 0


def test_a_default_source_covers_rows_without_one() -> None:
    text = "nation,overall,legal,technical,organizational,capacity_development,cooperation\n"
    text += "JM,60,17,7,16,9,11\n"
    gci = shipped_frameworks()["gci-2024"]
    with pytest.raises(IndexCsvInvalid, match="every number needs a source"):
        parse_index_csv(text, gci, "x.csv")
    rows = parse_index_csv(text, gci, "x.csv", default_source="ITU GCI 2026 report, table 3")
    assert rows[0].source == "ITU GCI 2026 report, table 3"


def test_nations_are_named_by_code_or_english_name(node: Node) -> None:
    text = "nation,overall,legal,technical,organizational,capacity_development,cooperation\n"
    text += "Jamaica,60,17,7,16,9,11\n"
    text += "trinidad & tobago,57,9,7,17,13,11\n"
    text += "St. Kitts and Nevis,20,4,4,4,4,4\n"
    text += '"Venezuela, Bolivarian Republic of",30,6,6,6,6,6\n'
    text += "BRB,40,8,8,8,8,8\n"
    with node.unit(node.operator()) as ctx:
        rows = import_edition(ctx, text, "x.csv", "gci-2024", "gci-2026", 2026, "ITU GCI 2026")
    assert [r.nation for r in rows] == ["JM", "TT", "KN", "VE", "BB"]
    gci = shipped_frameworks()["gci-2024"]
    with pytest.raises(IndexCsvInvalid, match=r"row 2 column nation: unknown nation 'Atlantis'"):
        parse_index_csv(text.replace("Jamaica", "Atlantis"), gci, "x", default_source="ITU")
