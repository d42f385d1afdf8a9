"""A nation's own work on a case: who is assigned, and its tasks.

These rows stay on the node (they never travel with the case's STIX objects); each row
belongs to one nation, so a node that hosts several nations' users keeps each one's apart.
Its migration extends the Alembic branch labelled 'intel'.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from seawall.db.models.base import Base
from seawall.db.types import UTCDateTime


class IntelCaseAssignment(Base):
    """The user of a nation who works a case for that nation."""

    __tablename__ = "intel_case_assignments"

    case_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    nation: Mapped[str] = mapped_column(String(2), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    assigned_by: Mapped[str] = mapped_column(String(64))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IntelCaseTask(Base):
    """One task of a nation's work on a case, in its place in the list."""

    __tablename__ = "intel_case_tasks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(100))
    nation: Mapped[str] = mapped_column(String(2))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(8))
    assignee_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_intel_case_tasks_case", "case_id", "nation", "position"),)
