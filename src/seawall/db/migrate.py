"""Run Alembic migrations from code (the same scripts on SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError, ProgrammingError

if TYPE_CHECKING:
    from alembic.config import Config

SCRIPTS = "seawall.db:migrations"
# The head of each pillar's Alembic branch (assess, intel, embassy; core lies below them).
# Kept here so that checking a node's schema on every command is one query, not a parse of
# every migration script; tests/integration/test_core_db.py fails when this falls behind.
HEADS = frozenset({"0017", "0019", "0020", "0022", "0023", "0024", "0026", "0027"})


def alembic_config(engine: Engine) -> Config:
    """An Alembic config bound to an existing engine."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", SCRIPTS)
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema up to ``revision`` (every pillar branch's head by default)."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def current_heads(engine: Engine) -> set[str]:
    """The revisions recorded in the database (empty when it was never migrated)."""
    with engine.connect() as conn:
        try:
            return set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
        except (OperationalError, ProgrammingError):
            return set()
