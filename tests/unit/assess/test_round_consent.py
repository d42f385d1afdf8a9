"""Consent per round and per group: which region groups a round is published to, by whom and
when, and its withdrawal from one group, recorded on the round and used by the regional view
and the packages sent to hubs."""

from __future__ import annotations

import pytest

from seawall.assess.benchmark import region_view
from seawall.assess.consents import round_publications
from seawall.assess.errors import ConsentMissing
from seawall.assess.frameworks import get_framework
from seawall.assess.publication import publish_round, round_document, withdraw
from seawall.assess.rounds import (
    agree,
    create_round,
    grant_consent,
    publish,
    revoke_consent,
)
from seawall.core import users
from seawall.core.access import Principal
from seawall.core.clock import FrozenClock
from seawall.core.node import Node
from seawall.errors import InvalidInput, NotFound


@pytest.fixture
def admin(node: Node) -> Principal:
    with node.unit(node.operator()) as ctx:
        users.add_user(ctx, "jm-admin", "admin", nation="JM")
        users.add_user(ctx, "tt-admin", "admin", nation="TT")
        return users.act_as(ctx, "jm-admin")


def _agreed_round(node: Node, who: Principal, year: int = 2026) -> str:
    with node.unit(who) as ctx:
        row = create_round(ctx, "JM", "cmm-2021", year)
        for factor in get_framework(ctx.db, "cmm-2021").factors():
            agree(ctx, row.id, factor, 3)
        return row.id


def _panel(node: Node, group: str) -> set[str]:
    with node.unit(node.operator()) as ctx:
        return {r.round_id for r in region_view(ctx, group).panel}


def _records(node: Node, round_id: str) -> list[tuple[str, str, str | None, str]]:
    with node.unit(node.operator()) as ctx:
        return [
            (p.region_group, p.published_by, p.withdrawn_by, p.withdraw_reason)
            for p in round_publications(ctx.db, round_id)
        ]


def test_standing_consent_is_the_default_and_each_group_is_recorded_on_the_round(
    node: Node, admin: Principal, clock: FrozenClock
) -> None:
    round_id = _agreed_round(node, admin)
    with node.unit(admin) as ctx:
        grant_consent(ctx, "JM", "CARICOM")
        grant_consent(ctx, "JM", "CARIBBEAN")
        publish(ctx, round_id)
        [first, _] = round_publications(ctx.db, round_id)
        assert first.published_at == clock.now()
    assert _records(node, round_id) == [
        ("CARIBBEAN", "jm-admin", None, ""),
        ("CARICOM", "jm-admin", None, ""),
    ]
    assert round_id in _panel(node, "CARICOM") and round_id in _panel(node, "CARIBBEAN")


def test_a_round_is_published_to_the_groups_named_only(node: Node, admin: Principal) -> None:
    round_id = _agreed_round(node, admin)
    with node.unit(admin) as ctx:
        grant_consent(ctx, "JM", "CARICOM")
        grant_consent(ctx, "JM", "CARIBBEAN")
        publish(ctx, round_id, groups=["caricom"])
        assert round_document(ctx, round_id)["groups"] == {"CARICOM": "jm-admin"}
        with pytest.raises(ConsentMissing, match="not published to CARIBBEAN"):
            round_document(ctx, round_id, groups=("CARIBBEAN",))
    assert _records(node, round_id) == [("CARICOM", "jm-admin", None, "")]
    assert round_id in _panel(node, "CARICOM")
    assert round_id not in _panel(node, "CARIBBEAN")
    # Later, to one more group: the round is frozen, its publication extended.
    with node.unit(admin) as ctx:
        publish(ctx, round_id, groups=["CARIBBEAN"])
        assert sorted(round_document(ctx, round_id)["groups"]) == ["CARIBBEAN", "CARICOM"]
    assert round_id in _panel(node, "CARIBBEAN")


def test_a_named_group_needs_the_nation_as_a_member(node: Node, admin: Principal) -> None:
    round_id = _agreed_round(node, admin)
    with node.unit(admin) as ctx, pytest.raises(InvalidInput, match="not a member of OECS"):
        publish(ctx, round_id, groups=["OECS"])


def test_withdrawing_one_round_from_one_group_is_recorded_on_the_round(
    node: Node, admin: Principal
) -> None:
    kept = _agreed_round(node, admin, 2025)
    round_id = _agreed_round(node, admin)
    with node.unit(admin) as ctx:
        grant_consent(ctx, "JM", "CARICOM")
        grant_consent(ctx, "JM", "CARIBBEAN")
        publish(ctx, kept)
        publish_round(ctx, node.settings, round_id)
        withdraw(ctx, node.settings, round_id, "caricom", "figures under review")
    assert _records(node, round_id) == [
        ("CARIBBEAN", "jm-admin", None, ""),
        ("CARICOM", "jm-admin", "jm-admin", "figures under review"),
    ]
    assert _panel(node, "CARICOM") == {kept}
    assert _panel(node, "CARIBBEAN") == {kept, round_id}
    with node.unit(node.operator()) as ctx:  # the view says when, by whom and why
        said = [
            (w.round_id, w.nation, w.by, w.reason) for w in region_view(ctx, "CARICOM").withdrawn
        ]
        assert region_view(ctx, "CARIBBEAN").withdrawn == ()
    assert said == [(round_id, "JM", "jm-admin", "figures under review")]
    with node.unit(admin) as ctx:
        assert list(round_document(ctx, round_id)["groups"]) == ["CARIBBEAN"]
        with pytest.raises(ConsentMissing):
            withdraw(ctx, node.settings, kept, "OECS", "never sent there")
        # Published to the group again, the round is back in its view.
        publish(ctx, round_id, groups=["CARICOM"])
    assert _panel(node, "CARICOM") == {kept, round_id}
    with node.unit(node.operator()) as ctx:
        assert region_view(ctx, "CARICOM").withdrawn == ()


def test_revoking_standing_consent_withdraws_the_rounds_published_to_that_group(
    node: Node, admin: Principal
) -> None:
    round_id = _agreed_round(node, admin)
    with node.unit(admin) as ctx:
        grant_consent(ctx, "JM", "CARICOM")
        publish(ctx, round_id)
        revoke_consent(ctx, "JM", "CARICOM")
    assert _records(node, round_id) == [("CARICOM", "jm-admin", "jm-admin", "consent revoked")]
    assert _panel(node, "CARICOM") == set()


def test_only_a_user_of_the_nation_publishes_its_round(node: Node, admin: Principal) -> None:
    round_id = _agreed_round(node, admin)
    with node.unit(admin) as ctx:
        grant_consent(ctx, "JM", "CARICOM")
    with node.unit(node.operator()) as ctx:
        tt = users.act_as(ctx, "tt-admin")
    with node.unit(tt) as ctx, pytest.raises(NotFound):
        publish(ctx, round_id, groups=["CARICOM"])
    assert _records(node, round_id) == []
