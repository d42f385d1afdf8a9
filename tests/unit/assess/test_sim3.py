"""SIM3 v2: the Open CSIRT Foundation's CSIRT maturity model, rated 0-4, as a shipped pack.

A CIRT self-assessment is a round like any other on this pack (``--framework sim3-v2``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from seawall.assess.benchmark import region_view
from seawall.assess.errors import PackInvalid, StageOutOfRange
from seawall.assess.frameworks import Framework, parse_framework, shipped_frameworks
from seawall.assess.publication import export_round, import_round
from seawall.assess.rounds import (
    agree,
    create_round,
    grant_consent,
    publish,
    rate,
    round_dimension_scores,
)
from seawall.assess.scoring import check_stage, dimension_score, factor_stage
from seawall.core import partners
from seawall.core.clock import FrozenClock
from seawall.core.federation.identity import load_node_key
from seawall.core.federation.links import link_partner
from seawall.core.node import Node
from seawall.db.models.assess import ReceivedRound
from tests.conftest import EPOCH, make_node

SIM3_CATEGORIES = ["O", "H", "T", "P"]
SIM3_PARAMETERS = {
    "O": [f"O-{n}" for n in range(1, 12)],
    "H": [f"H-{n}" for n in range(1, 8)],
    "T": [f"T-{n}" for n in range(1, 11)],
    "P": [f"P-{n}" for n in range(1, 18)],
}


def sim3_pack() -> Framework:
    return shipped_frameworks()["sim3-v2"]


def test_the_sim3_pack_is_shipped_with_its_four_categories_and_parameters() -> None:
    pack = sim3_pack()
    assert pack.kind == "custom"
    assert [d.id for d in pack.dimensions] == SIM3_CATEGORIES
    assert [d.name for d in pack.dimensions] == ["Organisation", "Human", "Tools", "Processes"]
    assert {d.id: [f.id for f in d.factors] for d in pack.dimensions} == SIM3_PARAMETERS
    assert len(pack.factors()) == 45
    assert all(f.description for f in pack.factors().values())
    assert pack.factors()["O-1"].name == "Mandate"
    assert "opencsirt.org" in pack.source


def test_sim3_is_rated_from_0_to_4() -> None:
    stages = sim3_pack().stages
    assert [(s.number, s.name) for s in stages.stages] == [
        (0, "Not available"),
        (1, "Implicit"),
        (2, "Explicit, internal"),
        (3, "Explicit, formalised"),
        (4, "Explicit, audited"),
    ]
    assert (stages.lowest, stages.highest) == (0, 4)
    assert stages.name_of(0) == "Not available" and stages.name_of(4) == "Explicit, audited"


def test_a_stage_scale_starts_at_0_or_1_and_has_no_gaps() -> None:
    base = """\
format: seawall.framework/1
id: zero-1
name: Zero
version: "1"
kind: custom
source: test
licence: test
scale:
  type: stages
  stages:
{stages}
dimensions:
  - {{id: A, name: Alpha, factors: [{{id: A.1, name: One}}]}}
"""
    ok = parse_framework(
        base.format(stages="    - {number: 0, name: None}\n    - {number: 1, name: Some}"),
        "zero.yaml",
    )
    assert (ok.stages.lowest, ok.stages.highest) == (0, 1)
    with pytest.raises(PackInvalid, match=r"must be 0\.\.1 or 1\.\.2 in order"):
        parse_framework(
            base.format(stages="    - {number: 2, name: A}\n    - {number: 3, name: B}"), "gap.yaml"
        )


def test_the_engine_scores_a_0_based_scale() -> None:
    assert dimension_score([0, 4, 2], highest=4, lowest=0) == 2.0
    assert check_stage(0, 4, lowest=0) == 0
    with pytest.raises(StageOutOfRange, match="use a whole number from 0 to 4"):
        check_stage(5, 4, lowest=0)
    with pytest.raises(StageOutOfRange, match="use a whole number from 1 to 5"):
        check_stage(0, 5)
    assert factor_stage({}, [], highest=4, lowest=0) == 4
    assert factor_stage({1: ["x"]}, [], highest=4, lowest=0) == 0


@pytest.fixture
def hub_and_node(tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    hub = make_node(tmp_path / "hub", None, FrozenClock(EPOCH), "TT")
    jm = make_node(tmp_path / "jm", None, FrozenClock(EPOCH), "JM")
    with hub.unit(hub.operator()) as ctx:
        partners.add_partner(ctx, "jm-node", "JM", "https://jm-node.example")
        link_partner(
            ctx, hub.settings, "jm-node", public_key=load_node_key(jm.settings).public_text
        )
    yield hub, jm
    hub.close()
    jm.close()


def test_a_cirt_self_assessment_is_rated_0_to_4_and_reaches_the_hub(
    hub_and_node: tuple[Node, Node],
) -> None:
    hub, jm = hub_and_node
    pack = sim3_pack()
    # Organisation parameters at 0, the rest at 4, H-1 at 2.
    agreed = {f: (0 if f.startswith("O-") else 4) for f in pack.factors()}
    agreed["H-1"] = 2
    with jm.unit(jm.operator()) as ctx:
        row = create_round(ctx, "JM", "sim3-v2", 2026)
        assert rate(ctx, row.id, "government", "O-1", 0, "no written mandate").stage == 0
        with pytest.raises(StageOutOfRange) as refused:
            rate(ctx, row.id, "government", "O-1", 5)
        assert str(refused.value) == (
            "stage for O-1 5 is outside the scale: use a whole number from 0 to 4"
        )
        for factor, stage in agreed.items():
            agree(ctx, row.id, factor, stage)
        scores = round_dimension_scores(ctx.db, row)
        assert scores == {"O": 0.0, "H": pytest.approx(26 / 7), "T": 4.0, "P": 4.0}
        grant_consent(ctx, "JM", "CARICOM")
        publish(ctx, row.id)
        package = export_round(ctx, jm.settings, row.id).data
        round_id = row.id

    with hub.unit(hub.operator()) as ctx:
        done = import_round(ctx, package)
        assert (done.action, done.outcome) == ("publish", "stored")
        held = ctx.db.get(ReceivedRound, round_id)
        assert held is not None and held.framework_id == "sim3-v2"
        assert held.stages == agreed
        view = region_view(ctx, "CARICOM", "sim3-v2")
        assert [(r.nation, r.year, r.source) for r in view.panel] == [("JM", 2026, "received")]
        assert view.panel[0].dimensions == scores
        statements = {s.key: s for s in view.statements}
        # Organisation at 0: the lowest-stage statement names SIM3's lowest level.
        assert statements["start_up"].nations == ("JM",)
        assert statements["start_up"].values["stage"] == "Not available"
        assert statements["dynamic"].nations == ("JM",)
        assert statements["dynamic"].values["stage"] == "Explicit, audited"
