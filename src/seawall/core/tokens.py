"""API tokens: scoped, expiring, revocable, stored as hashes and shown once.

A token reads ``sw_<id>_<secret>``. The id finds the row; only SHA-256 of the
256-bit random secret is stored (a slow KDF adds nothing for random secrets).

A verified token is remembered for :data:`VERIFIED_TTL` seconds, so a busy client
(a TAXII poller, a sync partner) does not cost a database read per request.
Revoking a token in this process forgets it at once; a revocation made by another
process (the CLI, another server worker), a disabled user or a changed role takes
effect within ``VERIFIED_TTL``. Expiry is checked on every request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select

from seawall.core.access import Perm, Principal, parse_scopes, require
from seawall.core.context import Ctx
from seawall.core.refs import by_prefix
from seawall.core.users import get_user, managed_by, principal_of
from seawall.db.models import ApiToken, Partner, User
from seawall.errors import (
    AuthenticationFailed,
    Forbidden,
    InvalidInput,
    NotFound,
    TokenExpired,
    TokenRevoked,
)

PREFIX = "sw_"
LAST_USED_GRANULARITY = timedelta(minutes=1)
VERIFIED_TTL = 2.0
_VERIFIED_MAX = 4096


@dataclass(frozen=True)
class _Verified:
    token_id: str
    expires_at: datetime
    principal: Principal
    until: float


# (database URL, digest of the whole presented token) -> what it was verified as.
_verified: dict[tuple[str, str], _Verified] = {}


def forget_verified(token_id: str | None = None) -> None:
    """Drop remembered verifications: of one token, or all of them."""
    for key, entry in list(_verified.items()):
        if token_id is None or entry.token_id == token_id:
            _verified.pop(key, None)


def secret_digest(secret: str) -> str:
    """What is stored of a secret the node hands out (a token, a session cookie): its SHA-256.

    The secrets are 256-bit random values, so a plain hash suffices; a lookup by digest
    never holds the secret itself.
    """
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    """A freshly created token; ``value`` is never retrievable again."""

    token: ApiToken
    value: str


def create_token(
    ctx: Ctx,
    name: str,
    scopes: list[str] | tuple[str, ...] = (),
    days: int = 90,
    username: str | None = None,
) -> IssuedToken:
    """Issue a token for the caller (or, for admins, for another user of their nation).

    A token holds at most what its user's role allows and what the caller holds: a token
    scoped to reading cannot mint one that writes. ``*`` or no scopes means all of that.
    """
    if not 1 <= days <= 3650:
        raise InvalidInput("token lifetime must be 1-3650 days")
    if not name.strip():
        raise InvalidInput("token name is empty: say what the token is for")
    if ctx.who.partner_id is not None:
        # Its host issues a partner's token, and can list and revoke it; it cannot mint more.
        raise Forbidden("a partner's sync account cannot create tokens; ask the host's admin")
    if username and username != ctx.who.username:
        require(ctx.who, Perm.TOKENS_MANAGE)
        user = get_user(ctx, username)
    else:
        if ctx.who.user_id is None:
            raise InvalidInput("the operator has no user account: pass --user NAME")
        user = get_user(ctx, ctx.who.user_id)
    if user.disabled:
        raise InvalidInput(
            f"{user.username} is disabled: enable them first (`seawall user enable`)"
        )
    role_perms = principal_of(user).permissions
    wanted = parse_scopes(list(scopes))
    explicit = bool(scopes) and "*" not in scopes
    if explicit and not wanted.issubset(role_perms):
        extra = ", ".join(sorted(p.value for p in wanted - role_perms))
        raise InvalidInput(
            f"{user.username} ({user.role}) cannot hold scopes: {extra}; a {user.role} may "
            f"hold {', '.join(sorted(p.value for p in role_perms))}"
        )
    held = ctx.who.permissions
    if explicit and not wanted.issubset(held):
        extra = ", ".join(sorted(p.value for p in wanted - held))
        raise Forbidden(
            f"you cannot grant scopes you do not hold: {extra}; "
            "create the token with a session or token that holds them"
        )
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    row = ApiToken(
        id=token_id,
        user_id=user.id,
        name=name.strip(),
        secret_hash=secret_digest(secret),
        scopes=sorted(p.value for p in wanted & role_perms & held),
        created_at=ctx.now(),
        expires_at=ctx.now() + timedelta(days=days),
    )
    ctx.db.add(row)
    ctx.db.flush()
    ctx.record("token.created", token_id, user=user.username, name=row.name, scopes=row.scopes)
    return IssuedToken(row, f"{PREFIX}{token_id}_{secret}")


def revoke_token(ctx: Ctx, token_id: str) -> ApiToken:
    """Revoke a token, named by its id or its whole value; owners may revoke their own,
    admins any in their nation."""
    # Only the id part is ever repeated: a whole value given here holds the secret.
    token_id = token_id.removeprefix(PREFIX).split("_")[0]
    stmt = select(ApiToken).join(User, User.id == ApiToken.user_id)
    row = by_prefix(ctx.db, stmt.where(managed_by(ctx.who.nation)), ApiToken.id, token_id, "token")
    owner = (
        ctx.db.scalar(select(User).where(User.id == row.user_id, managed_by(ctx.who.nation)))
        if row is not None
        else None
    )
    if row is None or owner is None:
        raise NotFound(
            f"no token {token_id!r}",
            cli="list them with `seawall token list`",
            web="the API tokens page (/admin/tokens) lists them",
        )
    if owner.id != ctx.who.user_id:
        require(ctx.who, Perm.TOKENS_MANAGE)
    forget_verified(row.id)
    if row.revoked_at is None:
        row.revoked_at = ctx.now()
        ctx.record("token.revoked", row.id, user=owner.username)
    return row


def list_tokens(ctx: Ctx) -> list[tuple[ApiToken, str]]:
    """Tokens visible to the caller with their owners: all of the nation's for admins."""
    stmt = select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
    stmt = stmt.where(managed_by(ctx.who.nation))
    if not ctx.who.can(Perm.TOKENS_MANAGE):
        stmt = stmt.where(User.id == ctx.who.user_id)
    return [(t, u) for t, u in ctx.db.execute(stmt.order_by(ApiToken.created_at))]


