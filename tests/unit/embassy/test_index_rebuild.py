"""An index file damaged on every site: the rest stays usable, and repair --index rebuilds it."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from seawall.embassy.backup import back_up
from seawall.embassy.checking import check_repository
from seawall.embassy.errors import IndexDamaged
from seawall.embassy.pruning import prune_packs
from seawall.embassy.repairing import repair_repository
from seawall.embassy.repository import Repository
from seawall.embassy.restore import restore_snapshot
from seawall.embassy.sites.local import LocalSite

from .conftest import tree_state


def truncate_everywhere(sites: list[LocalSite], name: str) -> None:
    for site in sites:
        path = site.root / name
        path.write_bytes(path.read_bytes()[:40])


def two_snapshots(repo: Repository, source: Path) -> tuple[str, str, str]:
    """An older and a newer snapshot, and an index file only the newer one needs."""
    repo.index_every = 1
    old = back_up(repo, [source]).snapshot.id
    before = repo.names("index/")
    (source / "new.bin").write_bytes(random.Random(3).randbytes(400_000))
    new = back_up(repo, [source]).snapshot.id
    return old, new, sorted(repo.names("index/") - before)[0]


def test_a_damaged_index_file_leaves_the_snapshots_that_do_not_need_it_usable(
    repo: Repository, source: Path, sites: list[LocalSite], tmp_path: Path
) -> None:
    expected = tree_state(source)
    old, new, damaged = two_snapshots(repo, source)
    (source / "new.bin").unlink()
    truncate_everywhere(sites, damaged)
    index = repo.load_index()
    assert set(index.damaged) == {damaged}
    restore_snapshot(repo, old, tmp_path / "old")
    assert tree_state(tmp_path / "old" / source.as_posix().lstrip("/")) == {
        k: v for k, v in expected.items() if k != "new.bin"
    }
    (source / "after.txt").write_bytes(b"written after the damage\n")
    assert back_up(repo, [source]).snapshot.files > 0
    report = check_repository(repo)
    [problem] = [p for p in report.errors if p.kind == "index-damaged"]
    assert problem.name == damaged and "repair --index" in problem.message
    with pytest.raises(IndexDamaged, match="repair --index"):
        prune_packs(repo)  # its packs would look unused, and be deleted
    with pytest.raises(IndexDamaged, match=damaged):
        repair_repository(repo)
    assert new in {s.id for s in repo.snapshots()}


def test_repair_index_rebuilds_the_index_from_the_pack_trailers(
    repo: Repository, source: Path, sites: list[LocalSite], tmp_path: Path
) -> None:
    old, new, damaged = two_snapshots(repo, source)
    expected = tree_state(source)
    packs = set(repo.load_index().packs)
    truncate_everywhere(sites, damaged)
    assert set(repo.load_index().packs) < packs
    report = repair_repository(repo, index=True)
    assert report.rebuilt is not None
    assert report.rebuilt.damaged == (damaged,)
    assert report.rebuilt.packs_read >= 1
    assert report.rebuilt.unreadable == ()
    assert set(repo.load_index().packs) == packs
    assert repo.load_index().damaged == {}
    [written] = repo.names("index/")  # one consolidated file, the old ones retired
    assert all(site.stat(written) is not None for site in sites)
    assert check_repository(repo, read_data=True).problems == []
    restore_snapshot(repo, new, tmp_path / "new")
    assert tree_state(tmp_path / "new" / source.as_posix().lstrip("/")) == expected
    assert old in {s.id for s in repo.snapshots()}


def test_repair_index_indexes_a_pack_no_index_listed(
    repo: Repository, source: Path, sites: list[LocalSite]
) -> None:
    back_up(repo, [source])
    packs = set(repo.load_index().packs)
    for name in repo.names("index/"):
        for site in sites:
            site.delete(name)
    assert repo.load_index().packs == {}
    report = repair_repository(repo, index=True)
    assert report.rebuilt is not None and report.rebuilt.packs_read == len(packs)
    assert set(repo.load_index().packs) == packs
    assert check_repository(repo, read_data=True).ok
