"""assess tables: framework and content packs, rounds, ratings, consensus, indices, roadmaps

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import seawall.db.types

revision = "0002"
down_revision = "0001"
branch_labels = ("assess",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assess_framework_packs",
        sa.Column("framework_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("imported_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("imported_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("framework_id", name=op.f("pk_assess_framework_packs")),
    )
    op.create_table(
        "assess_content_packs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("framework_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("imported_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("imported_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assess_content_packs")),
        sa.UniqueConstraint(
            "framework_id", "sha256", name=op.f("uq_assess_content_packs_framework_id_sha256")
        ),
    )
    with op.batch_alter_table("assess_content_packs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assess_content_packs_framework_id"), ["framework_id"], unique=False
        )

    op.create_table(
        "assess_rounds",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("nation", sa.String(length=2), nullable=False),
        sa.Column("framework_id", sa.String(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("published_at", seawall.db.types.UTCDateTime(), nullable=True),
        sa.Column("published_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["nation"], ["nations.iso2"], name=op.f("fk_assess_rounds_nation_nations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assess_rounds")),
        sa.UniqueConstraint(
            "nation", "framework_id", "year", name=op.f("uq_assess_rounds_nation_framework_id_year")
        ),
    )
    with op.batch_alter_table("assess_rounds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assess_rounds_nation"), ["nation"], unique=False)

    op.create_table(
        "assess_ratings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("round_id", sa.String(length=36), nullable=False),
        sa.Column("stakeholder_group", sa.String(length=32), nullable=False),
        sa.Column("factor_id", sa.String(length=32), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("evidence_refs", sa.JSON(), nullable=False),
        sa.Column("indicators_met", sa.JSON(), nullable=False),
        sa.Column("rater", sa.String(length=100), nullable=False),
        sa.Column("rated_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint("stage >= 1 AND stage <= 5", name=op.f("ck_assess_ratings_stage_range")),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["assess_rounds.id"],
            name=op.f("fk_assess_ratings_round_id_assess_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assess_ratings")),
        sa.UniqueConstraint(
            "round_id",
            "stakeholder_group",
            "factor_id",
            name=op.f("uq_assess_ratings_round_id_stakeholder_group_factor_id"),
        ),
    )
    with op.batch_alter_table("assess_ratings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assess_ratings_round_id"), ["round_id"], unique=False)

    op.create_table(
        "assess_consensus",
        sa.Column("round_id", sa.String(length=36), nullable=False),
        sa.Column("factor_id", sa.String(length=32), nullable=False),
        sa.Column("agreed_stage", sa.Integer(), nullable=False),
        sa.Column("dissent", sa.Text(), nullable=False),
        sa.Column("agreed_by", sa.String(length=100), nullable=False),
        sa.Column("agreed_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "agreed_stage >= 1 AND agreed_stage <= 5", name=op.f("ck_assess_consensus_stage")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["assess_rounds.id"],
            name=op.f("fk_assess_consensus_round_id_assess_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("round_id", "factor_id", name=op.f("pk_assess_consensus")),
    )
    op.create_table(
        "assess_consents",
        sa.Column("nation", sa.String(length=2), nullable=False),
        sa.Column("region_group", sa.String(length=32), nullable=False),
        sa.Column("granted_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("granted_by", sa.String(length=100), nullable=False),
        sa.Column("revoked_at", seawall.db.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["nation"], ["nations.iso2"], name=op.f("fk_assess_consents_nation_nations")
        ),
        sa.ForeignKeyConstraint(
            ["region_group"],
            ["region_groups.code"],
            name=op.f("fk_assess_consents_region_group_region_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("nation", "region_group", name=op.f("pk_assess_consents")),
    )
    op.create_table(
        "assess_index_editions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("framework_id", sa.String(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("imported_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("imported_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assess_index_editions")),
    )
    op.create_table(
        "assess_index_scores",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("edition_id", sa.String(length=64), nullable=False),
        sa.Column("nation", sa.String(length=2), nullable=False),
        sa.Column("component", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["assess_index_editions.id"],
            name=op.f("fk_assess_index_scores_edition_id_assess_index_editions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["nation"], ["nations.iso2"], name=op.f("fk_assess_index_scores_nation_nations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assess_index_scores")),
        sa.UniqueConstraint(
            "edition_id",
            "nation",
            "component",
            "source",
            name=op.f("uq_assess_index_scores_edition_id_nation_component_source"),
        ),
    )
    with op.batch_alter_table("assess_index_scores", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assess_index_scores_edition_id"), ["edition_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_assess_index_scores_nation"), ["nation"], unique=False)

    op.create_table(
        "assess_targets",
        sa.Column("nation", sa.String(length=2), nullable=False),
        sa.Column("framework_id", sa.String(length=64), nullable=False),
        sa.Column("factor_id", sa.String(length=32), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("set_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("set_by", sa.String(length=100), nullable=False),
        sa.CheckConstraint("stage >= 1 AND stage <= 5", name=op.f("ck_assess_targets_stage_range")),
        sa.ForeignKeyConstraint(
            ["nation"], ["nations.iso2"], name=op.f("fk_assess_targets_nation_nations")
        ),
        sa.PrimaryKeyConstraint(
            "nation", "framework_id", "factor_id", name=op.f("pk_assess_targets")
        ),
    )
    op.create_table(
        "assess_roadmap_items",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("nation", sa.String(length=2), nullable=False),
        sa.Column("framework_id", sa.String(length=64), nullable=False),
        sa.Column("factor_id", sa.String(length=32), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("created_at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["nation"], ["nations.iso2"], name=op.f("fk_assess_roadmap_items_nation_nations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assess_roadmap_items")),
    )
    with op.batch_alter_table("assess_roadmap_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assess_roadmap_items_nation"), ["nation"], unique=False
        )

    op.create_table(
        "assess_roadmap_progress",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.Column("at", seawall.db.types.UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["assess_roadmap_items.id"],
            name=op.f("fk_assess_roadmap_progress_item_id_assess_roadmap_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assess_roadmap_progress")),
    )
    with op.batch_alter_table("assess_roadmap_progress", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assess_roadmap_progress_item_id"), ["item_id"], unique=False
        )


def downgrade() -> None:
    for table, indexes in (
        ("assess_roadmap_progress", ["ix_assess_roadmap_progress_item_id"]),
        ("assess_roadmap_items", ["ix_assess_roadmap_items_nation"]),
        ("assess_targets", []),
        (
            "assess_index_scores",
            ["ix_assess_index_scores_nation", "ix_assess_index_scores_edition_id"],
        ),
        ("assess_index_editions", []),
        ("assess_consents", []),
        ("assess_consensus", []),
        ("assess_ratings", ["ix_assess_ratings_round_id"]),
        ("assess_rounds", ["ix_assess_rounds_nation"]),
        ("assess_content_packs", ["ix_assess_content_packs_framework_id"]),
        ("assess_framework_packs", []),
    ):
        if indexes:
            with op.batch_alter_table(table, schema=None) as batch_op:
                for name in indexes:
                    batch_op.drop_index(name)
        op.drop_table(table)
