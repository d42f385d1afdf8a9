"""Assessment rounds: independent ratings, the consensus view, consent and publication."""

from __future__ import annotations

import hashlib

import pytest
import yaml
from sqlalchemy import func, select

from seawall.assess.content import import_content
from seawall.assess.errors import (
    ConsentMissing,
    NothingAgreed,
    RoundExists,
    RoundIncomplete,
    RoundPublished,
    StageOutOfRange,
    UnknownFactor,
    UnknownFramework,
    UnknownStakeholderGroup,
    WrongFrameworkKind,
)
from seawall.assess.frameworks import get_framework
from seawall.assess.rounds import (
    agree,
    consensus_view,
    consenting_groups,
    create_round,
    find_round,
    grant_consent,
    lift_for,
    list_rounds,
    publish,
    rate,
    rate_indicators,
    revoke_consent,
)
from seawall.core import users
from seawall.core.access import Perm, Principal, Role
from seawall.core.node import Node
from seawall.db.models import AuditEntry
from seawall.db.models.assess import Rating
from seawall.errors import Forbidden, InvalidInput, NotFound, UnknownNation

RATER = Principal("jm-rater", "JM", Role.ASSESSOR)
FOREIGN = Principal("tt-rater", "TT", Role.ASSESSOR)
ADMIN = Principal("jm-admin", "JM", Role.ADMIN)


def _round(node: Node, who: Principal = RATER) -> str:
    with node.unit(who) as ctx:
        return create_round(ctx, "JAM", "cmm-2021", 2026).id


def _round_for(node: Node, year: int) -> str:
    with node.unit(RATER) as ctx:
        return create_round(ctx, "JM", "cmm-2021", year).id


def _audit(node: Node, action: str) -> dict[str, object]:
    with node.unit(node.operator()) as ctx:
        entry = ctx.db.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq.desc())
        ).first()
        assert entry is not None
        return dict(entry.detail)


