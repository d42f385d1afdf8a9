"""A run that loses its lock stops at the next safe point, writing nothing more.

Another process takes a lock as stale once it has gone unrefreshed for STALE_AFTER, and may
then delete it and prune. A holder that could not refresh its lock for GIVE_UP_AFTER, or
whose lock was removed, must not go on writing packs or publish a snapshot (restic cancels
the operation the same way).
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from seawall.core.clock import FrozenClock
from seawall.embassy.backup import back_up
from seawall.embassy.checking import check_repository
from seawall.embassy.errors import LockLost
from seawall.embassy.locks import GIVE_UP_AFTER, STALE_AFTER
from seawall.embassy.progress import Progress
from seawall.embassy.pruning import forget_snapshots, prune_packs
from seawall.embassy.repairing import repair_repository
from seawall.embassy.repository import Repository
from seawall.embassy.restore import restore_snapshot
from seawall.embassy.sites.local import LocalSite
from seawall.embassy.snapshots import KeepPolicy

from .conftest import FAST_KDF, PASSPHRASE, SMALL_CHUNKS, SMALL_PACK, tree_state


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 9, 1, 3, tzinfo=UTC))


@pytest.fixture
def repo(sites: list[LocalSite], clock: FrozenClock) -> Iterator[Repository]:
    """A 3-of-5 repository on a clock the test moves."""
    repository = Repository.init(
        sites,
        PASSPHRASE,
        name="gov-records",
        k=3,
        kdf=FAST_KDF,
        pack_size=SMALL_PACK,
        chunker=SMALL_CHUNKS,
        clock=clock,
    )
    yield repository
    repository.close()


def objects(sites: list[LocalSite], prefix: str) -> set[tuple[int, str]]:
    return {(i, name) for i, site in enumerate(sites) for name in site.list(prefix)}


def remove_locks(sites: list[LocalSite]) -> None:
    """What another process does to a lock it takes as stale."""
    for site in sites:
        for name in list(site.list("locks/")):
            site.delete(name)


def once(action: Callable[[], None]) -> Callable[[Progress], None]:
    """A progress callback that acts on its first call only."""
    done = False

    def progress(_: Progress) -> None:
        nonlocal done
        if not done:
            done = True
            action()

    return progress


def lose(how: str, sites: list[LocalSite], clock: FrozenClock) -> Callable[[], None]:
    """The lock is removed by another process, or goes unrefreshed past the deadline (the
    process was suspended, or the link to every site was down)."""
    if how == "removed":
        return lambda: remove_locks(sites)
    return lambda: clock.advance(seconds=GIVE_UP_AFTER.total_seconds() + 60)


def assert_readable(repo: Repository, sites: list[LocalSite], source: Path, out: Path) -> None:
    assert check_repository(repo, read_data=True).ok
    restore_snapshot(repo, "latest", out)
    assert tree_state(out / source.as_posix().lstrip("/")) == tree_state(source)
    assert objects(sites, "locks/") == set()


def test_giving_up_comes_before_others_take_the_lock_as_stale() -> None:
    assert GIVE_UP_AFTER < STALE_AFTER


@pytest.mark.parametrize("how", ["removed", "silent"])
def test_a_backup_that_loses_its_lock_publishes_no_snapshot(
    repo: Repository,
    sites: list[LocalSite],
    clock: FrozenClock,
    source: Path,
    tmp_path: Path,
    how: str,
) -> None:
    first = back_up(repo, [source]).snapshot
    more = tmp_path / "more"
    more.mkdir()
    (more / "new.bin").write_bytes(random.Random(3).randbytes(400_000))
    published = objects(sites, "snapshots/") | objects(sites, "trees/")
    indexes: set[tuple[int, str]] = set()

    def lost() -> None:
        lose(how, sites, clock)()
        indexes.update(objects(sites, "index/"))

    with pytest.raises(LockLost) as caught:
        back_up(repo, [source, more], progress=once(lost))
    assert caught.value.code == "lock_lost" and caught.value.exit_code == 75
    assert "\n" not in caught.value.message
    assert objects(sites, "snapshots/") | objects(sites, "trees/") == published
    if how == "silent":
        # Stopped at the first pack after the deadline: no index names its packs either.
        assert objects(sites, "index/") == indexes
    assert [s.id for s in repo.snapshots()] == [first.id]
    assert_readable(repo, sites, source, tmp_path / "out")


@pytest.mark.parametrize("how", ["removed", "silent"])
def test_a_prune_that_loses_its_lock_deletes_nothing(
    repo: Repository,
    sites: list[LocalSite],
    clock: FrozenClock,
    source: Path,
    tmp_path: Path,
    how: str,
) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "extra.bin").write_bytes(random.Random(4).randbytes(200_000))
    back_up(repo, [source, extra])
    clock.advance(hours=1)
    back_up(repo, [source])
    forget_snapshots(repo, KeepPolicy(last=1), group_by=())  # both backups in one group
    before = objects(sites, "index/") | objects(sites, "data/")
    with pytest.raises(LockLost):
        prune_packs(repo, max_unused=0.0, progress=once(lose(how, sites, clock)))
    after = objects(sites, "index/") | objects(sites, "data/")
    assert before <= after  # new packs may lie unindexed; nothing was deleted
    assert_readable(repo, sites, source, tmp_path / "out")
    assert prune_packs(repo, max_unused=0.0).packs_repacked >= 1  # the next prune does the work
    assert not (after - before) & objects(sites, "data/")  # and deletes what this one left
    assert_readable(repo, sites, source, tmp_path / "again")


def test_a_repair_that_loses_its_lock_stops_healing(
    repo: Repository, sites: list[LocalSite], clock: FrozenClock, source: Path, tmp_path: Path
) -> None:
    back_up(repo, [source])
    shutil.rmtree(sites[2].root / "data")
    missing = len(objects(sites, "data/")) // 4
    with pytest.raises(LockLost):
        repair_repository(repo, progress=once(lose("silent", sites, clock)))
    assert len({name for i, name in objects(sites, "data/") if i == 2}) < missing
    assert repair_repository(repo).shares_rebuilt >= 1
    assert_readable(repo, sites, source, tmp_path / "out")


def test_a_refresh_that_cannot_reach_the_sites_loses_the_lock_by_the_deadline(
    repo: Repository, sites: list[LocalSite], clock: FrozenClock
) -> None:
    half = GIVE_UP_AFTER / 2
    with repo.lock(exclusive=False) as held:
        clock.advance(seconds=half.total_seconds() + 1)
        assert held.refresh()  # written everywhere with the new time
        clock.advance(seconds=half.total_seconds() + 1)
        held.check()  # more than the deadline since taken, less since refreshed
        moved = [site.root.rename(site.root.with_name(site.root.name + "-away")) for site in sites]
        assert not held.refresh()  # no site took it: it keeps its last time
        held.check()
        clock.advance(seconds=half.total_seconds() + 1)
        with pytest.raises(LockLost, match="not refreshed"):
            held.check()
        for site, path in zip(sites, moved, strict=True):
            path.rename(site.root)
        assert not held.refresh()  # lost for good: others may be pruning already
        with pytest.raises(LockLost):
            held.check()
    assert objects(sites, "locks/") == set()


def test_a_lock_removed_by_another_process_is_lost_at_the_next_refresh(
    repo: Repository, sites: list[LocalSite]
) -> None:
    with repo.lock(exclusive=False) as held:
        assert held.refresh()
        remove_locks(sites)
        assert not held.refresh()
        with pytest.raises(LockLost, match="removed"):
            held.check()
        assert objects(sites, "locks/") == set()  # never written back


def test_a_lock_on_some_sites_only_is_refreshed_not_lost(
    repo: Repository, sites: list[LocalSite]
) -> None:
    with repo.lock(exclusive=False) as held:
        for site in sites[:4]:
            remove_locks([site])  # a site restored from an older copy, say
        assert held.refresh()
        held.check()
        assert len(objects(sites, "locks/")) == 5
    assert objects(sites, "locks/") == set()
