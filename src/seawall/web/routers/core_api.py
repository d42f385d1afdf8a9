"""The core JSON API: who am I, nations, organisations, users, tokens, partners, audit."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Self

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from seawall.core import audit, evidence, organisations, partners, tokens, users
from seawall.core.access import Perm, require
from seawall.core.nations import groups_of, nation_name, normalise_nation, region_members
from seawall.core.paging import PageRequest
from seawall.core.tlp import TLP_KEYS
from seawall.db.models import ApiToken, User
from seawall.intel import witness_check
from seawall.web.deps import ApiCtx, node_of
from seawall.web.errors import ERROR_RESPONSES

router = APIRouter(prefix="/api/v1", tags=["core"], responses=ERROR_RESPONSES)
CtxDep = ApiCtx


class Strict(BaseModel):
    """Request bodies: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RowOut(BaseModel):
    """Answers read from a database row, field by field, by attribute name."""

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, row: object) -> Self:
        """From the row."""
        return cls.model_validate(row)


class Me(BaseModel):
    """The calling principal."""

    username: str
    nation: str
    role: str
    permissions: list[str]


@router.get("/me", response_model=Me)
def me(ctx: CtxDep) -> Me:
    """Who the token belongs to and what it may do."""
    return Me(
        username=ctx.who.username,
        nation=ctx.who.nation,
        role=ctx.who.role.value,
        permissions=sorted(p.value for p in ctx.who.permissions),
    )


class NationOut(BaseModel):
    """A nation and its region groups."""

    iso2: str
    name: str
    groups: list[str]


@router.get("/nations/{code}", response_model=NationOut)
def get_nation(code: str, ctx: CtxDep) -> NationOut:
    """A nation by ISO 3166-1 alpha-2 or alpha-3 code."""
    iso2 = normalise_nation(code)
    return NationOut(iso2=iso2, name=nation_name(iso2), groups=groups_of(ctx.db, iso2))


class RegionOut(BaseModel):
    """A region group's members."""

    code: str
    members: list[str]


@router.get("/regions/{code}", response_model=RegionOut)
def get_region(code: str, ctx: CtxDep) -> RegionOut:
    """The members of a region group (CARICOM, OECS, CARIBBEAN, LAC)."""
    return RegionOut(code=code.upper(), members=region_members(ctx.db, code))


class OrgIn(Strict):
    """A new organisation."""

    name: str = Field(min_length=1, max_length=200)
    kind: Literal["cirt", "ministry", "regulator", "data_custodian", "regional_body"]


class OrgOut(RowOut):
    """An organisation."""

    id: str
    name: str
    kind: str
    nation: str


@router.get("/organisations", response_model=list[OrgOut])
def list_orgs(ctx: CtxDep) -> list[OrgOut]:
    """Organisations of the caller's nation."""
    return [OrgOut.of(o) for o in organisations.list_orgs(ctx)]


@router.post("/organisations", response_model=OrgOut, status_code=201)
def add_org(body: OrgIn, ctx: CtxDep) -> OrgOut:
    """Register an organisation in the caller's nation."""
    return OrgOut.of(organisations.add_org(ctx, body.name, body.kind))


class UserIn(Strict):
    """A new user of the caller's nation."""

    username: str = Field(min_length=2, max_length=64)
    role: Literal["admin", "analyst", "assessor", "custodian", "viewer"]
    password: str | None = Field(default=None, min_length=10, max_length=1024)
    display_name: str = Field(default="", max_length=200)
    email: str = Field(default="", max_length=254)
    organisation: str | None = Field(default=None, max_length=200)
    partner: str | None = Field(default=None, max_length=100)


class UserOut(RowOut):
    """A user; never carries the password hash."""

    id: str
    username: str
    display_name: str
    nation: str
    role: str
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None


@router.get("/users", response_model=list[UserOut])
def list_users(ctx: CtxDep) -> list[UserOut]:
    """Users of the caller's nation."""
    return [UserOut.of(u) for u in users.list_users(ctx)]


