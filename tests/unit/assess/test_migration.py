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
        # Down the assess branch alone, one step at a time (0016, 0015, 0014, 0012, then 0002).
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
