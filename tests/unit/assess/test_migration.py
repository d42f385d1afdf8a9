"""The assess migration: its tables match the models, and it downgrades cleanly."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect

from seawall.db.migrate import alembic_config, upgrade
from seawall.db.models import full_metadata

STAGE_CHECKS = (
    ("assess_ratings", "ck_assess_ratings_stage_range"),
    ("assess_consensus", "ck_assess_consensus_stage"),
    ("assess_targets", "ck_assess_targets_stage_range"),
)


def _check(engine: Engine, table: str, name: str) -> str:
    found = {c["name"]: str(c["sqltext"]) for c in inspect(engine).get_check_constraints(table)}
    return found[name]


def test_assess_tables_match_the_models_and_downgrade_alone(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            drift = [d for d in compare_metadata(context, full_metadata()) if "assess_" in str(d)]
        assert drift == []
        # Stages may be 0 (SIM3 rates 0-4); the CMM's 1-5 still fits.
        for table, name in STAGE_CHECKS:
            assert _check(engine, table, name).startswith(("stage >= 0", "agreed_stage >= 0"))
        # Down the assess branch alone, one step at a time (0017, 0016, 0015, 0014, 0012, then
        # 0002).
        command.downgrade(alembic_config(engine), "assess@-1")
        tables = inspect(engine).get_table_names()
        assert {"assess_round_participants", "assess_round_publications"}.isdisjoint(tables)
        columns = {c["name"] for c in inspect(engine).get_columns("assess_rounds")}
        assert {"lead", "revealed_at", "revealed_by"}.isdisjoint(columns)
        command.downgrade(alembic_config(engine), "assess@-1")
        for table, name in STAGE_CHECKS:
            assert _check(engine, table, name).startswith(("stage >= 1", "agreed_stage >= 1"))
        command.downgrade(alembic_config(engine), "assess@-1")
        assert "partial" not in {c["name"] for c in inspect(engine).get_columns("assess_rounds")}
        assert "partial" not in {
            c["name"] for c in inspect(engine).get_columns("assess_received_rounds")
        }
        command.downgrade(alembic_config(engine), "assess@-1")
        columns = {c["name"] for c in inspect(engine).get_columns("assess_received_rounds")}
        assert {"source", "entered_by"}.isdisjoint(columns)
        assert {"sender_key_id", "package_sha256"} <= columns
        command.downgrade(alembic_config(engine), "assess@-1")
        command.downgrade(alembic_config(engine), "assess@-1")
        tables = inspect(engine).get_table_names()
        assert not [t for t in tables if t.startswith("assess_")]
        assert "nations" in tables
        upgrade(engine)
        assert "assess_rounds" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_existing_rounds_keep_their_creator_as_lead_and_their_groups(database_url: str) -> None:
    """0017: a round is led by its creator, has no invited group (so stays open to every
    assessor of its nation), and a published round is recorded as published to each group
    its nation consents to."""
    engine = create_engine(database_url)
    try:
        upgrade(engine)
        command.downgrade(alembic_config(engine), "assess@-1")
        with engine.begin() as conn:
            for sql in (
                "INSERT INTO nations (iso2, iso3, name) VALUES ('JM', 'JAM', 'Jamaica')",
                "INSERT INTO region_groups (code, name, hub) VALUES ('CARICOM', 'CARICOM', ''),"
                " ('LAC', 'Latin America and the Caribbean', '')",
                "INSERT INTO assess_rounds (id, nation, framework_id, year, status, created_at,"
                " created_by, published_at, published_by, partial) VALUES"
                " ('r1', 'JM', 'cmm-2021', 2025, 'published', '2025-01-02 00:00:00',"
                " 'jm-lead', '2025-03-04 00:00:00', 'jm-admin', false),"
                " ('r2', 'JM', 'cmm-2021', 2026, 'open', '2026-01-02 00:00:00', 'jm-rater',"
                " NULL, NULL, false)",
                "INSERT INTO assess_consents (nation, region_group, granted_at, granted_by,"
                " revoked_at) VALUES ('JM', 'CARICOM', '2025-01-01 00:00:00', 'jm-admin', NULL),"
                " ('JM', 'LAC', '2025-01-01 00:00:00', 'jm-admin', '2025-02-01 00:00:00')",
            ):
                conn.exec_driver_sql(sql)
        upgrade(engine)
        with engine.connect() as conn:
            leads = conn.exec_driver_sql("SELECT id, lead FROM assess_rounds ORDER BY id").all()
            published = conn.exec_driver_sql(
                "SELECT round_id, region_group, published_by, withdrawn_at"
                " FROM assess_round_publications"
            ).all()
            invited = conn.exec_driver_sql("SELECT * FROM assess_round_participants").all()
        assert [tuple(r) for r in leads] == [("r1", "jm-lead"), ("r2", "jm-rater")]
        assert [tuple(r) for r in published] == [("r1", "CARICOM", "jm-admin", None)]
        assert invited == []
    finally:
        engine.dispose()
