"""Schedules of a registered embassy repository: backups, checks, audits and restore drills.

The schedule lives here, not in a scheduler's job store: ``run-due`` (a timer, or the thread
``seawall serve`` starts) reads these rows, claims what is due with a conditional update, and
records each run through the embassy service.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from seawall.db.models.base import Base
from seawall.db.types import UTCDateTime


class EmbassySchedule(Base):
    """When one kind of run is due for a repository, and how the last one went."""

    __tablename__ = "embassy_schedules"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    repo_id: Mapped[str] = mapped_column(
        ForeignKey("embassy_repos.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    # Exactly one of a cron expression (in ``timezone``) or an interval in seconds.
    cron: Mapped[str | None] = mapped_column(String(120), nullable=True)
    every_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    grace_seconds: Mapped[int] = mapped_column(Integer)
    paths: Mapped[list[str]] = mapped_column(JSON, default=list)
    excludes: Mapped[list[str]] = mapped_column(JSON, default=list)
    read_data: Mapped[float | None] = mapped_column(Float, nullable=True)
    rpo_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rto_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(100))
    # Every due time up to and including ``done_through`` was run, coalesced or missed.
    done_through: Mapped[datetime] = mapped_column(UTCDateTime())
    running_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_outcome: Mapped[str] = mapped_column(String(16), default="")
    last_message: Mapped[str] = mapped_column(Text, default="")
    missed: Mapped[int] = mapped_column(Integer, default=0)


__all__ = ["EmbassySchedule"]
