"""Collections: where STIX objects are shared, who may read them and their default marking."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.core.nations import groups_of
from seawall.db.models import Organisation, Partner, RegionGroup
from seawall.db.models.intel import IntelCollection
from seawall.errors import InvalidInput
from seawall.intel.audiences import Audience as Audience  # re-exported: callers create with it
from seawall.intel.audiences import audience_of
from seawall.intel.errors import CollectionExists, CollectionNotFound
from seawall.intel.policy import Holder, Recipient, may_share
from seawall.intel.sharing import (
    PARTNER_PREFIX,
    acting_partner,
    partner_cap,
    partner_label,
    partner_recipient,
    shares_with,
)
from seawall.intel.tlp import Tlp, parse_tlp

ALIAS = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")


@dataclass(frozen=True)
class Reader:
    """The principal reading a collection, as the sharing policy sees them.

    A partner's sync account reads with ``origin`` and ``cap`` set: only rows that
    ``origin`` (this node's nation) submitted itself, never what partners sent (no
    relays), and nothing stricter than ``cap`` (the partner's ``max_tlp``).
    """

    username: str
    recipient: Recipient
    named_by_collection: bool
    origin: str | None = None
    cap: Tlp | None = None

    def takes(self, tlp: int, owner_nation: str, submitted_by: str) -> bool:
        """Whether the partner limits (origin and cap) let a row through; True for users."""
        if self.origin is None:
            return True
        return (
            owner_nation == self.origin
            and not submitted_by.startswith(PARTNER_PREFIX)
            and (self.cap is None or tlp <= self.cap)
        )

    def may_read(
        self, tlp: int, owner_nation: str, owner_org: str | None, submitted_by: str
    ) -> bool:
        """The sharing policy's verdict on one stored row for this reader."""
        holder = Holder(nation=owner_nation, organisation=owner_org)
        return self.takes(tlp, owner_nation, submitted_by) and may_share(
            Tlp(tlp), holder, self.for_object(submitted_by)
        )

    def for_object(self, submitted_by: str) -> Recipient:
        """The reader as recipient of one object: named if they sent it or their org is listed."""
        named = self.named_by_collection or submitted_by == self.username
        return Recipient(
            nation=self.recipient.nation,
            organisation=self.recipient.organisation,
            is_partner_node=self.recipient.is_partner_node,
            is_named=named,
            in_community=self.recipient.in_community,
        )


def default_marking(collection: IntelCollection) -> Tlp:
    """The marking an unmarked object in the collection travels under."""
    return parse_tlp(collection.default_tlp)


def admits(ctx: Ctx, collection: IntelCollection) -> bool:
    """Whether the caller is in the collection's audience.

    A partner's sync account is admitted only where the audience names the partner, its
    nation or its region (an open audience stays on this node), and never while the
    partner is disabled.
    """
    audience = audience_of(collection)
    who = ctx.who
    if who.node_operator:
        return True
    partner = acting_partner(ctx)
    if partner is not None:
        return shares_with(ctx.db, collection, partner)
    if audience.is_open:
        return True
    if who.nation in audience.nations:
        return True
    if who.org_id is not None and who.org_id in audience.organisations:
        return True
    return bool(audience.groups) and bool(set(audience.groups) & set(groups_of(ctx.db, who.nation)))


def can_read(ctx: Ctx, collection: IntelCollection) -> bool:
    """Whether the caller may read the collection."""
    return ctx.who.can(Perm.INTEL_READ) and admits(ctx, collection)


def can_write(ctx: Ctx, collection: IntelCollection) -> bool:
    """Whether the caller may add objects to the collection."""
    return ctx.who.can(Perm.INTEL_WRITE) and admits(ctx, collection)


def reader_of(ctx: Ctx, collection: IntelCollection) -> Reader:
    """The caller as a reader of ``collection``: a user of this node, or a partner node."""
    who = ctx.who
    partner = None if who.node_operator else acting_partner(ctx)
    if partner is not None:
        return partner_reader(partner)
    audience = audience_of(collection)
    named = who.org_id is not None and who.org_id in audience.organisations
    recipient = Recipient(
        nation=who.nation,
        organisation=who.org_id,
        is_partner_node=False,
        in_community=True,
    )
    return Reader(username=who.username, recipient=recipient, named_by_collection=named)


def partner_reader(partner: Partner) -> Reader:
    """A partner node as a reader: only this nation's own rows, nothing that partners sent
    us, and nothing above the partner's cap."""
    return Reader(
        username=partner_label(partner),
        recipient=partner_recipient(partner),
        named_by_collection=False,
        origin=partner.owner_nation,
        cap=partner_cap(partner),
    )


def _check_audience(ctx: Ctx, audience: Audience) -> None:
    """Every group and organisation an audience names must exist: a misspelt one would share
    with no one, and look as if it shared. A partner may be named before it is registered
    (its registration waits on the other nation's token); `partner list` shows which are."""
    groups = set(ctx.db.scalars(select(RegionGroup.code)))
    for group in audience.groups:
        if group not in groups:
            raise InvalidInput(
                f"audience group {group!r} is not a region group: use one of "
                f"{', '.join(sorted(groups))}"
            )
    for org in audience.organisations:
        if ctx.db.get(Organisation, org) is None:
            raise InvalidInput(
                f"audience org:{org} is not an organisation",
                cli="give its id from `seawall org list`",
            )


def create_collection(
    ctx: Ctx,
    alias: str,
    title: str = "",
    audience: Audience | None = None,
    default_tlp: str = "green",
    description: str = "",
) -> IntelCollection:
    """Create a collection for the caller's nation."""
    require(ctx.who, Perm.INTEL_WRITE)
    slug = alias.strip().lower()
    if not ALIAS.match(slug):
        raise InvalidInput(
            f"collection name {alias!r} is not allowed: use 2-64 lowercase letters, digits, -"
        )
    level = parse_tlp(default_tlp)
    if ctx.db.scalar(select(IntelCollection.id).where(IntelCollection.alias == slug)):
        raise CollectionExists(f"collection {slug!r} already exists; pick another name")
    chosen = audience or Audience()
    _check_audience(ctx, chosen)
    row = IntelCollection(
        id=ctx.ids(),
        alias=slug,
        title=title.strip() or slug,
        description=description.strip(),
        owner_nation=ctx.who.nation,
        audience=chosen.to_json(),
        default_tlp=level.key,
        created_at=ctx.now(),
        created_by=ctx.who.username,
    )
    ctx.db.add(row)
    ctx.db.flush()
    ctx.record(
        "intel.collection.created",
        row.id,
        alias=slug,
        default_tlp=level.key,
        audience=chosen.to_json(),
    )
    return row


def list_collections(ctx: Ctx) -> list[IntelCollection]:
    """The collections the caller may read or write, by alias."""
    require(ctx.who, Perm.INTEL_READ)
    rows = ctx.db.scalars(select(IntelCollection).order_by(IntelCollection.alias))
    return [row for row in rows if admits(ctx, row)]


def get_collection(ctx: Ctx, ref: str) -> IntelCollection:
    """A collection by id or alias that the caller is in the audience of."""
    require(ctx.who, Perm.INTEL_READ)
    row = ctx.db.get(IntelCollection, ref) or ctx.db.scalar(
        select(IntelCollection).where(IntelCollection.alias == ref.strip().lower())
    )
    if row is None or not admits(ctx, row):
        raise CollectionNotFound(
            f"no collection {ref!r} visible to {ctx.who.username}",
            cli="list them at /taxii2/api/collections/ or with `seawall intel collection list`",
            web="the Collective defence page (/intel) lists them",
        )
    return row
