"""What killed backups leave (orphan shares, temporary files): counted alike by check, a dry
run and prune, and the space prune reports freed is the space the sites got back."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

from seawall.embassy.backup import back_up
from seawall.embassy.checking import check_repository
from seawall.embassy.packs import share_name
from seawall.embassy.pruning import TEMP_AFTER, plan_prune, prune_packs
from seawall.embassy.repository import Repository
from seawall.embassy.restore import restore_snapshot
from seawall.embassy.sites.local import LocalSite

from .conftest import tree_state
from .test_crashes import init, run_and_kill


def temporaries(root: Path) -> dict[Path, int]:
    """Every ``.tmp-*`` file under ``root`` and its size."""
    return {p: p.stat().st_size for p in root.rglob(".tmp-*") if p.is_file()}


def held_bytes(root: Path) -> int:
    """Bytes of the shares and of the temporary files the sites hold."""
    shares = sum(p.stat().st_size for p in root.glob("site*/data/**/*") if p.is_file())
    temps = sum(size for path, size in temporaries(root).items() if "/data/" not in str(path))
    return shares + temps


def orphan_shares(repo: Repository, root: Path) -> dict[tuple[int, str], int]:
    """(site, name) -> size of each share no index lists, read from the sites' directories."""
    known = {share_name(pid) for pid in repo.load_index().packs}
    found = {}
    for i in range(5):
        for name in LocalSite(root / f"site{i}").list("data/"):
            if name not in known:
                found[(i, name)] = (root / f"site{i}" / name).stat().st_size
    return found


def test_prune_counts_and_frees_what_killed_backups_left(tmp_path: Path, source: Path) -> None:
    root = tmp_path / "repo"
    repo = init(root)
    first = back_up(repo, [source]).snapshot
    rng = random.Random(21)
    (source / "bulk.bin").write_bytes(rng.randbytes(4_000_000))
    for delay in [0.0, *sorted(rng.uniform(0.0, 0.5) for _ in range(9))]:
        run_and_kill(root, "backup", delay, str(source))
    # A kill rarely lands inside one write: plant what one leaves, as a share of a pack no
    # index lists and a temporary file beside it, besides what these kills left.
    (root / "site2" / "data" / "ff").mkdir(parents=True, exist_ok=True)
    (root / "site2" / "data" / "ff" / ("ff" * 32)).write_bytes(rng.randbytes(30_000))
    (root / "site0" / "data" / ".tmp-killed").write_bytes(rng.randbytes(50_000))
    old = time.time() - TEMP_AFTER.total_seconds() - 60
    for path in temporaries(root):
        os.utime(path, (old, old))  # left by the killed runs, long ago
    # A backup running now on another node writes this one: it must stay.
    fresh = root / "site1" / "data" / ".tmp-running"
    fresh.write_bytes(b"x" * 10_000)
    stale = {p: size for p, size in temporaries(root).items() if p != fresh}
    orphans = orphan_shares(repo, root)

    checked = check_repository(repo)
    assert checked.ok, checked.errors
    warned = {(p.site, p.name) for p in checked.problems if p.kind == "pack-orphan"}
    assert warned == set(orphans)
    temp_warnings = [p for p in checked.problems if p.kind == "temp-stale"]
    assert len(temp_warnings) == len(stale) and all(p.severity == "warning" for p in temp_warnings)
    assert not any("running" in p.name for p in temp_warnings)

    plan = plan_prune(repo)
    assert (plan.orphans_deleted, plan.orphan_bytes) == (len(orphans), sum(orphans.values()))
    assert (plan.temp_files_deleted, plan.temp_bytes) == (len(stale), sum(stale.values()))
    before = held_bytes(root)
    done = prune_packs(repo)
    freed = before - held_bytes(root)
    assert (done.orphans_deleted, done.orphan_bytes) == (plan.orphans_deleted, plan.orphan_bytes)
    assert (done.temp_files_deleted, done.temp_bytes) == (len(stale), sum(stale.values()))
    assert done.bytes_freed == freed == plan.bytes_freed
    assert freed >= sum(orphans.values()) + sum(stale.values()) > 0

    assert temporaries(root) == {fresh: 10_000}
    assert orphan_shares(repo, root) == {}
    after = check_repository(repo, read_data=True)
    assert after.ok and not [p for p in after.problems if p.kind in ("pack-orphan", "temp-stale")]
    (source / "bulk.bin").unlink()
    restore_snapshot(repo, first.id, tmp_path / "out")
    assert tree_state(tmp_path / "out" / source.as_posix().lstrip("/")) == tree_state(source)
    repo.close()
