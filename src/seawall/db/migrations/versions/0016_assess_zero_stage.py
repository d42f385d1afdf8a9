"""assess stages may be 0: a scale may start at 0 (SIM3 rates 0 to 4)

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# (table, constraint name, column) of every stage kept on the assess tables.
STAGES = (
    ("assess_ratings", "ck_assess_ratings_stage_range", "stage"),
    ("assess_consensus", "ck_assess_consensus_stage", "agreed_stage"),
    ("assess_targets", "ck_assess_targets_stage_range", "stage"),
)


def _range(lowest: int) -> None:
    for table, name, column in STAGES:
        # SQLite cannot alter a CHECK: batch mode copies the table with the new one. These
        # tables are leaves (nothing refers to them), so the copy cascades nowhere.
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(name), type_="check")
            batch_op.create_check_constraint(op.f(name), f"{column} >= {lowest} AND {column} <= 5")


def upgrade() -> None:
    _range(0)


def downgrade() -> None:
    _range(1)