@router.post("/users", response_model=UserOut, status_code=201)
def add_user(body: UserIn, ctx: CtxDep) -> UserOut:
    """Create a user in the caller's nation."""
    user = users.add_user(
        ctx,
        body.username,
        body.role,
        password=body.password,
        org=body.organisation,
        display_name=body.display_name,
        email=body.email,
        partner=body.partner,
    )
    return UserOut.of(user)


@router.get("/users/{ref}", response_model=UserOut)
def get_user(ref: str, ctx: CtxDep) -> UserOut:
    """A user of the caller's nation by id or username."""
    require(ctx.who, Perm.USERS_MANAGE)
    return UserOut.of(users.get_user(ctx, ref))


@router.post("/users/{ref}/disable", response_model=UserOut)
def disable_user(ref: str, ctx: CtxDep) -> UserOut:
    """Disable a user: their sessions and tokens stop working."""
    return UserOut.of(users.set_disabled(ctx, ref, True))


class TokenIn(Strict):
    """A token request."""

    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] = Field(default_factory=list, max_length=20)
    days: int = Field(default=90, ge=1, le=3650)


class TokenOut(BaseModel):
    """A token's metadata (never its secret)."""

    id: str
    name: str
    user: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken, user: str) -> TokenOut:
        """From the row."""
        return cls(
            id=token.id,
            name=token.name,
            user=user,
            scopes=token.scopes,
            created_at=token.created_at,
            expires_at=token.expires_at,
            revoked_at=token.revoked_at,
            last_used_at=token.last_used_at,
        )


class IssuedTokenOut(TokenOut):
    """A token as issued: ``token`` is shown this once."""

    token: str


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(ctx: CtxDep) -> list[TokenOut]:
    """The caller's tokens (all of the nation's for admins)."""
    return [TokenOut.of(t, u) for t, u in tokens.list_tokens(ctx)]


@router.post("/tokens", response_model=IssuedTokenOut, status_code=201)
def create_token(body: TokenIn, ctx: CtxDep) -> IssuedTokenOut:
    """Issue a token for the caller, narrowed to ``scopes``."""
    issued = tokens.create_token(ctx, body.name, body.scopes, body.days)
    base = TokenOut.of(issued.token, ctx.who.username)
    return IssuedTokenOut(**base.model_dump(), token=issued.value)


@router.delete("/tokens/{token_id}", response_model=TokenOut)
def revoke_token(token_id: str, ctx: CtxDep) -> TokenOut:
    """Revoke a token."""
    row = tokens.revoke_token(ctx, token_id)
    owner = ctx.db.get(User, row.user_id)
    return TokenOut.of(row, owner.username if owner else "")


class PartnerIn(Strict):
    """A partner node."""

    name: str = Field(min_length=2, max_length=64)
    nation: str = Field(min_length=2, max_length=3)
    url: str = Field(min_length=8, max_length=500)
    trust: Literal["full", "limited", "none"] = "limited"
    # The levels come from core (core.tlp), which also checks the value.
    max_tlp: str = Field(default="green", max_length=16, json_schema_extra={"enum": list(TLP_KEYS)})
    pull: bool = True
    push: bool = True
    embassy_host: bool = False


class PartnerOut(RowOut):
    """A partner node and its trust settings."""

    id: str
    name: str
    nation: str
    url: str
    trust: str
    max_tlp: str
    pull: bool
    push: bool
    embassy_host: bool
    disabled: bool


@router.get("/partners", response_model=list[PartnerOut])
def list_partners(ctx: CtxDep) -> list[PartnerOut]:
    """The caller's nation's partner nodes."""
    return [PartnerOut.of(p) for p in partners.list_partners(ctx)]


@router.post("/partners", response_model=PartnerOut, status_code=201)
def add_partner(body: PartnerIn, ctx: CtxDep) -> PartnerOut:
    """Register a partner node."""
    return PartnerOut.of(partners.add_partner(ctx, **body.model_dump()))


