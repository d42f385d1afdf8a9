"""Data-embassy tables (registered repositories, their sites, runs).

Filled in by the pillar; its migrations live on the Alembic branch labelled 'embassy'.
"""

from seawall.db.models.base import Base

__all__ = ["Base"]
