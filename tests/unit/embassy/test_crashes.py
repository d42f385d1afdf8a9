"""kill -9 at random moments during backup, prune, repair --index and copy: check passes (or,
for the index rebuild, every snapshot stays readable) and no snapshot is lost."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from seawall.embassy.backup import back_up
from seawall.embassy.checking import check_repository
from seawall.embassy.copying import copy_snapshots
from seawall.embassy.errors import SiteFull, SiteUnavailable
from seawall.embassy.health import gather_stats
from seawall.embassy.pruning import forget_snapshots, prune_packs
from seawall.embassy.repairing import repair_repository
from seawall.embassy.repository import Repository
from seawall.embassy.restore import restore_snapshot
from seawall.embassy.sites.base import ObjectInfo
from seawall.embassy.sites.local import LocalSite
from seawall.embassy.snapshots import KeepPolicy
from tests.servers import small_filesystem

from .conftest import FAST_KDF, PASSPHRASE, SMALL_CHUNKS, tree_state

CHILD = """
import sys
from pathlib import Path
from seawall.embassy.backup import back_up
from seawall.embassy.repairing import repair_repository
from seawall.embassy.copying import copy_snapshots
from seawall.embassy.pruning import prune_packs
from seawall.embassy.repository import Repository
from seawall.embassy.sites.local import LocalSite

root, action = Path(sys.argv[1]), sys.argv[2]
sites = [LocalSite(root / f"site{i}", fsync=False) for i in range(5)]
repo = Repository.open(sites, sys.argv[3])
repo.index_every = 1
print("ready", flush=True)
if action == "backup":
    back_up(repo, [sys.argv[4]])
elif action == "repair-index":
    repair_repository(repo, index=True)
elif action == "copy":
    into = [LocalSite(Path(sys.argv[4]) / f"site{i}", fsync=False) for i in range(5)]
    target = Repository.open(into, sys.argv[3])
    target.index_every = 1
    copy_snapshots(repo, target)
else:
    prune_packs(repo)
