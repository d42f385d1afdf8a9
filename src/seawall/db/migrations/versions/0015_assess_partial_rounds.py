"""assess partial rounds: a round published without every factor agreed says so

``assess_rounds.partial`` records that the publisher chose to publish a round before every
factor of its framework was agreed; ``assess_received_rounds.partial`` keeps what the round's
package said at the hub. Rounds published before this revision read as complete.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Added in place: a column with a server default needs no table rebuild on SQLite.
    for table in ("assess_rounds", "assess_received_rounds"):
        op.add_column(
            table, sa.Column("partial", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    for table in ("assess_received_rounds", "assess_rounds"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("partial")