def authenticate_token(ctx: Ctx, value: str, username: str | None = None) -> Principal:
    """Resolve a presented token to a principal, or fail with the precise reason."""
    parts = value.strip().removeprefix(PREFIX).split("_", 1)
    if not value.startswith(PREFIX) or len(parts) != 2:
        raise AuthenticationFailed("malformed API token: expected sw_<id>_<secret>")
    key = (str(ctx.db.get_bind().engine.url), secret_digest(value))
    hit = _verified.get(key)
    if hit is not None and hit.until > time.monotonic():
        if hit.expires_at <= ctx.now():
            _verified.pop(key, None)
        elif username is None or username.strip().lower() == hit.principal.username:
            return replace(hit.principal, source=ctx.who.source)
    # One round trip for the token and its user: this runs on every API request.
    found = ctx.db.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.id == parts[0])
    ).first()
    row, user = (found[0], found[1]) if found is not None else (None, None)
    if row is None or not hmac.compare_digest(row.secret_hash, secret_digest(parts[1])):
        raise AuthenticationFailed(
            "API token not recognised: create one with `seawall token create`"
        )
    if row.revoked_at is not None:
        raise TokenRevoked(f"API token {row.id} was revoked; create a new one")
    if row.expires_at <= ctx.now():
        raise TokenExpired(
            f"API token {row.id} expired on {row.expires_at:%Y-%m-%d}; create a new one"
        )
    if user is None or user.disabled:
        raise AuthenticationFailed("the token's user is disabled; ask a node admin")
    partner = ctx.db.get(Partner, user.partner_id) if user.partner_id else None
    if user.partner_id is not None and (partner is None or partner.disabled):
        # Every path refuses a disabled partner's account, not only the intel reads.
        raise AuthenticationFailed("the token's partner is disabled on this node; ask its admin")
    if username is not None and username.strip().lower() != user.username:
        raise AuthenticationFailed("API token does not belong to that user")
    now = ctx.now()
    # Refresh "last used" at most once a minute, so reads do not each cost a write.
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_GRANULARITY:
        row.last_used_at = now
    principal = principal_of(user, frozenset(Perm(s) for s in row.scopes), ctx.who.source)
    if len(_verified) >= _VERIFIED_MAX:
        _verified.clear()
    _verified[key] = _Verified(row.id, row.expires_at, principal, time.monotonic() + VERIFIED_TTL)
    return principal
