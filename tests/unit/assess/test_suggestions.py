"""Evidence recorded by other pillars is suggested on the factors it supports."""

from __future__ import annotations

from seawall.assess.rounds import create_round
from seawall.assess.suggestions import suggested_evidence
from seawall.core.access import Principal, Role
from seawall.core.clock import FrozenClock
from seawall.core.evidence import record_evidence
from seawall.core.node import Node

TT_CUSTODIAN = Principal("tt-custodian", "TT", Role.CUSTODIAN)


def test_restore_drills_and_sharing_show_on_the_factors_they_support(
    node: Node, clock: FrozenClock
) -> None:
    with node.unit(node.operator()) as ctx:
        drill = record_evidence(
            ctx,
            "embassy",
            "restore_drill",
            "Restored the land registry from two embassy sites",
            ["cmm:D1.2", "cmm:D5.4"],
        )
        clock.advance(hours=1)
        sharing = record_evidence(
            ctx, "intel", "sharing", "Shared 40 indicators with CARICOM", ["cmm-2021:D1.2"]
        )
        record_evidence(ctx, "intel", "sharing", "Mapped to CSF", ["nist-csf-2.0:RS.MA"])
        record_evidence(ctx, "intel", "sharing", "Names no real factor", ["cmm:D9.9"])
        round_id = create_round(ctx, "JM", "cmm-2021", 2026).id
    with node.unit(TT_CUSTODIAN) as ctx:
        record_evidence(ctx, "embassy", "restore_drill", "Another nation's drill", ["cmm:D1.2"])
    with node.unit(node.operator()) as ctx:
        found = suggested_evidence(ctx, round_id)
    assert set(found) == {"D1.2", "D5.4"}
    assert [s.evidence_id for s in found["D1.2"]] == [sharing.id, drill.id]
    assert [s.summary for s in found["D5.4"]] == [
        "Restored the land registry from two embassy sites"
    ]
