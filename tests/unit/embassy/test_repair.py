"""A pack with fewer than k good shares: repair names it and fails, check names what it held."""

from __future__ import annotations

from pathlib import Path

import pytest

from seawall.embassy.backup import back_up
from seawall.embassy.checking import check_repository
from seawall.embassy.errors import PacksLost
from seawall.embassy.index import PackInfo
from seawall.embassy.packs import share_name
from seawall.embassy.repairing import repair_repository
from seawall.embassy.repository import Repository
from seawall.embassy.restore import restore_snapshot
from seawall.embassy.sites.local import LocalSite

from .conftest import tree_state


def spoil(sites: list[LocalSite], pack: PackInfo, on: tuple[int, ...]) -> None:
    """Flip a byte in the middle of the pack's share on each site in ``on``."""
    for i in on:
        path = sites[i].root / share_name(pack.id)
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x40
        path.write_bytes(bytes(data))


def holders(repo: Repository, pack: PackInfo) -> dict[str, set[str]]:
    """Snapshot id -> paths of the files with a chunk in ``pack``, from the trees."""
    inside = {e.id.hex() for e in pack.entries}
    found: dict[str, set[str]] = {}
    for snap in repo.snapshots():
        for node in repo.tree(snap):
            if inside & set(node.chunks):
                found.setdefault(snap.id, set()).add(node.path)
    return found


def test_repair_fails_naming_the_pack_it_cannot_rebuild_and_heals_the_rest(
    repo: Repository, source: Path, sites: list[LocalSite]
) -> None:
    back_up(repo, [source])
    lost, other = list(repo.load_index().packs.values())[:2]
    spoil(sites, lost, (0, 1, 2))  # two good shares of the three needed
    sites[4].delete(share_name(other.id))
    with pytest.raises(PacksLost) as caught:
        repair_repository(repo)
    assert caught.value.packs == (share_name(lost.id),)
    assert share_name(lost.id) in caught.value.message
    assert len(caught.value.message.splitlines()) == 1
    assert caught.value.exit_code == 4
    assert caught.value.detail["shares_rebuilt"] == 1
    assert sites[4].stat(share_name(other.id)) is not None
    # Nothing was cleared or hidden: check still names the loss.
    assert not check_repository(repo, read_data=True).ok


def test_check_names_the_snapshots_and_files_a_lost_pack_holds(
    repo: Repository, source: Path, sites: list[LocalSite]
) -> None:
    back_up(repo, [source])
    (source / "later.txt").write_bytes(b"a later file\n")
    back_up(repo, [source])
    lost = max(repo.load_index().packs.values(), key=lambda p: len(holders(repo, p)))
    expected = holders(repo, lost)
    spoil(sites, lost, (1, 3, 4))
    report = check_repository(repo, read_data=True)
    assert not report.ok
    [loss] = report.lost_packs
    assert loss.pack == share_name(lost.id)
    assert {s: set(files) for s, files in loss.snapshots} == expected
    [problem] = [p for p in report.errors if p.kind == "pack-lost"]
    some_snapshot = next(iter(expected))
    assert some_snapshot[:8] in problem.message
    assert min(expected[some_snapshot]) in problem.message


def test_check_sees_a_lost_pack_from_the_listing_alone(
    repo: Repository, source: Path, sites: list[LocalSite]
) -> None:
    back_up(repo, [source])
    lost = next(iter(repo.load_index().packs.values()))
    for i in (0, 2, 4):
        sites[i].delete(share_name(lost.id))
    report = check_repository(repo)
    [loss] = report.lost_packs
    assert loss.pack == share_name(lost.id)
    assert {s: set(files) for s, files in loss.snapshots} == holders(repo, lost)


def test_a_lost_pack_holding_many_files_names_the_first_and_counts_the_rest(
    repo: Repository, sites: list[LocalSite], tmp_path: Path
) -> None:
    many = tmp_path / "many"
    many.mkdir()
    for number in range(40):
        (many / f"note-{number:02}.txt").write_bytes(f"note {number}\n".encode())
    back_up(repo, [many])
    [pack] = repo.load_index().packs.values()
    spoil(sites, pack, (0, 1, 2))
    report = check_repository(repo, read_data=True)
    [loss] = report.lost_packs
    [(_, files)] = loss.snapshots
    assert len(files) == 40
    [problem] = [p for p in report.errors if p.kind == "pack-lost"]
    assert "note-00.txt" in problem.message and "and 30 more" in problem.message
    assert "note-39.txt" not in problem.message
    with pytest.raises(PacksLost, match="40 files"):
        repair_repository(repo)


def test_a_pack_lost_beyond_repair_leaves_the_index_so_the_next_backup_stores_it_again(
    repo: Repository, source: Path, sites: list[LocalSite], tmp_path: Path
) -> None:
    first = back_up(repo, [source]).snapshot
    every = set(repo.load_index().packs)
    lost = max(repo.load_index().packs.values(), key=lambda p: len(holders(repo, p)))
    spoil(sites, lost, (0, 1, 2))
    with pytest.raises(PacksLost) as caught:
        repair_repository(repo)
    assert caught.value.packs == (share_name(lost.id),)
    assert caught.value.exit_code == 4
    assert caught.value.detail["unindexed"] == [share_name(lost.id)]
    # The pack's chunks no longer count as stored: a backup cannot dedup against them.
    assert set(repo.load_index().packs) == every - {lost.id}
    second = back_up(repo, [source]).snapshot
    assert second.new_bytes == sum(e.raw_length for e in lost.entries)
    assert check_repository(repo, read_data=True).ok
    assert repair_repository(repo).unlisted == ()
    inside = source.as_posix().lstrip("/")
    for snap in (second, first):  # the older snapshot's chunks are stored again too
        restore_snapshot(repo, snap.id, tmp_path / snap.id)
        assert tree_state(tmp_path / snap.id / inside) == tree_state(source)
