"""Cooperation tables: partner organisations and the programmes they fund and implement.

Each nation keeps its own records (``nation``). A record a nation marks shareable travels to
its hub in a signed package; the hub keeps it with its source nation and ``received_at`` set,
read-only, and keeps a withdrawn one as a tombstone (``withdrawn_at``) so that an older
package replayed cannot bring it back. Framework factors are plain strings
(``cmm-2021:D1.2``): this pillar never joins the maturity pillar's tables.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from seawall.db.models.base import Base
from seawall.db.types import UTCDateTime


class _Shared:
    """What a record carries about where it came from and whether it travels."""

    shareable: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(100))
    # Set at a hub for a record a nation's node sent: the signature it came with.
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sender_key_id: Mapped[str] = mapped_column(String(64), default="")
    package_sha256: Mapped[str] = mapped_column(String(64), default="")
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class CoopOrganisation(_Shared, Base):
    """A development partner, regional body, training provider or CIRT a nation works with."""

    __tablename__ = "coop_organisations"
    __table_args__ = (UniqueConstraint("nation", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nation: Mapped[str] = mapped_column(ForeignKey("nations.iso2"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    acronym: Mapped[str] = mapped_column(String(32), default="")
    kind: Mapped[str] = mapped_column(String(32))
    # Where it is based (alpha-2), when it is a national body; empty for international ones.
    country: Mapped[str] = mapped_column(String(2), default="")
    website: Mapped[str] = mapped_column(String(500), default="")
    contact: Mapped[str] = mapped_column(String(200), default="")


class Programme(_Shared, Base):
    """A programme or project: who funds and implements it, for whom, and what it addresses."""

    __tablename__ = "coop_programmes"
    __table_args__ = (UniqueConstraint("nation", "ref"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nation: Mapped[str] = mapped_column(ForeignKey("nations.iso2"), index=True)
    # The nation's own short reference, unique within its records (imports match on it).
    ref: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    funders: Mapped[list[str]] = mapped_column(JSON, default=list)
    implementers: Mapped[list[str]] = mapped_column(JSON, default=list)
    beneficiaries: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Framework items it addresses: CMM factors, SIM3 parameters, GCI pillars, ...
    addresses: Mapped[list[str]] = mapped_column(JSON, default=list)
    start: Mapped[date | None] = mapped_column(Date, nullable=True)
    end: Mapped[date | None] = mapped_column(Date, nullable=True)
    budget: Mapped[Decimal | None] = mapped_column(Numeric(18, 2), nullable=True)
    currency: Mapped[str] = mapped_column(String(3), default="")
    status: Mapped[str] = mapped_column(String(16))
    outputs: Mapped[str] = mapped_column(Text, default="")
    sources: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Roadmap items (of the maturity pillar, by id) this programme funds.
    funds_items: Mapped[list[str]] = mapped_column(JSON, default=list)


__all__ = ["CoopOrganisation", "Programme"]
