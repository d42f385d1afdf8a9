"""``rewrite``: snapshots written again without some paths; with forget and prune, erased."""

from __future__ import annotations

import io
import os
from dataclasses import replace
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from seawall.embassy.backup import back_up
from seawall.embassy.checking import check_repository
from seawall.embassy.packs import read_trailer, share_name
from seawall.embassy.patterns import compile_patterns
from seawall.embassy.pruning import find_leftovers, prune_packs
from seawall.embassy.repository import Repository
from seawall.embassy.restore import restore_snapshot
from seawall.embassy.rewriting import filter_tree, rewrite_snapshots
from seawall.embassy.sites.local import LocalSite
from seawall.embassy.snapshots import Node

from .conftest import tree_state


def site_files(sites: list[LocalSite]) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for s in sites for p in Path(s.root).rglob("*") if p.is_file()}


def with_private_files(source: Path) -> Path:
    """Add a staff folder and a file with unique content known under three names."""
    (source / "staff" / "doe").mkdir(parents=True)
    (source / "staff" / "doe" / "medical.pdf").write_bytes(os.urandom(40_000))
    (source / "staff" / "roster.csv").write_text("doe,clerk\n")
    (source / "a-secret.txt").write_bytes(os.urandom(30_000))
    os.link(source / "a-secret.txt", source / "docs" / "alias.txt")
    os.link(source / "a-secret.txt", source / "zz-alias.txt")
    return source


def test_rewrite_removes_the_excluded_entries_and_nothing_else(
    repo: Repository, source: Path
) -> None:
    root = str(with_private_files(source)).lstrip("/")
    snap = back_up(repo, [source], tags=["daily"]).snapshot
    before = repo.tree(snap)
    assert {n.path: n.link_of for n in before if n.link_of} == {
        f"{root}/docs/alias.txt": f"{root}/a-secret.txt",
        f"{root}/zz-alias.txt": f"{root}/a-secret.txt",
    }
    excludes = compile_patterns([f"/{root}/staff", "a-secret.txt"])
    report = rewrite_snapshots(repo, excludes)
    [done] = report.rewritten
    assert done.original == snap.id and report.unchanged == () and report.forgotten == ()
    gone = {f"{root}/staff", f"{root}/staff/roster.csv", f"{root}/staff/doe"}
    gone |= {f"{root}/staff/doe/medical.pdf", f"{root}/a-secret.txt"}
    assert set(done.removed) == gone and list(done.removed) == sorted(gone)

    new = repo.find_snapshot(done.new or "")
    # The other names of the removed file keep their chunks; the first of them is the file now.
    expected = [
        replace(n, link_of="")
        if n.path == f"{root}/docs/alias.txt"
        else replace(n, link_of=f"{root}/docs/alias.txt")
        if n.path == f"{root}/zz-alias.txt"
        else n
        for n in before
        if n.path not in gone
    ]
    assert repo.tree(new) == expected
    assert (new.time, new.hostname, new.paths, new.tags) == (
        snap.time,
        snap.hostname,
        snap.paths,
        snap.tags,
    )
    files = [n for n in expected if n.type == "file"]
    assert (new.files, new.size) == (len(files), sum(n.size for n in files))
    assert new.extra["rewritten"]["from"] == snap.id
    assert new.extra["rewritten"]["original"] == snap.id
    assert new.extra["rewritten"]["excludes"] == [f"/{root}/staff", "a-secret.txt"]
    assert new.extra["rewritten"]["removed"] == len(gone)
    # Without forget the old snapshot stays, as restic keeps it.
    assert {s.id for s in repo.snapshots()} == {snap.id, new.id}
    assert repo.tree(repo.find_snapshot(snap.id)) == before


def test_snapshots_without_the_paths_are_left_alone_and_a_dry_run_changes_nothing(
    repo: Repository, sites: list[LocalSite], source: Path
) -> None:
    root = str(with_private_files(source)).lstrip("/")
    folder = back_up(repo, [source]).snapshot
    dump = back_up(repo, stdin=io.BytesIO(b"COPY land;\n"), stdin_name="landdb.sql").snapshot
    files = site_files(sites)
    plan = rewrite_snapshots(repo, compile_patterns(["roster.csv"]), forget=True, dry_run=True)
    assert plan.dry_run and plan.unchanged == (dump.id,) and plan.forgotten == ()
    assert [(r.original, r.new, r.removed) for r in plan.rewritten] == [
        (folder.id, None, (f"{root}/staff/roster.csv",))
    ]
    assert site_files(sites) == files
    done = rewrite_snapshots(repo, compile_patterns(["roster.csv"]), forget=True)
    assert done.unchanged == (dump.id,) and done.forgotten == (folder.id,)
    [new] = [s for s in repo.snapshots() if s.id != dump.id]
    assert {s.id for s in repo.snapshots()} == {dump.id, new.id}
    assert repo.find_snapshot(dump.id) == dump


