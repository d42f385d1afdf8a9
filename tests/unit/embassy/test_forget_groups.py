"""``forget`` applies its keep policy within groups of snapshots (restic's ``--group-by``)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from seawall.embassy.backup import back_up
from seawall.embassy.pruning import forget_snapshots
from seawall.embassy.repository import Repository
from seawall.embassy.snapshots import KeepPolicy, Snapshot, group_snapshots, parse_group_by
from seawall.errors import InvalidInput


def test_forget_keeps_a_directory_and_a_stream_backed_up_the_same_day(
    repo: Repository, source: Path
) -> None:
    # The quick start's two backups: a directory, then a database dump from stdin.
    folder = back_up(repo, [source]).snapshot
    dump = back_up(repo, stdin=io.BytesIO(b"COPY land FROM stdin;\n"), stdin_name="landdb.sql")
    report = forget_snapshots(repo, KeepPolicy(daily=7))
    assert report.removed == ()
    assert set(report.kept) == {folder.id, dump.snapshot.id}
    assert {s.id for s in repo.snapshots()} == {folder.id, dump.snapshot.id}
    keys = sorted(tuple(sorted(g.key.items())) for g in report.groups)
    host = folder.hostname
    assert keys == [
        (("host", host), ("paths", (str(source),))),
        (("host", host), ("paths", ("stdin:landdb.sql",))),
    ]
    for group in report.groups:
        assert [(k.id, k.reasons) for k in group.kept] == [(group.kept[0].id, ("daily snapshot",))]


def test_the_policy_applies_within_each_group_and_a_dry_run_says_why(
    repo: Repository, source: Path
) -> None:
    older = [back_up(repo, [source], hostname="node-a").snapshot for _ in range(2)]
    newest_a = back_up(repo, [source], hostname="node-a").snapshot
    only_b = back_up(repo, [source], hostname="node-b").snapshot
    would = forget_snapshots(repo, KeepPolicy(last=1), dry_run=True)
    assert would.dry_run and len(repo.snapshots()) == 4  # nothing removed
    groups = {g.key["host"]: g for g in would.groups}
    assert set(groups) == {"node-a", "node-b"}
    assert [(k.id, k.reasons) for k in groups["node-a"].kept] == [(newest_a.id, ("last snapshot",))]
    assert set(groups["node-a"].removed) == {s.id for s in older}
    assert [k.id for k in groups["node-b"].kept] == [only_b.id] and groups["node-b"].removed == ()
    done = forget_snapshots(repo, KeepPolicy(last=1))
    assert set(done.removed) == {s.id for s in older}
    assert {s.id for s in repo.snapshots()} == {newest_a.id, only_b.id}


def test_group_by_nothing_puts_every_snapshot_in_one_group(repo: Repository, source: Path) -> None:
    first = back_up(repo, [source], hostname="node-a").snapshot
    second = back_up(repo, stdin=io.BytesIO(b"x"), stdin_name="x.sql", hostname="node-b").snapshot
    report = forget_snapshots(repo, KeepPolicy(last=1), group_by=())
    [group] = report.groups
    assert group.key == {}
    assert report.removed == (first.id,) and report.kept == (second.id,)


def at(
    hours: int, host: str = "h", paths: tuple[str, ...] = ("/srv",), tags: tuple[str, ...] = ()
) -> Snapshot:
    when = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=hours)
    return Snapshot(id=f"{host}-{hours}", time=when, hostname=host, paths=paths, tags=tags)


def test_groups_key_on_host_paths_and_tags_in_any_combination() -> None:
    snaps = [
        at(0, "a", ("/srv", "/etc"), ("daily",)),
        at(1, "a", ("/etc", "/srv"), ("daily",)),  # the same paths in another order
        at(2, "a", ("/srv",), ("weekly",)),
        at(3, "b", ("/srv",), ("daily",)),
    ]
    by_paths = group_snapshots(snaps, ("paths",))
    assert [(g.key, [s.id for s in g.snapshots]) for g in by_paths] == [
        ({"paths": ("/etc", "/srv")}, ["a-0", "a-1"]),
        ({"paths": ("/srv",)}, ["a-2", "b-3"]),
    ]
    by_tags = group_snapshots(snaps, ("host", "tags"))
    assert [g.key for g in by_tags] == [
        {"host": "a", "tags": ("daily",)},
        {"host": "a", "tags": ("weekly",)},
        {"host": "b", "tags": ("daily",)},
    ]
    assert parse_group_by("host,paths") == ("host", "paths")
    assert parse_group_by(" tags , host ") == ("host", "tags")
    assert parse_group_by("") == ()
    with pytest.raises(InvalidInput, match=r"--group-by 'hostname' .* host, paths, tags"):
        parse_group_by("hostname")
