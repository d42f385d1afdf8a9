"""The mount's view of a repository, without FUSE: names, the tree and verified reads."""

from __future__ import annotations

import random
import shutil
from datetime import UTC, datetime
from pathlib import Path

from seawall.embassy.backup import back_up
from seawall.embassy.mounting import ROOT_INODE, SnapshotView, snapshot_names
from seawall.embassy.repository import Repository
from seawall.embassy.sites.local import LocalSite
from seawall.embassy.snapshots import Snapshot


def _at(second: int, micro: int = 0) -> datetime:
    return datetime(2026, 12, 6, 20, 0, second, micro, tzinfo=UTC)


def _inode(view: SnapshotView, path: str, start: int = ROOT_INODE) -> int:
    inode = start
    for part in path.strip("/").split("/"):
        inode = view.lookup(inode, part.encode())
    return inode


def test_snapshots_of_one_second_are_each_named_with_their_short_id() -> None:
    snaps = [
        Snapshot("aaaaaaaa11", _at(1, 5), "h", ("/srv",)),
        Snapshot("bbbbbbbb22", _at(1, 900), "h", ("/srv",)),
        Snapshot("cccccccc33", _at(2), "h", ("/srv",)),
    ]
    assert snapshot_names(snaps) == {
        "aaaaaaaa11": "2026-12-06T20:00:01Z-aaaaaaaa",
        "bbbbbbbb22": "2026-12-06T20:00:01Z-bbbbbbbb",
        "cccccccc33": "2026-12-06T20:00:02Z",
    }


def test_the_view_reads_any_range_of_a_file_from_any_three_of_five_sites(
    repo: Repository, sites: list[LocalSite], tmp_path: Path
) -> None:
    src = tmp_path / "records"
    (src / "deep").mkdir(parents=True)
    blob = random.Random(3).randbytes(200_000)  # about 25 chunks of the test chunker
    (src / "deep" / "blob.bin").write_bytes(blob)
    (src / "note").symlink_to("deep/blob.bin")
    snap = back_up(repo, [src]).snapshot
    for gone in (sites[0], sites[2]):
        shutil.rmtree(gone.root)

    # A tiny cache: chunks are dropped and fetched again, and still every byte is right.
    view = SnapshotView(repo, cache_bytes=20_000)
    name = snapshot_names([snap])[snap.id]
    assert sorted(view.children(ROOT_INODE)) == [b"ids", b"snapshots"]
    assert sorted(view.children(_inode(view, "snapshots"))) == [name.encode(), b"latest"]
    assert view.entry(_inode(view, "snapshots/latest")).target == name.encode()
    assert view.entry(_inode(view, f"ids/{snap.id}")).target == f"../snapshots/{name}".encode()
    top = _inode(view, f"snapshots/{name}")
    above = str(src.parent).strip("/")
    assert view.entry(_inode(view, above, top)).mode == 0o755  # not in the snapshot: made up
    inode = _inode(view, f"{above}/records/deep/blob.bin", top)
    assert view.entry(inode).size == len(blob)
    assert view.entry(_inode(view, f"{above}/records/note", top)).target == b"deep/blob.bin"
    rng = random.Random(9)
    for _ in range(40):
        offset = rng.randrange(0, len(blob) + 10)
        size = rng.choice([1, 4096, 131072, 300_000])
        assert view.read(inode, offset, size) == blob[offset : offset + size]
    assert view.report.files_read == 1
