"""Hosting a partner's shares on a real node: agreements, versions, quota and retention."""

from __future__ import annotations

import os
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from seawall.core import partners, users
from seawall.core.access import Principal
from seawall.core.clock import FrozenClock
from seawall.core.node import Node
from seawall.db.models import AuditEntry
from seawall.embassy.errors import (
    AgreementMissing,
    ObjectMissing,
    PurgeSignatureInvalid,
    RetentionLocked,
    SiteFull,
)
from seawall.embassy.hosting import agreements, objects
from seawall.embassy.hosting.signing import embassy_key, purge_statement, release_statement
from seawall.embassy.hosting.store import HostedBlobs
from seawall.embassy.keys import MasterKey
from seawall.errors import Forbidden

KEY = embassy_key(MasterKey(os.urandom(32)))


@pytest.fixture
def host(any_node: Node) -> Node:
    """A Jamaica node hosting for Barbados (agreement ``bb-records``, 1000 bytes, 30 days), on
    SQLite and on PostgreSQL."""
    node = any_node
    with node.unit(node.operator()) as ctx:
        partners.add_partner(ctx, "bb-node", "BB", "https://bb.example")
        partners.add_partner(ctx, "tt-node", "TT", "https://tt.example")
        users.add_user(ctx, "embassy-bb", "viewer", partner="bb-node")
        users.add_user(ctx, "embassy-tt", "viewer", partner="tt-node")
        agreements.add_agreement(
            ctx,
            "bb-records",
            "bb-node",
            quota_bytes=1000,
            retention_days=30,
            expires_at=ctx.now() + timedelta(days=365),
        )
    return node


def account(node: Node, username: str) -> Principal:
    with node.unit(node.operator()) as ctx:
        return users.principal_of(users.get_user(ctx, username))


@pytest.fixture
def blobs(tmp_path: Path) -> HostedBlobs:
    return HostedBlobs(tmp_path / "hosted", fsync=False)


def advance(node: Node, **delta: float) -> None:
    clock = node.clock
    assert isinstance(clock, FrozenClock)
    clock.advance(**delta)


def test_a_put_keeps_the_version_it_replaces_and_a_delete_only_hides(
    host: Node, blobs: HostedBlobs
) -> None:
    bb = account(host, "embassy-bb")
    with host.unit(bb) as ctx:
        objects.put(ctx, blobs, "bb-records", "config", b"first")
        before_attack = ctx.now()
    advance(host, hours=1)
    with host.unit(bb) as ctx:
        objects.put(ctx, blobs, "bb-records", "config", b"ransom")
        objects.put(ctx, blobs, "bb-records", "data/ab/ab12", b"share")
    advance(host, hours=1)
    with host.unit(bb) as ctx:
        objects.delete(ctx, blobs, "bb-records", "config")
        with pytest.raises(ObjectMissing):
            objects.get(ctx, blobs, "bb-records", "config")
        assert objects.listing(ctx, "bb-records") == [("data/ab/ab12", 5)]
        assert objects.get(ctx, blobs, "bb-records", "config", before_attack) == b"first"
        assert objects.listing(ctx, "bb-records", as_of=before_attack) == [("config", 5)]
        kept = objects.versions(ctx, "bb-records", "config")
    assert [(v["size"], v["marker"], v["current"]) for v in kept] == [
        (5, False, False),
        (6, False, False),
        (0, True, True),
    ]
    # Retention counts from when a version stopped being current.
    assert kept[0]["retained_until"] == (before_attack + timedelta(days=30, hours=1)).isoformat()
    assert kept[2]["retained_until"] is None


def test_a_write_over_quota_is_refused_as_site_full_and_recorded(
    host: Node, blobs: HostedBlobs
) -> None:
    bb = account(host, "embassy-bb")
    with host.unit(bb) as ctx:
        objects.put(ctx, blobs, "bb-records", "data/00/a", b"x" * 600)
        objects.put(ctx, blobs, "bb-records", "data/00/a", b"y" * 300)  # old one still counts
        refused = objects.put(ctx, blobs, "bb-records", "data/00/b", b"z" * 200)
    assert isinstance(refused, objects.Refused) and isinstance(refused.error, SiteFull)
    assert "900 of 1000 bytes kept (90%)" in refused.error.message
    with host.unit(host.operator()) as ctx:
        [row] = agreements.refusals(ctx, "bb-records")
        [hosted] = agreements.hosted(ctx)
        actions = list(ctx.db.scalars(select(AuditEntry.action)))
    assert (row.code, row.name, row.size, row.actor) == (
        "site_full",
        "data/00/b",
        200,
        "embassy-bb",
    )
    assert hosted.refusals == 1 and hosted.usage.stored_bytes == 900
    assert hosted.partner.nation == "BB" and hosted.agreement.last_write_at is not None
    assert actions.count("embassy.hosting.refused") == 1
    with host.unit(bb) as ctx, pytest.raises(ObjectMissing):
        objects.get(ctx, blobs, "bb-records", "data/00/b")


def test_two_puts_at_once_over_the_quota_store_one(host: Node, blobs: HostedBlobs) -> None:
    bb = account(host, "embassy-bb")
    start = threading.Barrier(2)
    results: list[object] = []

    def put(name: str) -> None:
        start.wait()
        try:
            with host.unit(bb) as ctx:
                results.append(objects.put(ctx, blobs, "bb-records", name, b"q" * 600))
        except Exception as exc:  # a serialisation failure is a refusal too
            results.append(exc)

    threads = [threading.Thread(target=put, args=(f"data/00/{c}",)) for c in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if not isinstance(r, dict)]
    assert len(stored) == 1 and len(refused) == 1
    assert isinstance(refused[0], objects.Refused) and isinstance(refused[0].error, SiteFull)
    with host.unit(host.operator()) as ctx:
        [hosted] = agreements.hosted(ctx)
    assert hosted.usage.stored_bytes == 600 and hosted.usage.objects == 1


