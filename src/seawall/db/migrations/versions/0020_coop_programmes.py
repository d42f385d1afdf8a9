"""coop programmes: partner organisations and the programmes they fund and implement

Branches from the core head: the cooperation pillar's tables refer to nations only.

Revision ID: 0020
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import seawall.db.types

revision = "0020"
down_revision = "0013"
branch_labels = None
depends_on = None


def _shared() -> list[sa.Column[object]]:
    return [
        sa.Column("shareable", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.Column("received_at", seawall.db.types.UTCDateTime(), nullable=True),
        sa.Column("sender_key_id", sa.String(length=64), nullable=False),
        sa.Column("package_sha256", sa.String(length=64), nullable=False),
        sa.Column("signed_at", seawall.db.types.UTCDateTime(), nullable=True),
        sa.Column("withdrawn_at", seawall.db.types.UTCDateTime(), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "coop_organisations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("nation", sa.String(length=2), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("acronym", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("website", sa.String(length=500), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        *_shared(),
        sa.ForeignKeyConstraint(
            ["nation"], ["nations.iso2"], name=op.f("fk_coop_organisations_nation_nations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coop_organisations")),
        sa.UniqueConstraint("nation", "name", name=op.f("uq_coop_organisations_nation_name")),
    )
    op.create_index(
        op.f("ix_coop_organisations_nation"), "coop_organisations", ["nation"], unique=False
    )
    op.create_table(
        "coop_programmes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("nation", sa.String(length=2), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("funders", sa.JSON(), nullable=False),
        sa.Column("implementers", sa.JSON(), nullable=False),
        sa.Column("beneficiaries", sa.JSON(), nullable=False),
        sa.Column("addresses", sa.JSON(), nullable=False),
        sa.Column("start", sa.Date(), nullable=True),
        sa.Column("end", sa.Date(), nullable=True),
        sa.Column("budget", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outputs", sa.Text(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("funds_items", sa.JSON(), nullable=False),
        *_shared(),
        sa.ForeignKeyConstraint(
            ["nation"], ["nations.iso2"], name=op.f("fk_coop_programmes_nation_nations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coop_programmes")),
        sa.UniqueConstraint("nation", "ref", name=op.f("uq_coop_programmes_nation_ref")),
    )
    op.create_index(op.f("ix_coop_programmes_nation"), "coop_programmes", ["nation"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_coop_programmes_nation"), table_name="coop_programmes")
    op.drop_table("coop_programmes")
    op.drop_index(op.f("ix_coop_organisations_nation"), table_name="coop_organisations")
    op.drop_table("coop_organisations")
