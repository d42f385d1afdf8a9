"""embassy tables

Revision ID: 0004
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import seawall.db.types

revision = "0004"
down_revision = "0001"
branch_labels = ("embassy",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "embassy_repos",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("nation", sa.String(length=2), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("repository_id", sa.String(length=64), nullable=False),
        sa.Column("sites", sa.JSON(), nullable=False),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("created_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("degraded", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["nation"], ["nations.iso2"], name=op.f("fk_embassy_repos_nation_nations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_embassy_repos")),
        sa.UniqueConstraint("nation", "name", name=op.f("uq_embassy_repos_nation_name")),
    )
    with op.batch_alter_table("embassy_repos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_embassy_repos_nation"), ["nation"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_embassy_repos_repository_id"), ["repository_id"], unique=False
        )
    op.create_table(
        "embassy_runs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("repo_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("started_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("finished_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["repo_id"],
            ["embassy_repos.id"],
            name=op.f("fk_embassy_runs_repo_id_embassy_repos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_embassy_runs")),
    )
    with op.batch_alter_table("embassy_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_embassy_runs_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_embassy_runs_repo_id"), ["repo_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_embassy_runs_started_at"), ["started_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("embassy_runs")
    op.drop_table("embassy_repos")
