"""Sharing across borders, as properties: caps, relays and audiences never widen a marking."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.db.models import Partner
from seawall.db.models.intel import IntelCollection
from seawall.intel.audiences import Audience, audience_of
from seawall.intel.collections import partner_reader
from seawall.intel.errors import AudienceDamaged
from seawall.intel.policy import Holder
from seawall.intel.sharing import PARTNER_PREFIX, may_send, may_take, shares_with
from seawall.intel.tlp import Tlp

FAST = settings(max_examples=400, deadline=None)
nations = st.sampled_from(["JM", "TT", "BB"])
orgs = st.sampled_from([None, "org-jm-cirt", "org-tt-cirt"])
levels = st.sampled_from(list(Tlp))
submitters = st.sampled_from(["alice", "operator", f"{PARTNER_PREFIX}tt-node", "partner:jm2"])


def partner(name: str, nation: str, owner: str, cap: Tlp) -> Partner:
    return Partner(name=name, nation=nation, owner_nation=owner, max_tlp=cap.key, disabled=False)


partners = st.builds(
    partner, st.sampled_from(["tt-node", "jm2", "bb-node"]), nations, nations, levels
)


@st.composite
def rows(draw: Any) -> tuple[int, str, str | None, str]:
    return (int(draw(levels)), draw(nations), draw(orgs), draw(submitters))


@FAST
@given(partners, rows())
def test_a_partner_reads_only_its_hosts_own_rows_within_its_cap(
    p: Partner, row: tuple[int, str, str | None, str]
) -> None:
    tlp, owner, org, submitter = row
    if partner_reader(p).may_read(tlp, owner, org, submitter):
        assert owner == p.owner_nation  # never another nation's objects: no relays
        assert not submitter.startswith(PARTNER_PREFIX)  # never what a partner sent
        assert Tlp(tlp) <= Tlp[p.max_tlp.upper().replace("+", "_")]
        assert Tlp(tlp) <= Tlp.AMBER  # AMBER+STRICT and RED never cross
        assert Tlp(tlp) <= Tlp.GREEN or p.nation == owner  # AMBER stays in its nation
        assert may_send(Tlp(tlp), Holder(owner, org), p)


@FAST
@given(partners, levels, rows())
def test_lowering_a_cap_never_widens_what_a_partner_reads(
    p: Partner, lower: Tlp, row: tuple[int, str, str | None, str]
) -> None:
    capped = partner(p.name, p.nation, p.owner_nation, min(lower, Tlp[_level(p)]))
    if partner_reader(capped).may_read(*row):
        assert partner_reader(p).may_read(*row)


@FAST
@given(partners, levels)
def test_we_take_from_a_partner_what_it_could_send_us_and_no_more(p: Partner, level: Tlp) -> None:
    # The partner's node, registering us with the same cap, would send exactly this.
    mirror = partner("us", p.owner_nation, p.nation, Tlp[_level(p)])
    assert may_take(level, p) == may_send(level, Holder(p.nation, None), mirror)
    if may_take(level, p):
        assert level <= Tlp.AMBER and (level <= Tlp.GREEN or p.nation == p.owner_nation)


@FAST
@given(partners, st.lists(nations, max_size=2), st.lists(st.sampled_from(["tt-node", "x"])))
def test_an_audience_admits_a_partner_only_by_naming_it(
    p: Partner, named_nations: list[str], named_partners: list[str]
) -> None:
    audience = Audience.of(nations=named_nations, partners=named_partners)
    collection = IntelCollection(audience=audience.to_json())
    shared = shares_with(None, collection, p)  # type: ignore[arg-type]  # no groups: no lookup
    assert shared == (p.nation in audience.nations or p.name in audience.partners)
    if audience.is_open:
        assert not shared  # an open audience stays on its node


def _level(p: Partner) -> str:
    return p.max_tlp.upper().replace("+", "_")


DAMAGED_AUDIENCES = {
    "not an object": ["JM"],
    "null": None,
    "a nation as a string": {"nations": "JM"},
    "a null list": {"nations": ["JM"], "groups": None},
    "a number for a partner": {"partners": [7]},
}


@pytest.mark.parametrize("stored", DAMAGED_AUDIENCES.values(), ids=DAMAGED_AUDIENCES.keys())
def test_a_damaged_stored_audience_is_refused_alike_by_every_reader(stored: object) -> None:
    collection = IntelCollection(alias="jm-intel", audience=stored)
    p = partner("jm2", "JM", "JM", Tlp.GREEN)
    with pytest.raises(AudienceDamaged) as by_users:
        audience_of(collection)
    with pytest.raises(AudienceDamaged) as by_partners:
        shares_with(None, collection, p)  # type: ignore[arg-type]
    assert str(by_users.value) == str(by_partners.value)
    assert str(by_users.value).startswith("collection 'jm-intel': its stored audience ")


def test_a_stored_audience_reads_missing_lists_as_empty_and_ignores_unknown_keys() -> None:
    stored = {"nations": ["JM"], "partners": ["tt-node"], "later": {"x": 1}}
    assert audience_of(IntelCollection(audience=stored)) == Audience(
        nations=("JM",), partners=("tt-node",)
    )
    assert audience_of(IntelCollection(audience={})).is_open
