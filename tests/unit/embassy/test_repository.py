"""Backup and restore over five local sites: fidelity, dedup, filters and refusals."""

from __future__ import annotations

import io
import json
import os
import pwd
import random
import subprocess
import sys
from pathlib import Path

import pytest

from seawall.embassy.backup import back_up
from seawall.embassy.errors import (
    RepositoryExists,
    RepositoryLocked,
    RestoreWouldOverwrite,
    SnapshotMissing,
    SourceMissing,
)
from seawall.embassy.health import gather_stats
from seawall.embassy.progress import Progress
from seawall.embassy.pruning import prune_packs
from seawall.embassy.repository import Repository
from seawall.embassy.restore import restore_snapshot
from seawall.embassy.sealing import Compression
from seawall.embassy.sites.local import LocalSite
from seawall.embassy.snapshots import Node
from tests.servers import mounted_filesystem

from .conftest import FAST_KDF, PASSPHRASE, SMALL_CHUNKS, SMALL_PACK, make_sites, tree_state


def restored(target: Path, source: Path) -> Path:
    return target / source.as_posix().lstrip("/")


def test_restore_is_bit_identical_with_modes_mtimes_links_and_empty_dirs(
    repo: Repository, source: Path, tmp_path: Path
) -> None:
    events: list[Progress] = []
    report = back_up(repo, [source], tags=["daily"], progress=events.append)
    assert report.snapshot.files == 5 and not report.snapshot.degraded
    # Progress counts the files, as the snapshot does: not the directories and the link.
    assert (events[-1].files, events[-1].total_files) == (5, 5)
    out = tmp_path / "out"
    result = restore_snapshot(repo, "latest", out)
    assert tree_state(restored(out, source)) == tree_state(source)
    assert result.files == 5 and result.symlinks == 1
    assert os.readlink(restored(out, source) / "link") == "docs/register.csv"
    assert (restored(out, source) / "empty").is_dir()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give files to other owners")
def test_restore_as_root_gives_back_owners_by_name_where_known_else_by_number(
    repo: Repository, tmp_path: Path
) -> None:
    nobody = pwd.getpwnam("nobody")
    src = tmp_path / "owned"
    (src / "service").mkdir(parents=True)
    (src / "service" / "app.conf").write_text("listen 443\n")
    (src / "orphan.dat").write_bytes(b"no name for this owner")
    os.symlink("service/app.conf", src / "conf-link")
    os.chown(src / "service", nobody.pw_uid, nobody.pw_gid)
    os.chown(src / "service" / "app.conf", nobody.pw_uid, nobody.pw_gid)
    os.chown(src / "orphan.dat", 54321, 54322)  # ids no account here has
    os.chown(src / "conf-link", 54321, nobody.pw_gid, follow_symlinks=False)
    os.chmod(src / "orphan.dat", 0o4750)  # noqa: S103 - set-uid must survive the chown
    back_up(repo, [src])
    node = {n.path.rsplit("/", 1)[-1]: n for n in repo.tree(repo.snapshots()[0])}
    assert (node["app.conf"].uid, node["app.conf"].user) == (nobody.pw_uid, "nobody")
    assert (node["orphan.dat"].uid, node["orphan.dat"].user) == (54321, "")
    out = tmp_path / "out"
    restore_snapshot(repo, "latest", out)
    back = out / src.as_posix().lstrip("/")

    def owner(path: Path) -> tuple[int, int]:
        st = path.lstat()
        return st.st_uid, st.st_gid

    assert owner(back / "service") == (nobody.pw_uid, nobody.pw_gid)
    assert owner(back / "service" / "app.conf") == (nobody.pw_uid, nobody.pw_gid)
    assert owner(back / "orphan.dat") == (54321, 54322)
    assert owner(back / "conf-link") == (54321, nobody.pw_gid)
    assert (back / "orphan.dat").stat().st_mode & 0o7777 == 0o4750
    assert tree_state(back) == tree_state(src)


