"""Collective-defence tables: TAXII collections, every version of every STIX object, statuses.

Its migrations live on the Alembic branch labelled 'intel'.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from seawall.db.models.base import Base, RowId
from seawall.db.types import UTCDateTime


class IntelCollection(Base):
    """A TAXII collection: who may read it (its audience) and its default marking."""

    __tablename__ = "intel_collections"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    alias: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_nation: Mapped[str] = mapped_column(ForeignKey("nations.iso2"), index=True)
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)
    default_tlp: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(100))


class IntelObject(Base):
    """One version of one STIX object in a collection, keyed by (collection, id, version)."""

    __tablename__ = "intel_objects"
    __table_args__ = (
        UniqueConstraint("collection_id", "stix_id", "version"),
        Index("ix_intel_objects_page", "collection_id", "date_added", "seq"),
    )

    seq: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    collection_id: Mapped[str] = mapped_column(
        ForeignKey("intel_collections.id", ondelete="CASCADE")
    )
    stix_id: Mapped[str] = mapped_column(String(300), index=True)
    type: Mapped[str] = mapped_column(String(250), index=True)
    spec_version: Mapped[str] = mapped_column(String(8))
    created: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    modified: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    version: Mapped[datetime] = mapped_column(UTCDateTime())
    date_added: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_ref: Mapped[str | None] = mapped_column(String(300), nullable=True)
    markings: Mapped[list[str]] = mapped_column(JSON)
    tlp: Mapped[int] = mapped_column(Integer)
    owner_nation: Mapped[str] = mapped_column(String(2))
    owner_org: Mapped[str | None] = mapped_column(String(36), nullable=True)
    submitted_by: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    # True when a newer version of the object is in the collection (whoever may read it):
    # the latest-version filter looks for a newer visible version only behind such rows.
    superseded: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # Read from the body (seawall.intel.store.lifecycle), so lists filter by state cheaply.
    revoked: Mapped[bool] = mapped_column(Boolean, server_default=false())
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class IntelStatus(Base):
    """The outcome of one TAXII add-objects request (a TAXII status resource)."""

    __tablename__ = "intel_statuses"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    collection_id: Mapped[str] = mapped_column(
        ForeignKey("intel_collections.id", ondelete="CASCADE"), index=True
    )
    owner_nation: Mapped[str] = mapped_column(String(2))
    submitted_by: Mapped[str] = mapped_column(String(100))
    request_timestamp: Mapped[datetime] = mapped_column(UTCDateTime())
    total_count: Mapped[int] = mapped_column(Integer)
    successes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    failures: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    pendings: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


from seawall.db.models import (  # noqa: E402 - registers the tables below
    intel_cases,  # noqa: F401 - a nation's work on its cases
    intel_sync,  # noqa: F401 - register the sync tables
)
