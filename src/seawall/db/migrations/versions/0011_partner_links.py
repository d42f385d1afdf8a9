"""partner links: the token a partner issued us and the backoff move from intel to core

Every pillar reaches a partner over the same link, so the sealed token, the last error, the
failure count, the next attempt and the key id the partner last proved live in core's
``partner_links``; intel's ``intel_sync_partners`` keeps only when it last pulled and pushed.

Revision ID: 0011
Revises: 0009, 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import seawall.db.types

revision = "0011"
down_revision = ("0009", "0010")
branch_labels = None
depends_on = None

MOVED = (
    "token_sealed",
    "last_error",
    "last_error_code",
    "last_error_at",
    "failures",
    "next_attempt_at",
    "seen_key_id",
)


def upgrade() -> None:
    op.create_table(
        "partner_links",
        sa.Column("partner_id", sa.String(length=36), nullable=False),
        sa.Column("token_sealed", sa.Text(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("last_error_code", sa.String(length=64), nullable=False),
        sa.Column("last_error_at", seawall.db.types.UTCDateTime(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", seawall.db.types.UTCDateTime(), nullable=True),
        sa.Column("seen_key_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_links_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("partner_id", name=op.f("pk_partner_links")),
    )
    columns = ", ".join(("partner_id", *MOVED))
    # Column names are the constants above, never input.
    copy = f"INSERT INTO partner_links ({columns}) SELECT {columns} FROM intel_sync_partners"  # noqa: S608
    op.execute(copy)
    with op.batch_alter_table("intel_sync_partners", schema=None) as batch_op:
        for column in MOVED:
            batch_op.drop_column(column)


def downgrade() -> None:
    with op.batch_alter_table("intel_sync_partners", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_sealed", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("last_error_code", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("last_error_at", seawall.db.types.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("failures", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("next_attempt_at", seawall.db.types.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("seen_key_id", sa.String(length=32), nullable=False, server_default="")
        )
    for column in MOVED:
        op.execute(
            f"UPDATE intel_sync_partners SET {column} = (SELECT {column} FROM partner_links "  # noqa: S608
            "WHERE partner_links.partner_id = intel_sync_partners.partner_id) "
            "WHERE partner_id IN (SELECT partner_id FROM partner_links)"
        )
    op.drop_table("partner_links")