def test_hard_links_are_read_once_and_restored_as_links(repo: Repository, tmp_path: Path) -> None:
    src = tmp_path / "linked"
    (src / "sub").mkdir(parents=True)
    (src / "a.bin").write_bytes(os.urandom(300_000))
    os.link(src / "a.bin", src / "b.bin")
    os.link(src / "a.bin", src / "sub" / "c.bin")
    first = back_up(repo, [src]).snapshot
    assert first.new_bytes == 300_000  # one read, though three names
    node = {n.path.rsplit("/", 1)[-1]: n for n in repo.tree(first)}
    origin = node["a.bin"].path
    assert node["a.bin"].link_of == ""
    assert node["b.bin"].link_of == origin and node["c.bin"].link_of == origin
    assert node["b.bin"].chunks == node["a.bin"].chunks  # each name can restore alone
    out = tmp_path / "out"
    report = restore_snapshot(repo, "latest", out)
    assert report.files == 3
    back = out / src.as_posix().lstrip("/")
    assert (back / "a.bin").stat().st_nlink == 3
    assert (back / "a.bin").stat().st_ino == (back / "sub" / "c.bin").stat().st_ino
    assert tree_state(back) == tree_state(src)
    # Restored without its other names, a hard link is a plain file with its content.
    alone = tmp_path / "alone"
    restore_snapshot(repo, "latest", alone, include=node["c.bin"].path)
    lone = alone / node["c.bin"].path
    assert lone.read_bytes() == (src / "a.bin").read_bytes()
    assert lone.stat().st_nlink == 1
    # Unchanged, the second backup keeps the links without reading anything.
    second = back_up(repo, [src]).snapshot
    assert second.new_bytes == 0
    assert {n.path: n.link_of for n in repo.tree(second)} == {
        n.path: n.link_of for n in repo.tree(first)
    }


def test_a_hard_link_across_a_mount_point_in_the_target_is_restored_as_a_copy(
    repo: Repository, tmp_path: Path
) -> None:
    src = tmp_path / "linked"
    (src / "sub").mkdir(parents=True)
    (src / "a.bin").write_bytes(os.urandom(100_000))
    os.link(src / "a.bin", src / "sub" / "c.bin")
    back_up(repo, [src])
    out = tmp_path / "out"
    back = out / src.as_posix().lstrip("/")
    # The restore target already has another filesystem mounted where sub/ goes.
    with mounted_filesystem(back / "sub", "tmpfs"):
        report = restore_snapshot(repo, "latest", out)
        assert report.files == 2
        assert (back / "sub" / "c.bin").read_bytes() == (src / "a.bin").read_bytes()
        assert (back / "sub" / "c.bin").stat().st_nlink == 1
        assert (back / "sub" / "c.bin").stat().st_mtime_ns == (src / "a.bin").stat().st_mtime_ns


def test_the_other_names_of_a_file_that_vanished_unread_are_left_out_and_named(
    repo: Repository, tmp_path: Path
) -> None:
    src = tmp_path / "linked"
    src.mkdir()
    (src / "a.txt").write_bytes(b"ledger\n" * 100)
    os.link(src / "a.txt", src / "b.txt")
    (src / "c.txt").write_bytes(b"kept\n")

    def delete_a(event: Progress) -> None:
        # a.txt waits in a batch, read once the walk is over; b.txt shares its contents.
        if event.current.endswith("b.txt"):
            (src / "a.txt").unlink(missing_ok=True)

    report = back_up(repo, [src], progress=delete_a)
    assert sorted(s.rsplit("/", 1)[-1] for s in report.skipped) == [
        "a.txt: No such file or directory",
        "b.txt: a hard link of a file that could not be read",
    ]
    assert [n.path.rsplit("/", 1)[-1] for n in repo.tree(report.snapshot) if n.type == "file"] == [
        "c.txt"
    ]


def xattrs_of(path: Path) -> dict[str, bytes]:
    return {n: os.getxattr(path, n) for n in os.listxattr(path) if n.startswith("user.")}


