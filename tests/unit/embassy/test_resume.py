"""Resume: a rerun reuses every pack a killed backup left complete on k+1 sites, indexed or not.

The bytes a rerun uploads are counted from the share files it adds to each site. A twin of
the repository (the same sites copied before the killed run, so the same keys and chunk
cut points) backs up the same file in one go: what the killed run and the rerun store on a
site together, beyond what the twin stores there, was uploaded twice.
"""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from seawall.embassy.backup import back_up
from seawall.embassy.checking import check_repository
from seawall.embassy.erasure import share_size
from seawall.embassy.packs import share_name
from seawall.embassy.repository import Repository
from seawall.embassy.restore import restore_snapshot
from seawall.embassy.sites.local import LocalSite

from .conftest import FAST_KDF, PASSPHRASE, SMALL_CHUNKS, tree_state

PACK = 64 * 1024
K, N = 3, 5

# A backup whose site 4 stalls for good at its 8th pack share (a link that hangs), while the
# other four carry on; the parent kills it there. Packs 1-4 are indexed (an index file
# every 4 packs), 5-7 are on every site and in no index, 8 (and 9, sent while 8 waits) on
# four sites.
CHILD = """
import sys, threading, time
from pathlib import Path
from seawall.embassy.backup import back_up
from seawall.embassy.repository import Repository
from seawall.embassy.sites.local import LocalSite

class StallingSite:
    def __init__(self, inner, after):
        self.inner, self.after, self.count, self.lock = inner, after, 0, threading.Lock()

    def put(self, name, data):
        if name.startswith("data/"):
            with self.lock:
                self.count += 1
                stall = self.count > self.after
                first = self.count == self.after + 1
            if stall:
                if first:
                    print("stalled", flush=True)
                time.sleep(3600)
        self.inner.put(name, data)

    def __getattr__(self, attr):
        return getattr(self.inner, attr)

root = Path(sys.argv[1])
sites = [LocalSite(root / f"site{i}", fsync=False) for i in range(5)]
sites[4] = StallingSite(sites[4], int(sys.argv[4]))
repo = Repository.open(sites, sys.argv[2])
print("ready", flush=True)
back_up(repo, [sys.argv[3]])
print("done", flush=True)
"""


def make_repo(root: Path) -> Repository:
    sites = []
    for i in range(N):
        (root / f"site{i}").mkdir(parents=True)
        sites.append(LocalSite(root / f"site{i}", fsync=False))
    return Repository.init(
        sites, PASSPHRASE, name="resume", k=K, kdf=FAST_KDF, pack_size=PACK, chunker=SMALL_CHUNKS
    )


def shares_on(root: Path) -> list[dict[str, int]]:
    """Share file name -> size, for each site."""
    out = []
    for i in range(N):
        site = LocalSite(root / f"site{i}", fsync=False)
        out.append({name: site.stat(name).size for name in site.list("data/")})  # type: ignore[union-attr]
    return out


def kill_after_stall(root: Path, source: Path, after: int) -> None:
    """Run a backup whose site 4 stalls at share ``after + 1``; SIGKILL it once the others
    have written what they can."""
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, str(root), PASSPHRASE, str(source), str(after)],
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        assert child.stdout.readline().strip() == "stalled"
        # Sites 0-3 finish the shares in flight; then the count stops moving.
        last: list[dict[str, int]] = []
        while (now := shares_on(root)) != last:
            last = now
            time.sleep(0.3)
        child.send_signal(signal.SIGKILL)
        child.wait()


