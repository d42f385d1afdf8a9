"""Run Alembic migrations from code (the same scripts on SQLite and PostgreSQL)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

SCRIPTS = "seawall.db:migrations"


def alembic_config(engine: Engine) -> Config:
    """An Alembic config bound to an existing engine."""
    config = Config()
    config.set_main_option("script_location", SCRIPTS)
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema up to ``revision`` (every pillar branch's head by default)."""
    command.upgrade(alembic_config(engine), revision)