def test_extended_attributes_are_kept_and_a_target_without_them_is_counted(
    repo: Repository, tmp_path: Path
) -> None:
    src = tmp_path / "tagged"
    (src / "deeds").mkdir(parents=True)
    (src / "deeds" / "title.pdf").write_bytes(b"%PDF title deed")
    (src / "deeds" / "empty.txt").write_bytes(b"")
    try:
        os.setxattr(src / "deeds" / "title.pdf", "user.classification", b"restricted")
        os.setxattr(src / "deeds" / "title.pdf", "user.checksum", bytes(range(256)))
        os.setxattr(src / "deeds" / "empty.txt", "user.origin", b"scanner-2")
        os.setxattr(src / "deeds", "user.retention", b"permanent")
    except OSError:
        pytest.skip("this filesystem keeps no user extended attributes")
    os.chmod(src / "deeds" / "title.pdf", 0o444)  # read-only: the attributes still go back
    back_up(repo, [src])
    out = tmp_path / "out"
    report = restore_snapshot(repo, "latest", out)
    assert report.xattrs_refused == 0
    back = out / src.as_posix().lstrip("/")
    for rel in ("deeds", "deeds/title.pdf", "deeds/empty.txt"):
        assert xattrs_of(back / rel) == xattrs_of(src / rel), rel
    assert tree_state(back) == tree_state(src)
    with mounted_filesystem(tmp_path / "ramfs", "ramfs") as plain:
        # ramfs keeps no extended attributes: the files come back, the attributes are counted.
        report = restore_snapshot(repo, "latest", plain)
        assert report.xattrs_refused == 4
        assert report.refusals().startswith("4 extended attributes were not set")
        assert (plain / src.as_posix().lstrip("/") / "deeds" / "title.pdf").read_bytes() == (
            b"%PDF title deed"
        )


