"""Where a web restore may write: only inside the node's restore directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from seawall.embassy.backup import back_up
from seawall.embassy.repository import Repository
from seawall.embassy.restore import restore_snapshot, target_inside
from seawall.errors import InvalidInput


@pytest.fixture
def root(tmp_path: Path) -> Path:
    restores = tmp_path / "restores"
    restores.mkdir()
    (restores / "elsewhere").symlink_to(tmp_path)  # a link out of the directory
    return restores


@pytest.mark.parametrize("typed", ["drill", " drill-2026-12 ", "drills/march"])
def test_a_name_inside_the_directory_is_where_it_writes(root: Path, typed: str) -> None:
    assert target_inside(root, typed) == root.resolve() / typed.strip()


@pytest.mark.parametrize(
    "typed", ["", "  ", ".", "..", "../drill", "/etc/drill", "elsewhere/drill", "bad\0name"]
)
def test_anything_else_is_one_line_naming_the_directory(root: Path, typed: str) -> None:
    with pytest.raises(InvalidInput, match="restore into a directory inside") as caught:
        target_inside(root, typed)
    assert "\n" not in caught.value.message


def test_a_link_made_after_the_check_does_not_lead_the_restore_out(
    root: Path, tmp_path: Path, repo: Repository, source: Path
) -> None:
    back_up(repo, [source])
    into = target_inside(root, "drill/march")
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "drill").symlink_to(outside)  # made between the check and the restore
    with pytest.raises(InvalidInput, match="restore into a directory inside"):
        restore_snapshot(repo, "latest", into, within=root)
    assert list(outside.iterdir()) == []
    (root / "drill").unlink()
    restore_snapshot(repo, "latest", into, within=root)
    assert (into / source.as_posix().lstrip("/") / "small.txt").read_bytes() == b"hello embassy\n"
