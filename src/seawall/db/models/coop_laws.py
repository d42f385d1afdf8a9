"""Cooperation tables: legal instruments (the harmonisation matrix) and national CIRTs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from seawall.db.models.base import Base
from seawall.db.types import UTCDateTime


class Received:
    """What a hub keeps of a record a nation's node shared: when, under which key and package,
    and when the node withdrew it (a tombstone); all blank on a record entered here."""

    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sender_key_id: Mapped[str] = mapped_column(String(64), default="", server_default="")
    package_sha256: Mapped[str] = mapped_column(String(64), default="", server_default="")
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class LegalInstrument(Received, Base):
    """A nation's law, bill, strategy or treaty act of one kind, with its status and source."""

    __tablename__ = "coop_instruments"
    __table_args__ = (UniqueConstraint("nation", "kind", "title"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nation: Mapped[str] = mapped_column(ForeignKey("nations.iso2"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16))
    # YYYY, YYYY-MM or YYYY-MM-DD: a law's date is often published to the year only.
    date: Mapped[str] = mapped_column(String(10), default="")
    source: Mapped[str] = mapped_column(String(1000))
    note: Mapped[str] = mapped_column(Text, default="")
    sample: Mapped[bool] = mapped_column(Boolean, default=False)
    entered_by: Mapped[str] = mapped_column(String(100))
    entered_as: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class NationalCirt(Received, Base):
    """A nation's national CIRT as the directory lists it (one per nation)."""

    __tablename__ = "coop_cirts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nation: Mapped[str] = mapped_column(ForeignKey("nations.iso2"), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    established: Mapped[str] = mapped_column(String(10), default="")
    mandate: Mapped[str] = mapped_column(Text, default="")
    constituency: Mapped[str] = mapped_column(Text, default="")
    services: Mapped[list[str]] = mapped_column(JSON, default=list)
    contacts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    pgp_fingerprint: Mapped[str] = mapped_column(String(64), default="")
    first_url: Mapped[str] = mapped_column(String(1000), default="")
    ti_url: Mapped[str] = mapped_column(String(1000), default="")
    ti_status: Mapped[str] = mapped_column(String(16), default="")
    source: Mapped[str] = mapped_column(String(1000))
    note: Mapped[str] = mapped_column(Text, default="")
    sample: Mapped[bool] = mapped_column(Boolean, default=False)
    entered_by: Mapped[str] = mapped_column(String(100))
    entered_as: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
