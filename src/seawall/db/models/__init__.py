"""ORM models. Core tables live here; each pillar adds a module beside it."""

from seawall.db.models import assess, embassy, intel  # noqa: F401 - register pillar tables
from seawall.db.models.base import Base
from seawall.db.models.core import (
    ApiToken,
    AuditEntry,
    AuditHead,
    Evidence,
    Nation,
    Organisation,
    Partner,
    RegionGroup,
    RegionMembership,
    User,
    WebSession,
)

__all__ = [
    "ApiToken",
    "AuditEntry",
    "AuditHead",
    "Base",
    "Evidence",
    "Nation",
    "Organisation",
    "Partner",
    "RegionGroup",
    "RegionMembership",
    "User",
    "WebSession",
]