def _actions(node: Node) -> list[str]:
    with node.unit(node.operator()) as ctx:
        return list(ctx.db.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def test_a_round_is_created_for_a_nation_framework_and_year(node: Node) -> None:
    round_id = _round(node)
    with node.unit(RATER) as ctx:
        [row] = list_rounds(ctx)
        assert (row.id, row.nation, row.framework_id, row.year, row.status) == (
            round_id,
            "JM",
            "cmm-2021",
            2026,
            "open",
        )
        with pytest.raises(RoundExists):
            create_round(ctx, "JM", "cmm-2021", 2026)
    assert "assess.round.created" in _actions(node)


@pytest.mark.parametrize(
    ("nation", "framework", "error"),
    [
        ("JM", "cmm-1999", UnknownFramework),
        ("ZZ", "cmm-2021", UnknownNation),
        ("JM", "gci-2024", WrongFrameworkKind),
        ("TT", "cmm-2021", NotFound),
    ],
)
def test_a_round_needs_a_known_own_nation_and_a_rateable_framework(
    node: Node, nation: str, framework: str, error: type[Exception]
) -> None:
    with node.unit(RATER) as ctx, pytest.raises(error):
        create_round(ctx, nation, framework, 2026)


def test_groups_rate_independently_and_re_rating_replaces(node: Node) -> None:
    round_id = _round(node)
    with node.unit(RATER) as ctx:
        rate(ctx, round_id, "government", "D1.1", 3, "strategy adopted 2024", ["ev-1", "ev-1"])
        rate(ctx, round_id, "civil-society", "D1.1", 2, "little consultation")
        rate(ctx, round_id, "government", "D1.1", 4, "strategy funded")
    with node.unit(RATER) as ctx:
        ratings = {r.stakeholder_group: r for r in ctx.db.scalars(select(Rating))}
        assert {g: r.stage for g, r in ratings.items()} == {"government": 4, "civil_society": 2}
        assert ratings["government"].rater == "jm-rater"
    assert _actions(node).count("assess.rating.recorded") == 3


@pytest.mark.parametrize("stage", [0, 6, -3])
def test_a_stage_outside_one_to_five_is_refused_and_nothing_changes(node: Node, stage: int) -> None:
    round_id = _round(node)
    before = _actions(node)
    with node.unit(RATER) as ctx, pytest.raises(StageOutOfRange, match="from 1 to 5"):
        rate(ctx, round_id, "government", "D1.1", stage)
    with node.unit(RATER) as ctx:
        assert ctx.db.scalar(select(func.count()).select_from(Rating)) == 0
    assert _actions(node) == before


def test_unknown_groups_and_factors_are_refused(node: Node) -> None:
    round_id = _round(node)
    with node.unit(RATER) as ctx:
        with pytest.raises(UnknownStakeholderGroup, match="civil_society"):
            rate(ctx, round_id, "clergy", "D1.1", 2)
        with pytest.raises(UnknownFactor):
            rate(ctx, round_id, "government", "D9.1", 2)


def test_a_user_of_another_nation_cannot_see_or_rate_the_round(node: Node) -> None:
    round_id = _round(node)
    with node.unit(FOREIGN) as ctx:
        with pytest.raises(NotFound):
            rate(ctx, round_id, "government", "D1.1", 5)
        with pytest.raises(NotFound):
            consensus_view(ctx, round_id)
        assert list_rounds(ctx) == []
    with node.unit(RATER) as ctx:
        assert ctx.db.scalar(select(func.count()).select_from(Rating)) == 0


def test_a_round_is_found_by_id_or_natural_key_by_its_own_nation_only(node: Node) -> None:
    round_id = _round(node)
    with node.unit(RATER) as ctx:
        for ref in (round_id, "JM/2026", "jam/2026", "JM/cmm-2021/2026"):
            assert find_round(ctx, ref).id == round_id, ref
        with pytest.raises(NotFound, match="no gci-2024 round 2026 for JM"):
            find_round(ctx, "JM/gci-2024/2026")
        for bad in ("JM/twenty", "JM/x/y/2026", "JM/२०२६"):
            with pytest.raises(InvalidInput, match="NATION/YEAR"):
                find_round(ctx, bad)
    with node.unit(FOREIGN) as ctx:
        # Another nation's round is no round at all, by any name, and its id is not said.
        with pytest.raises(NotFound) as hidden:
            find_round(ctx, "JM/2026")
        assert round_id not in hidden.value.message


def test_consensus_view_shows_spread_and_flags_disagreement(node: Node) -> None:
    round_id = _round(node)
    with node.unit(RATER) as ctx:
        rate(ctx, round_id, "government", "D1.1", 4)
        rate(ctx, round_id, "academia", "D1.1", 2)
        rate(ctx, round_id, "government", "D1.2", 3)
        rate(ctx, round_id, "private_sector", "D1.2", 2)
        view = {f.factor_id: f for f in consensus_view(ctx, round_id)}
    assert len(view) == 23
    d11, d12, d13 = view["D1.1"], view["D1.2"], view["D1.3"]
    assert (d11.lowest, d11.highest, d11.spread, d11.mean, d11.disagreement) == (2, 4, 2, 3.0, True)
    assert (d12.spread, d12.disagreement) == (1, False)
    assert d13.ratings == {} and d13.disagreement is False
    assert "civil_society" in d11.missing_groups


def test_the_agreed_stage_is_recorded_with_dissent(node: Node) -> None:
    round_id = _round(node)
    with node.unit(RATER) as ctx:
        rate(ctx, round_id, "government", "D1.1", 4)
        rate(ctx, round_id, "academia", "D1.1", 2)
        agree(ctx, round_id, "D1.1", 3, "academia: the strategy has no budget line")
        with pytest.raises(StageOutOfRange):
            agree(ctx, round_id, "D1.2", 9)
        d11 = next(f for f in consensus_view(ctx, round_id) if f.factor_id == "D1.1")
    assert (d11.agreed_stage, d11.dissent) == (3, "academia: the strategy has no budget line")
    assert "assess.consensus.agreed" in _actions(node)


def test_publishing_needs_the_publish_permission(node: Node) -> None:
    round_id = _round(node)
    with node.unit(RATER) as ctx:
        agree(ctx, round_id, "D1.1", 3)
    assert not RATER.can(Perm.ASSESS_PUBLISH)
    with node.unit(RATER) as ctx, pytest.raises(Forbidden):
        publish(ctx, round_id)
    with node.unit(RATER) as ctx, pytest.raises(Forbidden):
        grant_consent(ctx, "JM", "CARICOM")


def test_publishing_needs_the_nations_consent(node: Node) -> None:
    round_id = _round(node)
    with node.unit(RATER) as ctx:
        agree(ctx, round_id, "D1.1", 3)
    with node.unit(ADMIN) as ctx, pytest.raises(ConsentMissing, match="has not consented"):
        publish(ctx, round_id)
    with node.unit(ADMIN) as ctx:
        grant_consent(ctx, "JM", "CARICOM")
        revoke_consent(ctx, "JM", "CARICOM")
    with node.unit(ADMIN) as ctx, pytest.raises(ConsentMissing):
        publish(ctx, round_id)
    with node.unit(ADMIN) as ctx:
        grant_consent(ctx, "JM", "caricom")
        row = publish(ctx, round_id, partial=True)
        assert (row.status, row.published_by) == ("published", "jm-admin")
    actions = _actions(node)
    assert actions.index("assess.consent.granted") < actions.index("assess.round.published")


def test_consent_is_only_to_a_group_the_nation_belongs_to(node: Node) -> None:
    with node.unit(ADMIN) as ctx, pytest.raises(InvalidInput, match="not a member of OECS"):
        grant_consent(ctx, "JM", "OECS")


def test_a_round_without_agreement_cannot_be_published(node: Node) -> None:
    round_id = _round(node)
    with node.unit(ADMIN) as ctx:
        grant_consent(ctx, "JM", "CARICOM")
    with node.unit(ADMIN) as ctx, pytest.raises(NothingAgreed):
        publish(ctx, round_id)


def test_publishing_needs_every_factor_agreed_or_an_explicit_partial(node: Node) -> None:
    round_id = _round(node)
    with node.unit(ADMIN) as ctx:
        grant_consent(ctx, "JM", "CARICOM")
        factors = list(get_framework(ctx.db, "cmm-2021").factors())
        for factor in factors[:-5]:
            agree(ctx, round_id, factor, 2)
    with node.unit(ADMIN) as ctx, pytest.raises(RoundIncomplete) as refused:
        publish(ctx, round_id)
    assert str(refused.value) == (
        f"round {round_id} agrees 18 of 23 factors of cmm-2021; not agreed: "
        "D5.2, D5.3, D5.4 and 2 more: agree them, or publish it as partial"
    )
    assert "\n" not in str(refused.value) and RoundIncomplete.remedy
    with node.unit(ADMIN) as ctx:
        assert find_round(ctx, round_id).status == "open"
        row = publish(ctx, round_id, partial=True)
        assert (row.status, row.partial) == ("published", True)
    entry = _audit(node, "assess.round.published")
    assert (entry["partial"], entry["agreed"], entry["factors"]) == (True, 18, 23)


def test_a_round_with_every_factor_agreed_is_published_complete(node: Node) -> None:
    round_id = _round(node)
    with node.unit(ADMIN) as ctx:
        grant_consent(ctx, "JM", "CARICOM")
        for factor in get_framework(ctx.db, "cmm-2021").factors():
            agree(ctx, round_id, factor, 3)
        row = publish(ctx, round_id)
        assert (row.status, row.partial) == ("published", False)
    # Asking for partial on a complete round records what it is: complete.
    other = _round_for(node, 2025)
    with node.unit(ADMIN) as ctx:
        for factor in get_framework(ctx.db, "cmm-2021").factors():
            agree(ctx, other, factor, 3)
        assert publish(ctx, other, partial=True).partial is False


def test_a_published_round_is_frozen(node: Node) -> None:
    round_id = _round(node)
    with node.unit(ADMIN) as ctx:
        agree(ctx, round_id, "D1.1", 3)
        grant_consent(ctx, "JM", "CARICOM")
        publish(ctx, round_id, partial=True)
    with node.unit(RATER) as ctx, pytest.raises(RoundPublished):
        rate(ctx, round_id, "government", "D1.1", 4)
    with node.unit(ADMIN) as ctx, pytest.raises(RoundPublished):
        publish(ctx, round_id, partial=True)


def test_the_full_round_lifecycle_runs_on_both_backends(any_node: Node) -> None:
    round_id = _round(any_node)
    with any_node.unit(RATER) as ctx:
        rate(ctx, round_id, "government", "D1.1", 3, "adopted", ["https://example.org/nss.pdf"])
        rate(ctx, round_id, "law_enforcement", "D1.1", 1)
        agree(ctx, round_id, "D1.1", 2, "government sees 3")
    with any_node.unit(ADMIN) as ctx:
        grant_consent(ctx, "JM", "CARICOM")
        assert publish(ctx, round_id, partial=True).status == "published"
    with any_node.unit(RATER) as ctx:
        d11 = consensus_view(ctx, round_id)[0]
    assert (d11.spread, d11.disagreement, d11.agreed_stage) == (2, True, 2)


def test_the_consensus_view_gives_each_groups_rationale_and_evidence(node: Node) -> None:
    round_id = _round(node)
    with node.unit(RATER) as ctx:
        rate(ctx, round_id, "government", "D1.1", 3, "adopted", ["ev-2", "https://x.org/nss.pdf"])
        rate(ctx, round_id, "academia", "D1.1", 2, "no budget line")
        rate(ctx, round_id, "civil_society", "D1.1", 2)
        d11 = consensus_view(ctx, round_id)[0]
    assert d11.rationales == {"academia": "no budget line", "government": "adopted"}
    assert d11.evidence == {"government": ("ev-2", "https://x.org/nss.pdf")}


def _content(node: Node) -> None:
    data = yaml.safe_dump(
        {
            "format": "seawall.content/1",
            "framework": "cmm-2021",
            "name": "test stand-in",
            "licence": "test",
            "indicators": [
                {"factor": "D1.2", "id": "ir-1a", "stage": 1, "text": "Incidents are noticed"},
                {"factor": "D1.2", "id": "ir-2a", "stage": 2, "text": "A CSIRT exists"},
                {"factor": "D1.2", "id": "ir-2b", "stage": 2, "text": "Incidents are logged"},
                {"factor": "D1.2", "id": "ir-3a", "stage": 3, "text": "24/7 coverage"},
            ],
        }
    ).encode()
    with node.unit(node.operator()) as ctx:
        import_content(ctx, data, "c.yaml", "cmm-2021", hashlib.sha256(data).hexdigest())


def test_indicator_answers_set_the_stage_and_say_what_lifts_it(node: Node) -> None:
    _content(node)
    round_id = _round(node)
    with node.unit(RATER) as ctx:
        rating, step = rate_indicators(ctx, round_id, "government", "D1.2", ["ir-1a", "ir-2a"])
        assert rating.stage == 1
        assert step is not None and (step.target, step.unmet) == (2, ("ir-2b",))
        rating, step = rate_indicators(
            ctx, round_id, "government", "D1.2", ["ir-1a", "ir-2a", "ir-2b"]
        )
        assert rating.stage == 2
    with node.unit(RATER) as ctx:
        step = lift_for(ctx, round_id, "government", "D1.2")
        assert step is not None and (step.current, step.target, step.unmet) == (2, 3, ("ir-3a",))
        with pytest.raises(InvalidInput, match="ir-9z not an indicator"):
            rate_indicators(ctx, round_id, "academia", "D1.2", ["ir-9z"])
        with pytest.raises(InvalidInput, match=r"no indicators for D1\.1"):
            rate_indicators(ctx, round_id, "academia", "D1.1", [])


def test_consent_is_recorded_only_by_someone_of_that_nation(node: Node) -> None:
    # The operator of Jamaica's node (a hub, say) may not consent for Trinidad and Tobago.
    with node.unit(node.operator()) as ctx, pytest.raises(Forbidden, match="a user of TT"):
        grant_consent(ctx, "TT", "CARICOM")
    with node.unit(node.operator()) as ctx:
        users.add_user(ctx, "tt-admin", "admin", nation="TT")
        tt_admin = users.act_as(ctx, "tt-admin")
    with node.unit(tt_admin) as ctx:
        consent = grant_consent(ctx, "TT", "CARICOM")
        assert consent.granted_by == "tt-admin"
    with node.unit(node.operator()) as ctx, pytest.raises(Forbidden, match="a user of TT"):
        revoke_consent(ctx, "TT", "CARICOM")
    with node.unit(node.operator()) as ctx:
        assert consenting_groups(ctx.db, "TT") == ["CARICOM"]
        grant_consent(ctx, "JM", "CARICOM")  # its own nation: allowed
