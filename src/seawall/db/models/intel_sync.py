"""Sync between nations: per-partner state, pull and push cursors, and the outbound queue.

Its migration extends the Alembic branch labelled 'intel'.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from seawall.db.models.base import Base, RowId
from seawall.db.types import UTCDateTime


class IntelSyncPartner(Base):
    """When intel last pulled from and pushed to a partner (the link itself, its token and
    backoff, is core's :class:`~seawall.db.models.core.PartnerLinkState`)."""

    __tablename__ = "intel_sync_partners"

    partner_id: Mapped[str] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True
    )
    last_pull_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_push_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class IntelSyncCursor(Base):
    """Where a pull (remote collection) or a push scan (local collection) has reached."""

    __tablename__ = "intel_sync_cursors"

    partner_id: Mapped[str] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True
    )
    direction: Mapped[str] = mapped_column(String(8), primary_key=True)
    collection: Mapped[str] = mapped_column(String(100), primary_key=True)
    local_collection_id: Mapped[str] = mapped_column(String(36))
    # Pull: the added_after of the run under way, its next page and the newest date_added seen.
    added_after: Mapped[str] = mapped_column(String(40), default="")
    next_page: Mapped[str] = mapped_column(Text, default="")
    run_last: Mapped[str] = mapped_column(String(40), default="")
    # Push: the last local row (intel_objects.seq) already considered for the queue.
    last_seq: Mapped[int] = mapped_column(RowId, default=0)
    count: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IntelOutbox(Base):
    """One object version waiting for (or done with) delivery to one partner."""

    __tablename__ = "intel_outbox"
    __table_args__ = (
        UniqueConstraint("partner_id", "object_seq"),
        Index("ix_intel_outbox_due", "partner_id", "state", "next_attempt_at"),
    )

    seq: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    object_seq: Mapped[int] = mapped_column(
        ForeignKey("intel_objects.seq", ondelete="CASCADE"), index=True
    )
    collection_alias: Mapped[str] = mapped_column(String(64))
    stix_id: Mapped[str] = mapped_column(String(300))
    version: Mapped[datetime] = mapped_column(UTCDateTime())
    tlp: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")
    remote_status: Mapped[str] = mapped_column(String(100), default="")
    enqueued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class IntelAuditHead(Base):
    """A signed audit head: one a partner published (``held``, or ``refused`` beside it as
    evidence), or one of ours a partner said it holds (``acknowledged``)."""

    __tablename__ = "intel_audit_heads"
    __table_args__ = (Index("ix_intel_audit_heads_partner", "partner_id", "state"),)

    seq: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16))
    nation: Mapped[str] = mapped_column(String(2))
    key_id: Mapped[str] = mapped_column(String(32))
    count: Mapped[int] = mapped_column(RowId)
    hash: Mapped[str] = mapped_column(String(64))
    root: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    signature: Mapped[str] = mapped_column(Text)
    via: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(32), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
