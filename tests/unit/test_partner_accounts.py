"""A partner's sync account: bound to its record, of its nation, for intelligence only."""

from __future__ import annotations

import pytest

from seawall.core import partners, tokens, users
from seawall.core.access import Perm
from seawall.core.federation.errors import PartnerDisabled
from seawall.core.node import Node
from seawall.errors import InvalidInput, NotFound
from seawall.intel.collections import Audience, create_collection, list_collections


@pytest.fixture
def tt_partner(node: Node) -> Node:
    with node.unit(node.operator()) as ctx:
        partners.add_partner(ctx, "tt-node", "TT", "https://tt.example", max_tlp="green")
    return node


def test_a_partner_account_belongs_to_the_partners_nation(tt_partner: Node) -> None:
    with tt_partner.unit(tt_partner.operator()) as ctx:
        made = users.add_user(ctx, "sync-tt", "analyst", partner="tt-node")
        assert made.nation == "TT" and made.partner_id is not None
        with pytest.raises(InvalidInput, match="a node of TT: its account belongs to TT"):
            users.add_user(ctx, "sync-tt2", "analyst", nation="BB", partner="tt-node")
        with pytest.raises(InvalidInput, match="not admin"):
            users.add_user(ctx, "sync-tt3", "admin", partner="tt-node")
        with pytest.raises(NotFound, match="no partner 'nobody'"):
            users.add_user(ctx, "sync-tt4", "viewer", partner="nobody")


def test_a_partner_account_holds_exchange_scopes_only(tt_partner: Node) -> None:
    with tt_partner.unit(tt_partner.operator()) as ctx:
        users.add_user(ctx, "sync-tt", "analyst", partner="tt-node")
        value = tokens.create_token(ctx, "sync", ["*"], username="sync-tt").value
        who = tokens.authenticate_token(ctx, value)
    assert who.permissions == {
        Perm.INTEL_READ,
        Perm.INTEL_WRITE,
        Perm.FEDERATION_DELIVER,
        Perm.EMBASSY_HOST_WRITE,
    }
    assert who.partner_id is not None


def test_a_disabled_partners_account_is_refused_on_every_read(tt_partner: Node) -> None:
    with tt_partner.unit(tt_partner.operator()) as ctx:
        account = users.add_user(ctx, "sync-tt", "analyst", partner="tt-node")
        create_collection(ctx, "for-tt", "For TT", Audience.of(nations=["TT"]), "green")
        create_collection(ctx, "open", "Open", Audience(), "green")
        who = users.principal_of(account)
    with tt_partner.unit(who) as ctx:
        assert [c.alias for c in list_collections(ctx)] == ["for-tt"]
    with tt_partner.unit(tt_partner.operator()) as ctx:
        partners.set_partner_disabled(ctx, "tt-node", True)
    with tt_partner.unit(who) as ctx, pytest.raises(PartnerDisabled, match="tt-node"):
        list_collections(ctx)
