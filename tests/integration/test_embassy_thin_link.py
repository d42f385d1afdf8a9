"""A backup to a partner host behind a thin link: 2 Mbit/s each way, 250 ms round trip, 1%
segment loss (tests/linkemu.py says how each is emulated), and the link dropped twice in the
middle of the backup."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from seawall.embassy.backup import back_up
from seawall.embassy.chunking import ChunkerParams
from seawall.embassy.errors import SiteUnavailable
from seawall.embassy.keys import KdfParams
from seawall.embassy.repository import Repository
from seawall.embassy.restore import restore_snapshot
from seawall.embassy.resuming import ResumingSite
from seawall.embassy.sites import open_site
from seawall.embassy.sites.partner import PartnerSite
from tests.cli import init_node, run_seawall, site_dirs
from tests.hosts import Guest
from tests.linkemu import thin_host

PASS = "correct horse battery staple"
FAST_KDF = KdfParams(time_cost=1, memory_cost=64, parallelism=1)
# Small packs: a drop costs at most the two shares in flight, here under 48 KiB each (a pack
# ships once it holds 64 KiB, so it holds under 96), so two drops cost at most 6% of the
# 3 MiB the host gets; the requests' own bytes (headers, stats, listings) add about 2%.
CHUNKS = ChunkerParams(min_size=8 * 1024, avg_size=16 * 1024, max_size=32 * 1024)
PACK = 64 * 1024
DATA = 6 * 1024 * 1024


def test_backup_over_a_thin_link_survives_two_drops_and_sends_each_share_once(
    guest: Guest, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "ledger.bin").write_bytes(os.urandom(DATA))
    disks = [tmp_path / "kingston", tmp_path / "montego-bay"]
    for disk in disks:
        disk.mkdir()
    with thin_host(guest) as (host, link):
        url = host.agreement()
        sites = [open_site(f"file://{d}") for d in disks] + [open_site(url)]
        tapped: set[str] = set()  # what the audit hook saw stored (its challenges' source)
        partner = sites[-1]
        assert isinstance(partner, PartnerSite)
        partner.tap = lambda name, _data: tapped.add(name)
        repo = Repository.init(
            sites, PASS, name="gov", k=2, kdf=FAST_KDF, pack_size=PACK, chunker=CHUNKS
        )
        try:
            before = link.proxy.up_bytes
            # Half a share's body into the first third and the second third of the upload.
            third = DATA // 2 // 3
            link.proxy.cut_at = [before + third + 40_000, before + 2 * third + 40_000]
            report = back_up(repo, [source])
        finally:
            repo.close()
        assert link.proxy.cuts == 2

        check = PartnerSite.from_url(url)
        try:
            versions = check.versions("")
            shares = [v for v in versions if str(v["name"]).startswith("data/")]
            names = [str(v["name"]) for v in shares]
            # Every pack has its share on the host, once: no share was stored twice.
            assert len(names) == len(set(names)) == report.packs_written
            # Each share on the host, the ones found there after a drop included, has its
            # audit challenges: none is left unauditable by the resume.
            assert set(names) <= tapped
            held = sum(int(v["size"]) for v in versions if not v["marker"])
        finally:
            check.close()
        wire = link.wire_bytes
        print(f"wire {wire} bytes, held {held} bytes, ratio {wire / held:.3f}")
        assert wire <= 1.1 * held

        # The snapshot restores from the host and one disk. What the host holds is the point,
        # not the link's speed a second time: the restore reads over a wide link.
        link.widen()
        with Repository.open([open_site(f"file://{disks[0]}"), open_site(url)], PASS) as again:
            target = tmp_path / "restored"
            restore_snapshot(again, report.snapshot.id, target)
        assert (target / source.relative_to("/") / "ledger.bin").read_bytes() == (
            source / "ledger.bin"
        ).read_bytes()


def test_limit_upload_and_download_hold_each_site_to_their_rate(tmp_path: Path) -> None:
    home = init_node(tmp_path / "node")
    dirs = site_dirs(tmp_path, 2)
    env = {"SEAWALL_EMBASSY_PASSPHRASE": PASS}
    init = ["embassy", "init", "--name", "gov", "--shares", "1-of-2"]
    assert run_seawall(home, *init, *[f"--site=file://{d}" for d in dirs], env=env).code == 0
    source = tmp_path / "src"
    source.mkdir()
    (source / "scan.tif").write_bytes(os.urandom(256 * 1024))

    start = time.monotonic()
    done = run_seawall(
        home, "embassy", "backup", "--repo", "gov", "--limit-upload", "64", str(source), env=env
    )
    # 256 KiB to each site at 64 KiB/s, the first second's worth saved up: 3 s at least.
    assert done.code == 0, done.err
    assert time.monotonic() - start >= 3

    start = time.monotonic()
    limit = {**env, "SEAWALL_EMBASSY_LIMIT_DOWNLOAD_KIB": "64"}  # the setting, no option
    args = ["embassy", "restore", "--repo", "gov", "latest", "--target", str(tmp_path / "out")]
    restored = run_seawall(home, *args, env=limit)
    assert restored.code == 0, restored.err
    assert time.monotonic() - start >= 3

    refused = run_seawall(
        home, "embassy", "check", "--repo", "gov", "--limit-download", "0", env=env
    )
    assert refused.code != 0
    assert "--limit-download" in refused.err


def test_a_partner_down_past_the_window_fails_once_then_at_once(guest: Guest) -> None:
    with thin_host(guest, loss=0.0) as (host, link):
        url = host.agreement()
        site = ResumingSite(PartnerSite.from_url(url), window=1.0)
        never = ResumingSite(PartnerSite.from_url(url), window=1.0)
        try:
            site.put("index/one", b"written while the link is up")
            link.proxy.down_for = 60.0
            link.proxy.cut()
            start = time.monotonic()
            with pytest.raises(SiteUnavailable):
                site.put("index/two", b"x" * 1000)
            assert 1.0 <= time.monotonic() - start < 10
            assert site.resumed.drops == 1
            start = time.monotonic()
            with pytest.raises(SiteUnavailable):
                site.get("index/one")  # given up: no second window
            # A site that never answered in this run is not waited for either.
            with pytest.raises(SiteUnavailable):
                never.stat("index/one")
            assert time.monotonic() - start < 2
        finally:
            site.close()
            never.close()
