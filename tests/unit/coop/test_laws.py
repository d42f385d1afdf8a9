"""Legal instruments: nation boundaries, one-line import faults, audit and CMM evidence."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from seawall.coop import laws
from seawall.coop.records import SAMPLE_NOTE, CoopRecordInvalid, NotYourNation
from seawall.core import partners
from seawall.core.access import Principal, Role
from seawall.core.node import Node
from seawall.db.models import AuditEntry, Evidence
from seawall.db.models.coop_laws import LegalInstrument
from seawall.errors import Conflict, Forbidden

JM_ASSESSOR = Principal("jm-assessor", "JM", Role.ASSESSOR)
JM_VIEWER = Principal("jm-viewer", "JM", Role.VIEWER)
TT_ASSESSOR = Principal("tt-assessor", "TT", Role.ASSESSOR)
DPA = {
    "nation": "JM",
    "kind": "data_protection",
    "title": "Data Protection Act, 2020",
    "status": "enacted",
    "date": "2020-06",
    "source": "https://example.org/jm-dpa",
}


def _count(node: Node, model: type) -> int:
    with node.unit(node.operator()) as ctx:
        return len(list(ctx.db.scalars(select(model))))


def test_a_change_to_a_cell_is_audited_and_recorded_as_d4_evidence(node: Node) -> None:
    with node.unit(JM_ASSESSOR) as ctx:
        row = laws.add_instrument(ctx, **DPA)
        laws.update_instrument(ctx, row.id, status="in force", date="2023-12-01")
        laws.update_instrument(ctx, row.id, note="no change to the cell")
    with node.unit(node.operator()) as ctx:
        found = list(ctx.db.scalars(select(Evidence).order_by(Evidence.occurred_at)))
        actions = [a.action for a in ctx.db.scalars(select(AuditEntry))]
    assert [(e.nation, e.pillar, e.kind) for e in found] == [
        ("JM", "coop", "coop.law.cell_changed")
    ] * 2
    assert "cmm:D4.2" in found[0].supports
    assert [e.detail["after"] for e in found] == ["enacted", "in_force"]
    assert actions.count("coop.law.added") == 1 and actions.count("coop.law.updated") == 2


def test_a_viewer_cannot_add_and_another_nation_cannot_edit_yours(node: Node) -> None:
    with node.unit(JM_ASSESSOR) as ctx:
        row_id = laws.add_instrument(ctx, **DPA).id
    with pytest.raises(Forbidden), node.unit(JM_VIEWER) as ctx:
        laws.add_instrument(ctx, **{**DPA, "title": "Another"})
    refused = pytest.raises(NotYourNation, match="a nation edits only its own")
    with refused, node.unit(TT_ASSESSOR) as ctx:
        laws.update_instrument(ctx, row_id, status="draft")
    with pytest.raises(NotYourNation), node.unit(TT_ASSESSOR) as ctx:
        laws.add_instrument(ctx, **{**DPA, "title": "Planted"})
    assert _count(node, LegalInstrument) == 1
    with node.unit(TT_ASSESSOR) as ctx:  # every nation reads every nation's laws
        assert [r.status for r in laws.list_instruments(ctx, nation="JM")] == ["enacted"]


def test_the_hub_operator_enters_laws_only_for_nations_without_a_node(node: Node) -> None:
    with node.unit(node.operator()) as ctx:
        laws.add_instrument(ctx, **{**DPA, "nation": "GD"})
        partners.add_partner(ctx, "tt-node", "TT", "https://tt.example.org")
        with pytest.raises(NotYourNation, match="TT has a node of its own"):
            laws.add_instrument(ctx, **{**DPA, "nation": "TT"})
        evidence = list(ctx.db.scalars(select(Evidence)))
    assert [e.nation for e in evidence] == ["GD"]


def test_an_import_fault_names_row_and_column_and_imports_nothing(node: Node) -> None:
    bad = (
        b"nation,kind,title,status,date,source\n"
        b"JM,cybercrime,Cybercrimes Act 2015,in_force,2015,https://example.org/a\n"
        b"JM,cybercrime,Cybercrimes Bill,passed,2014,https://example.org/b\n"
    )
    with pytest.raises(CoopRecordInvalid) as raised, node.unit(JM_ASSESSOR) as ctx:
        laws.import_instruments(ctx, bad, "laws.csv")
    assert str(raised.value).startswith("laws.csv: row 3, column status: 'passed' is not one of")
    assert "\n" not in str(raised.value)
    cases = {
        b"nation,kind,title,status,source,colour\n": "laws.csv: row 1, column colour:",
        b"nation,kind,title,status\n": "laws.csv: row 1, column source: missing",
        b"nation,kind,title,status,date,source\nJM,cybercrime,A,draft,2015-13,https://x.org\n": (
            "laws.csv: row 2, column date: '2015-13' is no day"
        ),
        b"nation,kind,title,status,source\nJM,cybercrime,A,draft,ftp://x.org\n": (
            "laws.csv: row 2, column source: 'ftp://x.org' is not an http(s) URL"
        ),
        b"nation,kind,title,status,source\nXX,cybercrime,A,draft,https://x.org\n": (
            "laws.csv: row 2, column nation: unknown nation code"
        ),
        b"nation,kind,title,status,source\nJM,cybercrime,A,draft,https://x.org\n"
        b"JM,cybercrime,A,draft,https://x.org\n": "laws.csv: row 3, column title:",
        b"nation,kind,title,status,source\nTT,cybercrime,A,draft,https://x.org\n": (
            "laws.csv: row 2, column nation: jm-assessor (JM) may not change TT's laws"
        ),
    }
    for data, start in cases.items():
        with (
            pytest.raises((CoopRecordInvalid, NotYourNation)) as raised,
            node.unit(JM_ASSESSOR) as ctx,
        ):
            laws.import_instruments(ctx, data, "laws.csv")
        assert str(raised.value).startswith(start), str(raised.value)
    refused = pytest.raises(CoopRecordInvalid, match=r"laws.json: item 1, field kind: 'law' is")
    with refused, node.unit(JM_ASSESSOR) as ctx:
        laws.import_instruments(ctx, json.dumps([{**DPA, "kind": "law"}]).encode(), "laws.json")
    assert _count(node, LegalInstrument) == 0


def test_an_export_imports_again_unchanged(node: Node) -> None:
    with node.unit(JM_ASSESSOR) as ctx:
        laws.add_instrument(ctx, **DPA)
        laws.add_instrument(
            ctx,
            **{
                **DPA,
                "kind": "budapest_convention",
                "title": "Not a party",
                "status": "none",
                "sample": "yes",
            },
        )
        for fmt in laws.FORMATS:
            exported = laws.export_instruments(ctx, fmt)
            assert laws.import_instruments(ctx, exported, f"laws.{fmt}").unchanged == 2
        sample = laws.list_instruments(ctx, kind="budapest_convention")[0]
        assert sample.sample and SAMPLE_NOTE in sample.note
        with pytest.raises(Conflict):
            laws.add_instrument(ctx, **DPA)
        matrix = laws.harmonisation_matrix(ctx, group="CARICOM")
    assert matrix.cell("JM", "data_protection").status == "enacted"
    assert matrix.cell("JM", "budapest_convention").status == "none"
    assert matrix.cell("TT", "data_protection").status == "unknown"
    assert matrix.sample
