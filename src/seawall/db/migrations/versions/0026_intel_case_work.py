"""intel case work: a nation's assignee and tasks on a case, kept on the node

Revision ID: 0026
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import seawall.db.types

revision = "0026"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "intel_case_assignments",
        sa.Column("case_id", sa.String(length=100), nullable=False),
        sa.Column("nation", sa.String(length=2), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("assigned_by", sa.String(length=64), nullable=False),
        sa.Column("assigned_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_intel_case_assignments_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("case_id", "nation", name=op.f("pk_intel_case_assignments")),
    )
    op.create_index(
        op.f("ix_intel_case_assignments_user_id"),
        "intel_case_assignments",
        ["user_id"],
        unique=False,
    )
    op.create_table(
        "intel_case_tasks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=100), nullable=False),
        sa.Column("nation", sa.String(length=2), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("assignee_id", sa.String(length=36), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["users.id"],
            name=op.f("fk_intel_case_tasks_assignee_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_case_tasks")),
    )
    op.create_index(
        "ix_intel_case_tasks_case",
        "intel_case_tasks",
        ["case_id", "nation", "position"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_intel_case_tasks_case", table_name="intel_case_tasks")
    op.drop_table("intel_case_tasks")
    op.drop_index(op.f("ix_intel_case_assignments_user_id"), table_name="intel_case_assignments")
    op.drop_table("intel_case_assignments")
