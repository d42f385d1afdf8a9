"""intel object lifecycle: revoked, valid_from and valid_until beside each body

Lists filter objects by state (active, revoked, expired, not yet valid) with these columns
instead of parsing every body. Every version already stored is filled in by the upgrade;
only bodies that name one of the properties need it.

Revision ID: 0024
Revises: 0010
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

import seawall.db.types

revision = "0024"
down_revision = "0010"
branch_labels = None
depends_on = None

BATCH = 2000


def upgrade() -> None:
    # Plain ALTERs only: a SQL-expression default (sa.false()) makes batch mode rebuild the
    # table on SQLite, and dropping intel_objects under foreign_keys=ON empties every ON
    # DELETE CASCADE child (intel_outbox, intel_observables). "0" reads as false on both.
    with op.batch_alter_table("intel_objects", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("revoked", sa.Boolean(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("valid_from", seawall.db.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("valid_until", seawall.db.types.UTCDateTime(), nullable=True))
    _backfill(op.get_bind())


def _backfill(conn: sa.Connection) -> None:
    # Imported here: the columns are read as the application reads them on every write.
    from seawall.intel.store.lifecycle import lifecycle_of

    table = sa.table(
        "intel_objects",
        sa.column("seq", sa.BigInteger()),
        sa.column("body", sa.Text()),
        sa.column("revoked", sa.Boolean()),
        sa.column("valid_from", seawall.db.types.UTCDateTime()),
        sa.column("valid_until", seawall.db.types.UTCDateTime()),
    )
    named = sa.or_(
        table.c.body.contains('"revoked"'),
        table.c.body.contains('"valid_from"'),
        table.c.body.contains('"valid_until"'),
    )
    update = (
        sa.update(table)
        .where(table.c.seq == sa.bindparam("row"))
        .values(
            revoked=sa.bindparam("revoked"),
            valid_from=sa.bindparam("valid_from"),
            valid_until=sa.bindparam("valid_until"),
        )
    )
    last = 0
    while True:
        rows = conn.execute(
            sa.select(table.c.seq, table.c.body)
            .where(table.c.seq > last, named)
            .order_by(table.c.seq)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        changes = []
        for seq, body in rows:
            state = lifecycle_of(json.loads(body))
            if state.revoked or state.valid_from or state.valid_until:
                changes.append({"row": seq, **state.as_row()})
        if changes:
            conn.execute(update, changes)
        last = rows[-1].seq


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+), not a rebuild, for the reason above.
    with op.batch_alter_table("intel_objects", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("valid_until")
        batch_op.drop_column("valid_from")
        batch_op.drop_column("revoked")
