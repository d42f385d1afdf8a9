"""Sharing across borders: what a partner node may receive from this node, and send to it.

The sharing policy (:mod:`seawall.intel.policy`) says who may read a marking. Across a
border four more rules apply, on every path (a partner's TAXII reads and writes with its
sync account, push, pull and offline bundles):

- **Audience.** A partner receives a collection only when the collection's audience names
  the partner, its nation or a region group its nation belongs to. A collection with an
  open audience stays on this node.
- **Cap.** Nothing stricter than the partner's ``max_tlp`` goes to it or is taken from it.
- **Origin.** A node sends only what its own nation submitted. It never relays what a
  partner sent it: those objects are the partner's to share.
- **Disabled.** A disabled partner receives nothing and is taken nothing from.

A partner node is a recipient in its nation and in the federation community, never inside
an organisation and never *named*: so AMBER crosses only between two nodes of one nation,
and AMBER+STRICT and RED never cross.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from seawall.core.context import Ctx
from seawall.core.federation.errors import PartnerDisabled
from seawall.core.nations import groups_of
from seawall.db.models import Partner
from seawall.db.models.intel import IntelCollection
from seawall.intel.audiences import audience_of
from seawall.intel.identity import identity_id
from seawall.intel.policy import Holder, Recipient, may_share
from seawall.intel.tlp import Tlp, parse_tlp

PARTNER_PREFIX = "partner:"


def partner_label(partner: Partner) -> str:
    """The submitter name objects from a partner are stored under: ``partner:<name>``."""
    return f"{PARTNER_PREFIX}{partner.name}"


def partner_recipient(partner: Partner) -> Recipient:
    """A partner node as the sharing policy sees it: in the community, never named."""
    return Recipient(
        nation=partner.nation,
        organisation=None,
        is_partner_node=True,
        is_named=False,
        in_community=True,
    )


def partner_cap(partner: Partner) -> Tlp:
    """The strictest marking exchanged with a partner (its ``max_tlp``)."""
    return parse_tlp(partner.max_tlp)


def may_send(level: Tlp, holder: Holder, partner: Partner) -> bool:
    """Whether an object marked ``level`` held by ``holder`` may go to ``partner``."""
    return level <= partner_cap(partner) and may_share(level, holder, partner_recipient(partner))


def may_take(level: Tlp, partner: Partner) -> bool:
    """Whether this node may accept an object marked ``level`` from ``partner``.

    The partner is the holder and this node (a partner node of ``partner.owner_nation``)
    the recipient: what the partner could not have sent us is withheld, never stored.
    """
    me = Recipient(
        nation=partner.owner_nation, organisation=None, is_partner_node=True, in_community=True
    )
    return level <= partner_cap(partner) and may_share(level, Holder(partner.nation, None), me)


def shares_with(db: Session, collection: IntelCollection, partner: Partner) -> bool:
    """Whether a local collection's audience names the partner, its nation or its region."""
    audience = audience_of(collection)
    if partner.name in audience.partners or partner.nation in audience.nations:
        return True
    return bool(audience.groups) and bool(set(audience.groups) & set(groups_of(db, partner.nation)))


def originated_here(owner_nation: str, submitted_by: str, stix_id: str, nation: str) -> bool:
    """Whether a row is ``nation``'s own: submitted on this node, not received from a partner.

    The nation's identity object is left out: it travels with every envelope anyway.
    """
    return (
        owner_nation == nation
        and not submitted_by.startswith(PARTNER_PREFIX)
        and stix_id != identity_id(nation)
    )


def acting_partner(ctx: Ctx) -> Partner | None:
    """The partner the caller acts for (a partner's sync account), or None.

    A disabled partner, or one whose record is gone, is refused outright: its account
    reads and writes nothing.
    """
    partner_id = ctx.who.partner_id
    if partner_id is None:
        return None
    partner = ctx.db.get(Partner, partner_id)
    if partner is None or partner.disabled:
        name = partner.name if partner is not None else partner_id
        raise PartnerDisabled(
            f"partner {name!r} is disabled on this node: its account may exchange nothing; "
            "ask this node's admin to enable it"
        )
    return partner
