"""Core tables: nations, regions, organisations, users, tokens, partners, audit, evidence."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from seawall.db.models.base import Base, RowId
from seawall.db.types import UTCDateTime


class Nation(Base):
    """An ISO 3166-1 country."""

    __tablename__ = "nations"

    iso2: Mapped[str] = mapped_column(String(2), primary_key=True)
    iso3: Mapped[str] = mapped_column(String(3), unique=True)
    name: Mapped[str] = mapped_column(String(120))


class RegionGroup(Base):
    """A named group of nations (CARICOM, OECS, ...) with its regional hub."""

    __tablename__ = "region_groups"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    hub: Mapped[str] = mapped_column(String(200), default="")


class RegionMembership(Base):
    """A nation's membership of a region group."""

    __tablename__ = "region_memberships"

    group_code: Mapped[str] = mapped_column(
        ForeignKey("region_groups.code", ondelete="CASCADE"), primary_key=True
    )
    nation: Mapped[str] = mapped_column(ForeignKey("nations.iso2"), primary_key=True)


class Organisation(Base):
    """A CIRT, ministry, regulator, data custodian or regional body."""

    __tablename__ = "organisations"
    __table_args__ = (UniqueConstraint("nation", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nation: Mapped[str] = mapped_column(ForeignKey("nations.iso2"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class User(Base):
    """A person who signs in to the node."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    nation: Mapped[str] = mapped_column(ForeignKey("nations.iso2"), index=True)
    org_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"), nullable=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # A partner's sync account: it reads and writes as that partner, under its cap.
    partner_id: Mapped[str | None] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), nullable=True, index=True
    )


class ApiToken(Base):
    """A scoped, expiring, revocable API token; only its hash is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class WebSession(Base):
    """A signed-in browser session; the cookie holds a secret whose hash is the key."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(64), default="")


class Partner(Base):
    """Another nation's node and how far this node trusts it."""

    __tablename__ = "partners"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    nation: Mapped[str] = mapped_column(ForeignKey("nations.iso2"), index=True)
    owner_nation: Mapped[str] = mapped_column(ForeignKey("nations.iso2"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    trust: Mapped[str] = mapped_column(String(16))
    max_tlp: Mapped[str] = mapped_column(String(16))
    pull: Mapped[bool] = mapped_column(Boolean, default=True)
    push: Mapped[bool] = mapped_column(Boolean, default=True)
    embassy_host: Mapped[bool] = mapped_column(Boolean, default=False)
    # The region groups (CARICOM, OECS, ...) for which this partner's node is the hub: the
    # nation's published rounds for those groups are delivered to it.
    hub_for: Mapped[list[str]] = mapped_column(JSON, default=list)
    public_key: Mapped[str] = mapped_column(Text, default="")
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PartnerLinkState(Base):
    """How this node reaches a partner, for every pillar: the API token the partner issued us
    (sealed), the key id it last proved, and the last error with the backoff it set."""

    __tablename__ = "partner_links"

    partner_id: Mapped[str] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True
    )
    token_sealed: Mapped[str] = mapped_column(Text, default="")
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_error_code: Mapped[str] = mapped_column(String(64), default="")
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    seen_key_id: Mapped[str] = mapped_column(String(32), default="")


class FederationOutbox(Base):
    """A signed package waiting for (or done with) delivery to one partner node.

    ``kind`` names the pillar's package kind (``assess.round``) and ``key`` what it is about
    (a round id); a newer package with the same kind and key supersedes one still pending.
    """

    __tablename__ = "federation_outbox"
    __table_args__ = (Index("ix_federation_outbox_due", "partner_id", "state", "next_attempt_at"),)

    seq: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(200))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")
    answer: Mapped[str] = mapped_column(String(32), default="")
    enqueued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class FederationInbox(Base):
    """A signed package a partner node delivered here: kept so that a package delivered
    again (its sender killed before it saw the answer) is recognised and stored once."""

    __tablename__ = "federation_inbox"
    __table_args__ = (UniqueConstraint("partner_id", "sha256"),)

    seq: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """One state change, chained to the one before it by a keyed hash."""

    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(100), index=True)
    nation: Mapped[str] = mapped_column(String(2), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The last entry of the chain; its row lock serialises appends."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class Evidence(Base):
    """A fact one pillar records and another may cite (e.g. a restore drill)."""

    __tablename__ = "evidence"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nation: Mapped[str] = mapped_column(ForeignKey("nations.iso2"), index=True)
    pillar: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(64), index=True)
    summary: Mapped[str] = mapped_column(Text)
    supports: Mapped[list[str]] = mapped_column(JSON)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    recorded_by: Mapped[str] = mapped_column(String(100))


class AuthThrottle(Base):
    """Refused sign-ins from one client address, and until when it is held off."""

    __tablename__ = "auth_throttle"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime())
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
