"""embassy hosting: agreements, hosted object versions and refusals

``embassy_hosting_agreements`` (a guest partner's quota, retention, bandwidth cap and expiry,
its registered embassy key and the release watermark it signed), ``embassy_hosted_objects``
(every version of every object kept for a guest, and delete markers) and
``embassy_hosting_refusals`` (each write or purge refused, and why).

Revision ID: 0018
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import seawall.db.types

revision = "0018"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "embassy_hosting_agreements",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("partner_id", sa.String(length=36), nullable=False),
        sa.Column("quota_bytes", sa.BigInteger(), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.Column("bandwidth_bytes", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("created_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("signing_key", sa.Text(), nullable=False),
        sa.Column("release_before", seawall.db.types.UTCDateTime(), nullable=True),
        sa.Column("last_write_at", seawall.db.types.UTCDateTime(), nullable=True),
        sa.Column("last_check_at", seawall.db.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_embassy_hosting_agreements_partner_id_partners"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_embassy_hosting_agreements")),
        sa.UniqueConstraint("name", name=op.f("uq_embassy_hosting_agreements_name")),
    )
    op.create_index(
        op.f("ix_embassy_hosting_agreements_partner_id"),
        "embassy_hosting_agreements",
        ["partner_id"],
        unique=False,
    )
    op.create_table(
        "embassy_hosted_objects",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("agreement_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("marker", sa.Boolean(), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("stored_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("superseded_at", seawall.db.types.UTCDateTime(), nullable=True),
        sa.Column("purged_at", seawall.db.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["embassy_hosting_agreements.id"],
            name=op.f("fk_embassy_hosted_objects_agreement_id_embassy_hosting_agreements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_embassy_hosted_objects")),
    )
    op.create_index(
        op.f("ix_embassy_hosted_objects_agreement_id"),
        "embassy_hosted_objects",
        ["agreement_id"],
        unique=False,
    )
    op.create_index(
        "ix_embassy_hosted_objects_current",
        "embassy_hosted_objects",
        ["agreement_id", "name", "current"],
        unique=False,
    )
    op.create_index(
        op.f("ix_embassy_hosted_objects_stored_at"),
        "embassy_hosted_objects",
        ["stored_at"],
        unique=False,
    )
    op.create_table(
        "embassy_hosting_refusals",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("agreement_id", sa.String(length=36), nullable=False),
        sa.Column("at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["embassy_hosting_agreements.id"],
            name=op.f("fk_embassy_hosting_refusals_agreement_id_embassy_hosting_agreements"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_embassy_hosting_refusals")),
    )
    op.create_index(
        op.f("ix_embassy_hosting_refusals_agreement_id"),
        "embassy_hosting_refusals",
        ["agreement_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("embassy_hosting_refusals")
    op.drop_table("embassy_hosted_objects")
    op.drop_table("embassy_hosting_agreements")
