"""Collective-defence tables (STIX objects, collections, sync state).

Filled in by the pillar; its migrations live on the Alembic branch labelled 'intel'.
"""

from seawall.db.models.base import Base

__all__ = ["Base"]