def test_only_the_snapshots_named_are_rewritten(repo: Repository, source: Path) -> None:
    with_private_files(source)
    first = back_up(repo, [source]).snapshot
    second = back_up(repo, [source]).snapshot
    report = rewrite_snapshots(repo, compile_patterns(["*.pdf"]), snapshots=[second.id[:8]])
    assert [r.original for r in report.rewritten] == [second.id] and report.unchanged == ()
    assert len(repo.snapshots()) == 3 and repo.find_snapshot(first.id) == first


def test_rewrite_forget_then_prune_erases_the_files_data(
    repo: Repository, sites: list[LocalSite], source: Path, tmp_path: Path
) -> None:
    root = str(with_private_files(source)).lstrip("/")
    secret = back_up(repo, [source]).snapshot
    (source / "ledger.txt").write_text("after\n")
    later = back_up(repo, [source]).snapshot
    medical = f"{root}/staff/doe/medical.pdf"
    chunks = {
        bytes.fromhex(c)
        for s in (secret, later)
        for n in repo.tree(s)
        if n.path == medical
        for c in n.chunks
    }
    assert chunks and chunks <= set(repo.load_index().chunks)

    report = rewrite_snapshots(repo, compile_patterns([f"/{medical}"]), forget=True)
    assert set(report.forgotten) == {secret.id, later.id}
    prune_packs(repo, max_unused=0)
    assert check_repository(repo, read_data=True).ok

    index = repo.load_index()
    assert chunks.isdisjoint(index.chunks)
    for pack in index.packs.values():
        entries = read_trailer(repo.fetch_pack(pack).join(), repo.master.data_key)
        assert chunks.isdisjoint(e.id for e in entries)
    # Every pack on the sites is one the index lists: none left holding the file unlisted.
    assert find_leftovers(repo, {share_name(p) for p in index.packs}).orphans == []
    assert {Path(name).name for name in site_files(sites) if "/data/" in name} == {
        p.hex() for p in index.packs
    }

    doe = source / "staff" / "doe"
    times = doe.stat()
    (doe / "medical.pdf").unlink()
    os.utime(doe, ns=(times.st_atime_ns, times.st_mtime_ns))
    [newest] = [r.new for r in report.rewritten if r.original == later.id]
    restore_snapshot(repo, newest or "", tmp_path / "restored")
    assert tree_state(tmp_path / "restored" / root) == tree_state(source)


def test_a_rewrite_stopped_before_its_forget_is_finished_by_a_rerun(
    repo: Repository, source: Path
) -> None:
    with_private_files(source)
    old = back_up(repo, [source]).snapshot
    # A run killed after writing the new snapshot and before deleting the old one.
    first = rewrite_snapshots(repo, compile_patterns(["*.pdf"]))
    [written] = first.rewritten
    again = rewrite_snapshots(repo, compile_patterns(["*.pdf"]), forget=True)
    assert [(r.original, r.new, r.reused) for r in again.rewritten] == [(old.id, written.new, True)]
    assert again.forgotten == (old.id,) and again.unchanged == (written.new,)
    assert [s.id for s in repo.snapshots()] == [written.new]


def node(path: str, link_of: str = "") -> Node:
    return Node(path, "file", 0o644, 0, size=3, chunks=("ab",), inode=1, link_of=link_of)


NAMES = st.sampled_from(["a", "b", "c.pdf", "d.csv"])
TREES = st.lists(st.lists(NAMES, min_size=1, max_size=3).map("/".join), unique=True, max_size=12)


@given(TREES, st.lists(st.sampled_from(["a", "*.pdf", "/a/b", "b/*", "/c.pdf"]), min_size=1))
def test_filter_tree_keeps_what_no_exclude_covers_and_links_that_restore(
    paths: list[str], texts: list[str]
) -> None:
    # Files that are hard links of the first file, as a backup records them.
    ordered = sorted(paths)
    nodes = [node(p, link_of=ordered[0] if i and i % 2 else "") for i, p in enumerate(ordered)]
    excludes = compile_patterns(texts)
    kept, removed = filter_tree(nodes, excludes)
    assert sorted([n.path for n in kept] + [n.path for n in removed]) == ordered
    assert all(any(x.covers(n.path) for x in excludes) for n in removed)
    assert not any(x.covers(n.path) for x in excludes for n in kept)
    originals = {n.path for n in kept if not n.link_of}
    assert all(n.link_of in originals for n in kept if n.link_of)
    assert [(n.path, n.chunks) for n in kept] == [
        (n.path, n.chunks) for n in nodes if n.path in {k.path for k in kept}
    ]
