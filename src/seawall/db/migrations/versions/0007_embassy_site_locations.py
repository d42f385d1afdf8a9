"""embassy site locations

Where each site of a registered repository is (a place name, latitude and longitude), for
the site map and the storm-exposure check.

Revision ID: 0007
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("embassy_repos", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("locations", sa.JSON(), server_default=sa.text("'{}'"), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("embassy_repos", schema=None) as batch_op:
        batch_op.drop_column("locations")
