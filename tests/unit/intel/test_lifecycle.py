"""The stored lifecycle columns say what quality.status_of says, and the upgrade fills them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Connection, create_engine, insert, inspect, text

from seawall.db.engine import make_engine
from seawall.db.migrate import HEADS, alembic_config, upgrade
from seawall.db.models.core import Nation
from seawall.db.models.intel import IntelCollection, IntelObject
from seawall.intel.quality import Status, status_of
from seawall.intel.store.lifecycle import Lifecycle, lifecycle_of

T0 = datetime(2026, 11, 1, tzinfo=UTC)

stamps = st.one_of(
    st.none(),
    st.integers(-5, 5).map(lambda d: (T0 + timedelta(days=d)).strftime("%Y-%m-%dT%H:%M:%SZ")),
    st.integers(-5, 5).map(
        lambda d: (T0 + timedelta(days=d, microseconds=1)).isoformat().replace("+00:00", "Z")
    ),
    st.sampled_from(["yesterday", "2026-13-01T00:00:00Z", 17]),
)


def _state(columns: Lifecycle, now: datetime) -> Status:
    """What listing._state_sql computes from the columns."""
    if columns.revoked:
        return Status.REVOKED
    if columns.valid_until is not None and columns.valid_until <= now:
        return Status.EXPIRED
    if columns.valid_from is not None and columns.valid_from > now:
        return Status.PENDING
    return Status.ACTIVE


@given(
    kind=st.sampled_from(["indicator", "malware"]),
    revoked=st.sampled_from([None, True, False, "true", 1]),
    valid_from=stamps,
    valid_until=stamps,
    days=st.integers(-6, 6),
)
def test_the_columns_give_the_state_status_of_gives(
    kind: str, revoked: Any, valid_from: Any, valid_until: Any, days: int
) -> None:
    body: dict[str, Any] = {"type": kind, "id": f"{kind}--x"}
    for name, value in (
        ("revoked", revoked),
        ("valid_from", valid_from),
        ("valid_until", valid_until),
    ):
        if value is not None:
            body[name] = value
    now = T0 + timedelta(days=days, hours=1)
    assert _state(lifecycle_of(body), now) == status_of(body, now)


def _store_before_the_columns(conn: Connection, bodies: list[dict[str, Any]]) -> None:
    """A nation, a collection and a version of each body, as a store without the lifecycle
    columns (migration 0024) holds them."""
    conn.execute(insert(Nation.__table__).values(iso2="JM", iso3="JAM", name="Jamaica"))
    conn.execute(
        insert(IntelCollection.__table__).values(
            id="one", alias="one", title="one", description="", owner_nation="JM",
            audience={}, default_tlp="green", created_at=T0, created_by="test",
        )
    )  # fmt: skip
    for body in bodies:
        conn.execute(
            text(
                "INSERT INTO intel_objects (collection_id, stix_id, type, spec_version,"
                " version, date_added, markings, tlp, owner_nation, submitted_by, body,"
                " superseded) VALUES ('one', :id, :type, '2.1', :at, :at, '[]', 1, 'JM',"
                " 'test', :body, false)"
            ),
            {"id": body["id"], "type": body["type"], "at": T0, "body": json.dumps(body)},
        )


def test_upgrading_a_store_fills_the_columns_of_every_version(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        upgrade(engine)
        command.downgrade(alembic_config(engine), "0024-1")  # this branch only
        bodies = [
            {"type": "indicator", "id": "indicator--a", "revoked": True},
            {"type": "indicator", "id": "indicator--b", "valid_from": "2027-01-01T00:00:00Z"},
            {"type": "malware", "id": "malware--c", "valid_until": "2020-01-01T00:00:00.5Z"},
            {"type": "identity", "id": "identity--d"},
        ]
        with engine.begin() as conn:
            _store_before_the_columns(conn, bodies)
        upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT stix_id, revoked, valid_from, valid_until FROM intel_objects")
            ).all()
        stored = {
            row[0]: (bool(row[1]), str(row[2])[:19] if row[2] else None, str(row[3])[:19])
            for row in rows
        }
        assert stored == {
            "indicator--a": (True, None, "None"),
            "indicator--b": (False, "2027-01-01 00:00:00", "None"),
            "malware--c": (False, None, "2020-01-01 00:00:00"),
            "identity--d": (False, None, "None"),
        }
        # The upgraded table is the one the model maps, lifecycle columns and all.
        upgraded = {column["name"] for column in inspect(engine).get_columns("intel_objects")}
        assert upgraded == set(IntelObject.__table__.c.keys())
    finally:
        engine.dispose()


def test_upgrading_keeps_the_rows_that_hang_off_intel_objects(database_url: str) -> None:
    # The node's own engine: SQLite with foreign_keys=ON, so a rebuilt intel_objects (drop,
    # copy, rename) would empty every ON DELETE CASCADE child: the correlation index here,
    # the partners' push queue (intel_outbox) alike.
    engine = make_engine(database_url)
    try:
        for head in sorted(HEADS - {"0024"}):  # a node that took 0025 (the index) first
            upgrade(engine, head)
        body = {"type": "indicator", "id": "indicator--a", "revoked": True}
        with engine.begin() as conn:
            _store_before_the_columns(conn, [body])
            seq = conn.execute(text("SELECT seq FROM intel_objects")).scalar_one()
            conn.execute(
                text("INSERT INTO intel_observables (value_key, object_seq) VALUES (7, :seq)"),
                {"seq": seq},
            )
        upgrade(engine)
        with engine.connect() as conn:
            kept = conn.execute(text("SELECT value_key, object_seq FROM intel_observables")).all()
            objects = conn.execute(text("SELECT seq, revoked FROM intel_objects")).all()
        assert [tuple(row) for row in kept] == [(7, seq)]
        assert [(row[0], bool(row[1])) for row in objects] == [(seq, True)]
    finally:
        engine.dispose()
