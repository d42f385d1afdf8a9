"""coop received laws and cirts: a hub keeps the legal instruments and CIRT entries nations'
nodes share, with their package (``received_at``, ``sender_key_id``, ``package_sha256``,
``signed_at``) and a withdrawal's tombstone (``withdrawn_at``).

Revision ID: 0023
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import seawall.db.types

revision = "0023"
down_revision = "0021"
branch_labels = None
depends_on = None

TABLES = ("coop_instruments", "coop_cirts")


def upgrade() -> None:
    # Plain ADD COLUMN (no batch): SQLite adds nullable or defaulted columns in place.
    for table in TABLES:
        op.add_column(
            table, sa.Column("received_at", seawall.db.types.UTCDateTime(), nullable=True)
        )
        op.add_column(
            table,
            sa.Column("sender_key_id", sa.String(length=64), nullable=False, server_default=""),
        )
        op.add_column(
            table,
            sa.Column("package_sha256", sa.String(length=64), nullable=False, server_default=""),
        )
        op.add_column(table, sa.Column("signed_at", seawall.db.types.UTCDateTime(), nullable=True))
        op.add_column(
            table, sa.Column("withdrawn_at", seawall.db.types.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in ("withdrawn_at", "signed_at", "package_sha256", "sender_key_id",
                           "received_at"):  # fmt: skip
                batch_op.drop_column(column)
