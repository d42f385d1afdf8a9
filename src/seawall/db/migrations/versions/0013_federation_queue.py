"""federation queue: signed packages delivered to partner nodes, and those received

One outbound queue for every pillar's signed packages (a round for a hub first), with
leases and backoff; an inbox that recognises a package delivered twice; and each partner's
region groups it serves as hub for.

Revision ID: 0013
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import seawall.db.types

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Added in place, never by batch mode: SQLite's batch mode drops and recreates the
    # table, and with foreign keys on that would cascade into every row naming a partner.
    op.add_column(
        "partners",
        sa.Column("hub_for", sa.JSON(), server_default=sa.text("'[]'"), nullable=False),
    )
    op.create_table(
        "federation_outbox",
        sa.Column("seq", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("partner_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("answer", sa.String(length=32), nullable=False),
        sa.Column("enqueued_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("sent_at", seawall.db.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_federation_outbox_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_federation_outbox")),
    )
    op.create_index(
        "ix_federation_outbox_due",
        "federation_outbox",
        ["partner_id", "state", "next_attempt_at"],
        unique=False,
    )
    op.create_table(
        "federation_inbox",
        sa.Column("seq", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("partner_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("received_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_federation_inbox_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_federation_inbox")),
        sa.UniqueConstraint(
            "partner_id", "sha256", name=op.f("uq_federation_inbox_partner_id_sha256")
        ),
    )


def downgrade() -> None:
    op.drop_table("federation_inbox")
    op.drop_index("ix_federation_outbox_due", table_name="federation_outbox")
    op.drop_table("federation_outbox")
    op.drop_column("partners", "hub_for")
