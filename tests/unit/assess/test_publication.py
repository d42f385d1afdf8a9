"""Round packages: a nation's published round, signed by its node, held at a regional hub."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from seawall.assess.benchmark import region_view
from seawall.assess.errors import ConsentMissing, ForeignRound, NoSharedGroup, RoundNotPublished
from seawall.assess.frameworks import shipped_frameworks
from seawall.assess.publication import (
    export_round,
    import_round,
    publish_round,
    round_document,
    withdraw_round,
    withdrawals_for,
)
from seawall.assess.rounds import agree, create_round, grant_consent, publish, rate
from seawall.core import partners
from seawall.core.clock import FrozenClock
from seawall.core.federation.errors import (
    PackageSenderUnknown,
    PackageSignatureInvalid,
    PackageUnreadable,
)
from seawall.core.federation.identity import load_node_key
from seawall.core.federation.links import link_partner
from seawall.core.node import Node
from seawall.db.models import AuditEntry
from seawall.db.models.assess import ReceivedRound
from seawall.errors import NotFound
from tests.conftest import EPOCH, make_node

CMM = shipped_frameworks()["cmm-2021"]


@dataclass
class Region:
    """A CARICOM hub (run by Trinidad and Tobago) and two nations' nodes."""

    hub: Node
    jm: Node
    gd: Node

    def nodes(self) -> Iterator[Node]:
        yield from (self.hub, self.jm, self.gd)


@pytest.fixture
def region(tmp_path: Path) -> Iterator[Region]:
    made = Region(
        hub=make_node(tmp_path / "hub", None, FrozenClock(EPOCH), "TT"),
        jm=make_node(tmp_path / "jm", None, FrozenClock(EPOCH), "JM"),
        gd=make_node(tmp_path / "gd", None, FrozenClock(EPOCH), "GD"),
    )
    with made.hub.unit(made.hub.operator()) as ctx:
        for name, nation, node in (("jm-node", "JM", made.jm), ("gd-node", "GD", made.gd)):
            partners.add_partner(ctx, name, nation, f"https://{name}.example")
            key = load_node_key(node.settings).public_text
            link_partner(ctx, made.hub.settings, name, public_key=key)
    yield made
    for node in made.nodes():
        node.close()


def assess(node: Node, nation: str, year: int, stage: int, *, consent: bool = True) -> str:
    """A round with every factor agreed at ``stage`` (D1.1 with dissent), published, by
    someone of ``nation`` (only they record its consent)."""
    who = node.operator()
    if nation != node.nation:
        from seawall.core import users

        with node.unit(node.operator()) as ctx:
            users.add_user(ctx, f"{nation.lower()}-admin", "admin", nation=nation)
            who = users.act_as(ctx, f"{nation.lower()}-admin")
    with node.unit(who) as ctx:
        row = create_round(ctx, nation, "cmm-2021", year)
        for dimension in CMM.dimensions:
            for factor in dimension.factors:
                dissent = "civil society rated it lower" if factor.id == "D1.1" else ""
                agree(ctx, row.id, factor.id, stage, dissent)
        rate(ctx, row.id, "government", "D1.1", stage, "a strategy adopted in 2024")
        if consent:
            grant_consent(ctx, nation, "CARICOM")
        publish(ctx, row.id)
        return row.id


def export(node: Node, round_id: str, **kwargs: object) -> bytes:
    with node.unit(node.operator()) as ctx:
        return export_round(ctx, node.settings, round_id, **kwargs).data  # type: ignore[arg-type]


def load(node: Node, data: bytes) -> tuple[str, str]:
    with node.unit(node.operator()) as ctx:
        done = import_round(ctx, data)
        return done.action, done.outcome


def panel(node: Node) -> set[tuple[str, int, str]]:
    with node.unit(node.operator()) as ctx:
        return {(r.nation, r.year, r.source) for r in region_view(ctx, "CARICOM").panel}


