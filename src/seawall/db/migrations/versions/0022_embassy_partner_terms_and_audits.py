"""embassy partner terms and audits: what a guest last saw of each partner host's terms, the
release it owes, and which audit challenges it spent

``embassy_partner_terms`` (per ``seawall://`` site: retention, quota, bandwidth and expiry as
last read, and since when a release is owed) and ``embassy_audit_spent`` (per repository,
site and share: how many precomputed challenges are used).

Revision ID: 0022
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import seawall.db.types

revision = "0022"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "embassy_partner_terms",
        sa.Column("site", sa.String(length=300), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.Column("quota_bytes", sa.BigInteger(), nullable=False),
        sa.Column("bandwidth_bytes", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("seen_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("release_due_since", seawall.db.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("site", name=op.f("pk_embassy_partner_terms")),
    )
    op.create_table(
        "embassy_audit_spent",
        sa.Column("repository_id", sa.String(length=64), nullable=False),
        sa.Column("site", sa.String(length=300), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "repository_id", "site", "name", name=op.f("pk_embassy_audit_spent")
        ),
    )


def downgrade() -> None:
    op.drop_table("embassy_audit_spent")
    op.drop_table("embassy_partner_terms")
