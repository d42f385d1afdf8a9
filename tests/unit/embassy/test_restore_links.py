"""A restore never writes through a symbolic link: not one in the target, not one it restored."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from seawall.embassy.backup import back_up
from seawall.embassy.errors import RestoreThroughLink
from seawall.embassy.repository import Repository
from seawall.embassy.restore import restore_snapshot

from .conftest import tree_state


def inside(target: Path, source: Path) -> Path:
    """Where a restore into ``target`` puts ``source``."""
    return target / source.as_posix().lstrip("/")


def two_snapshots(repo: Repository, tmp_path: Path, outside: Path) -> tuple[str, str, Path]:
    """Snapshot 1 holds ``data/esc -> outside``; snapshot 2 holds ``data/esc/pwned.txt``."""
    src = tmp_path / "share"
    (src / "data").mkdir(parents=True)
    (src / "data" / "esc").symlink_to(outside)
    first = back_up(repo, [src]).snapshot.id
    (src / "data" / "esc").unlink()
    (src / "data" / "esc").mkdir()
    (src / "data" / "esc" / "pwned.txt").write_text("written where it should not be\n")
    second = back_up(repo, [src]).snapshot.id
    return first, second, src


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory no restore into the target may write to."""
    path = tmp_path / "outside"
    path.mkdir()
    return path


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_link_restored_from_one_snapshot_is_never_followed_by_the_next(
    repo: Repository, tmp_path: Path, outside: Path, overwrite: bool
) -> None:
    first, second, src = two_snapshots(repo, tmp_path, outside)
    target = tmp_path / "target"
    assert restore_snapshot(repo, first, target).symlinks == 1
    link = inside(target, src) / "data" / "esc"
    assert os.readlink(link) == str(outside)  # stored links come back as links
    with pytest.raises(RestoreThroughLink) as caught:
        restore_snapshot(repo, second, target, overwrite=overwrite)
    # The directory that snapshot 2 holds where the target now has the link.
    entry = "/" + (src / "data" / "esc").as_posix().lstrip("/")
    assert caught.value.entry == entry
    assert entry in caught.value.message and "\n" not in caught.value.message
    assert caught.value.code == "restore_through_link"
    assert list(outside.iterdir()) == []
    assert os.readlink(link) == str(outside)


def test_a_link_already_in_the_target_is_never_followed(
    repo: Repository, source: Path, tmp_path: Path, outside: Path
) -> None:
    back_up(repo, [source])
    target = tmp_path / "target"
    (inside(target, source)).mkdir(parents=True)
    (inside(target, source) / "docs").symlink_to(outside)
    with pytest.raises(RestoreThroughLink, match="docs") as caught:
        restore_snapshot(repo, "latest", target)
    assert caught.value.entry == "/" + (source / "docs").as_posix().lstrip("/")
    assert list(outside.iterdir()) == []
    # Refused before anything was written: the link is all the target holds.
    assert sorted(p.name for p in inside(target, source).iterdir()) == ["docs"]


def test_a_link_at_the_top_of_the_target_is_never_followed(
    repo: Repository, source: Path, tmp_path: Path, outside: Path
) -> None:
    back_up(repo, [source])
    target = tmp_path / "target"
    target.mkdir()
    top = source.as_posix().lstrip("/").split("/")[0]
    (target / top).symlink_to(outside)
    with pytest.raises(RestoreThroughLink):
        restore_snapshot(repo, "latest", target, overwrite=True)
    assert list(outside.iterdir()) == []


def test_a_link_in_the_target_where_a_file_goes_is_replaced_only_with_overwrite(
    repo: Repository, source: Path, tmp_path: Path, outside: Path
) -> None:
    back_up(repo, [source])
    target = tmp_path / "target"
    (inside(target, source)).mkdir(parents=True)
    victim = outside / "victim.txt"
    victim.write_text("keep me\n")
    (inside(target, source) / "small.txt").symlink_to(victim)
    restore_snapshot(repo, "latest", target, overwrite=True)
    assert victim.read_text() == "keep me\n"
    assert tree_state(inside(target, source)) == tree_state(source)


def test_a_snapshot_holding_a_link_and_entries_below_it_writes_none_of_them_through_it(
    repo: Repository, tmp_path: Path, outside: Path
) -> None:
    # Two roots, a link and a path through it, make one snapshot with both.
    real = tmp_path / "real"
    real.mkdir()
    (real / "report.txt").write_text("quarterly\n")
    share = tmp_path / "share"
    share.mkdir()
    (share / "link").symlink_to(real)
    back_up(repo, [share / "link", share / "link" / "report.txt"])
    target = tmp_path / "target"
    with pytest.raises(RestoreThroughLink, match=r"report\.txt") as caught:
        restore_snapshot(repo, "latest", target)
    assert "link" in caught.value.message
    assert list(outside.iterdir()) == []
    assert not any(p.is_file() for p in target.rglob("*"))
    # Each restores on its own.
    restore_snapshot(repo, "latest", tmp_path / "alone", include=str(share / "link" / "report.txt"))
    assert (inside(tmp_path / "alone", share) / "link" / "report.txt").read_text() == "quarterly\n"
