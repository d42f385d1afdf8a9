"""The observable index's migration (0025): objects stored before it are indexed by it."""

from __future__ import annotations

import json

from alembic import command
from sqlalchemy import create_engine, insert, text

from seawall.db.migrate import alembic_config, upgrade
from seawall.db.models.core import Nation
from seawall.db.models.intel import IntelCollection, IntelObject
from seawall.intel.matching.observables import Kind, Observable
from seawall.intel.observable_index import value_key
from tests.unit.intel.test_migration import OBJECT_DEFAULTS


def test_upgrading_a_store_indexes_every_version_already_there(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        upgrade(engine)
        command.downgrade(alembic_config(engine), "0025-1")
        with engine.begin() as conn:
            conn.execute(insert(Nation.__table__).values(iso2="JM", iso3="JAM", name="Jamaica"))
            conn.execute(
                insert(IntelCollection.__table__).values(
                    id="one", alias="one", title="one", description="", owner_nation="JM",
                    audience={}, default_tlp="green", created_at=OBJECT_DEFAULTS["date_added"],
                    created_by="test",
                )
            )  # fmt: skip
            columns = IntelObject.__table__.c
            bodies = [
                ("indicator", {"pattern": "[domain-name:value = 'Lure.example.']"}),
                ("domain-name", {"value": "lure.example"}),
                ("malware", {"name": "lure.example"}),  # a name, not an observable
            ]
            conn.execute(
                insert(IntelObject.__table__).values(
                    {columns[k]: v for k, v in OBJECT_DEFAULTS.items() if k not in ("type", "body")}
                ),
                [
                    {
                        "collection_id": "one",
                        "stix_id": f"{kind}--{n}",
                        "version": OBJECT_DEFAULTS["date_added"],
                        "type": kind,
                        "body": json.dumps(body),
                    }
                    for n, (kind, body) in enumerate(bodies)
                ],
            )
        upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT o.stix_id, i.value_key FROM intel_observables AS i"
                    " JOIN intel_objects AS o ON o.seq = i.object_seq"
                )
            ).all()
        key = value_key(Observable(Kind.DOMAIN, "lure.example"))
        assert sorted(rows) == [("domain-name--1", key), ("indicator--0", key)]
    finally:
        engine.dispose()
