"""intel objects: drop the date_added and modified indexes that no query uses

Paging uses ix_intel_objects_page (collection, date_added, seq) and nothing filters
on modified alone, so the two single-column indexes only slowed every insert.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("intel_objects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intel_objects_modified"))
        batch_op.drop_index(batch_op.f("ix_intel_objects_date_added"))


def downgrade() -> None:
    with op.batch_alter_table("intel_objects", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intel_objects_date_added"), ["date_added"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_intel_objects_modified"), ["modified"], unique=False)
