"""Maturity pillar tables (rounds, ratings, consensus, indices, roadmaps).

Filled in by the pillar; its migrations live on the Alembic branch labelled 'assess'.
"""

from seawall.db.models.base import Base

__all__ = ["Base"]
