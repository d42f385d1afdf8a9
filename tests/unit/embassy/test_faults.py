"""Fault tests: lost sites, flipped bytes, bad passphrases, corrupt configs, crashes."""

from __future__ import annotations

import itertools
import random
import shutil
from pathlib import Path

import pytest

from seawall.embassy.backup import back_up
from seawall.embassy.checking import check_repository
from seawall.embassy.errors import (
    IntegrityError,
    PacksLost,
    RepositoryMissing,
    SiteUnavailable,
    TooFewShares,
    TooFewSites,
    WrongPassphrase,
)
from seawall.embassy.health import gather_stats, site_health
from seawall.embassy.packs import share_name
from seawall.embassy.pruning import prune_packs
from seawall.embassy.repairing import repair_repository
from seawall.embassy.repository import Repository
from seawall.embassy.restore import restore_snapshot
from seawall.embassy.sites.base import ObjectInfo
from seawall.embassy.sites.local import LocalSite

from .conftest import PASSPHRASE, make_sites, tree_state


def reopen(sites: list[LocalSite]) -> Repository:
    return Repository.open(sites, PASSPHRASE)


def share_files(site: LocalSite) -> list[Path]:
    return sorted(p for p in (site.root / "data").rglob("*") if p.is_file())


@pytest.mark.parametrize("lost", list(itertools.combinations(range(5), 2))[::3])
def test_restore_survives_two_lost_sites(
    repo: Repository, source: Path, tmp_path: Path, sites: list[LocalSite], lost: tuple[int, int]
) -> None:
    back_up(repo, [source])
    repo.close()
    for i in lost:
        shutil.rmtree(sites[i].root)
    with reopen(sites) as survivor:
        restore_snapshot(survivor, "latest", tmp_path / "out")
        assert not check_repository(survivor).ok  # the lost sites are named
    assert tree_state(tmp_path / "out" / source.as_posix().lstrip("/")) == tree_state(source)


def test_flipped_bytes_are_named_by_check_healed_by_repair(
    repo: Repository, source: Path, tmp_path: Path, sites: list[LocalSite]
) -> None:
    back_up(repo, [source])
    rng = random.Random(5)
    victims: set[tuple[int, str]] = set()
    for i in rng.sample(range(5), 3):
        path = rng.choice(share_files(sites[i]))
        data = bytearray(path.read_bytes())
        data[rng.randrange(len(data))] ^= 0x40
        path.write_bytes(bytes(data))
        victims.add((i, path.relative_to(sites[i].root).as_posix()))
    assert check_repository(repo).ok  # structure alone cannot see flipped bytes
    report = check_repository(repo, read_data=True)
    assert set(report.bad_shares) == victims
    assert all(p.kind == "share-corrupt" for p in report.errors)
    healed = repair_repository(repo)
    assert healed.shares_rebuilt == len(victims)
    assert check_repository(repo, read_data=True).ok
    restore_snapshot(repo, "latest", tmp_path / "out")
    assert tree_state(tmp_path / "out" / source.as_posix().lstrip("/")) == tree_state(source)


def test_read_data_subset_reads_a_fraction(repo: Repository, source: Path) -> None:
    back_up(repo, [source])
    packs = gather_stats(repo).packs
    report = check_repository(repo, read_data=0.5)
    assert report.ok and 1 <= report.packs_read <= packs


def test_wrong_passphrase_is_refused(repo: Repository, sites: list[LocalSite]) -> None:
    with pytest.raises(WrongPassphrase, match="passphrase opens none"):
        Repository.open(sites, "not the passphrase")


def test_fewer_than_k_sites_cannot_restore_and_backup_refuses(
    repo: Repository, source: Path, tmp_path: Path, sites: list[LocalSite]
) -> None:
    back_up(repo, [source])
    repo.close()
    for i in (0, 2, 4):
        shutil.rmtree(sites[i].root)
    with reopen(sites) as weak:
        with pytest.raises(TooFewShares, match="valid shares of the 3 needed"):
            restore_snapshot(weak, "latest", tmp_path / "out")
        with pytest.raises(TooFewSites, match="degraded mode needs 4"):
            back_up(weak, [source], degraded=True)


def test_backup_with_a_site_down_writes_no_snapshot_unless_degraded(
    repo: Repository, source: Path, tmp_path: Path, sites: list[LocalSite]
) -> None:
    back_up(repo, [source])
    saved = tmp_path / "saved-site"
    shutil.move(sites[1].root, saved)
    (source / "new.txt").write_bytes(b"after the storm" * 1000)
    with pytest.raises(TooFewSites, match="unreachable"):
        back_up(repo, [source])
    assert len(repo.snapshots()) == 1
    report = back_up(repo, [source], degraded=True)
    assert report.snapshot.degraded
    shutil.move(saved, sites[1].root)
    assert not check_repository(repo).ok  # shares and metadata are missing on the returned site
    repair = repair_repository(repo)
    assert repair.snapshots_cleared == 1 and repair.shares_rebuilt >= 1
    assert check_repository(repo, read_data=True).ok
    assert not any(s.degraded for s in repo.snapshots())


