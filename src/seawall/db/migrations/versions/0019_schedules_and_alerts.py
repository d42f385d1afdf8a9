"""schedules and alerts: embassy schedules (backup, check, audit, drill) and core alerts

Joins the core and embassy branches: alerts are core (any pillar raises them), schedules
belong to embassy repositories.

Revision ID: 0019
Revises: 0007, 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import seawall.db.types

revision = "0019"
down_revision = ("0007", "0013")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("nation", sa.String(length=2), nullable=False),
        sa.Column("pillar", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("raised_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("last_raised_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", seawall.db.types.UTCDateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=100), nullable=True),
        sa.Column("delivered_to", sa.JSON(), nullable=False),
        sa.Column("delivery_error", sa.Text(), nullable=False),
        sa.Column("delivery_lease_until", seawall.db.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["nation"], ["nations.iso2"], name=op.f("fk_alerts_nation_nations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    op.create_index(op.f("ix_alerts_nation"), "alerts", ["nation"], unique=False)
    op.create_index(op.f("ix_alerts_raised_at"), "alerts", ["raised_at"], unique=False)
    op.create_index(
        "ix_alerts_open", "alerts", ["nation", "acknowledged_at", "kind", "subject"], unique=False
    )
    op.create_table(
        "embassy_schedules",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("repo_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("cron", sa.String(length=120), nullable=True),
        sa.Column("every_seconds", sa.Integer(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("grace_seconds", sa.Integer(), nullable=False),
        sa.Column("paths", sa.JSON(), nullable=False),
        sa.Column("excludes", sa.JSON(), nullable=False),
        sa.Column("read_data", sa.Float(), nullable=True),
        sa.Column("rpo_seconds", sa.Integer(), nullable=True),
        sa.Column("rto_seconds", sa.Integer(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("done_through", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("running_since", seawall.db.types.UTCDateTime(), nullable=True),
        sa.Column("last_due_at", seawall.db.types.UTCDateTime(), nullable=True),
        sa.Column("last_run_at", seawall.db.types.UTCDateTime(), nullable=True),
        sa.Column("last_outcome", sa.String(length=16), nullable=False),
        sa.Column("last_message", sa.Text(), nullable=False),
        sa.Column("missed", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["repo_id"],
            ["embassy_repos.id"],
            name=op.f("fk_embassy_schedules_repo_id_embassy_repos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_embassy_schedules")),
    )
    op.create_index(
        op.f("ix_embassy_schedules_repo_id"), "embassy_schedules", ["repo_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_embassy_schedules_repo_id"), table_name="embassy_schedules")
    op.drop_table("embassy_schedules")
    op.drop_index("ix_alerts_open", table_name="alerts")
    op.drop_index(op.f("ix_alerts_raised_at"), table_name="alerts")
    op.drop_index(op.f("ix_alerts_nation"), table_name="alerts")
    op.drop_table("alerts")
