"""assess entered rounds: rounds a hub enters from a file for a nation without a node

A held round now says where its figures come from (``source``) and who entered it at the hub
(``entered_by``); both are empty for a round signed by its nation's node.

Revision ID: 0014
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Added in place: a column with a server default needs no table rebuild on SQLite.
    op.add_column(
        "assess_received_rounds",
        sa.Column("source", sa.Text(), server_default="", nullable=False),
    )
    op.add_column(
        "assess_received_rounds",
        sa.Column("entered_by", sa.String(length=100), server_default="", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("assess_received_rounds", "entered_by")
    op.drop_column("assess_received_rounds", "source")
