"""Sample assessments for demo nodes: labelled as samples, idempotent, enough for a region."""

from __future__ import annotations

from sqlalchemy import select

from seawall.assess.benchmark import region_view
from seawall.assess.rounds import consensus_view, list_rounds
from seawall.assess.samples import NOTE, load_sample_assessments
from seawall.core.node import Node
from seawall.db.models.assess import Consensus, Rating


def test_samples_load_once_and_fill_a_region_view(node: Node) -> None:
    with node.unit(node.operator()) as ctx:
        first = load_sample_assessments(ctx)
    with node.unit(node.operator()) as ctx:
        assert load_sample_assessments(ctx) == []
        rounds = list_rounds(ctx)
        view = region_view(ctx, "CARICOM")
        notes = set(ctx.db.scalars(select(Rating.rationale))) | set(
            ctx.db.scalars(select(Consensus.dissent))
        )
        open_round = next(r for r in rounds if r.status == "open")
        pending = [f for f in consensus_view(ctx, open_round.id) if f.agreed_stage is None]
    # Jamaica's own three rounds; the five other nations' two each, entered as a hub enters
    # the rounds of nations without a node (no node consents on another nation's behalf).
    assert len(first) == 13 and len(rounds) == 3
    assert {r.nation for r in rounds} == {"JM"}
    assert notes == {NOTE}
    assert {r.nation for r in view.panel} == {"JM", "TT", "BB", "BZ", "GY", "LC"}
    assert {r.source for r in view.panel if r.nation != "JM"} == {"entered"}
    assert all(s.text for s in view.statements)
    assert (open_round.nation, open_round.year) == ("JM", 2026)
    assert pending and all(len(f.ratings) == 6 for f in pending)
