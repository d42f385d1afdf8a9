"""Users: creation, listing, disabling, and password hashes (sign-in is core.signin)."""

from __future__ import annotations

import re
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, or_, select

from seawall.core.access import Perm, Principal, Role, parse_role, require, require_nation
from seawall.core.context import Ctx
from seawall.core.nations import normalise_nation
from seawall.core.organisations import find_org
from seawall.core.partners import get_partner
from seawall.core.refs import by_prefix
from seawall.db.models import Partner, User
from seawall.errors import Conflict, Forbidden, InvalidInput, NotFound

# argon2-cffi's defaults are Argon2id with RFC 9106's low-memory profile.
_hasher = PasswordHasher()
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
PARTNER_ROLES = frozenset({Role.VIEWER, Role.ANALYST})
RESERVED_USERNAMES = frozenset({"operator", "anonymous", "demo"})
PARTNER_SCOPES = frozenset(
    {Perm.INTEL_READ, Perm.INTEL_WRITE, Perm.FEDERATION_DELIVER, Perm.EMBASSY_HOST_WRITE}
)
MIN_PASSWORD = 10


@cache
def _dummy_hash() -> str:
    """A hash to verify against when there is no user, so both paths take as long."""
    return _hasher.hash("seawall-timing-equaliser")


def check_password_rule(password: str) -> None:
    """Refuse a password shorter than the rule (spaces do not count)."""
    if len(password.strip()) < MIN_PASSWORD:
        raise InvalidInput(
            f"password is too short: use at least {MIN_PASSWORD} characters besides spaces"
        )


def hash_password(password: str) -> str:
    """An Argon2id hash of a password that meets the length rule."""
    check_password_rule(password)
    return _hasher.hash(password)


def add_user(
    ctx: Ctx,
    username: str,
    role: str,
    password: str | None = None,
    nation: str | None = None,
    org: str | None = None,
    display_name: str = "",
    email: str = "",
    partner: str | None = None,
) -> User:
    """Create a user in the caller's nation (the operator may name any nation).

    With ``partner``, the user is that partner's sync account: of the partner's nation,
    reading and writing intelligence only, always as the partner (its ``max_tlp``, the
    collections shared with it, and nothing while it is disabled).
    """
    require(ctx.who, Perm.USERS_MANAGE)
    name = username.strip().lower()
    if not USERNAME.match(name):
        raise InvalidInput(
            f"username {username!r} is not allowed: use 2-64 lowercase letters, digits, . _ -"
        )
    if name in RESERVED_USERNAMES:
        # The node acts under these names: a user holding one would be named on its records.
        raise InvalidInput(f"username {name!r} is the node's own; pick another username")
    bound = get_partner(ctx, partner) if partner else None
    if bound is not None and nation and normalise_nation(nation) != bound.nation:
        raise InvalidInput(
            f"partner {bound.name} is a node of {bound.nation}: its account belongs to "
            f"{bound.nation}, not {normalise_nation(nation)} (leave out --nation)"
        )
    iso2 = bound.nation if bound is not None else normalise_nation(nation or ctx.who.nation)
    if bound is None:
        require_nation(ctx.who, iso2, "nation")
    parsed_role = parse_role(role)
    if bound is not None and parsed_role not in PARTNER_ROLES:
        raise InvalidInput(
            f"a partner's account reads (viewer) or reads and writes intelligence "
            f"(analyst), not {parsed_role.value}"
        )
    if email.strip() and not EMAIL.match(email.strip()):
        raise InvalidInput(f"email {email!r} is not an address: give one like cirt@gov.jm")
    if ctx.db.scalar(select(User.id).where(User.username == name)) is not None:
        raise Conflict(f"user {name!r} already exists; pick another username")
    org_id = None
    if org:
        found = find_org(ctx, org, iso2)
        if found.nation != iso2:
            raise InvalidInput(
                f"organisation {found.name!r} is not in {iso2}: give one of {iso2}'s "
                f"(`seawall org list`) or add it with `seawall org add --nation {iso2}`"
            )
        org_id = found.id
    user = User(
        id=ctx.ids(),
        username=name,
        display_name=display_name.strip() or name,
        email=email.strip(),
        nation=iso2,
        org_id=org_id,
        role=parsed_role.value,
        password_hash=hash_password(password) if password else None,
        disabled=False,
        failed_logins=0,
        created_at=ctx.now(),
        partner_id=bound.id if bound is not None else None,
    )
    ctx.db.add(user)
    ctx.db.flush()
    ctx.record(
        "user.created",
        user.id,
        username=name,
        role=user.role,
        nation=iso2,
        **({"partner": bound.name} if bound is not None else {}),
    )
    return user


