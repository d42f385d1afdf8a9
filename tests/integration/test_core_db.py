"""Core behaviour on real SQLite and PostgreSQL: schema, identity, tokens, lock-out, audit."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError

from seawall.core import audit, partners, tokens, users
from seawall.core.access import Perm
from seawall.core.clock import FrozenClock
from seawall.core.node import Node
from seawall.db.bulk import insert_rows
from seawall.db.engine import make_engine
from seawall.db.models import AuditEntry, RegionGroup, User, full_metadata
from seawall.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    TokenExpired,
    TokenRevoked,
    UnknownNation,
)
from tests.conftest import make_node


def test_recorded_heads_match_the_migration_scripts(any_node: Node) -> None:
    from alembic.script import ScriptDirectory

    from seawall.db.migrate import HEADS, alembic_config

    scripts = ScriptDirectory.from_config(alembic_config(any_node.engine))
    assert set(scripts.get_heads()) == set(HEADS)


def test_migrations_build_exactly_the_models(any_node: Node) -> None:
    with any_node.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), full_metadata())
    assert diff == []
    current, expected = any_node.schema_revision()
    assert current == expected


def test_postgresql_plans_each_statement_with_its_own_values(pg_database: str) -> None:
    # A prepared statement's generic plan for "stix_id IN (500 parameters)" was a full
    # table scan on a freshly loaded store: each import batch got slower than the last.
    engine = make_engine(pg_database)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW plan_cache_mode")).scalar_one() == "force_custom_plan"
    finally:
        engine.dispose()


def test_bulk_inserts_refresh_postgresql_statistics_as_a_table_grows(
    pg_database: str, tmp_path: Path, clock: FrozenClock
) -> None:
    # Where autovacuum lags or is off, a freshly loaded table has no statistics and the
    # planner scans it whole for a lookup by id; insert_rows analyses it as it grows.
    node = make_node(tmp_path / "home", pg_database, clock)

    def reltuples() -> float:
        with node.engine.connect() as conn:
            query = text("SELECT reltuples FROM pg_class WHERE relname = 'region_groups'")
            return float(conn.execute(query).scalar_one())

    def add(first: int, count: int) -> None:
        rows = [{"code": f"g{n}", "name": f"group {n}", "hub": ""} for n in range(first, count)]
        with node.unit(node.operator()) as ctx:
            insert_rows(ctx.db, RegionGroup, rows, analyze_every=40)

    try:
        before = reltuples()  # -1 (never analysed) or what init left
        add(1000, 1030)
        assert reltuples() == before  # 30 rows: below the threshold
        add(2000, 2015)
        with node.engine.connect() as conn:
            total = conn.execute(text("SELECT count(*) FROM region_groups")).scalar_one()
        assert reltuples() == total  # 45 rows since the last analysis: analysed in the insert
    finally:
        node.close()


def test_admin_creates_users_only_in_own_nation(any_node: Node) -> None:
    with any_node.unit(any_node.operator()) as ctx:
        admin = users.add_user(ctx, "admin", "admin", password="a-long-password")
        users.add_user(ctx, "tt-admin", "admin", password="a-long-password", nation="TTO")
    jm_admin = users.principal_of(admin)
    with any_node.unit(jm_admin) as ctx:
        users.add_user(ctx, "analyst", "analyst", password="a-long-password")
        names = [u.username for u in users.list_users(ctx)]
        with pytest.raises(NotFound):
            users.get_user(ctx, "tt-admin")
        with pytest.raises(NotFound):
            users.add_user(ctx, "sneaky", "viewer", nation="TT")
    assert names == ["admin", "analyst"]


def test_bad_user_input_changes_nothing(any_node: Node) -> None:
    with any_node.unit(any_node.operator()) as ctx:
        users.add_user(ctx, "admin", "admin", password="a-long-password")

    def count() -> tuple[int, int]:
        with any_node.unit(any_node.operator()) as ctx:
            return (
                ctx.db.scalar(select(func.count()).select_from(User)) or 0,
                ctx.db.scalar(select(func.count()).select_from(AuditEntry)) or 0,
            )

    before = count()
    for kwargs, error in [
        ({"username": "admin", "role": "viewer"}, Conflict),
        ({"username": "x y", "role": "viewer"}, InvalidInput),
        ({"username": "bob", "role": "viewer", "nation": "XX"}, UnknownNation),
        ({"username": "bob", "role": "viewer", "password": "short"}, InvalidInput),
    ]:
        with pytest.raises(error), any_node.unit(any_node.operator()) as ctx:
            users.add_user(ctx, **kwargs)  # type: ignore[arg-type]
    assert count() == before


def test_viewer_may_not_manage_users(node: Node) -> None:
    with node.unit(node.operator()) as ctx:
        viewer = users.add_user(ctx, "viewer", "viewer", password="a-long-password")
    with pytest.raises(Forbidden), node.unit(users.principal_of(viewer)) as ctx:
        users.add_user(ctx, "other", "viewer")


def test_token_is_scoped_expires_and_revokes(any_node: Node, clock: FrozenClock) -> None:
    with any_node.unit(any_node.operator()) as ctx:
        users.add_user(ctx, "analyst", "analyst", password="a-long-password")
        issued = tokens.create_token(ctx, "siem", ["intel.read"], days=1, username="analyst")
        wide = tokens.create_token(ctx, "all", [], days=30, username="analyst")
    assert issued.value.startswith("sw_")
    with any_node.unit(any_node.operator()) as ctx:
        who = tokens.authenticate_token(ctx, issued.value)
        stored = ctx.db.get(tokens.ApiToken, issued.token.id)
        assert stored is not None and issued.value.split("_", 2)[2] not in stored.secret_hash
    assert who.permissions == {Perm.INTEL_READ}
    clock.advance(days=2)
    with pytest.raises(TokenExpired, match="expired"), any_node.unit(any_node.operator()) as ctx:
        tokens.authenticate_token(ctx, issued.value)
    with any_node.unit(any_node.operator()) as ctx:
        tokens.revoke_token(ctx, wide.token.id)
    with pytest.raises(TokenRevoked), any_node.unit(any_node.operator()) as ctx:
        tokens.authenticate_token(ctx, wide.value)


def test_token_cannot_exceed_its_users_role(node: Node) -> None:
    with node.unit(node.operator()) as ctx:
        users.add_user(ctx, "viewer", "viewer", password="a-long-password")
        with pytest.raises(InvalidInput, match=r"cannot hold scopes: users\.manage"):
            tokens.create_token(ctx, "x", ["users.manage"], username="viewer")


def _seed_audit(node: Node, n: int) -> None:
    with node.unit(node.operator()) as ctx:
        for i in range(n):
            partners.add_partner(ctx, f"p{i}", "TT", f"https://p{i}.example.org")


def test_intact_audit_log_verifies(any_node: Node) -> None:
    _seed_audit(any_node, 5)
    with any_node.unit(any_node.operator()) as ctx:
        result = audit.verify(ctx.db, any_node.audit_key)
    assert result.ok and result.checked == 6  # node.initialised + 5


def test_edited_audit_entry_is_named(any_node: Node) -> None:
    _seed_audit(any_node, 5)
    with any_node.unit(any_node.operator()) as ctx:
        ctx.db.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(actor="mallory"))
    with any_node.unit(any_node.operator()) as ctx:
        result = audit.verify(ctx.db, any_node.audit_key)
    assert [(p.seq, p.kind) for p in result.problems] == [(3, "edited")]


def test_deleted_audit_entries_are_named(any_node: Node) -> None:
    _seed_audit(any_node, 6)
    with any_node.unit(any_node.operator()) as ctx:
        ctx.db.execute(delete(AuditEntry).where(AuditEntry.seq.in_([3, 7])))
    with any_node.unit(any_node.operator()) as ctx:
        result = audit.verify(ctx.db, any_node.audit_key)
    messages = [p.message for p in result.problems]
    assert messages == ["entry 3 deleted", "entry 7 deleted from the end"]


def test_reforged_chain_without_the_node_key_is_detected(node: Node) -> None:
    _seed_audit(node, 3)
    forged_key = audit.audit_key(b"attacker guess")
    with node.unit(node.operator()) as ctx:
        rows = list(ctx.db.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
        prev = audit.GENESIS
        rows[1].actor = "mallory"
        for row in rows:
            row.prev_hash = prev
            row.hash = audit._entry_hash(forged_key, prev, audit._fields(row))
            prev = row.hash
    with node.unit(node.operator()) as ctx:
        assert not audit.verify(ctx.db, node.audit_key).ok


def test_audit_filters_by_action_prefix_and_actor(node: Node) -> None:
    _seed_audit(node, 2)
    with node.unit(node.operator()) as ctx:
        users.add_user(ctx, "admin", "admin", password="a-long-password")
        found = audit.search(ctx.db, audit.AuditFilter(action="partner"))
        assert {e.action for e in found} == {"partner.added"}
        assert audit.search(ctx.db, audit.AuditFilter(actor="nobody")) == []


def test_evidence_for_a_factor_is_found_behind_many_newer_records(
    any_node: Node, clock: FrozenClock
) -> None:
    from seawall.core.evidence import list_evidence, record_evidence

    with any_node.unit(any_node.operator()) as ctx:
        drill = record_evidence(ctx, "embassy", "embassy.restore", "drill", ["cmm:D1.2"])
        for i in range(30):
            clock.advance(minutes=1)
            record_evidence(ctx, "embassy", "embassy.check", f"check {i}", ["cmm:D5.4"])
    with any_node.unit(any_node.operator()) as ctx:
        assert [e.id for e in list_evidence(ctx, supports="cmm:D1.2", limit=5)] == [drill.id]
        assert len(list_evidence(ctx, supports="cmm:D5.4", limit=5)) == 5


def test_a_database_error_names_the_statement_but_not_its_values(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'values.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE hashes (value TEXT UNIQUE)")
        conn.execute(text("INSERT INTO hashes VALUES (:v)"), {"v": "hunter2-hash"})
    with pytest.raises(IntegrityError) as caught, engine.begin() as conn:
        conn.execute(text("INSERT INTO hashes VALUES (:v)"), {"v": "hunter2-hash"})
    assert "INSERT INTO hashes" in str(caught.value) and "hunter2" not in str(caught.value)
    engine.dispose()


def test_partner_link_state_moves_from_intel_to_core_and_back(database_url: str) -> None:
    """Migration 0011 carries each partner's sealed token, errors and backoff from intel's
    sync table into core's ``partner_links``, and its downgrade carries them back."""
    from alembic import command

    from seawall.db.migrate import alembic_config

    engine = make_engine(database_url)
    config = alembic_config(engine)
    command.upgrade(config, "0009")
    command.upgrade(config, "0010")
    state = {
        "token_sealed": "c2VhbGVk",
        "last_error": "no answer in 20 s",
        "last_error_code": "partner_timed_out",
        "failures": 3,
        "seen_key_id": "k1",
    }
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO nations (iso2, iso3, name) VALUES ('TT', 'TTO', 'T&T')"))
        conn.execute(text("INSERT INTO nations (iso2, iso3, name) VALUES ('JM', 'JAM', 'JM')"))
        conn.execute(
            text(
                "INSERT INTO partners (id, name, nation, owner_nation, url, trust, max_tlp, pull,"
                " push, embassy_host, public_key, disabled, created_at) VALUES ('p1', 'tt-node',"
                " 'TT', 'JM', 'http://tt', 'partner', 'amber', true, true, false, '', false,"
                " '2026-12-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO intel_sync_partners (partner_id, token_sealed, last_error,"
                " last_error_code, failures, seen_key_id) VALUES ('p1', :token_sealed,"
                " :last_error, :last_error_code, :failures, :seen_key_id)"
            ),
            state,
        )
    command.upgrade(config, "heads")
    columns = ", ".join(state)
    with engine.connect() as conn:
        moved = conn.execute(text(f"SELECT {columns} FROM partner_links")).mappings().all()  # noqa: S608
        kept = conn.execute(text("SELECT * FROM intel_sync_partners")).mappings().all()
    assert [dict(row) for row in moved] == [state]
    assert [set(row) for row in kept] == [{"partner_id", "last_pull_at", "last_push_at"}]
    command.downgrade(config, "0010")
    with engine.connect() as conn:
        back = conn.execute(text(f"SELECT {columns} FROM intel_sync_partners")).mappings().all()  # noqa: S608
    assert [dict(row) for row in back] == [state]
    engine.dispose()
