"""``find``: entries of the snapshots whose name or path matches a glob pattern."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from seawall.embassy.backup import back_up
from seawall.embassy.errors import SnapshotMissing
from seawall.embassy.finding import find_nodes, parse_when
from seawall.embassy.patterns import compile_patterns
from seawall.embassy.progress import Progress
from seawall.embassy.repository import Repository
from seawall.errors import InvalidInput


def found(
    repo: Repository, *patterns: str, ignore_case: bool = False, **kw: object
) -> set[tuple[str, str]]:
    compiled = compile_patterns(list(patterns), ignore_case=ignore_case)
    return {(m.snapshot.id, m.node.path) for m in find_nodes(repo, compiled, **kw)}  # type: ignore[arg-type]


def test_find_lists_every_match_in_every_snapshot(repo: Repository, source: Path) -> None:
    root = str(source).lstrip("/")
    first = back_up(repo, [source]).snapshot
    (source / "docs" / "register.csv").unlink()
    (source / "docs" / "deep" / "Extra.CSV").write_bytes(b"a,b\n")
    second = back_up(repo, [source]).snapshot
    assert found(repo, "*.csv") == {(first.id, f"{root}/docs/register.csv")}
    assert found(repo, "*.csv", ignore_case=True) == {
        (first.id, f"{root}/docs/register.csv"),
        (second.id, f"{root}/docs/deep/Extra.CSV"),
    }
    # With a slash the pattern matches the path: rooted, or its last components.
    assert found(repo, "deep/*.bin") == {
        (snap.id, f"{root}/docs/deep/{name}")
        for snap in (first, second)
        for name in ("blob.bin", "copy.bin")
    }
    assert found(repo, f"/{root}/*") == {
        (snap.id, f"{root}/{name}")
        for snap in (first, second)
        for name in ("docs", "empty", "small.txt", "zero.dat", "link")
    }
    # Directories and symlinks match too; several patterns match any of them.
    assert found(repo, "deep", "link", snapshots=[second.id[:8]]) == {
        (second.id, f"{root}/docs/deep"),
        (second.id, f"{root}/link"),
    }
    assert found(repo, "*.bin", prefix=f"/{root}/docs/deep/copy.bin") == {
        (first.id, f"{root}/docs/deep/copy.bin"),
        (second.id, f"{root}/docs/deep/copy.bin"),
    }
    assert found(repo, "nothing-like-this") == set()


def test_find_filters_by_modification_time(repo: Repository, source: Path) -> None:
    root = str(source).lstrip("/")
    os.utime(source / "zero.dat", ns=(1_700_000_000_000_000_000,) * 2)  # 2023-11-14 22:13 UTC
    snap = back_up(repo, [source]).snapshot
    files = ("small.txt", "zero.dat")  # small.txt: 2020-09-13 12:26 UTC
    within = {(snap.id, f"{root}/zero.dat")}
    assert found(repo, *files, oldest=parse_when("2023-11-14", "--oldest")) == within
    assert found(repo, *files, newest=parse_when("2023-11-13", "--newest")) == {
        (snap.id, f"{root}/small.txt")
    }
    # A day alone as --newest takes in the whole day; a time is exact.
    assert (
        found(
            repo,
            *files,
            newest=parse_when("2023-11-14", "--newest"),
            oldest=parse_when("2021-01-01", "--oldest"),
        )
        == within
    )
    assert (
        found(
            repo,
            *files,
            newest=parse_when("2023-11-14 22:13", "--newest"),
            oldest=parse_when("2021-01-01", "--oldest"),
        )
        == set()
    )


def test_find_reports_progress_per_snapshot(repo: Repository, source: Path) -> None:
    first = back_up(repo, [source]).snapshot
    back_up(repo, [source])
    seen: list[Progress] = []
    find_nodes(repo, compile_patterns(["*"]), progress=seen.append)
    assert [(p.phase, p.total_bytes) for p in seen] == [("find", 2 * first.size)] * 2
    assert [p.bytes for p in seen] == [first.size, 2 * first.size]


def test_an_unknown_snapshot_or_time_is_refused(repo: Repository, source: Path) -> None:
    back_up(repo, [source])
    with pytest.raises(SnapshotMissing, match="'deadbeef'"):
        find_nodes(repo, compile_patterns(["*"]), snapshots=["deadbeef"])
    with pytest.raises(InvalidInput, match="--newest 'yesterday' is not a date"):
        parse_when("yesterday", "--newest")
    assert parse_when("2026-01-02T03:04:05+02:00", "--oldest") == datetime(
        2026, 1, 2, 1, 4, 5, tzinfo=UTC
    )