def test_a_published_round_reaches_the_hub_and_its_regional_view(region: Region) -> None:
    jm_round = assess(region.jm, "JM", 2026, 3)
    gd_round = assess(region.gd, "GD", 2026, 1)
    assert panel(region.hub) == set()

    assert load(region.hub, export(region.jm, jm_round)) == ("publish", "stored")
    assert load(region.hub, export(region.gd, gd_round)) == ("publish", "stored")

    assert panel(region.hub) == {("JM", 2026, "received"), ("GD", 2026, "received")}
    with region.hub.unit(region.hub.operator()) as ctx:
        view = region_view(ctx, "CARICOM")
        held = ctx.db.get(ReceivedRound, jm_round)
        assert held is not None
        assert held.groups == {"CARICOM": "operator"}
        assert held.stages == {f.id: 3 for d in CMM.dimensions for f in d.factors}
        assert held.dissent == {"D1.1": "civil society rated it lower"}
        assert held.ratings == []  # ratings and rationales go only where the nation chooses
    start_up = next(s for s in view.statements if s.key == "start_up")
    assert start_up.nations == ("GD",)
    assert start_up.text.startswith("1 of the 2 consenting members with a complete round")


def test_a_partial_round_says_so_in_its_package_and_at_the_hub(region: Region) -> None:
    with region.jm.unit(region.jm.operator()) as ctx:
        row = create_round(ctx, "JM", "cmm-2021", 2025)
        agree(ctx, row.id, "D1.1", 2)
        grant_consent(ctx, "JM", "CARICOM")
        published, _sent = publish_round(ctx, region.jm.settings, "JM/2025", partial=True)
        assert published.partial is True
        assert round_document(ctx, row.id)["round"]["partial"] is True
    complete = assess(region.jm, "JM", 2026, 3)
    with region.jm.unit(region.jm.operator()) as ctx:
        assert round_document(ctx, complete)["round"]["partial"] is False
    load(region.hub, export(region.jm, row.id))
    load(region.hub, export(region.jm, complete))
    with region.hub.unit(region.hub.operator()) as ctx:
        held = {r.round_id: r.partial for r in ctx.db.scalars(select(ReceivedRound))}
    assert held == {row.id: True, complete: False}


def test_ratings_travel_only_when_the_nation_chooses(region: Region) -> None:
    jm_round = assess(region.jm, "JM", 2026, 3)
    load(region.hub, export(region.jm, jm_round, ratings=True))
    with region.hub.unit(region.hub.operator()) as ctx:
        held = ctx.db.get(ReceivedRound, jm_round)
        assert held is not None
        assert held.ratings == [
            {
                "stakeholder_group": "government",
                "factor": "D1.1",
                "stage": 3,
                "rationale": "a strategy adopted in 2024",
            }
        ]


def test_a_withdrawal_drops_the_round_and_says_when_and_why(region: Region) -> None:
    jm_round = assess(region.jm, "JM", 2026, 3)
    load(region.hub, export(region.jm, jm_round))
    region.jm.clock.advance(hours=1)  # type: ignore[attr-defined]
    with region.jm.unit(region.jm.operator()) as ctx:
        data = withdraw_round(ctx, region.jm.settings, jm_round, "caricom", "figures under review")
    assert load(region.hub, data.data) == ("withdraw", "withdrawn")
    assert panel(region.hub) == set()
    with region.hub.unit(region.hub.operator()) as ctx:
        [(row, why)] = withdrawals_for(ctx, "CARICOM")
        actions = set(ctx.db.scalars(select(AuditEntry.action)))
    assert row.round_id == jm_round
    assert (why["by"], why["reason"]) == ("operator", "figures under review")
    assert why["at"] == (EPOCH + timedelta(hours=1)).isoformat()
    assert {"assess.round.received", "assess.round.withdrawal_received"} <= actions

    # Published to the group again later, by the nation's own node, it comes back; until
    # then the round's own record says it is withdrawn from the group.
    region.jm.clock.advance(hours=1)  # type: ignore[attr-defined]
    with pytest.raises(ConsentMissing, match="not published to any group"):
        export(region.jm, jm_round)
    with region.jm.unit(region.jm.operator()) as ctx:
        publish(ctx, jm_round, groups=["CARICOM"])
    assert load(region.hub, export(region.jm, jm_round)) == ("publish", "replaced")
    assert panel(region.hub) == {("JM", 2026, "received")}
    with region.hub.unit(region.hub.operator()) as ctx:
        assert withdrawals_for(ctx, "CARICOM") == []


