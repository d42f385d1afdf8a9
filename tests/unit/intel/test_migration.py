"""The lean-index migration (0006): it flags the versions that a newer one follows."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import create_engine, insert, text

from seawall.db.migrate import alembic_config, upgrade
from seawall.db.models.core import Nation
from seawall.db.models.intel import IntelCollection, IntelObject


def test_upgrading_a_store_flags_every_version_but_the_newest(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        upgrade(engine)
        command.downgrade(alembic_config(engine), "0005")
        day = [datetime(2026, 1, d, tzinfo=UTC) for d in (1, 2, 3)]
        with engine.begin() as conn:
            conn.execute(insert(Nation.__table__).values(iso2="JM", iso3="JAM", name="Jamaica"))
            conn.execute(
                insert(IntelCollection.__table__),
                [
                    {
                        "id": cid,
                        "alias": cid,
                        "title": cid,
                        "description": "",
                        "owner_nation": "JM",
                        "audience": {},
                        "default_tlp": "green",
                        "created_at": day[0],
                        "created_by": "test",
                    }
                    for cid in ("one", "two")
                ],
            )
            rows = [("one", "a", day[0]), ("one", "a", day[2]), ("one", "a", day[1])]
            rows += [("one", "b", day[0]), ("two", "a", day[0])]
            columns = IntelObject.__table__.c
            conn.execute(
                insert(IntelObject.__table__).values(
                    {columns[k]: v for k, v in OBJECT_DEFAULTS.items()}
                ),
                [{"collection_id": c, "stix_id": s, "version": v} for c, s, v in rows],
            )
        upgrade(engine)
        with engine.connect() as conn:
            flags = conn.execute(
                text("SELECT collection_id, stix_id, version, superseded FROM intel_objects")
            ).all()
        superseded = {(c, s, str(v)[:10]) for c, s, v, flag in flags if flag}
        assert superseded == {("one", "a", "2026-01-01"), ("one", "a", "2026-01-02")}
    finally:
        engine.dispose()


OBJECT_DEFAULTS = {
    "type": "indicator",
    "spec_version": "2.1",
    "date_added": datetime(2026, 1, 4, tzinfo=UTC),
    "markings": [],
    "tlp": 1,
    "owner_nation": "JM",
    "submitted_by": "test",
    "body": "{}",
}
