"""Sign-in: one password check per try, a back-off per account and a throttle per address.

Every refused try, whatever its reason, runs exactly one Argon2 verification and gives the
caller the same answer (:data:`REFUSED`); the reason goes to the audit log only. So the
answer and its timing tell an outsider nothing about which accounts exist or their state.

- **Account back-off.** From the ``account_failures``-th consecutive wrong password on, an
  account accepts no password for :func:`backoff` after each wrong one: the base delay,
  doubled for each further failure, up to the cap. Tries during the delay are refused without
  counting and without moving its end, so nobody can keep an account closed for longer than
  the cap by failing on purpose; the first try after it is checked as usual.
- **Address throttle.** Every refusal counts against the client address it came from
  (refusals by the throttle itself too). From the ``address_failures``-th on, the address is
  held off for the same kind of delay after each refusal, so an address that keeps trying stays
  held off; its tries never reach an account meanwhile. The count restarts once the address
  has gone a whole cap without a refusal; a sign-in does not restart it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute

from seawall.core.context import Ctx
from seawall.core.users import principal_of, rehash_if_needed, verify_password
from seawall.db.models import User
from seawall.db.models.core import AuthThrottle
from seawall.settings import Settings

REFUSED = (
    "Sign-in failed: check the username and password. After repeated failures each try "
    "waits longer; try again in a few minutes."
)
_SOURCE_LENGTH = 64
_Row = TypeVar("_Row", User, AuthThrottle)


class Refusal(StrEnum):
    """Why a sign-in was refused (for the audit log, never for the caller)."""

    UNKNOWN_USER = "unknown_user"
    NO_PASSWORD = "no_password"  # noqa: S105 - a user who signs in with tokens only
    WRONG_PASSWORD = "wrong_password"  # noqa: S105 - a reason, not a password
    DISABLED = "disabled"
    BACKING_OFF = "backing_off"  # the account's back-off delay has not passed
    THROTTLED = "throttled"  # the client address is held off


@dataclass(frozen=True)
class SignInPolicy:
    """How many failures start a delay, and how long delays are."""

    account_failures: int
    address_failures: int
    base: timedelta
    cap: timedelta

    @classmethod
    def of(cls, settings: Settings) -> SignInPolicy:
        """The policy a node's settings describe (docs/security.md)."""
        return cls(
            account_failures=settings.login_max_failures,
            address_failures=settings.login_address_max_failures,
            base=timedelta(seconds=settings.login_backoff_seconds),
            cap=timedelta(minutes=settings.lockout_minutes),
        )


@dataclass(frozen=True)
class SignIn:
    """The outcome of a try: the user, or the reason it was refused (already audited)."""

    user: User | None
    refusal: Refusal | None = None


def backoff(failures: int, threshold: int, base: timedelta, cap: timedelta) -> timedelta:
    """The delay after the ``failures``-th failure: none below ``threshold``, then ``base``
    doubling with each further failure, never more than ``cap``."""
    if failures < threshold:
        return timedelta(0)
    doublings = failures - threshold
    if doublings >= 32:  # 2**32 times any base is past any sensible cap
        return cap
    delay: timedelta = base * (1 << doublings)
    return min(delay, cap)


def sign_in(ctx: Ctx, username: str, password: str, policy: SignInPolicy) -> SignIn:
    """Check a password from ``ctx.who.source``; record the outcome whatever it is."""
    name = username.strip().lower()
    now = ctx.now()
    source = (ctx.who.source or "unknown")[:_SOURCE_LENGTH]
    found = ctx.db.scalar(select(User.id).where(User.username == name))
    # Lock the rows this try may change, so that concurrent tries (other workers, other
    # processes) count every failure: PostgreSQL locks them; SQLite has one writer anyway.
    user = _locked(ctx, User, User.id, found) if found is not None else None
    address = _locked(ctx, AuthThrottle, AuthThrottle.source, source)
    # One Argon2 verification on every path (a dummy hash when there is none), so that no
    # refusal answers sooner than another.
    matches = verify_password(user.password_hash if user is not None else None, password)
    refusal = _refusal(user, address, matches, now)
    if refusal is None:
        assert user is not None and user.password_hash is not None
        user.password_hash = rehash_if_needed(user.password_hash, password)
        user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
        ctx.who = principal_of(user, source=ctx.who.source)
        ctx.record("auth.login", user.id)
        return SignIn(user)
    detail: dict[str, object] = {"username": name, "reason": refusal.value}
    if refusal is Refusal.WRONG_PASSWORD:
        assert user is not None
        user.failed_logins += 1
        delay = backoff(user.failed_logins, policy.account_failures, policy.base, policy.cap)
        user.locked_until = now + delay if delay else None
        detail.update(failures=user.failed_logins, delay_seconds=int(delay.total_seconds()))
    elif refusal is Refusal.BACKING_OFF:
        assert user is not None and user.locked_until is not None
        detail["wait_seconds"] = _seconds(user.locked_until - now)
    detail.update(_count_address(ctx, address, source, now, policy))
    ctx.record("auth.login_failed", user.id if user is not None else "", **detail)
    return SignIn(None, refusal)


def _refusal(
    user: User | None, address: AuthThrottle | None, matches: bool, now: datetime
) -> Refusal | None:
    if address is not None and address.blocked_until is not None and address.blocked_until > now:
        return Refusal.THROTTLED
    if user is None:
        return Refusal.UNKNOWN_USER
    if user.password_hash is None:
        return Refusal.NO_PASSWORD
    if user.disabled:
        return Refusal.DISABLED
    if user.locked_until is not None and user.locked_until > now:
        return Refusal.BACKING_OFF
    return None if matches else Refusal.WRONG_PASSWORD


def _count_address(
    ctx: Ctx, row: AuthThrottle | None, source: str, now: datetime, policy: SignInPolicy
) -> dict[str, int]:
    """Count a refusal against its address; hold the address off past the threshold."""
    # Forget addresses that have been quiet for a whole cap: the table stays small.
    ctx.db.execute(
        delete(AuthThrottle).where(
            AuthThrottle.source != source, AuthThrottle.last_failure_at < now - policy.cap
        )
    )
    if row is None:
        row = _insert_address(ctx, source, now)
    if row.last_failure_at < now - policy.cap:
        row.failures = 0
    row.failures += 1
    row.last_failure_at = now
    delay = backoff(row.failures, policy.address_failures, policy.base, policy.cap)
    row.blocked_until = now + delay if delay else None
    counted = {"address_failures": row.failures}
    if delay:
        counted["address_delay_seconds"] = int(delay.total_seconds())
    return counted


def _insert_address(ctx: Ctx, source: str, now: datetime) -> AuthThrottle:
    """The address's row, made now; a concurrent try may have just made it."""
    dialect = ctx.db.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    ctx.db.execute(
        insert(AuthThrottle)
        .values(source=source, failures=0, last_failure_at=now, blocked_until=None)
        .on_conflict_do_nothing(index_elements=["source"])
    )
    row = _locked(ctx, AuthThrottle, AuthThrottle.source, source)
    assert row is not None
    return row


def _locked(
    ctx: Ctx, model: type[_Row], key: InstrumentedAttribute[str], value: str
) -> _Row | None:
    stmt = (
        select(model)
        .where(key == value)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return ctx.db.scalar(stmt)


def _seconds(delta: timedelta) -> int:
    return max(0, int(delta.total_seconds() + 0.999))
