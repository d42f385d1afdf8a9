"""coop laws and CIRTs: legal instruments (the harmonisation matrix) and national CIRTs

Branches from the core head: the cooperation pillar's tables refer to nations only.

Revision ID: 0021
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import seawall.db.types

revision = "0021"
down_revision = "0013"
branch_labels = None
depends_on = None


def _entered() -> list[sa.Column[object]]:
    return [
        sa.Column("source", sa.String(length=1000), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("sample", sa.Boolean(), nullable=False),
        sa.Column("entered_by", sa.String(length=100), nullable=False),
        sa.Column("entered_as", sa.String(length=2), nullable=False),
        sa.Column("created_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", seawall.db.types.UTCDateTime(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "coop_instruments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("nation", sa.String(length=2), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("date", sa.String(length=10), nullable=False),
        *_entered(),
        sa.ForeignKeyConstraint(
            ["nation"], ["nations.iso2"], name=op.f("fk_coop_instruments_nation_nations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coop_instruments")),
        sa.UniqueConstraint(
            "nation", "kind", "title", name=op.f("uq_coop_instruments_nation_kind_title")
        ),
    )
    op.create_index(
        op.f("ix_coop_instruments_nation"), "coop_instruments", ["nation"], unique=False
    )
    op.create_table(
        "coop_cirts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("nation", sa.String(length=2), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("established", sa.String(length=10), nullable=False),
        sa.Column("mandate", sa.Text(), nullable=False),
        sa.Column("constituency", sa.Text(), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("contacts", sa.JSON(), nullable=False),
        sa.Column("pgp_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("first_url", sa.String(length=1000), nullable=False),
        sa.Column("ti_url", sa.String(length=1000), nullable=False),
        sa.Column("ti_status", sa.String(length=16), nullable=False),
        *_entered(),
        sa.ForeignKeyConstraint(
            ["nation"], ["nations.iso2"], name=op.f("fk_coop_cirts_nation_nations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coop_cirts")),
        sa.UniqueConstraint("nation", name=op.f("uq_coop_cirts_nation")),
    )


def downgrade() -> None:
    op.drop_table("coop_cirts")
    op.drop_index(op.f("ix_coop_instruments_nation"), table_name="coop_instruments")
    op.drop_table("coop_instruments")
