"""Browser sessions: a random cookie secret, stored hashed, with a CSRF token per session."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete

from seawall.core.context import Ctx
from seawall.core.tokens import secret_digest
from seawall.db.models import User, WebSession


@dataclass(frozen=True)
class OpenedSession:
    """A new session: ``cookie`` goes to the browser, ``csrf`` into every form."""

    cookie: str
    csrf: str


def open_session(ctx: Ctx, user: User, lifetime: timedelta) -> OpenedSession:
    """Start a session for a user who has just proved their password."""
    cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = ctx.now()
    ctx.db.execute(delete(WebSession).where(WebSession.expires_at < now))
    ctx.db.add(
        WebSession(
            id_hash=secret_digest(cookie),
            user_id=user.id,
            csrf_token=csrf,
            created_at=now,
            expires_at=now + lifetime,
            source=ctx.who.source,
        )
    )
    return OpenedSession(cookie, csrf)


def resolve_session(ctx: Ctx, cookie: str) -> tuple[User, WebSession] | None:
    """The live session behind a cookie, or None."""
    row = ctx.db.get(WebSession, secret_digest(cookie))
    if row is None or row.expires_at <= ctx.now():
        return None
    user = ctx.db.get(User, row.user_id)
    if user is None or user.disabled:
        return None
    return user, row


def close_session(ctx: Ctx, cookie: str) -> None:
    """Sign out: forget the session."""
    row = ctx.db.get(WebSession, secret_digest(cookie))
    if row is not None:
        ctx.db.delete(row)
        ctx.record("auth.logout", row.user_id)
