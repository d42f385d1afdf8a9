"""The guest's side of hosting across real nodes: the terms a host shows are watched, prune
releases what it deleted (and a release that fails is owed until it is delivered), and the
host's run-due pass purges what retention allows and alerts on ended agreements."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from seawall.core.alerts import list_alerts
from seawall.core.clock import FrozenClock
from seawall.core.node import Node
from seawall.db.models import AuditEntry
from seawall.db.models.embassy_hosting import HostingAgreement, PartnerTerms
from seawall.embassy import service
from seawall.embassy.errors import SiteUnavailable
from seawall.embassy.hosting import agreements
from seawall.embassy.scheduling import run_due
from seawall.embassy.service.base import Units
from seawall.embassy.sites import open_site
from seawall.embassy.snapshots import KeepPolicy
from tests.hosts import Guest, Host

PASS = "correct horse battery staple"


def units_of(node: Node) -> Units:
    return lambda: node.unit(node.operator())


def advance(nodes: list[Node], **delta: float) -> None:
    for node in nodes:
        clock = node.clock
        assert isinstance(clock, FrozenClock)
        clock.advance(**delta)


def repository(guest: Guest, tmp_path: Path, url: str) -> service.Access:
    """A 2-of-3 repository on two local disks and the partner site ``url``."""
    disks = [tmp_path / "kingston", tmp_path / "montego-bay"]
    for disk in disks:
        disk.mkdir()
    urls = [f"file://{d}" for d in disks] + [url]
    node = guest.node
    service.create(
        units_of(node), "gov", [open_site(u) for u in urls], lambda: PASS, k=2, clock=node.clock
    )
    return service.Access(units_of(node), "gov", node.clock, lambda: PASS)


def backup(access: service.Access, root: Path, size: int = 300_000) -> str:
    root.mkdir(parents=True, exist_ok=True)
    (root / "data.bin").write_bytes(os.urandom(size))
    return service.backup(access, [str(root)]).snapshot.id


def actions(node: Node, prefix: str) -> list[AuditEntry]:
    with node.unit(node.operator()) as ctx:
        found = ctx.db.scalars(
            select(AuditEntry).where(AuditEntry.action.startswith(prefix)).order_by(AuditEntry.seq)
        ).all()
        for row in found:
            ctx.db.expunge(row)
    return list(found)


def open_kinds(node: Node) -> set[str]:
    with node.unit(node.operator()) as ctx:
        return {a.kind for a in list_alerts(ctx)}


def change(host: Host, name: str, **terms: object) -> None:
    with host.node.unit(host.node.operator()) as ctx:
        agreements.change_agreement(ctx, name, **terms)  # type: ignore[arg-type]


def test_the_guest_audits_a_change_of_terms_and_alerts_on_shortened_retention(
    guest: Guest, tmp_path: Path
) -> None:
    host = guest.add_host("TT")
    url = host.agreement("jm-terms", retention_days=30)
    access = repository(guest, tmp_path, url)
    backup(access, tmp_path / "src")
    with guest.node.unit(guest.node.operator()) as ctx:
        seen = ctx.db.get(PartnerTerms, url)
        assert seen is not None and seen.retention_days == 30
    assert actions(guest.node, "embassy.hosting.terms") == []

    change(host, "jm-terms", retention_days=60)
    service.check(access)
    [lengthened] = actions(guest.node, "embassy.hosting.terms.changed")
    assert lengthened.detail["retention_days"] == {"from": 30, "to": 60}
    assert not open_kinds(guest.node) & {"embassy.hosting.retention.shortened"}

    change(host, "jm-terms", retention_days=7, reason="disk budget cut")
    ends = host.node.clock.now() + timedelta(days=20)
    change(host, "jm-terms", expires_at=ends)
    service.check(access)
    shortened = actions(guest.node, "embassy.hosting.terms.changed")[-1]
    assert shortened.detail["retention_days"] == {"from": 60, "to": 7}
    assert shortened.detail["expires_at"]["to"] == ends.isoformat()
    assert {"embassy.hosting.retention.shortened", "embassy.agreement.expiring"} <= open_kinds(
        guest.node
    )
    # The host audited its side of the same change.
    assert [e.detail["reason"] for e in actions(host.node, "embassy.hosting.retention")] == [
        "disk budget cut"
    ]


def test_prune_releases_what_it_deleted_and_the_hosts_pass_purges_it_once_retention_allows(
    guest: Guest, tmp_path: Path
) -> None:
    host = guest.add_host("TT")
    url = host.agreement("jm-prune", retention_days=30)
    access = repository(guest, tmp_path, url)
    backup(access, tmp_path / "one")
    backup(access, tmp_path / "one")
    service.forget(access, KeepPolicy(last=1), prune=True, max_unused=0.0)

    # Prune deleted the first snapshot's pack on the host (a marker) and released it at once.
    [released] = actions(guest.node, "embassy.hosting.released")
    assert released.detail["site"] == url and released.detail["purged"] == 0
    assert [e.action for e in actions(host.node, "embassy.hosting.released")] == [
        "embassy.hosting.released"
    ]
    with host.node.unit(host.node.operator()) as ctx:
        row = ctx.db.scalar(select(HostingAgreement).where(HostingAgreement.name == "jm-prune"))
        assert row is not None and row.release_before is not None
        released_before = row.release_before
    superseded = versions_superseded_by(host, "jm-prune", released_before)
    assert any(name.startswith("data/") for name in superseded.values())

    # Within retention the host's pass purges nothing; past it, exactly what was released.
    host_units = units_of(host.node)
    run_due(host_units, host.node.clock, host.node.settings)
    assert actions(host.node, "embassy.hosting.purged") == []
    advance([host.node], days=29, hours=23)
    run_due(host_units, host.node.clock, host.node.settings)
    assert actions(host.node, "embassy.hosting.purged") == []
    advance([host.node], hours=2)
    run_due(host_units, host.node.clock, host.node.settings)
    [purged] = actions(host.node, "embassy.hosting.purged")
    assert purged.detail["versions"] == len(superseded)
    with host.node.unit(host.node.operator()) as ctx:
        from seawall.db.models.embassy_hosting import HostedObject

        gone = set(
            ctx.db.scalars(select(HostedObject.id).where(HostedObject.purged_at.is_not(None)))
        )
    assert gone == set(superseded)
    for version in superseded:
        assert not list(host.root.rglob(version))


def versions_superseded_by(host: Host, agreement: str, when: object) -> dict[str, str]:
    """Version id -> name of every version of ``agreement`` superseded by ``when``."""
    from seawall.db.models.embassy_hosting import HostedObject

    with host.node.unit(host.node.operator()) as ctx:
        row = ctx.db.scalar(select(HostingAgreement).where(HostingAgreement.name == agreement))
        assert row is not None
        found = ctx.db.execute(
            select(HostedObject.id, HostedObject.name).where(
                HostedObject.agreement_id == row.id,
                HostedObject.superseded_at.is_not(None),
                HostedObject.superseded_at <= when,
                ~HostedObject.name.startswith("locks/"),
            )
        ).all()
    return {str(vid): str(name) for vid, name in found}


def test_a_release_that_fails_is_owed_until_the_host_takes_it(guest: Guest, tmp_path: Path) -> None:
    host = guest.add_host("TT")
    url = host.agreement("jm-owed", retention_days=30)
    with host.node.unit(host.node.operator()) as ctx:  # a key the guest does not hold
        ctx.db.execute(
            update(HostingAgreement)
            .where(HostingAgreement.name == "jm-owed")
            .values(signing_key="ed25519:" + "A" * 43 + "=")
        )
    access = repository(guest, tmp_path, url)
    backup(access, tmp_path / "one")
    backup(access, tmp_path / "one")
    service.forget(access, KeepPolicy(last=1), prune=True)
    assert actions(guest.node, "embassy.hosting.released") == []
    [pending] = actions(guest.node, "embassy.hosting.release.pending")
    assert pending.detail["error"] == "purge_signature_invalid"
    with guest.node.unit(guest.node.operator()) as ctx:
        owed = ctx.db.get(PartnerTerms, url)
        assert owed is not None and owed.release_due_since is not None

    with host.node.unit(host.node.operator()) as ctx:  # the host's admin clears the bad key
        ctx.db.execute(
            update(HostingAgreement)
            .where(HostingAgreement.name == "jm-owed")
            .values(signing_key="")
        )
    service.check(access)  # any later open delivers what is owed
    [released] = actions(guest.node, "embassy.hosting.released")
    assert released.detail["site"] == url
    with guest.node.unit(guest.node.operator()) as ctx:
        owed = ctx.db.get(PartnerTerms, url)
        assert owed is not None and owed.release_due_since is None


def test_an_ended_agreement_raises_an_alert_on_the_host_and_on_the_guest(
    guest: Guest, tmp_path: Path
) -> None:
    host = guest.add_host("TT")
    url = host.agreement("jm-ends", retention_days=30)
    change(host, "jm-ends", expires_at=host.node.clock.now() + timedelta(days=40))
    access = repository(guest, tmp_path, url)
    backup(access, tmp_path / "one")
    assert "embassy.agreement.expired" not in open_kinds(guest.node)
    advance([guest.node, host.node], days=41)
    run_due(units_of(host.node), host.node.clock, host.node.settings)
    assert "embassy.agreement.expired" in open_kinds(host.node)
    # The guest's next backup is refused a write there, and alerted.
    with pytest.raises(SiteUnavailable, match="nothing new is stored"):
        service.backup(access, [str(tmp_path / "one")], degraded=True)
    with guest.node.unit(guest.node.operator()) as ctx:
        [alert] = [a for a in list_alerts(ctx) if a.kind == "embassy.agreement.expired"]
    assert alert.subject == url and "stores nothing new" in alert.message