def test_no_one_purges_a_version_before_its_retention_ends(host: Node, blobs: HostedBlobs) -> None:
    bb = account(host, "embassy-bb")
    with host.unit(bb) as ctx:
        objects.put(ctx, blobs, "bb-records", "index/01", b"genuine")
        objects.put(ctx, blobs, "bb-records", "index/01", b"")  # the attacker truncates it
        # Both versions are stored at the same frozen instant: the old one is not current.
        [old] = [v for v in objects.versions(ctx, "bb-records", "index/01") if not v["current"]]
    version = str(old["version"])
    signature = KEY.sign(purge_statement("bb-records", version))
    with host.unit(bb) as ctx:
        refused = objects.purge_version(
            ctx, blobs, "bb-records", version, KEY.public_text, signature
        )
    assert isinstance(refused, objects.Refused)
    assert isinstance(refused.error, RetentionLocked)
    with host.unit(host.operator()) as ctx:
        assert [r.code for r in agreements.refusals(ctx)] == ["retention_locked"]
    advance(host, days=31)
    with host.unit(bb) as ctx:
        assert objects.purge_version(
            ctx, blobs, "bb-records", version, KEY.public_text, signature
        ) == {"purged": 1}
        assert [v["size"] for v in objects.versions(ctx, "bb-records", "index/01")] == [0]


def test_a_purge_signed_with_another_key_is_refused(host: Node, blobs: HostedBlobs) -> None:
    bb = account(host, "embassy-bb")
    before = host.clock.now()
    with host.unit(bb) as ctx:
        objects.release(
            ctx,
            blobs,
            "bb-records",
            before,
            KEY.public_text,
            KEY.sign(release_statement("bb-records", before)),
        )
    other = embassy_key(MasterKey(os.urandom(32)))
    with host.unit(bb) as ctx:
        refused = objects.release(
            ctx,
            blobs,
            "bb-records",
            before,
            other.public_text,
            other.sign(release_statement("bb-records", before)),
        )
    assert isinstance(refused, objects.Refused)
    assert isinstance(refused.error, PurgeSignatureInvalid)
    with host.unit(host.operator()) as ctx:
        [hosted] = agreements.hosted(ctx)
    assert hosted.agreement.signing_key == KEY.public_text


def test_a_release_purges_what_was_deleted_once_retention_has_passed(
    host: Node, blobs: HostedBlobs
) -> None:
    bb = account(host, "embassy-bb")
    with host.unit(bb) as ctx:
        objects.put(ctx, blobs, "bb-records", "data/aa/1", b"old pack")
        objects.put(ctx, blobs, "bb-records", "data/aa/2", b"kept pack")
        objects.delete(ctx, blobs, "bb-records", "data/aa/1")  # what prune deletes

    def release() -> object:
        with host.unit(bb) as ctx:
            now = ctx.now()
            signature = KEY.sign(release_statement("bb-records", now))
            return objects.release(ctx, blobs, "bb-records", now, KEY.public_text, signature)

    assert release() == {"release_before": host.clock.now().isoformat(), "purged": 0}
    advance(host, days=30)
    assert release() == {"release_before": host.clock.now().isoformat(), "purged": 1}
    with host.unit(bb) as ctx:
        assert objects.listing(ctx, "bb-records") == [("data/aa/2", 9)]
        names = [(v["name"], v["marker"]) for v in objects.versions(ctx, "bb-records")]
    assert names == [("data/aa/1", True), ("data/aa/2", False)]


def test_retention_is_shortened_only_by_the_host_admin_with_a_reason(host: Node) -> None:
    with host.unit(host.operator()) as ctx:
        agreements.change_agreement(ctx, "bb-records", retention_days=90)
        with pytest.raises(RetentionLocked, match="without a reason"):
            agreements.change_agreement(ctx, "bb-records", retention_days=10)
        agreements.change_agreement(
            ctx, "bb-records", retention_days=10, reason="guest asked in writing, ref 2026/77"
        )
        entries = list(
            ctx.db.scalars(select(AuditEntry).where(AuditEntry.action.like("embassy.hosting.%")))
        )
    assert [e.action for e in entries] == [
        "embassy.hosting.agreement.added",
        "embassy.hosting.agreement.changed",
        "embassy.hosting.retention.shortened",
    ]
    assert entries[-1].detail["reason"] == "guest asked in writing, ref 2026/77"
    assert entries[-1].detail["retention_days"] == {"from": 90, "to": 10}
    with host.unit(account(host, "embassy-bb")) as ctx, pytest.raises(Forbidden):
        agreements.change_agreement(ctx, "bb-records", retention_days=1, reason="attack")


def test_only_the_guest_partners_account_reaches_its_agreement(
    host: Node, blobs: HostedBlobs
) -> None:
    with host.unit(account(host, "embassy-tt")) as ctx, pytest.raises(AgreementMissing):
        objects.put(ctx, blobs, "bb-records", "config", b"x")
    with host.unit(host.operator()) as ctx:
        users.add_user(ctx, "clerk", "admin")
    with host.unit(account(host, "clerk")) as ctx, pytest.raises(Forbidden):
        objects.get(ctx, blobs, "bb-records", "config")
