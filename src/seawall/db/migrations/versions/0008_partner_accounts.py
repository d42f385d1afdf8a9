"""partner accounts: a user may be bound to the partner record it syncs for

A partner's sync account reads and writes as that partner: the partner's ``max_tlp``,
its disabled state and the collections shared with it apply to every request it makes.

Revision ID: 0008
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("partner_id", sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f("ix_users_partner_id"), ["partner_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_users_partner_id_partners"),
            "partners",
            ["partner_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_users_partner_id_partners"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_users_partner_id"))
        batch_op.drop_column("partner_id")
