"""Copying snapshots between repositories: each chunk opened on the node and sealed under the
second repository's keys, its trees rewritten with that repository's ids, nothing sent twice."""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from seawall.embassy.backup import back_up
from seawall.embassy.checking import check_repository
from seawall.embassy.copying import copy_snapshots
from seawall.embassy.errors import SameRepository, SnapshotMissing
from seawall.embassy.repository import Repository
from seawall.embassy.restore import restore_snapshot
from seawall.embassy.sites.local import LocalSite
from seawall.embassy.snapshots import Snapshot

from .conftest import FAST_KDF, PASSPHRASE, SMALL_CHUNKS, SMALL_PACK, make_sites, tree_state

OTHER = "another partner's long passphrase"


@pytest.fixture
def target(tmp_path: Path) -> Iterator[Repository]:
    """A second, empty 2-of-5 repository on other sites, under another passphrase."""
    repository = Repository.init(
        make_sites(tmp_path / "target"),
        OTHER,
        name="new-partner",
        k=2,
        kdf=FAST_KDF,
        pack_size=SMALL_PACK,
        chunker=SMALL_CHUNKS,
    )
    yield repository
    repository.close()


def kept(snap: Snapshot) -> tuple[object, ...]:
    """What a copy keeps of a snapshot."""
    return (snap.time, snap.hostname, snap.paths, snap.tags, snap.excludes, snap.files, snap.size)


def stored(root: Path) -> set[str]:
    """Every object on every site under ``root``, but locks."""
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and "/locks/" not in p.as_posix()
    }


def two_backups(repo: Repository, source: Path) -> tuple[Snapshot, Snapshot]:
    first = back_up(repo, [source], tags=["daily"]).snapshot
    (source / "bulk.bin").write_bytes(random.Random(3).randbytes(200_000))
    second = back_up(repo, [source], tags=["weekly", "daily"]).snapshot
    return first, second


def test_copy_brings_every_snapshot_under_the_new_repositorys_ids(
    repo: Repository, target: Repository, source: Path, tmp_path: Path
) -> None:
    first, second = two_backups(repo, source)
    report = copy_snapshots(repo, target)
    copies = target.snapshots()
    assert [c.original for c in copies] == [first.id, second.id]
    assert [kept(c) for c in copies] == [kept(first), kept(second)]
    assert {c.id for c in copies}.isdisjoint({first.id, second.id})
    assert [(c.source, c.snapshot) for c in report.copied] == [
        (first.id, copies[0].id),
        (second.id, copies[1].id),
    ]
    assert report.skipped == ()
    assert copies[1].parent == copies[0].id  # the parent named by its copy
    # Trees name the chunks by the new repository's keyed ids, each one indexed there.
    old = {c for n in repo.tree(second) for c in n.chunks}
    new = {c for n in target.tree(copies[1]) for c in n.chunks}
    assert len(new) == len(old) and new.isdisjoint(old)
    assert {bytes.fromhex(c) for c in new} <= set(target.load_index().chunks)
    assert report.new_bytes == sum(
        loc.entry.raw_length for loc in repo.load_index().chunks.values()
    )
    assert check_repository(target, read_data=True).problems == []
    inside = source.as_posix().lstrip("/")
    for snap, copy in zip((first, second), copies, strict=True):
        restore_snapshot(repo, snap.id, tmp_path / f"from-{snap.id}")
        restore_snapshot(target, copy.id, tmp_path / f"to-{copy.id}")
        restored = tree_state(tmp_path / f"to-{copy.id}" / inside)
        assert restored == tree_state(tmp_path / f"from-{snap.id}" / inside)
    assert restored == tree_state(source)


def test_a_copied_snapshot_restores_with_two_of_five_new_sites_deleted(
    repo: Repository, target: Repository, source: Path, tmp_path: Path
) -> None:
    back_up(repo, [source])
    [copied] = copy_snapshots(repo, target).copied
    target.close()
    sites = tmp_path / "target"
    shutil.rmtree(sites / "site1")
    shutil.rmtree(sites / "site3")
    left = [LocalSite(sites / f"site{i}", fsync=False) for i in (0, 2, 4)]
    with Repository.open(left, OTHER) as survivor:
        restore_snapshot(survivor, copied.snapshot, tmp_path / "out")
    assert tree_state(tmp_path / "out" / source.as_posix().lstrip("/")) == tree_state(source)


def test_a_second_copy_copies_nothing_and_uploads_nothing(
    repo: Repository, target: Repository, source: Path, tmp_path: Path
) -> None:
    first, second = two_backups(repo, source)
    copy_snapshots(repo, target)
    before = stored(tmp_path / "target")
    again = copy_snapshots(repo, target)
    assert again.copied == ()
    assert again.skipped == (first.id, second.id)
    assert (again.packs_written, again.stored_bytes, again.new_bytes) == (0, 0, 0)
    assert stored(tmp_path / "target") == before
    assert [c.original for c in target.snapshots()] == [first.id, second.id]


def test_chunks_the_new_repository_holds_are_not_sent_again(
    repo: Repository, target: Repository, source: Path
) -> None:
    first, second = two_backups(repo, source)
    one = copy_snapshots(repo, target, [first.short_id])
    assert [c.source for c in one.copied] == [first.id]
    assert one.new_bytes == first.new_bytes
    rest = copy_snapshots(repo, target)
    assert [c.source for c in rest.copied] == [second.id]
    assert rest.skipped == (first.id,)
    # Only the chunks the second backup added travel: the first one's are held already.
    assert rest.new_bytes == second.new_bytes
    assert [c.original for c in target.snapshots()] == [first.id, second.id]


def test_a_copy_of_a_copy_keeps_the_first_original_and_is_not_copied_back(
    repo: Repository, target: Repository, source: Path
) -> None:
    first = back_up(repo, [source]).snapshot
    copy_snapshots(repo, target)
    back = copy_snapshots(target, repo)
    assert back.copied == ()
    assert back.skipped == (target.snapshots()[0].id,)
    assert [s.id for s in repo.snapshots()] == [first.id]


def test_the_same_repository_twice_is_refused(
    repo: Repository, sites: list[LocalSite], source: Path
) -> None:
    back_up(repo, [source])
    with pytest.raises(SameRepository, match="both"):
        copy_snapshots(repo, repo)
    with Repository.open(sites[2:], PASSPHRASE) as again, pytest.raises(SameRepository):
        copy_snapshots(repo, again)
    assert len(repo.snapshots()) == 1


def test_an_unknown_snapshot_is_refused_before_anything_is_copied(
    repo: Repository, target: Repository, source: Path, tmp_path: Path
) -> None:
    first = back_up(repo, [source]).snapshot
    before = stored(tmp_path / "target")
    with pytest.raises(
        SnapshotMissing, match="'feedface' matches no snapshot of the source gov-records"
    ):
        copy_snapshots(repo, target, [first.id, "feedface"])
    assert target.snapshots() == []
    assert stored(tmp_path / "target") == before
