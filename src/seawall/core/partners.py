"""Partner nodes: another nation's node URL and how far this node trusts it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum
from urllib.parse import urlparse

from sqlalchemy import select

from seawall.core.access import Perm, require, require_nation
from seawall.core.context import Ctx
from seawall.core.nations import normalise_nation
from seawall.core.refs import by_prefix
from seawall.core.tlp import parse_tlp
from seawall.db.models import Partner, RegionGroup
from seawall.errors import Conflict, InvalidInput, NotFound, parse_choice

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")


class Trust(StrEnum):
    """How much a partner's assertions are believed."""

    FULL = "full"
    LIMITED = "limited"
    NONE = "none"


def add_partner(
    ctx: Ctx,
    name: str,
    nation: str,
    url: str,
    trust: str = "limited",
    max_tlp: str = "green",
    pull: bool = True,
    push: bool = True,
    embassy_host: bool = False,
    public_key: str = "",
    hub_for: Sequence[str] = (),
) -> Partner:
    """Register a partner node for the caller's nation (``hub_for``: the region groups whose
    hub it is, which this nation's published rounds for those groups are delivered to)."""
    require(ctx.who, Perm.PARTNERS_MANAGE)
    slug = name.strip().lower()
    if not NAME.match(slug):
        raise InvalidInput(
            f"partner name {name!r} is not allowed: use lowercase letters, digits, -"
        )
    parsed = urlparse(url.strip())
    if parsed.username is not None or parsed.password is not None:
        # Never echo it: what is before the @ is a credential.
        raise InvalidInput(
            "a partner URL must not carry a user or password (it would be shown and "
            "audited): give https://host only and store the token with "
            "`seawall intel partner link`"
        )
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InvalidInput(
            f"partner URL {url!r} is not an http(s) URL: give e.g. https://node.example.gov"
        )
    trust_level = parse_choice(Trust, "trust", trust)
    tlp = parse_tlp(max_tlp).key
    hubs = sorted({g.strip().upper() for g in hub_for})
    unknown = [g for g in hubs if ctx.db.get(RegionGroup, g) is None]
    if unknown:
        raise InvalidInput(
            f"no region group {', '.join(unknown)}: use one of "
            + ", ".join(sorted(ctx.db.scalars(select(RegionGroup.code))))
        )
    if ctx.db.scalar(select(Partner.id).where(Partner.name == slug)) is not None:
        raise Conflict(f"partner {slug!r} already exists")
    partner = Partner(
        id=ctx.ids(),
        name=slug,
        nation=normalise_nation(nation),
        owner_nation=ctx.who.nation,
        url=url.strip().rstrip("/"),
        trust=trust_level.value,
        max_tlp=tlp,
        pull=pull,
        push=push,
        embassy_host=embassy_host,
        hub_for=hubs,
        public_key=public_key.strip(),
        disabled=False,
        created_at=ctx.now(),
    )
    ctx.db.add(partner)
    ctx.db.flush()
    ctx.record(
        "partner.added",
        partner.id,
        name=slug,
        nation=partner.nation,
        url=partner.url,
        trust=partner.trust,
        max_tlp=tlp,
        hub_for=hubs,
    )
    return partner


def list_partners(ctx: Ctx) -> list[Partner]:
    """Partners of the caller's nation."""
    require(ctx.who, Perm.PARTNERS_READ)
    stmt = select(Partner).where(Partner.owner_nation == ctx.who.nation).order_by(Partner.name)
    return list(ctx.db.scalars(stmt))


def get_partner(ctx: Ctx, ref: str) -> Partner:
    """A partner of the caller's nation by id or name."""
    require(ctx.who, Perm.PARTNERS_READ)
    mine = select(Partner)
    if not ctx.who.node_operator:
        mine = mine.where(Partner.owner_nation == ctx.who.nation)
    partner = by_prefix(ctx.db, mine, Partner.id, ref, "partner") or ctx.db.scalar(
        select(Partner).where(Partner.name == ref)
    )
    if partner is None:
        raise NotFound(
            f"no partner {ref!r}",
            cli="list them with `seawall partner list`",
            web="the Partners page (/admin/partners) lists them",
        )
    require_nation(ctx.who, partner.owner_nation, f"partner {ref!r}")
    return partner


def set_partner_disabled(ctx: Ctx, ref: str, disabled: bool) -> Partner:
    """Stop (or resume) all exchange with a partner."""
    require(ctx.who, Perm.PARTNERS_MANAGE)
    partner = get_partner(ctx, ref)
    partner.disabled = disabled
    ctx.record("partner.disabled" if disabled else "partner.enabled", partner.id, name=partner.name)
    return partner
