"""Embassy hosting tables: the agreements under which this node keeps partners' opaque shares,
every version of every object it keeps, and the writes it refused.

The bytes themselves are files in the node home (:mod:`seawall.embassy.hosting.store`); these
rows say which version of which name is current, when each stopped being current (its
retention counts from then), and which were purged. Migrations: Alembic branch ``embassy``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from seawall.db.models.base import Base, RowId
from seawall.db.types import UTCDateTime


class HostingAgreement(Base):
    """What this node promised a guest nation: space, retention, bandwidth and an end date."""

    __tablename__ = "embassy_hosting_agreements"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    # No cascade: removing a partner must never drop the record of the shares kept for it.
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"), index=True)
    quota_bytes: Mapped[int] = mapped_column(BigInteger)
    retention_days: Mapped[int] = mapped_column(Integer)
    # Bytes the guest may write per UTC day; 0 means no cap.
    bandwidth_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(100))
    # The guest's embassy public key (ed25519:<base64>), registered by its first signed request.
    signing_key: Mapped[str] = mapped_column(Text, default="")
    # Versions superseded at or before this time may be purged once their retention ends
    # (the latest purge request the guest signed).
    release_before: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_write_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class HostedObject(Base):
    """One version of one object name under an agreement (or a delete marker)."""

    __tablename__ = "embassy_hosted_objects"
    __table_args__ = (
        Index("ix_embassy_hosted_objects_current", "agreement_id", "name", "current"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agreement_id: Mapped[str] = mapped_column(
        ForeignKey("embassy_hosting_agreements.id"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    marker: Mapped[bool] = mapped_column(Boolean, default=False)
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class HostingRefusal(Base):
    """A write or purge this node refused under an agreement, and why."""

    __tablename__ = "embassy_hosting_refusals"

    seq: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    agreement_id: Mapped[str] = mapped_column(
        ForeignKey("embassy_hosting_agreements.id"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255), default="")
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    message: Mapped[str] = mapped_column(Text)


class PartnerTerms(Base):
    """The guest's side: the terms a partner host last showed for one ``seawall://`` site, and
    a release it still owes that host (prune and forget send one; a host that was down gets it
    at the next open)."""

    __tablename__ = "embassy_partner_terms"

    site: Mapped[str] = mapped_column(String(300), primary_key=True)
    retention_days: Mapped[int] = mapped_column(Integer)
    quota_bytes: Mapped[int] = mapped_column(BigInteger)
    bandwidth_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Since when a release to this host is owed (None: none is).
    release_due_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AuditSpent(Base):
    """The guest's side: how many of a share's precomputed audit challenges are spent (a
    challenge is used once: a host that saw its nonce could keep the answer and drop the
    share)."""

    __tablename__ = "embassy_audit_spent"

    repository_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(300), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)


__all__ = ["AuditSpent", "HostedObject", "HostingAgreement", "HostingRefusal", "PartnerTerms"]
