"""Alerts: something needs a person (a scheduled run failed or was missed, a copy is too old).

Any pillar raises them through :mod:`seawall.core.alerts`; the home page shows the open ones
first, and each is delivered to the configured webhooks and SMTP address.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from seawall.db.models.base import Base
from seawall.db.types import UTCDateTime


class Alert(Base):
    """One alert; raised again while open, it is the same row with a higher ``count``."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_open", "nation", "acknowledged_at", "kind", "subject"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nation: Mapped[str] = mapped_column(ForeignKey("nations.iso2"), index=True)
    pillar: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(48))
    subject: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    last_raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    count: Mapped[int] = mapped_column(Integer, default=1)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # Delivery: the channels (``webhook:<hash>``, ``smtp:<hash>``) it reached, the last
    # failure (redacted), and a lease so that two delivery passes never send it twice.
    delivered_to: Mapped[list[str]] = mapped_column(JSON, default=list)
    delivery_error: Mapped[str] = mapped_column(Text, default="")
    delivery_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


__all__ = ["Alert"]
