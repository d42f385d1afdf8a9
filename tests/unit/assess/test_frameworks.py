"""Framework packs: the shipped four, and bad packs refused with one clear line."""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from seawall.assess.errors import PackInvalid, UnknownFramework
from seawall.assess.frameworks import (
    Framework,
    get_framework,
    import_framework,
    parse_framework,
    shipped_frameworks,
)
from seawall.core.access import Principal, Role
from seawall.core.node import Node
from seawall.db.models import AuditEntry
from seawall.errors import Conflict, Forbidden

DOCS = Path(__file__).parents[3] / "docs" / "assess.md"

CUSTOM = """\
format: seawall.framework/1
id: tiny-1
name: Tiny
version: "1"
kind: custom
source: test
licence: test
scale:
  type: stages
  stages:
    - {number: 1, name: Low}
    - {number: 2, name: High}
dimensions:
  - id: A
    name: Alpha
    factors:
      - id: A.1
        name: One
        indicators:
          - {id: A.1.x, stage: 2, text: Something observable}
"""


def _mutate(change: str) -> str:
    raw = yaml.safe_load(CUSTOM)
    exec(change, {"raw": raw})  # noqa: S102 - test-only edits of a dict
    return yaml.safe_dump(raw)


def test_four_packs_are_shipped() -> None:
    assert set(shipped_frameworks()) == {"cmm-2021", "gci-2024", "nist-csf-2.0", "sim3-v2"}


def test_cmm_pack_matches_the_reference_structure_and_has_no_indicator_texts() -> None:
    cmm = shipped_frameworks()["cmm-2021"]
    text = resources.files("seawall.assess").joinpath("data/cmm2021_structure.csv").read_text()
    rows = list(csv.DictReader(text.splitlines()))
    assert [(d.id, d.name) for d in cmm.dimensions] == list(
        dict.fromkeys((r["dimension_id"], r["dimension_name"]) for r in rows)
    )
    assert [(f.id, f.name) for f in cmm.factors().values()] == [
        (r["factor_id"], r["factor_name"]) for r in rows
    ]
    assert len(cmm.factors()) == 23
    assert [s.name for s in cmm.stages.stages] == [
        "Start-up",
        "Formative",
        "Established",
        "Strategic",
        "Dynamic",
    ]
    assert all(not f.indicators for f in cmm.factors().values())
    assert "gcscc.ox.ac.uk" in cmm.source
    assert "verify" in cmm.verification


@pytest.mark.parametrize(
    ("score", "tier"),
    [
        (100, "T1"),
        (95, "T1"),
        (94.99, "T2"),
        (85, "T2"),
        (55, "T3"),
        (20, "T4"),
        (19.99, "T5"),
        (0, "T5"),
    ],
)
def test_gci_tiers_follow_the_published_thresholds(score: float, tier: str) -> None:
    assert shipped_frameworks()["gci-2024"].tier_for(score).id == tier


def test_gci_pack_has_five_pillars_of_twenty() -> None:
    gci = shipped_frameworks()["gci-2024"]
    assert [d.id for d in gci.dimensions] == [
        "legal",
        "technical",
        "organizational",
        "capacity_development",
        "cooperation",
    ]
    assert (gci.scale.min, gci.scale.max) == (0, 20)
    assert gci.total is not None
    assert (gci.total.min, gci.total.max) == (0, 100)
    assert gci.tiers[0].name == "Role-modelling"


