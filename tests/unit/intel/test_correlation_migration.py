"""The observable index's migration (0025): objects stored before it are indexed by it."""

from __future__ import annotations

import json

from alembic import command
from sqlalchemy import Connection, create_engine, insert, text

from seawall.db.migrate import alembic_config, upgrade
from seawall.db.models.core import Nation
from seawall.db.models.intel import IntelCollection, IntelObject
from seawall.intel.matching.observables import Kind, Observable
from seawall.intel.observable_index import value_key
from tests.unit.intel.test_migration import OBJECT_DEFAULTS


def _store(conn: Connection, bodies: list[tuple[str, str]]) -> None:
    """JM, one collection, and one version of each (type, JSON body) as ``type--n``."""
    conn.execute(insert(Nation.__table__).values(iso2="JM", iso3="JAM", name="Jamaica"))
    conn.execute(
        insert(IntelCollection.__table__).values(
            id="one", alias="one", title="one", description="", owner_nation="JM",
            audience={}, default_tlp="green", created_at=OBJECT_DEFAULTS["date_added"],
            created_by="test",
        )
    )  # fmt: skip
    columns = IntelObject.__table__.c
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
                "body": body,
            }
            for n, (kind, body) in enumerate(bodies)
        ],
    )


def test_upgrading_a_store_indexes_every_version_already_there(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        upgrade(engine)
        command.downgrade(alembic_config(engine), "0025-1")
        with engine.begin() as conn:
            bodies = [
                ("indicator", {"pattern": "[domain-name:value = 'Lure.example.']"}),
                ("domain-name", {"value": "lure.example"}),
                ("malware", {"name": "lure.example"}),  # a name, not an observable
            ]
            _store(conn, [(kind, json.dumps(body)) for kind, body in bodies])
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


def test_upgrading_indexes_idns_in_punycode_and_domain_ip_addresses(database_url: str) -> None:
    engine = create_engine(database_url)
    unicode_key = value_key(Observable(Kind.DOMAIN, "bücher.example"))  # as 0025 keyed it
    try:
        upgrade(engine)
        command.downgrade(alembic_config(engine), "0027-1")
        with engine.begin() as conn:
            pair = (
                "[domain-name:value = 'pair.example' AND "
                "domain-name:resolves_to_refs[*].value = '198.51.100.7']"
            )
            bodies = [
                ("indicator", json.dumps({"pattern": "[domain-name:value = 'BÜCHER.example']"})),
                ("domain-name", json.dumps({"value": "bücher.example"}, ensure_ascii=False)),
                ("indicator", json.dumps({"pattern": pair})),
                ("indicator", json.dumps({"pattern": "[domain-name:value = 'plain.example']"})),
            ]
            _store(conn, bodies)
            seqs = dict(conn.execute(text("SELECT stix_id, seq FROM intel_objects")).all())
            old = [
                (unicode_key, seqs["indicator--0"]),
                (unicode_key, seqs["domain-name--1"]),
                (value_key(Observable(Kind.DOMAIN, "pair.example")), seqs["indicator--2"]),
                (value_key(Observable(Kind.DOMAIN, "plain.example")), seqs["indicator--3"]),
            ]
            conn.execute(
                text("INSERT INTO intel_observables (value_key, object_seq) VALUES (:k, :s)"),
                [{"k": k, "s": s} for k, s in old],
            )
        upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT o.stix_id, i.value_key FROM intel_observables AS i"
                    " JOIN intel_objects AS o ON o.seq = i.object_seq"
                )
            ).all()
        idn = value_key(Observable(Kind.DOMAIN, "xn--bcher-kva.example"))
        assert sorted(rows) == sorted(
            [
                ("indicator--0", idn),
                ("domain-name--1", idn),
                ("indicator--2", value_key(Observable(Kind.DOMAIN, "pair.example"))),
                ("indicator--2", value_key(Observable(Kind.IP, "198.51.100.7"))),
                ("indicator--3", value_key(Observable(Kind.DOMAIN, "plain.example"))),
            ]
        )
    finally:
        engine.dispose()
