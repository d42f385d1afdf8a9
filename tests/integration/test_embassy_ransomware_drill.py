"""The ransomware drill: root on the guest node wipes and defaces every site it reaches, and a
fresh node restores the last snapshot bit-identical from the partner hosts alone.

Jamaica's repository is 2-of-4: two local disks and two hosting agreements, on Trinidad and
Tobago's and Barbados's nodes (real nodes on 127.0.0.1), so the partners hold k shares of
every pack. The attacker holds the guest node's partner tokens and the repository
passphrase: it wipes the local disks, then overwrites, truncates and deletes every object on
both partner hosts, re-keys the repository there, asks both hosts to purge every version
(signed with the embassy key it derives from the passphrase), and releases everything. The
hosts keep every version under the 90 days of retention, so a new node, with the passphrase
and new links to the two hosts, opens the repository as of before the attack and restores it.
"""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from seawall.core import partners
from seawall.core.clock import FrozenClock
from seawall.core.federation.identity import load_node_key
from seawall.core.federation.links import link_partner
from seawall.core.node import Node
from seawall.embassy import registry, service
from seawall.embassy.errors import RetentionLocked, SiteReadOnly
from seawall.embassy.hosting import agreements
from seawall.embassy.hosting import guest as guest_side
from seawall.embassy.hosting.signing import embassy_key, purge_statement
from seawall.embassy.keys import make_passphrase_slot
from seawall.embassy.repository import Repository
from seawall.embassy.sites import open_site
from seawall.embassy.sites.directory import node_directory, use_directory
from seawall.embassy.sites.partner import PartnerSite
from tests.conftest import EPOCH, make_node
from tests.hosts import Guest, Host

PASS = "correct horse battery staple"
ATTACKER_PASS = "pay us forty bitcoin or else"


def records(root: Path) -> dict[str, bytes]:
    """A ministry's records: text, a large binary, nested folders."""
    files = {
        "land/parcels.csv": "".join(f"{i},Parcel {i},Kingston\n" for i in range(30_000)).encode(),
        "land/scans/plan.tif": os.urandom(1_500_000),
        "civil/births-2026.json": b'{"births": 31877}\n' * 2000,
        "readme.txt": b"Registrar General's Department\n",
    }
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def restored(root: Path, source: Path) -> dict[str, bytes]:
    """The files a restore wrote for ``source``, by path relative to it."""
    base = root / str(source).lstrip("/")
    return {
        str(p.relative_to(base)): p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()
    }


def advance(nodes: list[Node], **delta: float) -> None:
    for node in nodes:
        clock = node.clock
        assert isinstance(clock, FrozenClock)
        clock.advance(**delta)


