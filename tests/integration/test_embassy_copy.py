"""``seawall embassy copy`` end to end: two repositories on real sites, the real CLI, the run
recorded and audited in the repository copied into, and access checked on both."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from seawall.core import audit
from seawall.core.access import Principal, Role
from seawall.core.node import Node
from seawall.embassy.service.base import Access
from seawall.embassy.service.copying import copy
from seawall.errors import Forbidden
from seawall.settings import load_settings
from tests.cli import Outcome, init_node, run_seawall, site_dirs

OLD = "the old sites' long passphrase"
NEW = "the new partner's long passphrase"


def sw(home: Path, *args: str, old: str = OLD, new: str = NEW) -> Outcome:
    """``seawall`` with the passphrase of the repository copied from, and of the one copied
    into (the one every other command reads)."""
    env = {"SEAWALL_EMBASSY_FROM_PASSPHRASE": old, "SEAWALL_EMBASSY_PASSPHRASE": new}
    return run_seawall(home, *args, env=env)


def tree(root: Path) -> dict[str, tuple[str, int, int, bytes | str]]:
    found: dict[str, tuple[str, int, int, bytes | str]] = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        rel = str(path.relative_to(root))
        if path.is_symlink():
            found[rel] = ("link", 0, 0, os.readlink(path))
        elif path.is_dir():
            found[rel] = ("dir", st.st_mode, 0, "")
        else:
            found[rel] = ("file", st.st_mode, st.st_mtime_ns, path.read_bytes())
    return found


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return init_node(tmp_path / "node")


@pytest.fixture
def records(tmp_path: Path) -> Path:
    src = tmp_path / "records"
    (src / "land").mkdir(parents=True)
    (src / "land" / "kingston.csv").write_text(
        "".join(f"{i},Parcel {i},Kingston\n" for i in range(30_000))
    )
    (src / "scan.tif").write_bytes(os.urandom(500_000))
    os.symlink("land/kingston.csv", src / "latest.csv")
    return src


def two_repositories(home: Path, tmp_path: Path) -> tuple[list[Path], list[Path]]:
    """``gov-records`` (3-of-5, passphrase OLD) and ``new-partner`` (3-of-5, NEW)."""
    (tmp_path / "old-sites").mkdir()
    (tmp_path / "new-sites").mkdir()
    old_sites = site_dirs(tmp_path / "old-sites")
    new_sites = site_dirs(tmp_path / "new-sites")
    for name, sites, passphrase in (
        ("gov-records", old_sites, OLD),
        ("new-partner", new_sites, NEW),
    ):
        args = ["embassy", "init", "--name", name, "--shares", "3-of-5"]
        for d in sites:
            args += ["--site", f"file://{d}"]
        made = sw(home, *args, new=passphrase)
        assert made.code == 0, made.err
    return old_sites, new_sites


def back_up(home: Path, *args: str) -> str:
    done = sw(home, "embassy", "backup", "--repo", "gov-records", *args, "--json", new=OLD)
    assert done.code == 0, done.err
    snapshot: str = done.json()["snapshot"]
    return snapshot


def test_copy_moves_every_snapshot_to_a_new_partner_and_a_second_copy_moves_nothing(
    home: Path, records: Path, tmp_path: Path
) -> None:
    _, new_sites = two_repositories(home, tmp_path)
    first = back_up(home, str(records), "--tag", "daily")
    before = tree(records)
    (records / "deed.pdf").write_bytes(os.urandom(300_000))
    second = back_up(home, str(records), "--tag", "weekly")
    after = tree(records)
    listed = sw(home, "embassy", "snapshots", "--repo", "gov-records", "--json", new=OLD).json()

    copied = sw(home, "embassy", "copy", "--from", "gov-records", "--to", "new-partner", "--json")
    assert copied.code == 0, copied.err
    assert copied.err == ""  # no progress under --json
    report = copied.json()
    assert [c["source"] for c in report["copied"]] == [first, second]
    assert report["skipped"] == []
    assert report["stored_bytes"] > 0
    held = sw(home, "embassy", "snapshots", "--repo", "new-partner", "--json").json()
    assert [(s["original"], s["time"], s["hostname"], s["paths"], s["tags"]) for s in held] == [
        (s["id"], s["time"], s["hostname"], s["paths"], s["tags"]) for s in listed
    ]
    assert [s["id"] for s in held] == [c["snapshot"] for c in report["copied"]]

    again = sw(home, "embassy", "copy", "--from", "gov-records", "--to", "new-partner", "--json")
    assert again.code == 0, again.err
    assert again.json() == {
        "copied": [],
        "skipped": [first, second],
        "packs_written": 0,
        "packs_reused": 0,
        "new_bytes": 0,
        "stored_bytes": 0,
    }
    assert sw(home, "embassy", "snapshots", "--repo", "new-partner", "--json").json() == held

    # Any 3 of the new partner's 5 sites restore every copy bit for bit.
    shutil.rmtree(new_sites[0])
    shutil.rmtree(new_sites[3])
    for copy_id, expected in zip([s["id"] for s in held], [before, after], strict=True):
        target = tmp_path / f"restored-{copy_id}"
        restored = sw(
            home,
            "embassy",
            "restore",
            "--repo",
            "new-partner",
            copy_id[:8],
            "--target",
            str(target),
        )
        assert restored.code == 0, restored.err
        assert tree(target / str(records).lstrip("/")) == expected

    node = Node(load_settings(home=home))
    try:
        with node.unit(node.operator()) as ctx:
            runs = audit.search(ctx.db, audit.AuditFilter(action="embassy.copy"))
    finally:
        node.close()
    assert [(e.detail["name"], e.detail["outcome"]) for e in runs] == [
        ("new-partner", "success"),
        ("new-partner", "success"),
    ]


def test_copy_refuses_bad_input_in_one_line_naming_the_side(
    home: Path, records: Path, tmp_path: Path
) -> None:
    two_repositories(home, tmp_path)
    back_up(home, str(records))

    def copy_line(*args: str, old: str = OLD, new: str = NEW) -> tuple[int, list[str]]:
        done = sw(home, "embassy", "copy", *args, old=old, new=new)
        return done.code, done.err_lines

    code, lines = copy_line("--from", "gov-records", "--to", "gov-records")
    assert code == 65 and len(lines) == 1 and "both name gov-records" in lines[0]
    code, lines = copy_line("--from", "gov-records", "--to", "new-partner", "--snapshot", "feed")
    assert code == 66 and len(lines) == 1
    assert "'feed' matches no snapshot of the source gov-records" in lines[0]
    code, lines = copy_line(
        "--from", "gov-records", "--to", "new-partner", old="not the one at all"
    )
    assert code == 77 and len(lines) == 1 and "--from gov-records:" in lines[0]
    code, lines = copy_line(
        "--from", "gov-records", "--to", "new-partner", new="not the one at all"
    )
    assert code == 77 and len(lines) == 1 and "--to new-partner:" in lines[0]
    code, lines = copy_line("--from", "nowhere", "--to", "new-partner")
    assert code == 66 and len(lines) == 1
    held = sw(home, "embassy", "snapshots", "--repo", "new-partner", "--json").json()
    assert held == []


@pytest.mark.parametrize("analyst_side", ["source", "target"])
def test_copy_needs_embassy_operate_on_both_repositories(
    home: Path, records: Path, tmp_path: Path, analyst_side: str
) -> None:
    two_repositories(home, tmp_path)
    back_up(home, str(records))
    node = Node(load_settings(home=home))
    analyst = Principal("jm-analyst", "JM", Role.ANALYST)
    try:

        def access(ref: str, passphrase: str, side: str) -> Access:
            who = analyst if side == analyst_side else node.operator()
            return Access(lambda: node.unit(who), ref, node.clock, lambda: passphrase)

        with pytest.raises(Forbidden):
            copy(access("gov-records", OLD, "source"), access("new-partner", NEW, "target"))
    finally:
        node.close()
    held = sw(home, "embassy", "snapshots", "--repo", "new-partner", "--json").json()
    assert held == []