def managed_by(nation: str) -> ColumnElement[bool]:
    """SQL for the users ``nation`` manages: its own, and its partners' sync accounts."""
    partners_of = select(Partner.id).where(Partner.owner_nation == nation)
    return or_(User.nation == nation, User.partner_id.in_(partners_of))


def list_users(ctx: Ctx) -> list[User]:
    """Users of the caller's nation, and the sync accounts of its partners."""
    require(ctx.who, Perm.USERS_MANAGE)
    stmt = select(User).where(managed_by(ctx.who.nation)).order_by(User.username)
    return list(ctx.db.scalars(stmt))


def get_user(ctx: Ctx, ref: str) -> User:
    """A user the caller's nation manages, by id or username; others' users do not exist."""
    mine = select(User) if ctx.who.node_operator else select(User).where(managed_by(ctx.who.nation))
    user = ctx.db.scalar(select(User).where(User.username == ref)) or by_prefix(
        ctx.db, mine, User.id, ref, "user"
    )
    if user is None:
        raise NotFound(
            f"no user {ref!r}",
            cli="list them with `seawall user list`",
            web="the Users page (/admin/users) lists them",
        )
    partner = ctx.db.get(Partner, user.partner_id) if user.partner_id else None
    if partner is None or partner.owner_nation != ctx.who.nation:
        require_nation(ctx.who, user.nation, f"user {ref!r}")
    return user


def act_as(ctx: Ctx, ref: str, source: str = "") -> Principal:
    """The principal of a user the caller manages, to act as them (``seawall assess --as``).

    A disabled user cannot be acted as: disabling someone stops everything they do.
    """
    user = get_user(ctx, ref)
    if user.disabled:
        raise Forbidden(f"user {user.username} is disabled; enable them or act as another")
    return principal_of(user, source=source or ctx.who.source)


def set_disabled(ctx: Ctx, ref: str, disabled: bool = True) -> User:
    """Disable (or re-enable) a user; disabling ends their sessions and tokens' use."""
    require(ctx.who, Perm.USERS_MANAGE)
    user = get_user(ctx, ref)
    if disabled and user.id == ctx.who.user_id:
        raise InvalidInput("you cannot disable yourself; ask another admin")
    user.disabled = disabled
    if not disabled:
        user.failed_logins, user.locked_until = 0, None
    ctx.record("user.disabled" if disabled else "user.enabled", user.id, username=user.username)
    return user


def set_password(ctx: Ctx, ref: str, password: str) -> User:
    """Set a user's password (admins, or the user themself)."""
    user = get_user(ctx, ref)
    if user.id != ctx.who.user_id:
        require(ctx.who, Perm.USERS_MANAGE)
    user.password_hash = hash_password(password)
    user.failed_logins, user.locked_until = 0, None
    ctx.record("user.password_set", user.id, username=user.username)
    return user


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def verify_password(hashed: str | None, password: str) -> bool:
    """Whether ``password`` matches ``hashed``: one Argon2 verification, against a dummy
    hash when there is none, so that a missing user or password takes as long."""
    if hashed is None:
        _verify(_dummy_hash(), password)
        return False
    return _verify(hashed, password)


def rehash_if_needed(hashed: str, password: str) -> str:
    """The hash to keep after a correct password: a new one if the parameters changed."""
    return _hasher.hash(password) if _hasher.check_needs_rehash(hashed) else hashed


def principal_of(user: User, scopes: frozenset[Perm] | None = None, source: str = "") -> Principal:
    """The principal a user acts as, optionally narrowed to token scopes."""
    granted = scopes if scopes is not None else frozenset(Perm)
    if user.partner_id is not None:
        # A partner's account exchanges intelligence, delivers its node's signed packages
        # and keeps embassy shares under its hosting agreements, and nothing else here.
        granted = granted & PARTNER_SCOPES
    return Principal(
        username=user.username,
        nation=user.nation,
        role=parse_role(user.role),
        user_id=user.id,
        org_id=user.org_id,
        scopes=granted,
        source=source,
        partner_id=user.partner_id,
    )
