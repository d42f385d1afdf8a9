"""Counts the CLI prints agree with their nouns: ``1 file``, ``2 files``, ``1 snapshot copied``."""

from __future__ import annotations

import re
from pathlib import Path

from seawall.catalogs import counted
from tests.cli import Outcome, init_node, run_seawall

OLD = "the old sites' long passphrase"
NEW = "the new partner's long passphrase"


def sw(home: Path, *args: str, passphrase: str = NEW) -> Outcome:
    env = {"SEAWALL_EMBASSY_FROM_PASSPHRASE": OLD, "SEAWALL_EMBASSY_PASSPHRASE": passphrase}
    done = run_seawall(home, *args, env=env)
    assert done.code == 0, done.output
    return done


def test_counted_takes_the_noun_to_the_number() -> None:
    assert counted(1, "file") == "1 file" and counted(0, "file") == "0 files"
    assert counted(1, "directory", "directories") == "1 directory"
    assert counted(1200, "line", grouped=True) == "1,200 lines"
    assert counted(1, "line", grouped=True) == "1 line"


def test_backup_copy_and_audit_counts_are_singular_for_one(tmp_path: Path) -> None:
    home = init_node(tmp_path / "node")
    for name, passphrase in (("gov-records", OLD), ("new-partner", NEW)):
        sites = []
        for i in range(3):
            site = tmp_path / f"{name}-{i}"
            site.mkdir()
            sites.append(f"--site=file://{site}")
        sw(home, "embassy", "init", "--name", name, "--shares", "2-of-3", *sites,
           passphrase=passphrase)  # fmt: skip
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.txt").write_text("records\n")
    one = sw(home, "embassy", "backup", "--repo", "gov-records", str(data), passphrase=OLD)
    assert re.search(r"saved: 1 file, 8 bytes, [\d,]+ bytes stored", one.output), one.output
    copied = sw(home, "embassy", "copy", "--from", "gov-records", "--to", "new-partner")
    assert "1 snapshot copied, 0 held already; " in copied.output, copied.output
    (data / "b.txt").write_text("more records\n")
    two = sw(home, "embassy", "backup", "--repo", "gov-records", str(data), passphrase=OLD)
    assert re.search(r"saved: 2 files, 21 bytes, ", two.output), two.output
    (data / "c.txt").write_text("and more\n")
    sw(home, "embassy", "backup", "--repo", "gov-records", str(data), passphrase=OLD)
    again = sw(home, "embassy", "copy", "--from", "gov-records", "--to", "new-partner")
    assert "2 snapshots copied, 1 held already; " in again.output, again.output
    restored = sw(home, "embassy", "restore", "--repo", "new-partner", "latest",
                  "--target", str(tmp_path / "back"))  # fmt: skip
    assert "Restored 3 files, 1 directory, 0 links (30 bytes)" in restored.output, restored.output
    verified = sw(home, "audit", "verify")
    assert re.search(r"Audit log intact: [\d]+ entries verified", verified.output), verified.output
