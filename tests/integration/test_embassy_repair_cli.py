"""``seawall embassy check`` and ``repair`` over damage repair cannot undo, through the CLI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from seawall.core import audit
from seawall.core.node import Node
from seawall.db.models.embassy import EmbassyRun
from seawall.settings import load_settings
from tests.cli import init_node, site_dirs
from tests.integration.test_embassy_cli import init_repo, sw


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return init_node(tmp_path / "node")


@pytest.fixture
def sites(tmp_path: Path) -> list[Path]:
    return site_dirs(tmp_path)


@pytest.fixture
def records(tmp_path: Path) -> Path:
    src = tmp_path / "records"
    (src / "land").mkdir(parents=True)
    (src / "land" / "kingston.csv").write_text("".join(f"{i},Parcel {i}\n" for i in range(9000)))
    (src / "scan.tif").write_bytes(os.urandom(200_000))
    return src


def runs(home: Path, kind: str) -> list[tuple[str, str]]:
    """(outcome, summary) of the recorded runs of ``kind``, oldest first."""
    node = Node(load_settings(home=home))
    with node.unit(node.operator()) as ctx:
        found = ctx.db.scalars(
            select(EmbassyRun).where(EmbassyRun.kind == kind).order_by(EmbassyRun.started_at)
        )
        rows = [(r.outcome, r.summary) for r in found]
        entries = audit.search(ctx.db, audit.AuditFilter(action=f"embassy.{kind}"))
        assert [e.detail["outcome"] for e in entries][::-1] == [o for o, _ in rows]
    node.close()
    return rows


def test_repair_fails_over_a_pack_it_cannot_rebuild_and_check_names_its_files(
    home: Path, sites: list[Path], records: Path
) -> None:
    init_repo(home, [f"file://{d}" for d in sites])
    assert sw(home, "embassy", "backup", "--repo", "gov-records", str(records)).code == 0
    share = next(p for p in sorted((sites[0] / "data").rglob("*")) if p.is_file())
    name = share.relative_to(sites[0]).as_posix()
    for site in sites[:3]:  # 3-of-5: two good shares are left
        path = site / name
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))

    checked = sw(home, "embassy", "check", "--repo", "gov-records", "--read-data", "--json")
    assert checked.code == 1
    [loss] = checked.json()["lost_packs"]  # type: ignore[index]
    assert loss["pack"] == name
    [held] = loss["snapshots"]
    assert held["files"]  # every file is listed
    told = sw(home, "embassy", "check", "--repo", "gov-records", "--read-data")
    assert f"{name} is lost" in told.err and held["files"][0] in told.err

    repaired = sw(home, "embassy", "repair", "--repo", "gov-records")
    assert repaired.code == 4, repaired.err
    assert len(repaired.err.strip().splitlines()) == 1
    assert name in repaired.err and "Traceback" not in repaired.err
    assert "Rebuilt" not in repaired.err
    # The first repair took the lost pack out of the index; a second one still fails, naming
    # the files that need its chunks, until a backup stores them again.
    as_json = sw(home, "embassy", "repair", "--repo", "gov-records", "--json")
    assert as_json.code == 4
    report = as_json.json()
    assert report["unrecoverable"] == []  # type: ignore[index]
    assert report["unlisted"][0]["files"] == held["files"]  # type: ignore[index]
    assert held["files"][0] in as_json.err and "back up those files again" in as_json.err
    assert [outcome for outcome, _ in runs(home, "repair")] == ["failure", "failure"]
    assert name in runs(home, "repair")[0][1]


def test_repair_index_rebuilds_a_damaged_index_and_the_rest_stays_usable(
    home: Path, sites: list[Path], records: Path, tmp_path: Path
) -> None:
    init_repo(home, [f"file://{d}" for d in sites])
    first = sw(home, "embassy", "backup", "--repo", "gov-records", str(records), "--json")
    before = {p.name for p in (sites[0] / "index").iterdir()}
    (records / "new.bin").write_bytes(os.urandom(150_000))
    assert sw(home, "embassy", "backup", "--repo", "gov-records", str(records)).code == 0
    [damaged] = sorted({p.name for p in (sites[0] / "index").iterdir()} - before)
    for site in sites:
        (site / "index" / damaged).write_bytes(b"truncated")
    old = first.json()["snapshot"]  # type: ignore[index]
    target = tmp_path / "old"
    restored = sw(home, "embassy", "restore", "--repo", "gov-records", old, "--target", str(target))
    assert restored.code == 0, restored.err
    assert f"index/{damaged} is unreadable" in restored.err and "repair --index" in restored.err
    checked = sw(home, "embassy", "check", "--repo", "gov-records", "--json")
    assert checked.code == 1
    kinds = {(p["kind"], p["name"]) for p in checked.json()["problems"]}  # type: ignore[index]
    assert ("index-damaged", f"index/{damaged}") in kinds
    refused = sw(home, "embassy", "repair", "--repo", "gov-records")
    assert refused.code == 4 and "repair --index" in refused.err
    rebuilt = sw(home, "embassy", "repair", "--repo", "gov-records", "--index", "--json")
    assert rebuilt.code == 0, rebuilt.err
    assert rebuilt.json()["index"]["damaged"] == [f"index/{damaged}"]  # type: ignore[index]
    assert sw(home, "embassy", "check", "--repo", "gov-records", "--read-data").code == 0
    told = sw(home, "embassy", "repair", "--repo", "gov-records", "--index")
    assert told.code == 0 and "Indexed 2 packs" in told.err
    assert [outcome for outcome, _ in runs(home, "repair")] == ["failure", "success", "success"]
