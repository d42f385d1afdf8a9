"""Alembic environment: uses the engine handed over by seawall.db.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from seawall.db.models import full_metadata

config = context.config
engine = config.attributes.get("engine")
if not isinstance(engine, Engine):
    raise RuntimeError("run migrations through seawall.db.migrate, which supplies the engine")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=full_metadata(),
        # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
