"""The demo's coop samples: every record marked sample data, and loading twice adds nothing."""

from __future__ import annotations

from seawall.coop import cirts, laws
from seawall.coop.records import SAMPLE_NOTE
from seawall.coop.samples import load_sample_coop
from seawall.core import partners
from seawall.core.node import Node


def test_every_sample_says_so_and_a_second_load_adds_nothing(node: Node) -> None:
    with node.unit(node.operator("demo")) as ctx:
        # Trinidad and Tobago has a node of its own: the samples never enter its records.
        partners.add_partner(ctx, "tt-national", "TT", "https://tt.example", "full", "amber")
        first = load_sample_coop(ctx)
        assert first == {"instruments": 14, "cirts": 4}
        assert load_sample_coop(ctx) == {"instruments": 0, "cirts": 0}
        instruments = laws.list_instruments(ctx)
        entries = cirts.list_cirts(ctx)
        matrix = laws.harmonisation_matrix(ctx, "CARICOM")
    assert {r.nation for r in instruments} == {"JM", "LC", "GD", "GY", "AG"}
    for row in [*instruments, *entries]:
        assert row.sample and row.note.startswith(SAMPLE_NOTE)
        assert row.source.startswith("https://example.org/seawall-sample/")
    assert matrix.sample
    assert all(c.best.sample for c in matrix.cells.values() if c.best is not None)
