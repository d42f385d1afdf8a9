"""intel sync tables: partner sync state, pull and push cursors, outbound queue

Revision ID: 0005
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import seawall.db.types

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "intel_sync_partners",
        sa.Column("partner_id", sa.String(length=36), nullable=False),
        sa.Column("token_sealed", sa.Text(), nullable=False),
        sa.Column("last_pull_at", seawall.db.types.UTCDateTime(), nullable=True),
        sa.Column("last_push_at", seawall.db.types.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("last_error_code", sa.String(length=64), nullable=False),
        sa.Column("last_error_at", seawall.db.types.UTCDateTime(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", seawall.db.types.UTCDateTime(), nullable=True),
        sa.Column("seen_key_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_intel_sync_partners_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("partner_id", name=op.f("pk_intel_sync_partners")),
    )
    op.create_table(
        "intel_sync_cursors",
        sa.Column("partner_id", sa.String(length=36), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("collection", sa.String(length=100), nullable=False),
        sa.Column("local_collection_id", sa.String(length=36), nullable=False),
        sa.Column("added_after", sa.String(length=40), nullable=False),
        sa.Column("next_page", sa.Text(), nullable=False),
        sa.Column("run_last", sa.String(length=40), nullable=False),
        sa.Column("last_seq", ROW_ID, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("updated_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_intel_sync_cursors_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "partner_id", "direction", "collection", name=op.f("pk_intel_sync_cursors")
        ),
    )
    op.create_table(
        "intel_outbox",
        sa.Column("seq", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("partner_id", sa.String(length=36), nullable=False),
        sa.Column("object_seq", ROW_ID, nullable=False),
        sa.Column("collection_alias", sa.String(length=64), nullable=False),
        sa.Column("stix_id", sa.String(length=300), nullable=False),
        sa.Column("version", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("tlp", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("remote_status", sa.String(length=100), nullable=False),
        sa.Column("enqueued_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("sent_at", seawall.db.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["object_seq"],
            ["intel_objects.seq"],
            name=op.f("fk_intel_outbox_object_seq_intel_objects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_intel_outbox_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_intel_outbox")),
        sa.UniqueConstraint(
            "partner_id", "object_seq", name=op.f("uq_intel_outbox_partner_id_object_seq")
        ),
    )
    with op.batch_alter_table("intel_outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_intel_outbox_due", ["partner_id", "state", "next_attempt_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_intel_outbox_object_seq"), ["object_seq"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("intel_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intel_outbox_object_seq"))
        batch_op.drop_index("ix_intel_outbox_due")
    op.drop_table("intel_outbox")
    op.drop_table("intel_sync_cursors")
    op.drop_table("intel_sync_partners")
