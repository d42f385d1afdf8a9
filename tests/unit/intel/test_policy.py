"""The sharing policy: the rules by example, and properties proving no marking is widened."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.intel.policy import Holder, Recipient, may_share, reach
from seawall.intel.tlp import Tlp

JM_CIRT = Holder("JM", "org-jm-cirt")

nations = st.sampled_from(["JM", "TT", "BB"])
orgs = st.sampled_from([None, "org-jm-cirt", "org-jm-bank", "org-tt-cirt"])
holders = st.builds(Holder, nation=nations, organisation=orgs)
recipients = st.builds(
    Recipient,
    nation=nations,
    organisation=orgs,
    is_partner_node=st.booleans(),
    is_named=st.booleans(),
    in_community=st.booleans(),
)
levels = st.sampled_from(list(Tlp))
FAST = settings(max_examples=300, deadline=None)


@pytest.mark.parametrize(
    ("recipient", "expected"),
    [
        (Recipient("JM", "org-jm-cirt", in_community=True), Tlp.AMBER_STRICT),
        (Recipient("JM", "org-jm-bank", in_community=True), Tlp.AMBER),
        (Recipient("TT", None, in_community=True), Tlp.GREEN),
        (Recipient("TT", None, is_partner_node=True, in_community=True), Tlp.GREEN),
        (Recipient("TT", None, is_partner_node=True, is_named=True), Tlp.RED),
        (Recipient("TT", None), None),
    ],
)
def test_reach_by_example(recipient: Recipient, expected: Tlp | None) -> None:
    assert reach(JM_CIRT, recipient) == expected


def test_red_needs_a_name_even_inside_the_organisation() -> None:
    colleague = Recipient("JM", "org-jm-cirt", in_community=True)
    assert not may_share(Tlp.RED, JM_CIRT, colleague)
    assert may_share(Tlp.RED, JM_CIRT, Recipient("JM", "org-jm-cirt", is_named=True))


def test_amber_strict_stays_in_the_organisation_and_amber_in_the_nation() -> None:
    bank = Recipient("JM", "org-jm-bank", in_community=True)
    assert not may_share(Tlp.AMBER_STRICT, JM_CIRT, bank)
    assert may_share(Tlp.AMBER, JM_CIRT, bank)
    assert not may_share(Tlp.AMBER, JM_CIRT, Recipient("TT", "org-tt-cirt", in_community=True))


def test_an_organisation_without_id_is_not_everyone_without_one() -> None:
    loner = Holder("JM", None)
    assert not may_share(Tlp.AMBER_STRICT, loner, Recipient("TT", None, in_community=True))


@FAST
@given(levels, levels, holders, recipients)
def test_a_stricter_marking_never_reaches_more_recipients(
    looser: Tlp, stricter: Tlp, holder: Holder, recipient: Recipient
) -> None:
    if stricter < looser:
        looser, stricter = stricter, looser
    if may_share(stricter, holder, recipient):
        assert may_share(looser, holder, recipient)


@FAST
@given(levels, holders, recipients)
def test_no_rule_is_ever_widened(level: Tlp, holder: Holder, recipient: Recipient) -> None:
    if not may_share(level, holder, recipient):
        return
    same_org = recipient.organisation is not None and recipient.organisation == holder.organisation
    if level is Tlp.RED:
        assert recipient.is_named
    if level is Tlp.AMBER_STRICT:
        assert recipient.is_named or (same_org and not recipient.is_partner_node)
    if level is Tlp.AMBER:
        assert recipient.is_named or same_org or recipient.nation == holder.nation
    if level is Tlp.GREEN:
        assert (
            recipient.is_named
            or recipient.in_community
            or same_org
            or recipient.nation == holder.nation
        )


@FAST
@given(levels, holders, recipients)
def test_partner_nodes_get_red_only_when_named(
    level: Tlp, holder: Holder, recipient: Recipient
) -> None:
    partner = Recipient(
        recipient.nation,
        recipient.organisation,
        is_partner_node=True,
        is_named=False,
        in_community=recipient.in_community,
    )
    assert not may_share(Tlp.RED, holder, partner)
    assert not may_share(Tlp.AMBER_STRICT, holder, partner)


@FAST
@given(levels, holders, recipients)
def test_clear_goes_to_anyone(level: Tlp, holder: Holder, recipient: Recipient) -> None:
    assert may_share(Tlp.CLEAR, holder, recipient)
