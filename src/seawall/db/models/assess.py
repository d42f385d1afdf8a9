"""Maturity pillar tables (rounds, ratings, consensus, indices, roadmaps).

Their migrations live on the Alembic branch labelled 'assess'.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from seawall.db.models.base import Base
from seawall.db.types import UTCDateTime


class FrameworkPack(Base):
    """A custom framework pack imported into this node (shipped packs live in the package)."""

    __tablename__ = "assess_framework_packs"

    framework_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    imported_by: Mapped[str] = mapped_column(String(100))


class ContentPack(Base):
    """Licensed indicator texts for a framework, kept with the sha256 checked at import."""

    __tablename__ = "assess_content_packs"
    __table_args__ = (UniqueConstraint("framework_id", "sha256"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    framework_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    imported_by: Mapped[str] = mapped_column(String(100))


class Round(Base):
    """One assessment of a nation against a framework in a year."""

    __tablename__ = "assess_rounds"
    __table_args__ = (UniqueConstraint("nation", "framework_id", "year"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nation: Mapped[str] = mapped_column(ForeignKey("nations.iso2"), index=True)
    framework_id: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(100))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    published_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # Published without every factor agreed, as the publisher chose (``--partial``).
    partial: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Who leads the round: invites the groups, reveals their stages, records agreement.
    lead: Mapped[str] = mapped_column(String(100), default="", server_default="")
    # When the lead opened every group's stages to everyone who may see the round.
    revealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revealed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)


class Participant(Base):
    """Someone the lead invited to a round: a rater of one stakeholder group, or a
    facilitator (named with the group whose invitation named them)."""

    __tablename__ = "assess_round_participants"
    __table_args__ = (CheckConstraint("role IN ('rater', 'facilitator')", name="participant_role"),)

    round_id: Mapped[str] = mapped_column(
        ForeignKey("assess_rounds.id", ondelete="CASCADE"), primary_key=True
    )
    stakeholder_group: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(String(100), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime())
    invited_by: Mapped[str] = mapped_column(String(100))


class RoundPublication(Base):
    """A round published to one region group: by whom (a user of the round's nation) and when,
    and, once withdrawn from the group, by whom, when and why."""

    __tablename__ = "assess_round_publications"

    round_id: Mapped[str] = mapped_column(
        ForeignKey("assess_rounds.id", ondelete="CASCADE"), primary_key=True
    )
    region_group: Mapped[str] = mapped_column(
        ForeignKey("region_groups.code", ondelete="CASCADE"), primary_key=True
    )
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    published_by: Mapped[str] = mapped_column(String(100))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    withdrawn_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    withdraw_reason: Mapped[str] = mapped_column(Text, default="", server_default="")


class Rating(Base):
    """One stakeholder group's stage for one factor in a round."""

    __tablename__ = "assess_ratings"
    __table_args__ = (
        UniqueConstraint("round_id", "stakeholder_group", "factor_id"),
        CheckConstraint("stage >= 0 AND stage <= 5", name="stage_range"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    round_id: Mapped[str] = mapped_column(
        ForeignKey("assess_rounds.id", ondelete="CASCADE"), index=True
    )
    stakeholder_group: Mapped[str] = mapped_column(String(32))
    factor_id: Mapped[str] = mapped_column(String(32))
    stage: Mapped[int] = mapped_column(Integer)
    rationale: Mapped[str] = mapped_column(Text, default="")
    evidence_refs: Mapped[list[str]] = mapped_column(JSON)
    indicators_met: Mapped[list[str]] = mapped_column(JSON, default=list)
    rater: Mapped[str] = mapped_column(String(100))
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Consensus(Base):
    """The stage the groups agreed for a factor, with any dissent recorded."""

    __tablename__ = "assess_consensus"
    __table_args__ = (CheckConstraint("agreed_stage >= 0 AND agreed_stage <= 5", name="stage"),)

    round_id: Mapped[str] = mapped_column(
        ForeignKey("assess_rounds.id", ondelete="CASCADE"), primary_key=True
    )
    factor_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    agreed_stage: Mapped[int] = mapped_column(Integer)
    dissent: Mapped[str] = mapped_column(Text, default="")
    agreed_by: Mapped[str] = mapped_column(String(100))
    agreed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Why a stage was agreed that no invited group had rated.
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")


class PublicationConsent(Base):
    """A nation's consent to show its published assessments to a region group."""

    __tablename__ = "assess_consents"

    nation: Mapped[str] = mapped_column(ForeignKey("nations.iso2"), primary_key=True)
    region_group: Mapped[str] = mapped_column(
        ForeignKey("region_groups.code", ondelete="CASCADE"), primary_key=True
    )
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    granted_by: Mapped[str] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class IndexEdition(Base):
    """One imported edition of an outside index (e.g. a later GCI)."""

    __tablename__ = "assess_index_editions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    framework_id: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    imported_by: Mapped[str] = mapped_column(String(100))


class IndexScore(Base):
    """One number of an index edition, with the source it was taken from."""

    __tablename__ = "assess_index_scores"
    __table_args__ = (UniqueConstraint("edition_id", "nation", "component", "source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    edition_id: Mapped[str] = mapped_column(
        ForeignKey("assess_index_editions.id", ondelete="CASCADE"), index=True
    )
    nation: Mapped[str] = mapped_column(ForeignKey("nations.iso2"), index=True)
    component: Mapped[str] = mapped_column(String(32))
    value: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")


class Target(Base):
    """The stage a nation aims for on a factor."""

    __tablename__ = "assess_targets"
    __table_args__ = (CheckConstraint("stage >= 0 AND stage <= 5", name="stage_range"),)

    nation: Mapped[str] = mapped_column(ForeignKey("nations.iso2"), primary_key=True)
    framework_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    factor_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    stage: Mapped[int] = mapped_column(Integer)
    set_at: Mapped[datetime] = mapped_column(UTCDateTime())
    set_by: Mapped[str] = mapped_column(String(100))


class RoadmapItem(Base):
    """An action that should lift a factor: who does it, by when, and how far it got."""

    __tablename__ = "assess_roadmap_items"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nation: Mapped[str] = mapped_column(ForeignKey("nations.iso2"), index=True)
    framework_id: Mapped[str] = mapped_column(String(64))
    factor_id: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200))
    due: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    progress: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(100))


class RoadmapProgress(Base):
    """One update to a roadmap item: its status and percent done at that time."""

    __tablename__ = "assess_roadmap_progress"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(
        ForeignKey("assess_roadmap_items.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16))
    progress: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(100))


class ReceivedRound(Base):
    """A round another nation's node published to this hub, kept as its signed package said,
    or one entered at the hub from a CSV or JSON file for a nation without a node.

    Read-only: only a newer package from the same nation's node replaces it. ``groups`` holds
    the region groups the nation consented to (group: who consented; for a round entered at
    the hub, who entered it), ``withdrawn`` the groups it withdrew the round from (group:
    when, by whom, why). A round entered at the hub has ``entered_by`` and ``source`` (where
    its figures come from) and no ``sender_key_id``; a signed package of the same nation,
    year and framework replaces it.
    """

    __tablename__ = "assess_received_rounds"

    round_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nation: Mapped[str] = mapped_column(ForeignKey("nations.iso2"), index=True)
    framework_id: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    published_by: Mapped[str] = mapped_column(String(100))
    groups: Mapped[dict[str, str]] = mapped_column(JSON)
    withdrawn: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON)
    stages: Mapped[dict[str, int]] = mapped_column(JSON)
    dissent: Mapped[dict[str, str]] = mapped_column(JSON)
    ratings: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    sender_key_id: Mapped[str] = mapped_column(String(32))
    package_sha256: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(Text, default="", server_default="")
    entered_by: Mapped[str] = mapped_column(String(100), default="", server_default="")
    # The nation published the round without every factor agreed.
    partial: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    @property
    def entered(self) -> bool:
        """Whether the round was entered at this hub rather than signed by its nation's node."""
        return bool(self.entered_by)
