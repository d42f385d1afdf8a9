"""assess rounds that can be trusted: a lead, invited participants, per-round consent

``assess_rounds.lead`` (the creator until handed over), ``revealed_at`` and ``revealed_by``;
``assess_round_participants`` (each invited rater or facilitator, by stakeholder group);
``assess_consensus.reason`` (why a stage was agreed that no group rated); and
``assess_round_publications`` (each region group a round is published to, by whom and when,
and its withdrawal). Existing rounds are led by their creator and have no invited groups, so
they stay open to every assessor of their nation; each published round is recorded as
published, when and by whom it was, to every group its nation consents to now (the groups
whose regional views used it).

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import seawall.db.types

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Added in place: columns with a server default need no table rebuild on SQLite.
    op.add_column(
        "assess_rounds",
        sa.Column("lead", sa.String(length=100), server_default="", nullable=False),
    )
    op.add_column(
        "assess_rounds",
        sa.Column("revealed_at", seawall.db.types.UTCDateTime(), nullable=True),
    )
    op.add_column("assess_rounds", sa.Column("revealed_by", sa.String(length=100), nullable=True))
    op.add_column(
        "assess_consensus", sa.Column("reason", sa.Text(), server_default="", nullable=False)
    )
    op.execute("UPDATE assess_rounds SET lead = created_by")
    op.create_table(
        "assess_round_participants",
        sa.Column("round_id", sa.String(length=36), nullable=False),
        sa.Column("stakeholder_group", sa.String(length=32), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("invited_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("invited_by", sa.String(length=100), nullable=False),
        sa.CheckConstraint(
            "role IN ('rater', 'facilitator')",
            name=op.f("ck_assess_round_participants_participant_role"),
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["assess_rounds.id"],
            name=op.f("fk_assess_round_participants_round_id_assess_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "round_id",
            "stakeholder_group",
            "username",
            name=op.f("pk_assess_round_participants"),
        ),
    )
    op.create_table(
        "assess_round_publications",
        sa.Column("round_id", sa.String(length=36), nullable=False),
        sa.Column("region_group", sa.String(length=32), nullable=False),
        sa.Column("published_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("published_by", sa.String(length=100), nullable=False),
        sa.Column("withdrawn_at", seawall.db.types.UTCDateTime(), nullable=True),
        sa.Column("withdrawn_by", sa.String(length=100), nullable=True),
        sa.Column("withdraw_reason", sa.Text(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["region_group"],
            ["region_groups.code"],
            name=op.f("fk_assess_round_publications_region_group_region_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["assess_rounds.id"],
            name=op.f("fk_assess_round_publications_round_id_assess_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "round_id", "region_group", name=op.f("pk_assess_round_publications")
        ),
    )
    # Published rounds reached every group their nation consents to: record that per round.
    op.execute(
        "INSERT INTO assess_round_publications "
        "(round_id, region_group, published_at, published_by, withdraw_reason) "
        "SELECT r.id, c.region_group, r.published_at, COALESCE(r.published_by, ''), '' "
        "FROM assess_rounds r JOIN assess_consents c ON c.nation = r.nation "
        "WHERE r.status = 'published' AND r.published_at IS NOT NULL "
        "AND c.revoked_at IS NULL"
    )


def downgrade() -> None:
    op.drop_table("assess_round_publications")
    op.drop_table("assess_round_participants")
    for table, columns in (
        ("assess_consensus", ("reason",)),
        ("assess_rounds", ("revealed_by", "revealed_at", "lead")),
    ):
        # These tables are leaves of assess alone (never ``partners``): a rebuild cascades
        # nowhere.
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.drop_column(column)
