"""``unlock``: stale locks go, live ones stay unless every lock is to go (restic's unlock)."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

from seawall.embassy.errors import RepositoryLocked
from seawall.embassy.locks import Lock, new_lock
from seawall.embassy.pruning import prune_packs
from seawall.embassy.repository import Repository
from seawall.embassy.sites.local import LocalSite


def plant(repo: Repository, lock: Lock) -> Lock:
    """Write ``lock`` to every site, as its holder would have."""
    repo.put_everywhere(lock.name, repo.seal_meta(lock.name, lock.to_json()))
    return lock


def held(sites: list[LocalSite]) -> list[set[str]]:
    return [set(site.list("locks/")) for site in sites]


def gone_pid() -> int:
    """The pid of a process of this host that has exited."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_lock_from_another_node_blocks_prune_until_unlocked(
    repo: Repository, sites: list[LocalSite]
) -> None:
    now = repo.clock.now()
    mine = new_lock(exclusive=False, now=now)
    fresh = plant(repo, Lock("a1" * 8, False, "node-b", 4242, now, now))
    silent = now - timedelta(minutes=31)
    stale = plant(repo, Lock("b2" * 8, True, "node-c", 77, silent, silent))
    dead = plant(repo, Lock("c3" * 8, False, mine.hostname, gone_pid(), now, now))
    with pytest.raises(RepositoryLocked) as caught:
        prune_packs(repo)
    message = caught.value.message
    assert "shared lock by pid 4242 on node-b" in message
    assert "seawall embassy unlock --repo gov-records" in message and "--remove-all" in message
    assert "\n" not in message

    report = repo.unlock()
    assert {lock.id for lock in report.removed} == {stale.id, dead.id}
    assert [lock.id for lock in report.kept] == [fresh.id]
    assert held(sites) == [{fresh.name}] * 5
    with pytest.raises(RepositoryLocked):
        prune_packs(repo)

    everything = repo.unlock(remove_all=True)
    assert [(lock.id, lock.hostname) for lock in everything.removed] == [(fresh.id, "node-b")]
    assert everything.kept == ()
    assert held(sites) == [set()] * 5
    assert prune_packs(repo).packs_deleted == 0  # runs now
    assert repo.unlock().removed == ()


def test_remove_all_also_removes_lock_objects_that_do_not_open(
    repo: Repository, sites: list[LocalSite]
) -> None:
    sites[0].put("locks/" + "d4" * 8, b"not a sealed lock")
    assert repo.unlock().removed == ()
    assert held(sites)[0] == {"locks/" + "d4" * 8}
    report = repo.unlock(remove_all=True)
    assert report.unreadable == 1
    assert held(sites) == [set()] * 5