def test_nist_csf_pack_has_the_six_functions() -> None:
    csf = shipped_frameworks()["nist-csf-2.0"]
    assert [d.id for d in csf.dimensions] == ["GV", "ID", "PR", "DE", "RS", "RC"]
    assert csf.stages.highest == 4
    assert "RS.MA" in csf.factors()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("raw['colour'] = 'blue'", r"pack tiny\.yaml: colour: Extra inputs are not permitted"),
        ("raw['version'] = 1", r"pack tiny\.yaml: version: Input should be a valid string"),
        (
            "raw['dimensions'][0]['factors'][0]['name'] = 3",
            r"dimensions\[0\]\.factors\[0\]\.name: Input should be a valid string",
        ),
        (
            "raw['dimensions'][0]['factors'].append({'id': 'A.1', 'name': 'Again'})",
            r"dimensions\[0\]\.factors\[1\]\.id: duplicate id 'A.1'",
        ),
        (
            "raw['dimensions'][0]['factors'][0]['indicators'][0]['stage'] = 3",
            r"indicators\[0\]\.stage: 3 is above the top stage 2",
        ),
        (
            "raw['scale']['stages'][1]['number'] = 3",
            r"scale: stages: numbered \[1, 3\], must be 0\.\.1 or 1\.\.2",
        ),
        ("raw['kind'] = 'index'", r"scale: an index pack needs a range scale"),
        ("del raw['source']", r"pack tiny\.yaml: source: Field required"),
        ("raw['dimensions'][0]['factors'] = []", r"dimensions\[0\]\.factors: a custom dimension"),
    ],
)
def test_a_bad_pack_names_the_file_and_the_field(change: str, message: str) -> None:
    with pytest.raises(PackInvalid, match=message) as caught:
        parse_framework(_mutate(change), "tiny.yaml")
    assert "\n" not in str(caught.value)


def test_broken_yaml_names_the_line() -> None:
    with pytest.raises(PackInvalid, match=r"pack x\.yaml: .* at line 2"):
        parse_framework("id: a\n  - : [\n", "x.yaml")


def test_an_index_pack_needs_descending_tiers() -> None:
    raw = yaml.safe_load(
        resources.files("seawall.assess").joinpath("packs/gci-2024.yaml").read_text()
    )
    raw["tiers"][1]["min"] = 99
    with pytest.raises(PackInvalid, match="tiers: thresholds must strictly descend"):
        parse_framework(yaml.safe_dump(raw), "gci.yaml")


def test_a_custom_pack_imports_once_and_resolves(node: Node) -> None:
    with node.unit(node.operator()) as ctx:
        pack = import_framework(ctx, CUSTOM, "tiny.yaml")
        assert isinstance(pack, Framework)
    with node.unit(node.operator()) as ctx:
        assert get_framework(ctx.db, "tiny-1").factors()["A.1"].indicators[0].id == "A.1.x"
        actions = list(ctx.db.scalars(select(AuditEntry.action)))
        assert "assess.framework.imported" in actions
        with pytest.raises(Conflict, match="already imported"):
            import_framework(ctx, CUSTOM, "tiny.yaml")


def test_a_pack_cannot_replace_a_shipped_one(node: Node) -> None:
    text = resources.files("seawall.assess").joinpath("packs/nist-csf-2.0.yaml").read_text()
    with node.unit(node.operator()) as ctx, pytest.raises(Conflict, match="shipped"):
        import_framework(ctx, text, "nist.yaml")


def test_only_a_publisher_imports_frameworks(node: Node) -> None:
    assessor = Principal("rater", "JM", Role.ASSESSOR)
    with node.unit(assessor) as ctx, pytest.raises(Forbidden):
        import_framework(ctx, CUSTOM, "tiny.yaml")


def test_an_unknown_framework_lists_the_known_ones(node: Node) -> None:
    with node.unit(node.operator()) as ctx, pytest.raises(UnknownFramework, match="cmm-2021"):
        get_framework(ctx.db, "cmm-1999")


def test_every_pack_field_is_documented() -> None:
    docs = DOCS.read_text()
    from seawall.assess.content import Content, ContentIndicator
    from seawall.assess.frameworks import (
        Comparability,
        ContentPolicy,
        Dimension,
        Factor,
        Indicator,
        RangeScale,
        Stage,
        StageScale,
        Tier,
    )

    models = [
        Framework,
        Stage,
        StageScale,
        RangeScale,
        Dimension,
        Factor,
        Indicator,
        Tier,
        Comparability,
        ContentPolicy,
        Content,
        ContentIndicator,
    ]
    undocumented = [
        f"{m.__name__}.{name}" for m in models for name in m.model_fields if f"`{name}`" not in docs
    ]
    assert undocumented == []
