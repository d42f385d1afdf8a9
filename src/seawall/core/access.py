"""Roles, permissions and the principal every core call is made as. Deny by default."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from seawall.errors import Forbidden, NotFound, parse_choice


class Role(StrEnum):
    """What a user is for."""

    ADMIN = "admin"
    ANALYST = "analyst"
    ASSESSOR = "assessor"
    CUSTODIAN = "custodian"
    VIEWER = "viewer"


class Perm(StrEnum):
    """One thing a principal may do. Token scopes are sets of these."""

    NODE_READ = "node.read"
    USERS_MANAGE = "users.manage"
    TOKENS_MANAGE = "tokens.manage"
    PARTNERS_READ = "partners.read"
    PARTNERS_MANAGE = "partners.manage"
    AUDIT_READ = "audit.read"
    INTEL_READ = "intel.read"
    INTEL_WRITE = "intel.write"
    # Fetch the sensor feeds (Zeek intel, Suricata rules, RPZ) of what the user may read.
    INTEL_FEED = "intel.feed"
    ASSESS_READ = "assess.read"
    ASSESS_RATE = "assess.rate"
    ASSESS_PUBLISH = "assess.publish"
    EMBASSY_READ = "embassy.read"
    EMBASSY_OPERATE = "embassy.operate"
    # Deliver signed packages (a nation's rounds to its hub) as a partner node's account.
    FEDERATION_DELIVER = "federation.deliver"
    # Store and read opaque embassy shares under a hosting agreement, as a partner node's account.
    EMBASSY_HOST_WRITE = "embassy.host.write"
    # Cooperation records: programmes, partner organisations, laws, CIRTs.
    COOP_READ = "coop.read"
    COOP_WRITE = "coop.write"


_READ = frozenset(
    {Perm.NODE_READ, Perm.PARTNERS_READ, Perm.INTEL_READ, Perm.ASSESS_READ, Perm.EMBASSY_READ}
) | {Perm.COOP_READ, Perm.INTEL_FEED}

# What a partner node's account may do besides its role: never granted to a person's account.
_PARTNER_EXTRA = frozenset({Perm.FEDERATION_DELIVER, Perm.EMBASSY_HOST_WRITE})

ROLE_PERMS: dict[Role, frozenset[Perm]] = {
    Role.VIEWER: _READ,
    Role.ANALYST: _READ | {Perm.INTEL_WRITE},
    Role.ASSESSOR: _READ | {Perm.ASSESS_RATE, Perm.COOP_WRITE},
    Role.CUSTODIAN: _READ | {Perm.EMBASSY_OPERATE},
    Role.ADMIN: frozenset(Perm),
}


def parse_role(value: str) -> Role:
    """A role by name, or a clear error listing the choices."""
    return parse_choice(Role, "role", value)


def parse_scopes(values: list[str] | tuple[str, ...]) -> frozenset[Perm]:
    """Token scopes by name; ``*`` means every permission of the user's role."""
    if not values or "*" in values:
        return frozenset(Perm)
    return frozenset(parse_choice(Perm, "scope", value) for value in values)


@dataclass(frozen=True)
class Principal:
    """Who is acting: a user (through a session or a token) or the local operator."""

    username: str
    nation: str
    role: Role
    user_id: str | None = None
    org_id: str | None = None
    scopes: frozenset[Perm] = field(default_factory=lambda: frozenset(Perm))
    source: str = ""
    node_operator: bool = False
    # Set for a partner's sync account: it acts for that partner record, under its cap.
    partner_id: str | None = None

    @property
    def permissions(self) -> frozenset[Perm]:
        """What this principal may do: its role's permissions narrowed by its scopes. A
        partner node's account may also deliver signed packages and keep embassy shares under
        the hosting agreements its partner holds (its own scopes decide)."""
        extra = _PARTNER_EXTRA if self.partner_id else frozenset()
        return (ROLE_PERMS[self.role] | extra) & self.scopes

    def can(self, perm: Perm) -> bool:
        """Whether the principal holds ``perm``."""
        return perm in self.permissions


def require(who: Principal, perm: Perm) -> None:
    """Raise Forbidden unless ``who`` holds ``perm``."""
    if not who.can(perm):
        raise Forbidden(
            f"{who.username} ({who.role.value}) may not {perm.value.replace('.', ' ')}; "
            "ask a node admin for a role or token scope that allows it"
        )


def require_nation(who: Principal, nation: str, what: str) -> None:
    """Hide another nation's private record as if it did not exist."""
    if nation != who.nation and not who.node_operator:
        raise NotFound(f"no {what} visible to {who.username}")


def operator(nation: str, source: str = "cli") -> Principal:
    """The local node operator: someone with a shell on the node is its admin."""
    return Principal(
        username="operator", nation=nation, role=Role.ADMIN, source=source, node_operator=True
    )
