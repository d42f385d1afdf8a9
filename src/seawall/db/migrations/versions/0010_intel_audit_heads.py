"""intel audit heads: the signed audit heads partners publish, witnessed by this node

Revision ID: 0010
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import seawall.db.types

revision = "0010"
down_revision = "0006"
branch_labels = None
depends_on = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "intel_audit_heads",
        sa.Column("seq", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("partner_id", sa.String(length=36), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("nation", sa.String(length=2), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("count", ROW_ID, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.Column("signed_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("received_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_intel_audit_heads_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_intel_audit_heads")),
    )
    with op.batch_alter_table("intel_audit_heads", schema=None) as batch_op:
        batch_op.create_index("ix_intel_audit_heads_partner", ["partner_id", "state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("intel_audit_heads", schema=None) as batch_op:
        batch_op.drop_index("ix_intel_audit_heads_partner")
    op.drop_table("intel_audit_heads")
