"""Organisations: CIRTs, ministries, regulators, data custodians, regional bodies."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import select

from seawall.core.access import Perm, require, require_nation
from seawall.core.context import Ctx
from seawall.core.nations import normalise_nation
from seawall.core.refs import by_prefix
from seawall.db.models import Organisation
from seawall.errors import Conflict, InvalidInput, NotFound, parse_choice


class OrgKind(StrEnum):
    """What an organisation is."""

    CIRT = "cirt"
    MINISTRY = "ministry"
    REGULATOR = "regulator"
    DATA_CUSTODIAN = "data_custodian"
    REGIONAL_BODY = "regional_body"


def parse_kind(value: str) -> OrgKind:
    """An organisation kind by name, or a clear error."""
    return parse_choice(OrgKind, "organisation kind", value)


def add_org(ctx: Ctx, name: str, kind: str, nation: str | None = None) -> Organisation:
    """Register an organisation of the caller's nation (or, for the operator, any nation)."""
    require(ctx.who, Perm.USERS_MANAGE)
    iso2 = normalise_nation(nation or ctx.who.nation)
    require_nation(ctx.who, iso2, "nation")
    clean = name.strip()
    if not clean:
        raise InvalidInput("organisation name is empty: give a name")
    taken = ctx.db.scalar(
        select(Organisation).where(Organisation.nation == iso2, Organisation.name == clean)
    )
    if taken is not None:
        raise Conflict(f"organisation {clean!r} already exists in {iso2}")
    org = Organisation(
        id=ctx.ids(), nation=iso2, name=clean, kind=parse_kind(kind).value, created_at=ctx.now()
    )
    ctx.db.add(org)
    ctx.db.flush()
    ctx.record("org.created", org.id, name=clean, kind=org.kind, nation=iso2)
    return org


def list_orgs(ctx: Ctx) -> list[Organisation]:
    """Organisations of the caller's nation."""
    require(ctx.who, Perm.NODE_READ)
    stmt = select(Organisation).where(Organisation.nation == ctx.who.nation)
    return list(ctx.db.scalars(stmt.order_by(Organisation.name)))


def find_org(ctx: Ctx, ref: str, nation: str | None = None) -> Organisation:
    """An organisation by id or exact name, of ``nation`` (the caller's by default): two
    nations may each have an organisation of the same name."""
    mine = select(Organisation)
    if not ctx.who.node_operator:
        mine = mine.where(Organisation.nation == ctx.who.nation)
    org = by_prefix(ctx.db, mine, Organisation.id, ref, "organisation") or ctx.db.scalar(
        select(Organisation).where(
            Organisation.name == ref, Organisation.nation == (nation or ctx.who.nation)
        )
    )
    if org is None or (org.nation != ctx.who.nation and not ctx.who.node_operator):
        raise NotFound(f"no organisation {ref!r}", cli="list them with `seawall org list`")
    return org
