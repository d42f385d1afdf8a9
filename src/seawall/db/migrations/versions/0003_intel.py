"""intel tables: collections, STIX object versions, TAXII statuses

Revision ID: 0003
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import seawall.db.types

revision = "0003"
down_revision = "0001"
branch_labels = ("intel",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "intel_collections",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("alias", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner_nation", sa.String(length=2), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("default_tlp", sa.String(length=16), nullable=False),
        sa.Column("created_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_nation"],
            ["nations.iso2"],
            name=op.f("fk_intel_collections_owner_nation_nations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_collections")),
        sa.UniqueConstraint("alias", name=op.f("uq_intel_collections_alias")),
    )
    with op.batch_alter_table("intel_collections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intel_collections_owner_nation"), ["owner_nation"], unique=False
        )

    op.create_table(
        "intel_objects",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("collection_id", sa.String(length=36), nullable=False),
        sa.Column("stix_id", sa.String(length=300), nullable=False),
        sa.Column("type", sa.String(length=250), nullable=False),
        sa.Column("spec_version", sa.String(length=8), nullable=False),
        sa.Column("created", seawall.db.types.UTCDateTime(), nullable=True),
        sa.Column("modified", seawall.db.types.UTCDateTime(), nullable=True),
        sa.Column("version", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("date_added", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("created_by_ref", sa.String(length=300), nullable=True),
        sa.Column("markings", sa.JSON(), nullable=False),
        sa.Column("tlp", sa.Integer(), nullable=False),
        sa.Column("owner_nation", sa.String(length=2), nullable=False),
        sa.Column("owner_org", sa.String(length=36), nullable=True),
        sa.Column("submitted_by", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["intel_collections.id"],
            name=op.f("fk_intel_objects_collection_id_intel_collections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_intel_objects")),
        sa.UniqueConstraint(
            "collection_id",
            "stix_id",
            "version",
            name=op.f("uq_intel_objects_collection_id_stix_id_version"),
        ),
    )
    with op.batch_alter_table("intel_objects", schema=None) as batch_op:
        batch_op.create_index(
            "ix_intel_objects_page", ["collection_id", "date_added", "seq"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_intel_objects_date_added"), ["date_added"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_intel_objects_modified"), ["modified"], unique=False)
        batch_op.create_index(batch_op.f("ix_intel_objects_stix_id"), ["stix_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_intel_objects_type"), ["type"], unique=False)

    op.create_table(
        "intel_statuses",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("collection_id", sa.String(length=36), nullable=False),
        sa.Column("owner_nation", sa.String(length=2), nullable=False),
        sa.Column("submitted_by", sa.String(length=100), nullable=False),
        sa.Column("request_timestamp", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("total_count", sa.Integer(), nullable=False),
        sa.Column("successes", sa.JSON(), nullable=False),
        sa.Column("failures", sa.JSON(), nullable=False),
        sa.Column("pendings", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["intel_collections.id"],
            name=op.f("fk_intel_statuses_collection_id_intel_collections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_statuses")),
    )
    with op.batch_alter_table("intel_statuses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intel_statuses_collection_id"), ["collection_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("intel_statuses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intel_statuses_collection_id"))
    op.drop_table("intel_statuses")
    with op.batch_alter_table("intel_objects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intel_objects_type"))
        batch_op.drop_index(batch_op.f("ix_intel_objects_stix_id"))
        batch_op.drop_index(batch_op.f("ix_intel_objects_modified"))
        batch_op.drop_index(batch_op.f("ix_intel_objects_date_added"))
        batch_op.drop_index("ix_intel_objects_page")
    op.drop_table("intel_objects")
    with op.batch_alter_table("intel_collections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intel_collections_owner_nation"))
    op.drop_table("intel_collections")
