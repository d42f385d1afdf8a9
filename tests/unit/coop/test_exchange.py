"""CSV and JSON files of programmes and organisations: Cybil's column names, one-line errors
naming the row and the column, whole or nothing, and an export that imports again."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from seawall.coop import exchange, programmes
from seawall.coop.errors import ImportRowInvalid
from seawall.coop.fields import Catalogue
from seawall.core.access import Principal, Role
from seawall.core.node import Node
from seawall.db.models.coop import Programme
from seawall.errors import Forbidden

WRITER = Principal("jm-assessor", "JM", Role.ASSESSOR)
CATALOGUE = Catalogue({"cmm-2021": frozenset({"D1.2", "D4.1", "D2.2"})}, {"cmm": "cmm-2021"})

CYBIL = (
    "Title,Funder,Implementer,Beneficiary countries,Factors,Start date,End date,Budget,"
    "Currency,Status,Topics,Links,ref\n"
    '"OECS Digital Transformation, cyber component",World Bank,CARICOM IMPACS,'
    '"LC; GD; DM; VC",cmm:D1.2; cmm:D4.1,2021-06,2026,"30,000,000",USD,Ongoing,'
    "Cybercrime,https://projects.worldbank.org/P171833,OECS-DTP\n"
    "Cyber awareness month,CTU,CTU,JM,cmm:D2.2,2025-10-01,2025-10-31,,,completed,,,JM-AWARE\n"
)


def _count(node: Node) -> int:
    with node.unit(WRITER) as ctx:
        return int(ctx.db.scalar(select(func.count()).select_from(Programme)) or 0)


def test_a_cybil_style_csv_imports_and_again_changes_nothing(node: Node) -> None:
    with node.unit(WRITER) as ctx:
        done = exchange.import_programmes(ctx, node.settings, CYBIL.encode(), "csv", CATALOGUE)
        assert done.as_dict() == {"added": ["OECS-DTP", "JM-AWARE"], "updated": [], "unchanged": []}
        row = programmes.get_programme(ctx, "OECS-DTP")
        assert (
            row.name,
            row.beneficiaries,
            row.addresses,
            str(row.budget),
            row.start.isoformat(),
        ) == (  # type: ignore[union-attr]
            "OECS Digital Transformation, cyber component",
            ["LC", "GD", "DM", "VC"],
            ["cmm-2021:D1.2", "cmm-2021:D4.1"],
            "30000000.00",
            "2021-06-01",
        )
        again = exchange.import_programmes(ctx, node.settings, CYBIL.encode(), "csv", CATALOGUE)
        assert again.unchanged == ["OECS-DTP", "JM-AWARE"]


def test_cybil_headers_written_as_the_docs_table_has_them_are_read(node: Node) -> None:
    text = (
        "Title,Funder(s),Implementer(s),Beneficiary countries,Start date,Budget,"
        "Budget currency,ref\n"
        "Cyber awareness month,CTU,Caribbean Telecommunications Union,Jamaica,2025-10,900,XCD,"
        "JM-AW\n"
    )
    with node.unit(WRITER) as ctx:
        exchange.import_programmes(ctx, node.settings, text.encode(), "csv", CATALOGUE)
        row = programmes.get_programme(ctx, "JM-AW")
        assert (row.funders, row.implementers, row.currency) == (
            ["CTU"],
            ["Caribbean Telecommunications Union"],
            "XCD",
        )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("X-1,Programme,,,,,,,,paused", "row 3, column status: unknown status 'paused'"),
        ("X-1,Programme,,,,cmm:D9.9,,,,", "row 3, column addresses: cmm-2021 has no"),
        ("X-1,Programme,,,Narnia,,,,,", "row 3, column beneficiaries: "),
        ("X-1,Programme,,,,,2025-13-01,,,", "row 3, column start: '2025-13-01' is not"),
        ("X-1,Programme,,,,,,,1e3x,", "row 3, column budget: '1e3x' is not an amount"),
        (",Programme,,,,,,,,", "row 3, column ref: required"),
        ("OK-1,Again,,,,,,,,", "row 3, column ref: 'OK-1' is already row 2"),
    ],
)
def test_a_bad_row_names_its_row_and_column_and_nothing_is_imported(
    node: Node, line: str, message: str
) -> None:
    header = "ref,name,funders,implementers,beneficiaries,addresses,start,end,budget,status\n"
    data = (header + "OK-1,Fine,,,,,,,,\n" + line + "\n").encode()
    with pytest.raises(ImportRowInvalid) as caught, node.unit(WRITER) as ctx:
        exchange.import_programmes(ctx, node.settings, data, "csv", CATALOGUE)
    assert caught.value.message.startswith(message), caught.value.message
    assert "\n" not in caught.value.message
    assert _count(node) == 0


def test_an_unknown_column_is_refused_in_the_header(node: Node) -> None:
    with (
        pytest.raises(ImportRowInvalid, match="row 1, column 'Donor country'"),
        node.unit(WRITER) as ctx,
    ):
        exchange.import_programmes(ctx, node.settings, b"ref,name,Donor country\n", "csv")


def test_a_json_export_imports_again_as_the_same_records(node: Node, tmp_path: object) -> None:
    with node.unit(WRITER) as ctx:
        exchange.import_programmes(ctx, node.settings, CYBIL.encode(), "csv", CATALOGUE)
        exported = exchange.export_programmes(programmes.list_programmes(ctx), "json")
        csv_text = exchange.export_programmes(programmes.list_programmes(ctx), "csv")
    doc = json.loads(exported)
    assert doc["format"] == "seawall-coop-programmes/1"
    assert [p["ref"] for p in doc["programmes"]] == ["JM-AWARE", "OECS-DTP"]
    with node.unit(WRITER) as ctx:
        assert exchange.import_programmes(ctx, node.settings, exported.encode(), "json").unchanged
        assert exchange.import_programmes(ctx, node.settings, csv_text.encode(), "csv").unchanged
    bad = {"programmes": [doc["programmes"][0], {**doc["programmes"][1], "budget": "lots"}]}
    with (
        pytest.raises(ImportRowInvalid, match=r"^record 2, column budget: "),
        node.unit(WRITER) as ctx,
    ):
        exchange.import_programmes(ctx, node.settings, json.dumps(bad).encode(), "json")


def test_organisations_import_with_a_row_error_naming_the_column(node: Node) -> None:
    good = "name,acronym,kind,country,website\nInter-American Development Bank,IDB,development partner,,https://www.iadb.org\n"
    with node.unit(WRITER) as ctx:
        done = exchange.import_organisations(ctx, node.settings, good.encode(), "csv")
        assert done.added == ["Inter-American Development Bank"]
        out = exchange.export_organisations([], "csv")
        assert out.startswith("name,acronym,kind,")
    with (
        pytest.raises(ImportRowInvalid, match=r"^row 2, column kind: unknown kind 'bank'"),
        node.unit(WRITER) as ctx,
    ):
        exchange.import_organisations(ctx, node.settings, b"name,kind\nX,bank\n", "csv")


def test_a_viewer_may_not_import(node: Node) -> None:
    with pytest.raises(Forbidden), node.unit(Principal("v", "JM", Role.VIEWER)) as ctx:
        exchange.import_programmes(ctx, node.settings, CYBIL.encode(), "csv")
