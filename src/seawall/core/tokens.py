"""API tokens: scoped, expiring, revocable, stored as hashes and shown once.

A token reads ``sw_<id>_<secret>``. The id finds the row; only SHA-256 of the
256-bit random secret is stored (a slow KDF adds nothing for random secrets).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from seawall.core.access import Perm, Principal, parse_scopes, require
from seawall.core.context import Ctx
from seawall.core.users import get_user, principal_of
from seawall.db.models import ApiToken, User
from seawall.errors import (
    AuthenticationFailed,
    InvalidInput,
    NotFound,
    TokenExpired,
    TokenRevoked,
)

PREFIX = "sw_"
LAST_USED_GRANULARITY = timedelta(minutes=1)


def _digest(secret: str) -> str:
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
    """Issue a token for the caller (or, for admins, for another user of their nation)."""
    if not 1 <= days <= 3650:
        raise InvalidInput("token lifetime must be 1-3650 days")
    if not name.strip():
        raise InvalidInput("token name is empty: say what the token is for")
    if username and username != ctx.who.username:
        require(ctx.who, Perm.TOKENS_MANAGE)
        user = get_user(ctx, username)
    else:
        if ctx.who.user_id is None:
            raise InvalidInput("the operator has no user account: pass --user NAME")
        user = get_user(ctx, ctx.who.user_id)
    role_perms = principal_of(user).permissions
    wanted = parse_scopes(list(scopes))
    if not wanted.issubset(role_perms) and scopes and "*" not in scopes:
        extra = ", ".join(sorted(p.value for p in wanted - role_perms))
        raise InvalidInput(f"{user.username} ({user.role}) cannot hold scopes: {extra}")
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    row = ApiToken(
        id=token_id,
        user_id=user.id,
        name=name.strip(),
        secret_hash=_digest(secret),
        scopes=sorted(p.value for p in wanted & role_perms),
        created_at=ctx.now(),
        expires_at=ctx.now() + timedelta(days=days),
    )
    ctx.db.add(row)
    ctx.db.flush()
    ctx.record("token.created", token_id, user=user.username, name=row.name, scopes=row.scopes)
    return IssuedToken(row, f"{PREFIX}{token_id}_{secret}")


def revoke_token(ctx: Ctx, token_id: str) -> ApiToken:
    """Revoke a token; owners may revoke their own, admins any in their nation."""
    row = ctx.db.get(ApiToken, token_id.removeprefix(PREFIX).split("_")[0])
    owner = ctx.db.get(User, row.user_id) if row else None
    if row is None or owner is None or owner.nation != ctx.who.nation:
        raise NotFound(f"no token {token_id!r}; list them with `seawall token list`")
    if owner.id != ctx.who.user_id:
        require(ctx.who, Perm.TOKENS_MANAGE)
    if row.revoked_at is None:
        row.revoked_at = ctx.now()
        ctx.record("token.revoked", row.id, user=owner.username)
    return row


def list_tokens(ctx: Ctx) -> list[tuple[ApiToken, str]]:
    """Tokens visible to the caller with their owners: all of the nation's for admins."""
    stmt = select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
    stmt = stmt.where(User.nation == ctx.who.nation)
    if not ctx.who.can(Perm.TOKENS_MANAGE):
        stmt = stmt.where(User.id == ctx.who.user_id)
    return [(t, u) for t, u in ctx.db.execute(stmt.order_by(ApiToken.created_at))]


def authenticate_token(ctx: Ctx, value: str, username: str | None = None) -> Principal:
    """Resolve a presented token to a principal, or fail with the precise reason."""
    parts = value.strip().removeprefix(PREFIX).split("_", 1)
    if not value.startswith(PREFIX) or len(parts) != 2:
        raise AuthenticationFailed("malformed API token: expected sw_<id>_<secret>")
    row = ctx.db.get(ApiToken, parts[0])
    if row is None or not hmac.compare_digest(row.secret_hash, _digest(parts[1])):
        raise AuthenticationFailed(
            "API token not recognised: create one with `seawall token create`"
        )
    if row.revoked_at is not None:
        raise TokenRevoked(f"API token {row.id} was revoked; create a new one")
    if row.expires_at <= ctx.now():
        raise TokenExpired(
            f"API token {row.id} expired on {row.expires_at:%Y-%m-%d}; create a new one"
        )
    user = ctx.db.get(User, row.user_id)
    if user is None or user.disabled:
        raise AuthenticationFailed("the token's user is disabled; ask a node admin")
    if username is not None and username.strip().lower() != user.username:
        raise AuthenticationFailed("API token does not belong to that user")
    now = ctx.now()
    # Refresh "last used" at most once a minute, so reads do not each cost a write.
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_GRANULARITY:
        row.last_used_at = now
    return principal_of(user, frozenset(Perm(s) for s in row.scopes), ctx.who.source)
