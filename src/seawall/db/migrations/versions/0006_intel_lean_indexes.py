"""intel objects: fewer, leaner indexes

Paging uses ix_intel_objects_page (collection, date_added, seq) and nothing filters on
modified alone, so those two single-column indexes only slowed every insert. The unique
key now leads with the STIX id, so it also serves lookups by id across collections and
the separate stix_id index goes: one index fewer to maintain per stored version.

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
        batch_op.drop_index(batch_op.f("ix_intel_objects_stix_id"))
        batch_op.drop_constraint(
            batch_op.f("uq_intel_objects_collection_id_stix_id_version"), type_="unique"
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_intel_objects_stix_id_collection_id_version"),
            ["stix_id", "collection_id", "version"],
        )


def downgrade() -> None:
    with op.batch_alter_table("intel_objects", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_intel_objects_stix_id_collection_id_version"), type_="unique"
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_intel_objects_collection_id_stix_id_version"),
            ["collection_id", "stix_id", "version"],
        )
        batch_op.create_index(batch_op.f("ix_intel_objects_stix_id"), ["stix_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_intel_objects_date_added"), ["date_added"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_intel_objects_modified"), ["modified"], unique=False)