def test_an_older_package_changes_nothing(region: Region) -> None:
    jm_round = assess(region.jm, "JM", 2026, 3)
    old = export(region.jm, jm_round)
    region.jm.clock.advance(hours=1)  # type: ignore[attr-defined]
    with region.jm.unit(region.jm.operator()) as ctx:
        withdrawal = withdraw_round(ctx, region.jm.settings, jm_round, "CARICOM", "not final")
    load(region.hub, old)
    load(region.hub, withdrawal.data)
    assert load(region.hub, old) == ("publish", "unchanged")
    assert panel(region.hub) == set()


def test_a_tampered_package_is_refused_and_nothing_is_stored(region: Region) -> None:
    data = bytearray(export(region.jm, assess(region.jm, "JM", 2026, 3)))
    data[-5] ^= 0x01
    with pytest.raises(PackageSignatureInvalid):
        load(region.hub, bytes(data))
    with pytest.raises(PackageUnreadable, match="not a Seawall round package"):
        load(region.hub, b"SEAWALL-INTEL-BUNDLE/1\n{}\nAAAA\nxx")
    assert panel(region.hub) == set()


def test_a_node_publishes_only_its_own_nations_rounds(region: Region, tmp_path: Path) -> None:
    # Jamaica's node holds a round of Grenada (entered there by a Grenadian user) and signs it.
    gd_round = assess(region.jm, "GD", 2026, 2)
    with pytest.raises(ForeignRound, match="signed by JM's node but holds a round of GD"):
        load(region.hub, export(region.jm, gd_round))
    # A node the hub does not know.
    stranger = make_node(tmp_path / "bb", None, FrozenClock(EPOCH), "BB")
    try:
        with pytest.raises(PackageSenderUnknown):
            load(region.hub, export(stranger, assess(stranger, "BB", 2026, 2)))
    finally:
        stranger.close()
    assert panel(region.hub) == set()


def test_a_hub_holds_rounds_only_for_groups_the_nation_belongs_to(region: Region) -> None:
    from seawall.db.models import RegionMembership

    with region.jm.unit(region.jm.operator()) as ctx:
        row = create_round(ctx, "JM", "cmm-2021", 2026)
        agree(ctx, row.id, "D1.1", 2)
        grant_consent(ctx, "JM", "LAC")
        publish(ctx, row.id, partial=True)
    # This hub does not count Jamaica in LAC: it holds nothing for a group JM is not in.
    with region.hub.unit(region.hub.operator()) as ctx:
        ctx.db.query(RegionMembership).filter_by(group_code="LAC", nation="JM").delete()
    with pytest.raises(NoSharedGroup, match="LAC; none is a group this hub holds with JM"):
        load(region.hub, export(region.jm, row.id))
    with region.hub.unit(region.hub.operator()) as ctx:
        assert ctx.db.scalars(select(ReceivedRound)).all() == []


def test_only_a_published_consented_round_of_ones_nation_is_exported(region: Region) -> None:
    with region.jm.unit(region.jm.operator()) as ctx:
        draft = create_round(ctx, "JM", "cmm-2021", 2025)
        agree(ctx, draft.id, "D1.1", 2)
    with pytest.raises(RoundNotPublished):
        export(region.jm, draft.id)
    no_consent = assess(region.jm, "JM", 2026, 3)
    with pytest.raises(ConsentMissing, match="OECS"):
        export(region.jm, no_consent, groups=("OECS",))
    from seawall.core import users

    with region.jm.unit(region.jm.operator()) as ctx:
        users.add_user(ctx, "tt-admin", "admin", "a long enough password", nation="TT")
        outsider = users.act_as(ctx, "tt-admin")
    with region.jm.unit(outsider) as ctx, pytest.raises(NotFound, match="visible to tt-admin"):
        export_round(ctx, region.jm.settings, no_consent)
