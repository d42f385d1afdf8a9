"""ORM models. Core tables live here; each pillar adds a module beside it.

A pillar's tables are mapped when its module is first imported, so a command of one pillar
does not pay for mapping the others' (about 45 ms of every start-up);
:func:`full_metadata` maps them all, for migrations and schema comparisons.
"""

from sqlalchemy import MetaData

from seawall.db.models.base import Base
from seawall.db.models.core import (
    ApiToken,
    AuditEntry,
    AuditHead,
    Evidence,
    FederationInbox,
    FederationOutbox,
    Nation,
    Organisation,
    Partner,
    PartnerLinkState,
    RegionGroup,
    RegionMembership,
    User,
    WebSession,
)


def full_metadata() -> MetaData:
    """The metadata of every table, core and pillars alike."""
    from seawall.db.models import (  # noqa: F401 - register pillar tables
        alerts,
        assess,
        coop,
        coop_laws,
        embassy,
        embassy_hosting,
        intel,
        intel_correlation,
        schedules,
    )

    return Base.metadata


__all__ = [
    "ApiToken",
    "AuditEntry",
    "AuditHead",
    "Base",
    "Evidence",
    "FederationInbox",
    "FederationOutbox",
    "Nation",
    "Organisation",
    "Partner",
    "PartnerLinkState",
    "RegionGroup",
    "RegionMembership",
    "User",
    "WebSession",
    "full_metadata",
]