@router.get("/partners/{ref}", response_model=PartnerOut)
def get_partner(ref: str, ctx: CtxDep) -> PartnerOut:
    """A partner node by id or name."""
    return PartnerOut.of(partners.get_partner(ctx, ref))


@router.post("/partners/{ref}/disable", response_model=PartnerOut)
def disable_partner(ref: str, ctx: CtxDep) -> PartnerOut:
    """Stop all exchange with a partner: sync, pushes and bundles."""
    return PartnerOut.of(partners.set_partner_disabled(ctx, ref, True))


@router.post("/partners/{ref}/enable", response_model=PartnerOut)
def enable_partner(ref: str, ctx: CtxDep) -> PartnerOut:
    """Resume exchange with a partner."""
    return PartnerOut.of(partners.set_partner_disabled(ctx, ref, False))


class AuditOut(RowOut):
    """One audit entry."""

    seq: int
    at: datetime
    actor: str
    nation: str
    action: str
    target: str
    source: str
    detail: dict[str, Any]
    hash: str


@router.get("/audit", response_model=list[AuditOut])
def list_audit(
    ctx: CtxDep,
    request: Request,
    response: Response,
    actor: str | None = Query(default=None, max_length=100),
    action: str | None = Query(default=None, max_length=64),
    target: str | None = Query(default=None, max_length=200),
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
    sort: audit.Order = audit.Order.NEWEST,
    cursor: str | None = Query(default=None, max_length=2048),
) -> list[AuditOut]:
    """Audit entries of the caller's nation, newest first, one page at a time: the total is
    in ``X-Total-Count`` and the next page's URL in ``Link`` (``rel="next"``)."""
    found = audit.page(
        ctx,
        audit.AuditFilter(None, actor, action, target, since, until),
        PageRequest(limit, cursor),
        sort.sort,
    )
    response.headers["X-Total-Count"] = str(found.total)
    links = [
        f'<{request.url.include_query_params(cursor=value)}>; rel="{rel}"'
        for rel, value in (("next", found.next), ("prev", found.prev))
        if value
    ]
    if links:
        response.headers["Link"] = ", ".join(links)
    return [AuditOut.of(e) for e in found.items]


class WitnessOut(BaseModel):
    """What one partner's witnessed head says about the local chain."""

    partner: str
    verdict: str
    count: int | None
    message: str


class VerifyOut(BaseModel):
    """The result of walking the audit chain (and asking its witnesses)."""

    ok: bool
    checked: int
    problems: list[str]
    witnesses: list[WitnessOut] = []


@router.get("/audit/verify", response_model=VerifyOut)
def verify_audit(request: Request, ctx: CtxDep, witnesses: bool = False) -> VerifyOut:
    """Walk the whole chain and report edits and deletions; with ``witnesses``, also check
    it against the heads the partners hold."""
    require(ctx.who, Perm.AUDIT_READ)
    result = audit.verify(ctx.db, node_of(request).audit_key)
    settings = node_of(request).settings
    checks = witness_check.check_witnesses(ctx, settings, timeout=10.0) if witnesses else []
    contradicted = [c.message for c in checks if c.contradicts]
    return VerifyOut(
        ok=result.ok and not contradicted,
        checked=result.checked,
        problems=[p.message for p in result.problems] + contradicted,
        witnesses=[WitnessOut(**c.as_dict()) for c in checks],
    )


class EvidenceOut(BaseModel):
    """An evidence record."""

    id: str
    pillar: str
    kind: str
    summary: str
    supports: list[str]
    outcome: str
    occurred_at: datetime


@router.get("/evidence", response_model=list[EvidenceOut])
def list_evidence(
    ctx: CtxDep, supports: str | None = Query(default=None, max_length=64)
) -> list[EvidenceOut]:
    """Evidence of the caller's nation, optionally for one framework factor."""
    return [
        EvidenceOut(
            id=e.id,
            pillar=e.pillar,
            kind=e.kind,
            summary=e.summary,
            supports=e.supports,
            outcome=e.outcome,
            occurred_at=e.occurred_at,
        )
        for e in evidence.list_evidence(ctx, supports)
    ]
