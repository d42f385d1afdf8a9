"""intel observables: one index row per (normalised observable, object version)

Correlation looks values up here instead of keeping a row per pair of objects that share
one. Every version already stored is indexed by the upgrade.

Revision ID: 0025
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0010"
branch_labels = None
depends_on = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "intel_observables",
        sa.Column("value_key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("object_seq", ROW_ID, autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["object_seq"],
            ["intel_objects.seq"],
            name=op.f("fk_intel_observables_object_seq_intel_objects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("value_key", "object_seq", name=op.f("pk_intel_observables")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("intel_observables", schema=None) as batch_op:
        batch_op.create_index("ix_intel_observables_object_seq", ["object_seq"], unique=False)
    # Imported here: the index's extraction is the application's own, as on every write.
    from sqlalchemy.orm import Session

    from seawall.intel.observable_index import backfill

    backfill(Session(bind=op.get_bind()))


def downgrade() -> None:
    with op.batch_alter_table("intel_observables", schema=None) as batch_op:
        batch_op.drop_index("ix_intel_observables_object_seq")
    op.drop_table("intel_observables")
