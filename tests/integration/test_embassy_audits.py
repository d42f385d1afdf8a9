"""Audits of partner hosts across real nodes: a host proves it still holds a sample of the
guest's shares with keyed hashes read from its disk, a few KB on the wire; a share altered or
deleted on the host's disk is named and fails the audit for that site."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from seawall.core.alerts import list_alerts
from seawall.db.models.embassy import EmbassyRun
from seawall.db.models.embassy_hosting import HostedObject
from seawall.embassy import service
from seawall.embassy.service.auditing import audit, parse_sample
from seawall.embassy.sites import open_site
from seawall.errors import InvalidInput
from tests.hosts import Guest, Host

PASS = "correct horse battery staple"
SHARES = 20
WIRE_BOUND = 8 * 1024  # bytes for 20 challenges and answers, both ways


def setup(guest: Guest, tmp_path: Path) -> tuple[Host, str, service.Access]:
    """A 2-of-3 repository (two disks, one partner host) holding SHARES packs."""
    host = guest.add_host("TT")
    url = host.agreement("jm-audit", retention_days=30)
    disks = [tmp_path / "a", tmp_path / "b"]
    for disk in disks:
        disk.mkdir()
    node = guest.node
    units = lambda: node.unit(node.operator())  # noqa: E731
    sites = [open_site(f"file://{d}") for d in disks] + [open_site(url)]
    service.create(units, "gov", sites, lambda: PASS, k=2, clock=node.clock)
    access = service.Access(units, "gov", node.clock, lambda: PASS)
    src = tmp_path / "src"
    src.mkdir()
    for i in range(SHARES):
        (src / "f.txt").write_bytes(f"record {i}\n".encode() * 500)
        service.backup(access, [str(src)])
    return host, url, access


def blob_of(host: Host, name: str) -> Path:
    with host.node.unit(host.node.operator()) as ctx:
        version = ctx.db.scalar(
            select(HostedObject).where(HostedObject.name == name, HostedObject.current.is_(True))
        )
        assert version is not None
        [path] = list(host.root.rglob(version.id))
    return path


def test_a_partner_host_proves_it_holds_every_share_in_a_few_kb(
    guest: Guest, tmp_path: Path
) -> None:
    _host, url, access = setup(guest, tmp_path)
    report = audit(access, parse_sample("100%"), seed=1)
    [a, b, partner] = report.sites
    assert not a.auditable and not b.auditable
    assert partner.site == url and partner.challenged == SHARES and partner.failed == []
    assert partner.no_challenge_left == 0
    assert 0 < partner.wire_bytes < WIRE_BOUND
    print(f"audit of {partner.challenged} shares: {partner.wire_bytes} bytes on the wire")
    with guest.node.unit(guest.node.operator()) as ctx:
        run = ctx.db.scalar(select(EmbassyRun).where(EmbassyRun.kind == "audit"))
        assert run is not None and run.outcome == "success"
    # A 5% sample of 20 packs challenges one share.
    assert audit(access, parse_sample("5%")).sites[2].challenged == 1


def test_a_share_altered_or_deleted_on_the_hosts_disk_is_named_and_fails(
    guest: Guest, tmp_path: Path
) -> None:
    host, url, access = setup(guest, tmp_path)
    site = open_site(url)
    names = sorted(site.list("data/"))
    site.close()
    altered, deleted = names[0], names[1]
    path = blob_of(host, altered)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    blob_of(host, deleted).unlink()

    report = audit(access, 1.0)
    partner = report.sites[2]
    assert sorted(partner.failed) == sorted(
        [f"{altered}: wrong answer (altered or damaged)", f"{deleted}: missing"]
    )
    with guest.node.unit(guest.node.operator()) as ctx:
        run = ctx.db.scalar(select(EmbassyRun).where(EmbassyRun.kind == "audit"))
        assert run is not None and run.outcome == "partial"
        assert len(run.detail["problems"]) == 2
        kinds = {a.kind for a in list_alerts(ctx)}
    assert "embassy.audit.failed" in kinds


def test_a_sample_is_a_share_of_the_packs() -> None:
    assert parse_sample("5%") == 0.05 and parse_sample("0.5") == 0.5
    for bad in ("0%", "150%", "some"):
        with pytest.raises(InvalidInput):
            parse_sample(bad)