def attack(guest: Guest, urls: list[str], local: list[Path]) -> dict[str, int]:
    """Everything root on the guest can do with its tokens and the passphrase."""
    for disk in local:
        shutil.rmtree(disk)
        disk.mkdir()
    tried = {"overwritten": 0, "purges_refused": 0}
    # The attacker opens the repository as its owner would, to derive the embassy key.
    with Repository.open([open_site(u) for u in urls], PASS, connect=open_site) as repo:
        key = embassy_key(repo.master)
        sites = [s for s in repo.sites if isinstance(s, PartnerSite)]
        # A real re-key: a slot for the attacker's passphrase, the owner's slots deleted.
        slot = make_passphrase_slot(
            repo.master, ATTACKER_PASS, created=repo.clock.now(), label="owned"
        )
        for site in sites:
            names = list(site.list())
            for name in names:
                if name.startswith("keys/"):
                    site.delete(name)
            site.put(f"keys/{slot.id}", slot.to_json())
            for name in names:
                if name.startswith("keys/"):
                    continue
                data = site.get(name)
                site.put(name, os.urandom(len(data)))  # overwrite
                site.put(name, data[: len(data) // 3])  # truncate
                site.delete(name)
                tried["overwritten"] += 1
            for version in site.versions():
                if version["current"] and not version["marker"]:
                    continue
                statement = purge_statement(site.agreement, str(version["version"]))
                with pytest.raises(RetentionLocked):
                    site.signed(
                        "purge",
                        {
                            "version": str(version["version"]),
                            "public_key": key.public_text,
                            "signature": key.sign(statement),
                        },
                    )
                tried["purges_refused"] += 1
        # And a signed release of everything up to now: accepted, and it purges nothing yet.
        released = guest_side.release(repo.sites, repo.master, repo.clock.now())
        assert [r.purged for r in released] == [0, 0]
    return tried


def test_a_fresh_node_restores_bit_identical_from_partner_hosts_after_a_ransomware_attack(
    guest: Guest, tmp_path: Path
) -> None:
    hosts: list[Host] = [guest.add_host("TT", "tt-host"), guest.add_host("BB", "bb-host")]
    local = [tmp_path / "kingston", tmp_path / "montego-bay"]
    for disk in local:
        disk.mkdir()
    partner_urls = [h.agreement("jm-records", retention_days=90) for h in hosts]
    urls = [f"file://{d}" for d in local] + partner_urls
    node = guest.node
    units = lambda: node.unit(node.operator())  # noqa: E731
    service.create(
        units, "gov-records", [open_site(u) for u in urls], lambda: PASS, k=2, clock=node.clock
    )
    source = tmp_path / "records"
    files = records(source)
    access = service.Access(units, "gov-records", node.clock, lambda: PASS)
    snapshot = service.backup(access, [str(source)]).snapshot.id
    with service.opened(access) as found:  # registers the embassy key on both agreements
        guest_side.release(found.repo.sites, found.repo.master, node.clock.now())
        registered = embassy_key(found.repo.master).public_text
    before_attack = hosts[0].node.clock.now()

    advance([node, *(h.node for h in hosts)], hours=6)
    tried = attack(guest, urls, local)
    assert tried["overwritten"] > 0 and tried["purges_refused"] > tried["overwritten"]

    # The partners' current views hold the attacker's key slot alone: nothing of ours opens.
    for url in partner_urls:
        now_site = open_site(url)
        shown = list(now_site.list())
        now_site.close()
        assert len(shown) == 1 and shown[0].startswith("keys/")
    # What the hosts recorded: every purge attempt refused, nothing purged, keys registered.
    for host in hosts:
        with host.node.unit(host.node.operator()) as ctx:
            [hosted] = agreements.hosted(ctx)
            codes = {r.code for r in agreements.refusals(ctx, limit=10_000)}
        assert codes == {"retention_locked"} and hosted.refusals * 2 >= tried["purges_refused"]
        assert hosted.usage.objects == 1  # the attacker's key slot
        assert hosted.agreement.signing_key == registered

    # A fresh node: the passphrase, and new links to the two hosts (the same tokens here).
    fresh = make_node(tmp_path / "fresh", None, FrozenClock(EPOCH + timedelta(hours=7)), "JM")
    try:
        with fresh.unit(fresh.operator()) as ctx:
            for host in hosts:
                partners.add_partner(ctx, host.name, host.node.nation, host.live.url)
                link_partner(
                    ctx,
                    fresh.settings,
                    host.name,
                    token=host.token,
                    public_key=load_node_key(host.node.settings).public_text,
                )
        use_directory(node_directory(fresh))
        as_of = before_attack.isoformat().replace("+00:00", "Z")
        past = [f"{u}?as-of={as_of}" for u in partner_urls]
        view = open_site(past[0])
        with pytest.raises(SiteReadOnly):
            view.put("config", b"no")
        view.close()
        # Any one surviving partner opens the repository and lists what can be restored.
        with Repository.open([open_site(past[1])], PASS) as alone:
            assert [s.id for s in alone.snapshots()] == [snapshot]
            repo_id = alone.config.id
        fresh_units = lambda: fresh.unit(fresh.operator())  # noqa: E731
        # One partner URL as of before the attack is all the fresh node is given: the other
        # partner in the config is opened as of the same time, the wiped disks as they are.
        target = tmp_path / "restored"
        access = service.Access(fresh_units, past[0], fresh.clock, lambda: PASS, adopt=True)
        service.restore(access, "latest", target)
        assert restored(target, source) == files
        with fresh_units() as ctx:
            row = registry.get_repo(ctx, "gov-records")
        assert row.repository_id == repo_id
        assert row.sites == [f"file://{d}" for d in local] + past
    finally:
        fresh.close()