def test_a_rerun_uploads_again_less_than_one_pack_per_site(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    # One incompressible file, cut on one thread: the chunks reach the packs in one order.
    (source / "census.bin").write_bytes(random.Random(5).randbytes(1_500_000))
    root, twin_root = tmp_path / "repo", tmp_path / "twin"
    repo = make_repo(root)
    shutil.copytree(root, twin_root)

    kill_after_stall(root, source, after=7)
    left = shares_on(root)
    indexed = {share_name(p) for p in repo.load_index().packs}
    orphans = {name for site in left for name in site} - indexed
    holders = {name: sum(name in site for site in left) for name in orphans}
    assert len(indexed) == 4 and len(orphans) >= 4, (len(indexed), holders)
    assert all(count >= K + 1 for count in holders.values()), holders

    report = back_up(repo, [source])
    after = shares_on(root)
    uploaded = [
        sum(size for name, size in a.items() if name not in b)
        for a, b in zip(after, left, strict=True)
    ]

    twin_sites = [LocalSite(twin_root / f"site{i}", fsync=False) for i in range(N)]
    with Repository.open(twin_sites, PASSPHRASE) as twin:
        back_up(twin, [source])
    once = [sum(site.values()) for site in shares_on(twin_root)]
    again = [u + sum(kept.values()) - t for u, kept, t in zip(uploaded, left, once, strict=True)]
    one_pack = share_size(PACK, K)
    print(f"per site: uploaded by the rerun {uploaded}, uploaded twice {again}")
    assert all(bytes_ < one_pack for bytes_ in again), (again, one_pack)
    assert report.packs_reused == len(orphans)

    check = check_repository(repo, read_data=True)
    assert check.ok and check.problems == [], check.problems
    assert not report.snapshot.degraded
    restore_snapshot(repo, "latest", tmp_path / "out")
    assert tree_state(tmp_path / "out" / source.as_posix().lstrip("/")) == tree_state(source)
    repo.close()


def test_a_pack_on_k_sites_or_fewer_is_written_again(
    repo: Repository, sites: list[LocalSite], tmp_path: Path
) -> None:
    source = tmp_path / "data"
    source.mkdir()
    (source / "ledger.bin").write_bytes(random.Random(6).randbytes(600_000))
    back_up(repo, [source])
    packs = list(repo.load_index().packs.values())
    assert len(packs) >= 5
    # As if the backup had been killed before any index file, tree or snapshot was written.
    for site in sites:
        for prefix in ("index/", "snapshots/", "trees/"):
            for name in list(site.list(prefix)):
                site.delete(name)
    few, short, whole = packs[0], packs[1], packs[2:]
    for site in sites[:2]:
        site.delete(share_name(few.id))  # left on 3 = k sites
    for site in sites[:2]:
        path = site.root / share_name(short.id)
        path.write_bytes(path.read_bytes()[:-1])  # two shares cut short: 3 whole ones left
    left = shares_on(tmp_path / "sites")

    report = back_up(repo, [source])
    assert report.packs_reused == len(whole)
    index = repo.load_index()
    assert {p.id for p in whole} <= set(index.packs)
    assert few.id not in index.packs and short.id not in index.packs
    # Their chunks (and only theirs, give or take the pack boundaries) are stored again.
    again = sum(e.raw_length for p in (few, short) for e in p.entries)
    assert report.snapshot.new_bytes == again
    after = shares_on(tmp_path / "sites")
    uploaded = sum(size for name, size in after[4].items() if name not in left[4])
    assert uploaded < share_size(few.length + short.length, repo.config.k) + share_size(
        repo.config.pack_size, repo.config.k
    )
    assert check_repository(repo, read_data=True).ok
    restore_snapshot(repo, "latest", tmp_path / "out")
    assert tree_state(tmp_path / "out" / source.as_posix().lstrip("/")) == tree_state(source)


@pytest.mark.parametrize("lost", [4, 2])
def test_a_tiny_pack_whose_trailer_spans_its_data_shares_is_reused(
    repo: Repository, sites: list[LocalSite], tmp_path: Path, lost: int
) -> None:
    """Its table is read from the data shares back to the trailer's start, or (when one of
    them is gone) from the pack rebuilt out of any k shares."""
    source = tmp_path / "note"
    source.mkdir()
    (source / "memo.txt").write_bytes(b"storm shelter keys are with the harbour master\n")
    back_up(repo, [source])
    [pack] = repo.load_index().packs.values()
    # 300-odd bytes over k = 3 shares: the trailer starts in the first data share.
    assert pack.length - 4 - 46 - 44 < 2 * -(-pack.length // 3)
    for site in sites:
        for name in [*site.list("index/"), *site.list("snapshots/"), *site.list("trees/")]:
            site.delete(name)
    sites[lost].delete(share_name(pack.id))  # four sites left: k + 1
    report = back_up(repo, [source])
    assert (report.packs_reused, report.packs_written) == (1, 0)
    assert check_repository(repo, read_data=True).problems == []
