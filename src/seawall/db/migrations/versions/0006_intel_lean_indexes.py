"""intel objects: fewer indexes, and a superseded flag

Paging uses ix_intel_objects_page (collection, date_added, seq) and nothing filters on
modified alone, so those two single-column indexes only slowed every insert.

``superseded`` marks a version that a newer one of the same object follows, so the
latest-version filter (TAXII's default) looks for a newer visible version only behind
the few rows that have one.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("intel_objects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intel_objects_modified"))
        batch_op.drop_index(batch_op.f("ix_intel_objects_date_added"))
        batch_op.add_column(
            sa.Column("superseded", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.execute(
        "UPDATE intel_objects SET superseded = TRUE WHERE EXISTS (SELECT 1 FROM intel_objects"
        " AS newer WHERE newer.collection_id = intel_objects.collection_id"
        " AND newer.stix_id = intel_objects.stix_id AND newer.version > intel_objects.version)"
    )


def downgrade() -> None:
    with op.batch_alter_table("intel_objects", schema=None) as batch_op:
        batch_op.drop_column("superseded")
        batch_op.create_index(
            batch_op.f("ix_intel_objects_date_added"), ["date_added"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_intel_objects_modified"), ["modified"], unique=False)