def test_corrupted_config_on_one_site_is_survived_and_repaired(
    repo: Repository, source: Path, sites: list[LocalSite]
) -> None:
    back_up(repo, [source])
    repo.close()
    config = sites[0].root / "config"
    config.write_bytes(config.read_bytes()[:-3] + b"xyz")
    with pytest.raises(IntegrityError, match="config fails authentication"):
        Repository.open(sites[:1], PASSPHRASE)
    with reopen(sites) as survivor:
        report = check_repository(survivor)
        assert [(p.kind, p.site) for p in report.errors] == [("object-corrupt", 0)]
        repair_repository(survivor)
        assert check_repository(survivor).ok
    Repository.open(sites[:1], PASSPHRASE).close()


def test_any_single_site_reaches_the_others_through_connect(
    repo: Repository, source: Path, tmp_path: Path, sites: list[LocalSite]
) -> None:
    back_up(repo, [source])
    repo.close()
    by_url = {s.url: s for s in sites}
    with Repository.open([sites[3]], PASSPHRASE, connect=by_url.__getitem__) as one:
        assert all(h.up for h in site_health(one))
        restore_snapshot(one, "latest", tmp_path / "out")
    assert tree_state(tmp_path / "out" / source.as_posix().lstrip("/")) == tree_state(source)


def test_opening_an_empty_or_missing_site_is_explained(tmp_path: Path) -> None:
    with pytest.raises(RepositoryMissing):
        Repository.open(make_sites(tmp_path / "empty", 1), PASSPHRASE)
    with pytest.raises(TooFewSites):
        Repository.open([LocalSite(tmp_path / "nowhere")], PASSPHRASE)


class CrashingSite:
    """A real LocalSite that dies (like kill -9) after a number of writes."""

    def __init__(self, inner: LocalSite, budget: int) -> None:
        self.inner = inner
        self.budget = budget

    @property
    def url(self) -> str:
        return self.inner.url

    def put(self, name: str, data: bytes) -> None:
        if self.budget <= 0:
            raise SiteUnavailable("simulated crash")
        self.budget -= 1
        self.inner.put(name, data)

    def get(self, name: str) -> bytes:
        return self.inner.get(name)

    def list(self, prefix: str = "") -> object:
        return self.inner.list(prefix)

    def delete(self, name: str) -> None:
        self.inner.delete(name)

    def stat(self, name: str) -> ObjectInfo | None:
        return self.inner.stat(name)

    def close(self) -> None:
        self.inner.close()


@pytest.mark.parametrize("budget", [1, 3, 6, 9])
def test_interrupted_backup_leaves_a_checkable_repository_and_rerun_reuses_packs(
    repo: Repository, source: Path, sites: list[LocalSite], budget: int
) -> None:
    first = back_up(repo, [source])
    (source / "more.bin").write_bytes(random.Random(budget).randbytes(600_000))
    repo.close()
    crashing = [CrashingSite(s, budget) if i == 2 else s for i, s in enumerate(sites)]
    with Repository.open(crashing, PASSPHRASE) as doomed:  # type: ignore[arg-type]
        doomed.index_every = 1
        with pytest.raises((SiteUnavailable, TooFewSites)):
            back_up(doomed, [source])
    with reopen(sites) as after:
        report = check_repository(after)
        assert report.ok, report.errors
        assert [s.id for s in after.snapshots()] == [first.snapshot.id]
        uploaded = len(after.load_index().packs)
        rerun = back_up(after, [source])
        # The index grows by what the rerun wrote and by the packs it adopted from the
        # killed run (complete on k+1 sites, named by no index).
        grown = len(after.load_index().packs) - uploaded
        assert grown == rerun.packs_written + rerun.packs_reused
        repair_repository(after)
        assert check_repository(after, read_data=True).ok
        assert {p.kind for p in check_repository(after).problems} <= {"pack-orphan"}
        assert gather_stats(after).snapshots == 2
        prune_packs(after)
        assert check_repository(after, read_data=True).problems == []


def test_a_share_placed_on_the_wrong_site_is_reported(
    repo: Repository, source: Path, sites: list[LocalSite]
) -> None:
    back_up(repo, [source])
    pid = next(iter(repo.load_index().packs))
    name = share_name(pid)
    sites[0].put(name, sites[1].get(name))
    report = check_repository(repo, read_data=True)
    assert report.bad_shares == [(0, name)]


def test_repair_reports_a_pack_beyond_repair_and_heals_the_rest(
    repo: Repository, source: Path, sites: list[LocalSite]
) -> None:
    back_up(repo, [source])
    first, second = list(repo.load_index().packs)[:2]
    for i in (0, 1, 2):
        sites[i].delete(share_name(first))
    sites[4].delete(share_name(second))
    report = check_repository(repo, read_data=True)
    assert any(p.kind == "pack-unreadable" and p.name == share_name(first) for p in report.errors)
    with pytest.raises(PacksLost) as lost:
        repair_repository(repo)
    assert lost.value.packs == (share_name(first),)
    assert lost.value.detail["shares_rebuilt"] == 1
    assert sites[4].stat(share_name(second)) is not None
