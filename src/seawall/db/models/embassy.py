"""Data-embassy tables: repositories this node registered, and the history of their runs.

The repositories themselves live on their sites (self-describing, encrypted); these rows only
let the node find them by name and show their health. Migrations: Alembic branch ``embassy``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from seawall.db.models.base import Base
from seawall.db.types import UTCDateTime


class EmbassyRepo(Base):
    """A repository registered on this node under a short name."""

    __tablename__ = "embassy_repos"
    __table_args__ = (UniqueConstraint("nation", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nation: Mapped[str] = mapped_column(ForeignKey("nations.iso2"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    repository_id: Mapped[str] = mapped_column(String(64), index=True)
    sites: Mapped[list[str]] = mapped_column(JSON)
    k: Mapped[int] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    degraded: Mapped[bool] = mapped_column(Boolean, default=False)
    # Where each site is, by site URL: {"place": str, "lat": float, "lon": float}.
    locations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class EmbassyRun(Base):
    """One backup, check, repair, restore, forget or site change, and how it ended."""

    __tablename__ = "embassy_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    repo_id: Mapped[str] = mapped_column(
        ForeignKey("embassy_repos.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    actor: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())


__all__ = ["EmbassyRepo", "EmbassyRun"]
