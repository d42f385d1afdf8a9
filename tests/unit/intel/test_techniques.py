"""Techniques on objects and the heat map per nation and region, exactly as each reader may
see them (TLP and audiences), over the real ATT&CK slices."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from seawall.core.access import Principal, Role
from seawall.core.node import Node
from seawall.intel import attack, heatmap, techniques
from seawall.intel.collections import Audience, create_collection, get_collection
from seawall.intel.store import writing
from seawall.intel.tlp import Tlp
from tests import stix
from tests.cli import init_node, run_seawall
from tests.stix import STAMP, relationship, sid

DATA = Path(__file__).parents[2] / "data" / "attack"
JM = Principal("jm-analyst", "JM", Role.ANALYST, user_id="jm-analyst", org_id="org-jm")
TT = Principal("tt-analyst", "TT", Role.ANALYST, user_id="tt-analyst")


def indicator(n: int, tlp: Tlp = Tlp.GREEN, **extra: Any) -> dict[str, Any]:
    return stix.indicator(n, stix.domain(f"host{n}.example"), tlp, **extra)


def sighting(n: int, of: str, tlp: Tlp = Tlp.GREEN) -> dict[str, Any]:
    return stix.sighting(n, of, tlp, count=3)


def add(node: Node, who: Principal, alias: str, objects: list[dict[str, Any]]) -> None:
    with node.unit(who) as ctx:
        result = writing.add_objects(ctx, get_collection(ctx, alias), objects)
    assert len(result.added) == len(objects), result.refused


@pytest.fixture(scope="module")
def ids() -> dict[str, str]:
    """The STIX ids of the ATT&CK techniques used, from the slices."""
    out: dict[str, str] = {}
    for name in ("enterprise-attack-slice.json", "ics-attack-slice.json"):
        for obj in attack.read_bundle((DATA / name).read_bytes()):
            ident = attack.attack_id(obj)
            if obj["type"] == "attack-pattern" and ident:
                out[ident] = obj["id"]
    return out


def world(node: Node, ids: dict[str, str]) -> None:
    with node.unit(node.operator()) as ctx:
        for name in ("enterprise-attack-slice.json", "ics-attack-slice.json"):
            attack.import_attack(ctx, attack.read_bundle((DATA / name).read_bytes()))
        create_collection(ctx, "shared", "Shared", None, "green")
        create_collection(ctx, "jm-only", "JM only", Audience.of(nations=["JM"]), "amber")
    phishing, shell, impact = ids["T1566.001"], ids["T1059"], ids["T1486"]
    kill_chain = [{"kill_chain_name": "mitre-attack", "phase_name": "initial-access"}]
    add(
        node,
        JM,
        "shared",
        [
            indicator(1),
            relationship(1, sid("indicator", 1), "indicates", phishing),
            indicator(2, kill_chain_phases=kill_chain),
            relationship(2, sid("indicator", 2), "indicates", shell, Tlp.AMBER),  # JM's AMBER
            indicator(3),
            stix.stix(
                "report",
                1,
                name="MISP event",
                published=STAMP,
                object_refs=[impact, sid("indicator", 3)],
            ),
            sighting(1, sid("indicator", 1)),
        ],
    )
    add(node, JM, "jm-only", [relationship(3, sid("indicator", 3), "indicates", shell, Tlp.GREEN)])
    add(
        node,
        TT,
        "shared",
        [
            indicator(11),
            relationship(11, sid("indicator", 11), "indicates", phishing),
            sighting(11, sid("indicator", 11)),
            sighting(12, sid("indicator", 11), Tlp.AMBER),  # TT's AMBER
        ],
    )


def cells(who: Principal, node: Node, nation: str | None = None) -> dict[str, tuple[int, int]]:
    with node.unit(who) as ctx:
        found = heatmap.heatmap(ctx, nation)
    assert found.matrix == "Enterprise ATT&CK"
    return {
        cell.attack_id: (cell.objects, cell.sightings)
        for column in found.columns
        for cell in column.cells
        if cell.score
    }


def linked(who: Principal, node: Node, object_id: str) -> tuple[set[tuple[str, str]], list[str]]:
    with node.unit(who) as ctx:
        found = techniques.techniques_of(ctx, object_id)
    return {(t.attack_id, "/".join(t.how)) for t in found.techniques}, found.tactics


def test_each_reader_sees_exactly_the_heat_they_may_read(
    any_node: Node, ids: dict[str, str]
) -> None:
    node = any_node
    world(node, ids)
    # JM sees its own AMBER link and the JM-only collection; T1566 adds up its sub-technique.
    # MITRE's own "APT28 uses T1566.001" never counts.
    assert cells(JM, node) == {
        "T1566": (2, 2),  # indicators 1 and 11; JM's and TT's GREEN sightings
        "T1059": (2, 0),  # indicator 2 (JM AMBER), indicator 3 (JM-only collection)
        "T1486": (1, 0),  # indicator 3, by the report
    }
    # TT: neither JM's AMBER nor the JM-only collection; its own AMBER sighting counts.
    assert cells(TT, node) == {"T1566": (2, 3), "T1486": (1, 0)}
    # In the region, each cell names every nation's share: links it holds, sightings it made.
    with node.unit(TT) as ctx:
        shares = {
            c.attack_id: dict(c.nations) for col in heatmap.heatmap(ctx).columns for c in col.cells
        }
    assert shares["T1566"] == {"JM": 2, "TT": 3}  # JM: indicator 1 + a sighting
    assert shares["T1486"] == {"JM": 1}
    assert cells(JM, node, "JM") == {"T1566": (1, 1), "T1059": (2, 0), "T1486": (1, 0)}
    assert cells(JM, node, "TT") == {"T1566": (1, 1)}
    assert cells(TT, node, "tt") == {"T1566": (1, 2)}


def test_techniques_of_an_object_follow_relationships_reports_and_kill_chains(
    node: Node, ids: dict[str, str]
) -> None:
    world(node, ids)
    assert linked(JM, node, sid("indicator", 1)) == ({("T1566.001", "indicates")}, [])
    assert linked(JM, node, sid("indicator", 2)) == ({("T1059", "indicates")}, ["Initial Access"])
    assert linked(TT, node, sid("indicator", 2)) == (set(), ["Initial Access"])
    assert linked(JM, node, sid("indicator", 3)) == (
        {("T1486", "report"), ("T1059", "indicates")},
        [],
    )
    with node.unit(JM) as ctx:
        both = techniques.case_techniques(ctx, [sid("indicator", 1), sid("indicator", 3)])
    assert [t.attack_id for t in both.techniques] == ["T1059", "T1486", "T1566.001"]
    assert both.techniques[2].name == "Spearphishing Attachment"
    assert both.techniques[2].tactics == ("Initial Access",)
    assert both.techniques[2].url == "https://attack.mitre.org/techniques/T1566/001"


def test_a_case_of_a_thousand_objects_gets_its_techniques(node: Node, ids: dict[str, str]) -> None:
    world(node, ids)
    many = [sid("indicator", 1), sid("indicator", 3)]
    many += [sid("indicator", 10_000 + n) for n in range(1200)]
    with node.unit(JM) as ctx:
        found = techniques.case_techniques(ctx, many)
    assert [t.attack_id for t in found.techniques] == ["T1059", "T1486", "T1566.001"]


def test_objects_of_odd_shape_neither_break_nor_change_the_map(
    node: Node, ids: dict[str, str]
) -> None:
    world(node, ids)
    before = cells(TT, node)
    # Properties the store keeps as given: a reader's page must not fail on them.
    odd_pattern = stix.stix(
        "attack-pattern", 30, name="odd", external_references=5, kill_chain_phases=7
    )
    odd_report = stix.stix(
        "report", 31, name=f"names {ids['T1059']}", published=STAMP, object_refs=9
    )
    odd_matrix = stix.stix(
        "x-mitre-matrix",
        32,
        name="Odd matrix",
        tactic_refs=3,
        external_references=[{"source_name": "mitre-attack", "external_id": "mobile-attack"}],
    )
    odd_tactic = stix.stix("x-mitre-tactic", 33, name="Odd", x_mitre_shortname=4)
    objects = [odd_pattern, odd_report, odd_matrix, odd_tactic]
    objects.append(relationship(30, sid("indicator", 11), "indicates", odd_pattern["id"]))
    objects.append(indicator(34, kill_chain_phases=8))
    add(node, TT, "shared", objects)
    assert cells(TT, node) == before
    with node.unit(TT) as ctx:
        assert heatmap.heatmap(ctx, domain="mobile-attack").columns == []
        assert techniques.techniques_of(ctx, sid("indicator", 34)).tactics == []
        assert not techniques.techniques_of(ctx, sid("indicator", 11)).tactics


def test_the_grid_is_the_matrix_in_order_and_unknown_techniques_are_unplaced(
    node: Node, ids: dict[str, str]
) -> None:
    world(node, ids)
    add(node, JM, "shared", [relationship(20, sid("indicator", 1), "indicates", ids["T0803"])])
    with node.unit(JM) as ctx:
        found = heatmap.heatmap(ctx)
        ics = heatmap.heatmap(ctx, domain="ics-attack")
    assert [c.shortname for c in found.columns][:3] == [
        "reconnaissance",
        "resource-development",
        "initial-access",
    ]
    assert len(found.columns) == 14
    assert found.domains == [
        ("enterprise-attack", "Enterprise ATT&CK"),
        ("ics-attack", "ATT&CK for ICS"),
    ]
    initial = next(c for c in found.columns if c.shortname == "initial-access")
    assert [c.attack_id for c in initial.cells] == ["T1566"]
    assert initial.cells[0].subtechniques == (("T1566.001", "Spearphishing Attachment", 4),)
    assert [(c.attack_id, c.score) for c in found.unplaced] == [("T0803", 2)]  # 1 + sighting
    assert found.top == 4 and initial.cells[0].shade == heatmap.SHADES - 1
    assert found.legend == [(1, 1), (2, 2), (3, 3), (4, 4)]
    assert heatmap.HeatMap("d", "m", None, top=2).legend == [(2, 1), (4, 2)]
    assert heatmap.HeatMap("d", "m", None, top=1).legend == [(4, 1)]
    assert [heatmap._shade(s, 2) for s in (0, 1, 2)] == [0, 2, 4]
    assert [(c.attack_id, c.objects) for col in ics.columns for c in col.cells if c.score] == [
        ("T0803", 1)
    ]


def test_cli_heatmap_prints_the_region_and_one_nation(tmp_path: Path) -> None:
    home = init_node(tmp_path / "home")
    made = run_seawall(home, "intel", "attack", "import", str(DATA / "ics-attack-slice.json"))
    assert made.code == 0, made.output
    shown = run_seawall(home, "intel", "attack", "heatmap", "--json")
    assert shown.code == 0, shown.output
    found = shown.json()
    assert (found["domain"], found["matrix"], found["nation"]) == (
        "ics-attack",
        "ATT&CK for ICS",
        None,
    )
    assert len(found["tactics"]) == 12
    assert found["unplaced"] == []
    text = run_seawall(home, "intel", "attack", "heatmap", "--nation", "JM")
    assert text.code == 0, text.output
    assert "ATT&CK for ICS" in text.out and "JM" in text.out


def test_attacks_own_relationships_never_count_even_without_created_by_ref(
    node: Node, ids: dict[str, str]
) -> None:
    # ATT&CK for ICS ships a few relationships with only x_mitre_modified_by_ref naming MITRE.
    objects = attack.read_bundle((DATA / "enterprise-attack-slice.json").read_bytes())
    for obj in objects:
        if obj["type"] == "relationship":
            obj.pop("created_by_ref")
    with node.unit(node.operator()) as ctx:
        attack.import_attack(ctx, objects)
        found = heatmap.heatmap(ctx)
    assert found.linked == 0 and found.unplaced == []


def test_only_the_newest_version_of_a_report_links(node: Node, ids: dict[str, str]) -> None:
    world(node, ids)
    # The report's newer version no longer holds T1486 (nor indicator 3).
    newer = stix.stix(
        "report",
        1,
        modified="2026-11-02T10:00:00.000Z",
        name="MISP event",
        published=STAMP,
        object_refs=[sid("indicator", 1)],
    )
    add(node, JM, "shared", [newer])
    assert "T1486" not in cells(JM, node)
    assert linked(JM, node, sid("indicator", 3)) == ({("T1059", "indicates")}, [])
