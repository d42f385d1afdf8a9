"""Roles, permissions and the principal every core call is made as. Deny by default."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from seawall.catalogs import N_
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


# What each permission allows, in words: "Your role (viewer) cannot read the audit log."
# Marked for the catalogs, so a page says it in its language.
ACTIONS: dict[Perm, str] = {
    Perm.NODE_READ: N_("see this node"),
    Perm.USERS_MANAGE: N_("manage users"),
    Perm.TOKENS_MANAGE: N_("manage API tokens"),
    Perm.PARTNERS_READ: N_("see the partners"),
    Perm.PARTNERS_MANAGE: N_("manage the partners"),
    Perm.AUDIT_READ: N_("read the audit log"),
    Perm.INTEL_READ: N_("read shared intelligence"),
    Perm.INTEL_WRITE: N_("add or change shared intelligence"),
    Perm.INTEL_FEED: N_("fetch the sensor feeds"),
    Perm.ASSESS_READ: N_("see maturity assessments"),
    Perm.ASSESS_RATE: N_("rate maturity assessments"),
    Perm.ASSESS_PUBLISH: N_("publish maturity assessments"),
    Perm.EMBASSY_READ: N_("see the data embassy"),
    Perm.EMBASSY_OPERATE: N_("operate the data embassy"),
    Perm.FEDERATION_DELIVER: N_("deliver signed packages"),
    Perm.EMBASSY_HOST_WRITE: N_("store a partner's embassy shares"),
    Perm.COOP_READ: N_("see cooperation records"),
    Perm.COOP_WRITE: N_("change cooperation records"),
}


def require(who: Principal, perm: Perm) -> None:
    """Raise Forbidden unless ``who`` holds ``perm``."""
    if who.can(perm):
        return
    action, role = ACTIONS[perm], who.role.value
    if perm in ROLE_PERMS[who.role] | (_PARTNER_EXTRA if who.partner_id else frozenset()):
        # The role allows it: the token's scopes leave it out.
        raise Forbidden(
            f"this token of {who.username} cannot {action}: its scopes leave it out; "
            "create a token with a scope that allows it"
        )
    raise Forbidden(
        f"{who.username}'s role ({role}) cannot {action}; "
        "ask a node admin for a role that allows it",
        role=role,
        action=action,
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
