"""``seawall embassy recover`` and custodian shares given to ``seawall embassy``: a recovery
with sites down opens the repository with the shares (writing nothing to its sites), restores
for real, and records the recovery time as drill evidence."""

from __future__ import annotations

import shutil
from pathlib import Path

from seawall.core.evidence import list_evidence
from seawall.core.node import Node
from seawall.settings import load_settings
from tests.cli import init_node, run_seawall, site_dirs

PASS = "correct-horse-battery-staple"


def _repo_with_custodians(tmp_path: Path, records: Path) -> tuple[Path, list[Path], list[Path]]:
    """A 2-of-4 repository backed up once, its key split 3 of 5; the node, sites and shares."""
    home = init_node(tmp_path / "node")
    sites = site_dirs(tmp_path, 4)
    secret = {"SEAWALL_EMBASSY_PASSPHRASE": PASS}
    urls = [arg for s in sites for arg in ("--site", f"file://{s}")]
    made = run_seawall(
        home, "embassy", "init", "--name", "gov", "--shares", "2-of-4", *urls, env=secret
    )
    assert made.code == 0, made.err
    out = tmp_path / "custodians"
    split = run_seawall(
        home, "embassy", "key", "split", "--repo", "gov", "--custodians", "5",
        "--threshold", "3", "--out", str(out), env=secret,
    )  # fmt: skip
    assert split.code == 0, split.err
    backed = run_seawall(home, "embassy", "backup", "--repo", "gov", str(records), env=secret)
    assert backed.code == 0, backed.err
    return home, sites, sorted(out.glob("custodian-*.txt"))


def _written(site: Path) -> dict[str, int]:
    """Each object on a local site but its locks, with when it was last written."""
    return {
        str(p.relative_to(site)): p.stat().st_mtime_ns
        for p in site.rglob("*")
        if p.is_file() and p.relative_to(site).parts[0] != "locks"
    }


def test_three_shares_open_the_repository_with_two_sites_gone_and_the_recovery_is_evidence(
    tmp_path: Path,
) -> None:
    records = tmp_path / "records"
    (records / "deeds").mkdir(parents=True)
    (records / "deeds" / "1962.txt").write_text("Independence\n" * 500)
    home, sites, shares = _repo_with_custodians(tmp_path, records)
    for gone in sites[:2]:  # a storm takes two of the four sites
        shutil.rmtree(gone)
    before = _written(sites[2])
    opening = [arg for share in shares[:3] for arg in ("--share-file", str(share))]

    # The passphrase is nowhere: without shares the command asks for it and gets nothing.
    refused = run_seawall(home, "embassy", "snapshots", "--repo", "gov")
    assert refused.code != 0
    target = tmp_path / "restored"
    done = run_seawall(
        home, "embassy", *opening, "recover", "--repo", "gov", "--target", str(target),
        "--rto", "4h", "--json",
    )  # fmt: skip
    assert done.code == 0, done.err
    recovery = done.json()
    assert (recovery["files"], recovery["passed"], recovery["problems"]) == (1, True, [])
    restored = target / str(records).lstrip("/") / "deeds" / "1962.txt"
    assert restored.read_text() == "Independence\n" * 500
    # Nothing but its lock was written to the surviving sites: no key change, no new slot.
    assert _written(sites[2]) == before

    node = Node(load_settings(home=home))
    try:
        with node.unit(node.operator()) as ctx:
            drills = [
                e for e in list_evidence(ctx, supports="cmm:D1.2") if e.kind == "embassy.drill"
            ]
    finally:
        node.close()
    assert len(drills) == 1 and drills[0].detail["recovery"] is True
    # By default the recovery began when this node was set up.
    assert drills[0].detail["since"] <= drills[0].occurred_at.isoformat()
    assert drills[0].detail["rto_target_seconds"] == 4 * 3600


def test_two_shares_of_three_and_a_bad_since_are_refused_in_one_line(tmp_path: Path) -> None:
    records = tmp_path / "records"
    records.mkdir()
    (records / "a.txt").write_text("a")
    home, _sites, shares = _repo_with_custodians(tmp_path, records)
    bad = run_seawall(
        home, "embassy", "recover", "--repo", "gov", "--target", str(tmp_path / "t"),
        "--since", "last tuesday", env={"SEAWALL_EMBASSY_PASSPHRASE": PASS},
    )  # fmt: skip
    assert bad.code == 65 and "--since 'last tuesday' is not a date" in bad.err
    assert len(bad.err.strip().splitlines()) == 1
    too_few = run_seawall(
        home, "embassy", "--share-file", str(shares[0]), "--share-file", str(shares[1]),
        "recover", "--repo", "gov", "--target", str(tmp_path / "t"),
    )  # fmt: skip
    assert too_few.code != 0 and "Traceback" not in too_few.err
    assert not (tmp_path / "t").exists()
