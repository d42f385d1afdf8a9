"""Rounds that can be trusted: a lead, invited stakeholder groups bound to named raters, stages
hidden from a rater until they have rated (or the lead reveals them), agreement by the lead or
a facilitator, and a reason for agreeing a factor nobody rated."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from seawall.assess.errors import (
    NotFacilitator,
    NotRoundLead,
    NotYourGroup,
    ParticipantInvalid,
    ParticipantNotFound,
    ReasonRequired,
)
from seawall.assess.participants import (
    invite,
    invited,
    list_participants,
    remove_participant,
    reveal,
    set_lead,
)
from seawall.assess.rounds import FactorConsensus, agree, consensus_view, create_round, rate
from seawall.core import users
from seawall.core.access import Principal
from seawall.core.node import Node
from seawall.db.models import AuditEntry
from seawall.db.models.assess import Consensus, Rating
from seawall.errors import Forbidden

PEOPLE = {
    "jm-lead": ("assessor", "JM"),
    "jm-gov": ("assessor", "JM"),
    "jm-acad": ("assessor", "JM"),
    "jm-fac": ("assessor", "JM"),
    "jm-other": ("assessor", "JM"),
    "jm-viewer": ("viewer", "JM"),
    "jm-admin": ("admin", "JM"),
    "tt-rater": ("assessor", "TT"),
}


@pytest.fixture
def people(node: Node) -> dict[str, Principal]:
    with node.unit(node.operator()) as ctx:
        for name, (role, nation) in PEOPLE.items():
            users.add_user(ctx, name, role, nation=nation)
        users.add_user(ctx, "jm-gone", "assessor", nation="JM")
        users.set_disabled(ctx, "jm-gone")
        return {name: users.act_as(ctx, name) for name in PEOPLE}


@pytest.fixture
def invited_round(node: Node, people: dict[str, Principal]) -> str:
    """A JM round led by jm-lead: government rated by jm-gov, academia by jm-acad, and
    jm-fac facilitating."""
    with node.unit(people["jm-lead"]) as ctx:
        round_id = create_round(ctx, "JM", "cmm-2021", 2026).id
        invite(ctx, round_id, "government", ["jm-gov"])
        invite(ctx, round_id, "academia", ["jm-acad"], facilitators=["jm-fac"])
    return round_id


def _actions(node: Node) -> list[str]:
    with node.unit(node.operator()) as ctx:
        return list(ctx.db.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def _factor(node: Node, who: Principal, round_id: str, factor: str) -> FactorConsensus:
    with node.unit(who) as ctx:
        return next(f for f in consensus_view(ctx, round_id) if f.factor_id == factor)


def test_the_creator_leads_and_invites_groups_with_named_raters(
    node: Node, people: dict[str, Principal], invited_round: str
) -> None:
    with node.unit(people["jm-viewer"]) as ctx:
        listed = [
            (p.stakeholder_group, p.username, p.role, p.invited_by)
            for p in list_participants(ctx, invited_round)
        ]
        assert invited(ctx.db, invited_round)
    assert listed == [
        ("academia", "jm-acad", "rater", "jm-lead"),
        ("academia", "jm-fac", "facilitator", "jm-lead"),
        ("government", "jm-gov", "rater", "jm-lead"),
    ]
    assert _actions(node).count("assess.participant.invited") == 2


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("jm-viewer", "may not rate"),
        ("tt-rater", "no user 'tt-rater' of JM"),
        ("nobody", "no user 'nobody' of JM"),
        ("jm-gone", "disabled"),
        ("jm-gov", "rates for government"),
    ],
)
def test_only_assessors_of_the_nation_are_invited_once(
    node: Node, people: dict[str, Principal], invited_round: str, name: str, why: str
) -> None:
    before = len(_actions(node))
    with node.unit(people["jm-lead"]) as ctx, pytest.raises(ParticipantInvalid, match=why):
        invite(ctx, invited_round, "law_enforcement", [name])
    assert len(_actions(node)) == before


def test_only_the_lead_or_a_nation_admin_invites_and_reveals(
    node: Node, people: dict[str, Principal], invited_round: str
) -> None:
    for name in ("jm-gov", "jm-fac", "jm-other"):
        with node.unit(people[name]) as ctx, pytest.raises(NotRoundLead, match="jm-lead"):
            invite(ctx, invited_round, "civil_society", ["jm-other"])
        with node.unit(people[name]) as ctx, pytest.raises(NotRoundLead):
            reveal(ctx, invited_round)
    with node.unit(people["jm-admin"]) as ctx:
        invite(ctx, invited_round, "civil_society", ["jm-other"])


def test_a_rater_rates_only_for_their_own_group(
    node: Node, people: dict[str, Principal], invited_round: str
) -> None:
    with node.unit(people["jm-gov"]) as ctx:
        rate(ctx, invited_round, "government", "D1.1", 3)
    with node.unit(people["jm-gov"]) as ctx, pytest.raises(NotYourGroup) as refused:
        rate(ctx, invited_round, "academia", "D1.1", 1)
    assert str(refused.value) == (
        f"jm-gov rates for government in round {invited_round}, not for academia"
    )
    for name in ("jm-other", "jm-lead", "jm-fac"):
        with node.unit(people[name]) as ctx, pytest.raises(NotYourGroup, match="not a rater"):
            rate(ctx, invited_round, "government", "D1.2", 2)
    with node.unit(people["jm-viewer"]) as ctx, pytest.raises(Forbidden):
        rate(ctx, invited_round, "government", "D1.2", 2)
    with node.unit(node.operator()) as ctx:
        rate(ctx, invited_round, "civil_society", "D1.1", 2)
        ratings = {(r.stakeholder_group, r.rater) for r in ctx.db.scalars(select(Rating))}
    assert ratings == {("government", "jm-gov"), ("civil_society", "operator")}


def test_other_groups_stages_are_hidden_until_the_rater_has_rated(
    node: Node, people: dict[str, Principal], invited_round: str
) -> None:
    with node.unit(people["jm-gov"]) as ctx:
        rate(ctx, invited_round, "government", "D1.1", 4, "funded strategy")
    with node.unit(people["jm-acad"]) as ctx:
        rate(ctx, invited_round, "academia", "D1.2", 2, "no CSIRT drills")

    seen = _factor(node, people["jm-acad"], invited_round, "D1.1")
    assert (seen.ratings, seen.hidden, seen.rationales) == ({}, ("government",), {})
    assert (seen.mean, seen.spread, seen.disagreement) == (None, 0, False)
    own = _factor(node, people["jm-acad"], invited_round, "D1.2")
    assert (own.ratings, own.hidden) == ({"academia": 2}, ())
    for name in ("jm-viewer", "jm-other"):
        nothing = _factor(node, people[name], invited_round, "D1.1")
        assert (nothing.ratings, nothing.hidden) == ({}, ("government",))

    with node.unit(people["jm-acad"]) as ctx:
        rate(ctx, invited_round, "academia", "D1.1", 2)
    after = _factor(node, people["jm-acad"], invited_round, "D1.1")
    assert (after.ratings, after.hidden) == ({"academia": 2, "government": 4}, ())
    assert (after.spread, after.disagreement) == (2, True)
    assert after.rationales == {"government": "funded strategy"}
    # Government has not rated D1.2: academia's stage there stays hidden from it.
    assert _factor(node, people["jm-gov"], invited_round, "D1.2").hidden == ("academia",)
    # The lead and the facilitator see every stage all along.
    for name in ("jm-lead", "jm-fac"):
        assert _factor(node, people[name], invited_round, "D1.2").ratings == {"academia": 2}


def test_the_lead_reveals_every_stage(
    node: Node, people: dict[str, Principal], invited_round: str
) -> None:
    with node.unit(people["jm-acad"]) as ctx:
        rate(ctx, invited_round, "academia", "D1.2", 2)
    assert _factor(node, people["jm-gov"], invited_round, "D1.2").hidden == ("academia",)
    with node.unit(people["jm-lead"]) as ctx:
        row = reveal(ctx, invited_round)
        assert row.revealed_by == "jm-lead"
    for name in ("jm-gov", "jm-viewer"):
        assert _factor(node, people[name], invited_round, "D1.2").ratings == {"academia": 2}
    assert "assess.round.revealed" in _actions(node)


def test_only_the_lead_or_a_facilitator_agrees(
    node: Node, people: dict[str, Principal], invited_round: str
) -> None:
    with node.unit(people["jm-gov"]) as ctx:
        rate(ctx, invited_round, "government", "D1.1", 3)
    before = len(_actions(node))
    for name in ("jm-gov", "jm-acad", "jm-other", "jm-admin"):
        with node.unit(people[name]) as ctx, pytest.raises(NotFacilitator, match="jm-lead"):
            agree(ctx, invited_round, "D1.1", 3)
    assert len(_actions(node)) == before
    with node.unit(people["jm-lead"]) as ctx:
        agree(ctx, invited_round, "D1.1", 3)
    with node.unit(people["jm-fac"]) as ctx:
        assert agree(ctx, invited_round, "D1.1", 2, "government saw 3").agreed_by == "jm-fac"


def test_agreeing_a_factor_nobody_rated_needs_a_reason(
    node: Node, people: dict[str, Principal], invited_round: str
) -> None:
    before = len(_actions(node))
    with node.unit(people["jm-lead"]) as ctx, pytest.raises(ReasonRequired) as refused:
        agree(ctx, invited_round, "D5.1", 2)
    assert str(refused.value) == (
        "no group has rated D5.1 in this round: give the reason for agreeing a stage without "
        "ratings (--reason)"
    )
    assert len(_actions(node)) == before
    with node.unit(people["jm-lead"]) as ctx:
        agree(ctx, invited_round, "D5.1", 2, reason="  carried from the 2025 workshop  ")
    with node.unit(people["jm-gov"]) as ctx:
        seen = next(f for f in consensus_view(ctx, invited_round) if f.factor_id == "D5.1")
        assert (seen.agreed_stage, seen.reason) == (2, "carried from the 2025 workshop")
        stored = ctx.db.get(Consensus, (invited_round, "D5.1"))
        assert stored is not None and stored.reason == "carried from the 2025 workshop"


def test_the_lead_is_handed_over_by_the_lead_or_a_nation_admin(
    node: Node, people: dict[str, Principal], invited_round: str
) -> None:
    with node.unit(people["jm-gov"]) as ctx, pytest.raises(NotRoundLead):
        set_lead(ctx, invited_round, "jm-gov")
    with node.unit(people["jm-lead"]) as ctx, pytest.raises(ParticipantInvalid):
        set_lead(ctx, invited_round, "jm-viewer")
    with node.unit(people["jm-lead"]) as ctx:
        assert set_lead(ctx, invited_round, "jm-other").lead == "jm-other"
    with node.unit(people["jm-lead"]) as ctx, pytest.raises(NotRoundLead):
        reveal(ctx, invited_round)
    with node.unit(people["jm-admin"]) as ctx:
        assert set_lead(ctx, invited_round, "jm-lead").lead == "jm-lead"
    assert _actions(node).count("assess.round.lead_changed") == 2


def test_a_removed_rater_rates_no_more(
    node: Node, people: dict[str, Principal], invited_round: str
) -> None:
    with node.unit(people["jm-lead"]) as ctx:
        remove_participant(ctx, invited_round, "government", "jm-gov")
        with pytest.raises(ParticipantNotFound):
            remove_participant(ctx, invited_round, "government", "jm-gov")
    with node.unit(people["jm-gov"]) as ctx, pytest.raises(NotYourGroup):
        rate(ctx, invited_round, "government", "D1.1", 3)
    assert "assess.participant.removed" in _actions(node)


def test_a_round_without_invited_groups_is_open_to_every_assessor(
    node: Node, people: dict[str, Principal]
) -> None:
    with node.unit(people["jm-lead"]) as ctx:
        round_id = create_round(ctx, "JM", "cmm-2021", 2026).id
        assert not invited(ctx.db, round_id)
    with node.unit(people["jm-other"]) as ctx:
        rate(ctx, round_id, "government", "D1.1", 3)
        rate(ctx, round_id, "academia", "D1.1", 1)
    with node.unit(people["jm-gov"]) as ctx:
        assert _factor(node, people["jm-viewer"], round_id, "D1.1").ratings == {
            "academia": 1,
            "government": 3,
        }
        agree(ctx, round_id, "D1.1", 2)
        agree(ctx, round_id, "D5.1", 1)
