"""assess received rounds: rounds other nations' nodes publish to this hub

Revision ID: 0012
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import seawall.db.types

revision = "0012"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assess_received_rounds",
        sa.Column("round_id", sa.String(length=36), nullable=False),
        sa.Column("nation", sa.String(length=2), nullable=False),
        sa.Column("framework_id", sa.String(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("published_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("published_by", sa.String(length=100), nullable=False),
        sa.Column("groups", sa.JSON(), nullable=False),
        sa.Column("withdrawn", sa.JSON(), nullable=False),
        sa.Column("stages", sa.JSON(), nullable=False),
        sa.Column("dissent", sa.JSON(), nullable=False),
        sa.Column("ratings", sa.JSON(), nullable=False),
        sa.Column("sender_key_id", sa.String(length=32), nullable=False),
        sa.Column("package_sha256", sa.String(length=64), nullable=False),
        sa.Column("signed_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("received_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["nation"],
            ["nations.iso2"],
            name=op.f("fk_assess_received_rounds_nation_nations"),
        ),
        sa.PrimaryKeyConstraint("round_id", name=op.f("pk_assess_received_rounds")),
    )
    with op.batch_alter_table("assess_received_rounds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assess_received_rounds_nation"), ["nation"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("assess_received_rounds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assess_received_rounds_nation"))
    op.drop_table("assess_received_rounds")