RESTORE_IN_USER_NAMESPACE = """
import json, sys
from pathlib import Path
from seawall.embassy.repository import Repository
from seawall.embassy.restore import restore_snapshot
from seawall.embassy.sites.local import LocalSite

sites = [LocalSite(Path(p), fsync=False) for p in sys.argv[3:]]
with Repository.open(sites, sys.argv[1]) as repo:
    report = restore_snapshot(repo, "latest", sys.argv[2])
print(json.dumps([report.files, report.owners_refused, report.refusals()]))
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give files to other owners")
def test_owners_a_target_refuses_are_counted_and_the_restore_completes(
    repo: Repository, sites: list[LocalSite], tmp_path: Path
) -> None:
    src = tmp_path / "owned"
    src.mkdir()
    for name in ("a.txt", "b.txt"):
        (src / name).write_text(name)
        os.chown(src / name, 54321, 54322)
    back_up(repo, [src])
    # Root in a user namespace that maps no other ids: chown to 54321 is refused (EINVAL),
    # as on an NFS export that squashes root.
    run = subprocess.run(
        [
            "unshare",
            "--user",
            "--map-root-user",
            sys.executable,
            "-c",
            RESTORE_IN_USER_NAMESPACE,
            PASSPHRASE,
            str(tmp_path / "out"),
            *(str(s.root) for s in sites),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0 and "unshare" in run.stderr and "Traceback" not in run.stderr:
        pytest.skip(f"no user namespaces here: {run.stderr.strip()}")
    assert run.returncode == 0, run.stderr
    files, owners_refused, note = json.loads(run.stdout)
    # a.txt, b.txt and their directory's parents up to the source all had owners recorded.
    assert files == 2 and owners_refused >= 2
    assert note.startswith(f"{owners_refused} owners were not set")
    back = tmp_path / "out" / src.as_posix().lstrip("/")
    assert (back / "a.txt").read_text() == "a.txt" and (back / "b.txt").read_text() == "b.txt"


def test_a_tree_from_before_owners_were_recorded_restores_without_them() -> None:
    old = {"path": "srv/a.csv", "type": "file", "mode": 420, "mtime_ns": 1, "size": 0}
    node = Node.from_doc(old)
    assert (node.uid, node.gid, node.user, node.group) == (-1, -1, "", "")
    assert "uid" not in node.to_doc()


def test_second_backup_stores_nothing_new_and_dedups_copies(repo: Repository, source: Path) -> None:
    first = back_up(repo, [source])
    # blob.bin and copy.bin are identical: the copy adds no bytes.
    assert first.snapshot.new_bytes < first.snapshot.size - 290_000
    second = back_up(repo, [source])
    assert second.packs_written == 0 and second.snapshot.new_bytes == 0
    assert second.snapshot.parent == first.snapshot.id
    (source / "small.txt").write_bytes(b"changed\n")
    third = back_up(repo, [source])
    assert 0 < third.snapshot.new_bytes <= len(b"changed\n")
    assert [d.path.rsplit("/", 1)[-1] for d in repo.diff(first.snapshot.id, "latest")] == [
        "small.txt"
    ]


def test_files_that_vanish_during_the_walk_are_named_and_the_rest_is_kept(
    repo: Repository, tmp_path: Path
) -> None:
    src = tmp_path / "vanishing"
    src.mkdir()
    (src / "a-large.bin").write_bytes(os.urandom(300_000))  # cut on a cutter thread
    (src / "b-small.txt").write_bytes(b"kept\n")
    (src / "y-large.bin").write_bytes(os.urandom(200_000))
    (src / "z-small.txt").write_bytes(b"gone\n")

    def delete_the_last_two(event: Progress) -> None:
        # Large files are queued first, largest first: once a-large.bin is, y-large.bin has
        # been listed but not yet queued or opened. Once b-small.txt is walked, z-small.txt
        # is listed but not yet looked at.
        if event.current.endswith("a-large.bin"):
            (src / "y-large.bin").unlink(missing_ok=True)
        if event.current.endswith("b-small.txt"):
            (src / "z-small.txt").unlink(missing_ok=True)

    report = back_up(repo, [src], progress=delete_the_last_two)
    assert sorted(Path(s.split(":")[0]).name for s in report.skipped) == [
        "y-large.bin",
        "z-small.txt",
    ]
    assert all("No such file" in s for s in report.skipped)
    assert report.snapshot.files == 2
    out = tmp_path / "out"
    restore_snapshot(repo, "latest", out)
    assert tree_state(restored(out, src)) == tree_state(src)


def test_a_small_file_that_vanishes_before_it_is_read_is_left_out(
    repo: Repository, tmp_path: Path
) -> None:
    src = tmp_path / "batch"
    src.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (src / name).write_bytes(name.encode() * 100)

    def delete_b_once_listed(event: Progress) -> None:
        # b.txt is walked and waits in a batch (read on a worker once the walk is over).
        if event.current.endswith("b.txt"):
            (src / "b.txt").unlink(missing_ok=True)

    report = back_up(repo, [src], progress=delete_b_once_listed)
    assert [Path(s.split(":")[0]).name for s in report.skipped] == ["b.txt"]
    assert "No such file" in report.skipped[0]
    assert report.snapshot.files == 2
    out = tmp_path / "out"
    restore_snapshot(repo, "latest", out)
    assert tree_state(restored(out, src)) == tree_state(src)


def test_excludes_and_include_filter(repo: Repository, source: Path, tmp_path: Path) -> None:
    back_up(repo, [source], excludes=["*.bin"])
    paths = {n.path.rsplit("/", 1)[-1] for n in repo.ls("latest")}
    assert "blob.bin" not in paths and "register.csv" in paths
    out = tmp_path / "only-docs"
    restore_snapshot(repo, "latest", out, include=str(source / "docs"))
    assert (restored(out, source) / "docs" / "register.csv").exists()
    assert not (restored(out, source) / "small.txt").exists()


def test_stdin_stream_is_backed_up_under_its_name(repo: Repository, tmp_path: Path) -> None:
    dump = os.urandom(70_000) + b"INSERT INTO t VALUES (1);" * 5000
    report = back_up(repo, stdin=io.BytesIO(dump), stdin_name="db.sql", tags=["sql"])
    assert report.snapshot.paths == ("stdin:db.sql",)
    restore_snapshot(repo, report.snapshot.id[:10], tmp_path / "out")
    assert (tmp_path / "out" / "db.sql").read_bytes() == dump


def test_restore_never_overwrites_without_permission(
    repo: Repository, source: Path, tmp_path: Path
) -> None:
    back_up(repo, [source])
    out = tmp_path / "out"
    small = restored(out, source) / "small.txt"
    small.parent.mkdir(parents=True)
    small.write_bytes(b"local edit")
    with pytest.raises(RestoreWouldOverwrite, match="1 file already exists under"):
        restore_snapshot(repo, "latest", out)
    assert small.read_bytes() == b"local edit"
    restore_snapshot(repo, "latest", out, overwrite=True)
    assert tree_state(restored(out, source)) == tree_state(source)


def test_missing_source_path_is_refused_before_anything_is_written(
    repo: Repository, tmp_path: Path, sites: list[LocalSite]
) -> None:
    before = sorted(sites[0].list())
    with pytest.raises(SourceMissing, match="does not exist"):
        back_up(repo, [tmp_path / "nope"])
    assert sorted(sites[0].list()) == before


def test_a_locked_repository_refuses_a_backup(repo: Repository, source: Path) -> None:
    other = Repository.open(repo.sites, PASSPHRASE)  # type: ignore[arg-type]
    with other.lock(exclusive=True), pytest.raises(RepositoryLocked, match="exclusive lock"):
        back_up(repo, [source])
    report = back_up(repo, [source])
    assert report.snapshot.files == 5
    other.close()


def test_shared_locks_coexist_but_block_exclusive(repo: Repository) -> None:
    with repo.lock(exclusive=False), repo.lock(exclusive=False), pytest.raises(RepositoryLocked):
        prune_packs(repo)
    assert prune_packs(repo).packs_deleted == 0


def test_stale_lock_of_a_dead_process_is_ignored(repo: Repository, source: Path) -> None:
    from seawall.embassy.locks import new_lock

    ghost = new_lock(exclusive=True, now=repo.clock.now())
    ghost = type(ghost)(ghost.id, True, ghost.hostname, 2**22 + 12345, ghost.time, ghost.time)
    repo.put_everywhere(ghost.name, repo.seal_meta(ghost.name, ghost.to_json()))
    assert back_up(repo, [source]).snapshot.files == 5


def test_init_refuses_a_site_that_holds_a_repository(sites: list[LocalSite]) -> None:
    Repository.init(sites, PASSPHRASE, name="a", kdf=FAST_KDF).close()
    with pytest.raises(RepositoryExists):
        Repository.init(sites, PASSPHRASE, name="b", kdf=FAST_KDF)


def test_unknown_snapshot_is_reported(repo: Repository, tmp_path: Path) -> None:
    with pytest.raises(SnapshotMissing, match="no snapshots yet"):
        restore_snapshot(repo, "latest", tmp_path / "out")
    with pytest.raises(SnapshotMissing, match="matches no snapshot"):
        repo.find_snapshot("deadbeef")


def test_stats_count_n_over_k_storage(repo: Repository, source: Path) -> None:
    back_up(repo, [source])
    stats = gather_stats(repo)
    assert stats.snapshots == 1 and stats.packs >= 1
    assert stats.stored_bytes < stats.raw_bytes
    assert stats.bytes_per_site * 3 >= stats.stored_bytes
    assert all(s.up for s in stats.sites)


def test_restore_with_few_open_files_is_still_identical(
    repo: Repository, source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from seawall.embassy import restore as restoring

    monkeypatch.setattr(restoring, "MAX_OPEN_FILES", 1)
    back_up(repo, [source])
    events: list[Progress] = []
    restore_snapshot(repo, "latest", tmp_path / "out", progress=events.append)
    assert tree_state(restored(tmp_path / "out", source)) == tree_state(source)
    assert events[-1].files == events[-1].total_files == 5
    assert events[-1].bytes == events[-1].total_bytes


def test_compression_off_auto_and_max_store_less_in_that_order_and_restore_the_same(
    tmp_path: Path,
) -> None:
    source = tmp_path / "logs"
    source.mkdir()
    rng = random.Random(5)
    lines = [
        f"2026-11-{rng.randrange(1, 30):02d} gw dnsmasq: query[A] host{rng.randrange(900)}.gov.jm "
        f"from 10.0.{rng.randrange(9)}.{rng.randrange(250)}\n"
        for _ in range(40_000)
    ]
    (source / "dns.log").write_text("".join(lines))
    stored: dict[Compression, int] = {}
    for mode in Compression:
        repo = Repository.init(
            make_sites(tmp_path / f"sites-{mode.value}"),
            PASSPHRASE,
            name="logs",
            k=3,
            kdf=FAST_KDF,
            pack_size=SMALL_PACK,
            chunker=SMALL_CHUNKS,
        )
        try:
            stored[mode] = back_up(repo, [source], compression=mode).stored_bytes
            again = back_up(repo, [source], compression=Compression.OFF)
            assert again.stored_bytes == 0  # a chunk is stored once, however it was compressed
            target = tmp_path / f"restored-{mode.value}"
            restore_snapshot(repo, "latest", target)
            assert tree_state(target / source.relative_to("/")) == tree_state(source)
        finally:
            repo.close()
    size = (source / "dns.log").stat().st_size
    assert stored[Compression.OFF] >= size
    assert stored[Compression.MAX] < stored[Compression.AUTO] < size // 3