print("done", flush=True)
"""


def run_and_kill(root: Path, action: str, delay: float, *extra: str) -> bool:
    """Run an action in a child process and SIGKILL it after ``delay``; True if it finished."""
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, str(root), action, PASSPHRASE, *extra],
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait()
        return child.stdout.read().strip() == "done"


def init(root: Path) -> Repository:
    sites = []
    for i in range(5):
        (root / f"site{i}").mkdir(parents=True)
        sites.append(LocalSite(root / f"site{i}", fsync=False))
    return Repository.init(
        sites,
        PASSPHRASE,
        name="crash",
        kdf=FAST_KDF,
        pack_size=64 * 1024,
        chunker=SMALL_CHUNKS,
    )


def test_kill_during_backup_leaves_a_repository_that_check_passes(
    tmp_path: Path, source: Path
) -> None:
    root = tmp_path / "repo"
    repo = init(root)
    first = back_up(repo, [source]).snapshot
    raw_first = gather_stats(repo).raw_bytes
    rng = random.Random(11)
    (source / "bulk.bin").write_bytes(rng.randbytes(4_000_000))
    finished = 0
    for delay in [0.0, *sorted(rng.uniform(0.0, 0.5) for _ in range(9))]:
        finished += run_and_kill(root, "backup", delay, str(source))
        report = check_repository(repo)
        assert report.ok, (delay, report.errors)
        assert first.id in {s.id for s in repo.snapshots()}
    assert finished < 10  # most kills land mid-backup
    reused = gather_stats(repo).raw_bytes - raw_first
    assert reused > 0
    final = back_up(repo, [source])
    # Chunks in packs the killed runs uploaded are reused, not uploaded again: those indexed,
    # and those left in no index but complete on k+1 sites, which the final run indexes.
    assert final.snapshot.new_bytes <= 4_000_000 - reused
    assert gather_stats(repo).raw_bytes - raw_first == 4_000_000
    assert check_repository(repo, read_data=True).ok
    restore_snapshot(repo, "latest", tmp_path / "out")
    assert tree_state(tmp_path / "out" / source.as_posix().lstrip("/")) == tree_state(source)
    repo.close()


def test_kill_during_prune_loses_no_kept_snapshot(tmp_path: Path, source: Path) -> None:
    root = tmp_path / "repo"
    repo = init(root)
    rng = random.Random(12)
    for _ in range(3):
        (source / "bulk.bin").write_bytes(rng.randbytes(1_500_000))
        back_up(repo, [source])
    # The packs of the forgotten backups also hold chunks the kept one uses, so each prune
    # repacks (11 packs into 2 here) before it deletes: kills land in both phases.
    keep = forget_snapshots(repo, KeepPolicy(last=1)).kept
    expected = tree_state(source)
    finished = 0
    for delay in [0.0, *sorted(rng.uniform(0.0, 0.2) for _ in range(9))]:
        finished += run_and_kill(root, "prune", delay)
        assert check_repository(repo).ok
        assert tuple(s.id for s in repo.snapshots()) == keep
    assert finished < 10
    prune_packs(repo)
    repair_repository(repo)  # copies of metadata that a kill left on some sites only
    assert check_repository(repo, read_data=True).problems == []
    restore_snapshot(repo, "latest", tmp_path / "out")
    assert tree_state(tmp_path / "out" / source.as_posix().lstrip("/")) == expected
    repo.close()


def test_a_full_site_stops_the_backup_with_a_clear_error(
    repo: Repository, sites: list[LocalSite], source: Path, tmp_path: Path
) -> None:
    first = back_up(repo, [source]).snapshot
    (source / "bulk.bin").write_bytes(os.urandom(2_000_000))
    repo.close()
    with small_filesystem(tmp_path / "tiny", "512k") as tiny:
        # Site 4 moves to a real 512 KiB filesystem holding a copy of what it had.
        for path in sorted(sites[4].root.rglob("*")):
            if path.is_file():
                dest = tiny / path.relative_to(sites[4].root)
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(path.read_bytes())
        full = [LocalSite(tiny) if i == 4 else s for i, s in enumerate(sites)]
        with Repository.open(full, PASSPHRASE) as crowded:
            with pytest.raises(SiteFull, match=r"is full; .* wrote no snapshot"):
                back_up(crowded, [source])
            assert [s.id for s in crowded.snapshots()] == [first.id]
            assert check_repository(crowded).ok


class DyingSite:
    """A real LocalSite cut off (as by a dropped link) after a set number of deletions."""

    def __init__(self, inner: LocalSite, deletions: int) -> None:
        self.inner = inner
        self.deletions = deletions

    @property
    def url(self) -> str:
        return self.inner.url

    def put(self, name: str, data: bytes) -> None:
        self.inner.put(name, data)

    def get(self, name: str) -> bytes:
        return self.inner.get(name)

    def list(self, prefix: str = "") -> object:
        return self.inner.list(prefix)

    def stat(self, name: str) -> ObjectInfo | None:
        return self.inner.stat(name)

    def close(self) -> None:
        self.inner.close()

    def delete(self, name: str) -> None:
        if self.deletions <= 0:
            raise SiteUnavailable("simulated crash")
        self.deletions -= 1
        self.inner.delete(name)


@pytest.mark.parametrize("deletions", [0, 1, 2, 3, 5, 8])
def test_prune_interrupted_after_any_deletion_keeps_every_kept_snapshot(
    repo: Repository, sites: list[LocalSite], source: Path, tmp_path: Path, deletions: int
) -> None:
    rng = random.Random(deletions)
    # Enough new data per backup that prune deletes well over eight objects on a site,
    # however the packs interleave the changed file with the others (about 17 here).
    for _ in range(3):
        (source / "bulk.bin").write_bytes(rng.randbytes(600_000))
        back_up(repo, [source])
    keep = forget_snapshots(repo, KeepPolicy(last=1)).kept
    repo.close()
    dying = [DyingSite(s, deletions) if i == 0 else s for i, s in enumerate(sites)]
    doomed = Repository.open(dying, PASSPHRASE)  # type: ignore[arg-type]
    with pytest.raises(SiteUnavailable):
        prune_packs(doomed)
    doomed.close()
    with Repository.open(sites, PASSPHRASE) as after:
        assert check_repository(after).ok
        assert tuple(s.id for s in after.snapshots()) == keep
        prune_packs(after)
        assert check_repository(after, read_data=True).problems == []
        restore_snapshot(after, "latest", tmp_path / "out")
    assert tree_state(tmp_path / "out" / source.as_posix().lstrip("/")) == tree_state(source)


def test_an_init_that_fails_mid_way_leaves_every_site_empty(tmp_path: Path) -> None:
    roots = [tmp_path / "a", tmp_path / "b"]
    for root in roots:
        root.mkdir()
    with small_filesystem(tmp_path / "tiny", "64k") as tiny:
        filler = tiny / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
        with contextlib.suppress(OSError):  # write until the filesystem is full
            while True:
                os.write(fd, b"x" * 4096)
        os.close(fd)
        sites = [*(LocalSite(r) for r in roots), LocalSite(tiny)]
        with pytest.raises(SiteFull):
            Repository.init(sites, PASSPHRASE, name="first", k=2, kdf=FAST_KDF)
        assert [list(LocalSite(r).list()) for r in roots] == [[], []]
        assert list(LocalSite(tiny).list()) == ["filler"]
        filler.unlink()
        Repository.init(sites, PASSPHRASE, name="again", k=2, kdf=FAST_KDF).close()


def test_kill_during_repair_index_leaves_a_readable_repository_and_a_rerun_completes(
    tmp_path: Path, source: Path
) -> None:
    root = tmp_path / "repo"
    repo = init(root)
    repo.index_every = 1
    first = back_up(repo, [source]).snapshot
    kept = repo.names("index/")
    rng = random.Random(13)
    (source / "bulk.bin").write_bytes(rng.randbytes(1_500_000))
    back_up(repo, [source])
    expected = tree_state(source)
    every = set(repo.load_index().packs)
    # Every index file of the second backup is damaged on every site: some 25 packs to read.
    for name in repo.names("index/") - kept:
        for i in range(5):
            path = root / f"site{i}" / name
            path.write_bytes(path.read_bytes()[:-7])
    readable = set(repo.load_index().packs)
    assert readable < every
    finished = 0
    for number, delay in enumerate([0.0, *sorted(rng.uniform(0.0, 0.6) for _ in range(9))]):
        finished += run_and_kill(root, "repair-index", delay)
        index = repo.load_index()
        # The old files or the new one: what was readable still is, and nothing damaged
        # is left but the files the rebuild had not retired yet.
        assert readable <= set(index.packs) <= every
        restore_snapshot(repo, first.id, tmp_path / f"first-{number}")
    assert finished < 10
    repair_repository(repo, index=True)
    assert set(repo.load_index().packs) == every
    assert check_repository(repo, read_data=True).problems == []
    restore_snapshot(repo, "latest", tmp_path / "out")
    assert tree_state(tmp_path / "out" / source.as_posix().lstrip("/")) == expected
    repo.close()


def test_kill_during_copy_leaves_the_target_consistent_and_a_rerun_finishes(
    tmp_path: Path, source: Path
) -> None:
    origin, into = tmp_path / "from", tmp_path / "to"
    repo = init(origin)
    rng = random.Random(14)
    expected: dict[str, dict[str, tuple[str, int, int, bytes | str]]] = {}
    for _ in range(3):
        (source / "bulk.bin").write_bytes(rng.randbytes(1_500_000))
        snap = back_up(repo, [source]).snapshot
        expected[snap.id] = tree_state(source)
    ids = [s.id for s in repo.snapshots()]
    target = init(into)
    inside = source.as_posix().lstrip("/")
    restored: set[str] = set()

    def restore_new_copies() -> list[str | None]:
        """Restore each copy not restored yet and compare it with its original."""
        copies = target.snapshots()
        for copy in copies:
            if copy.id not in restored:
                out = tmp_path / "out" / copy.id
                restore_snapshot(target, copy.id, out)
                assert copy.original is not None
                assert tree_state(out / inside) == expected[copy.original]
                restored.add(copy.id)
        return [c.original for c in copies]

    finished = 0
    for delay in [0.0, *sorted(rng.uniform(0.0, 0.4) for _ in range(9))]:
        finished += run_and_kill(origin, "copy", delay, str(into))
        report = check_repository(target)
        assert report.ok, (delay, report.errors)
        originals = restore_new_copies()
        assert len(set(originals)) == len(originals) and set(originals) <= set(ids)
        assert [s.id for s in repo.snapshots()] == ids
    assert finished < 10  # most kills land mid-copy
    copy_snapshots(repo, target)
    assert sorted(restore_new_copies()) == sorted(ids)  # each exactly once
    assert check_repository(target, read_data=True).ok
    # The same chunks, each stored once in the target whatever the kills left behind.
    assert gather_stats(target).raw_bytes == gather_stats(repo).raw_bytes
    repo.close()
    target.close()
