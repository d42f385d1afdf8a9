"""``seawall embassy find`` and ``rewrite`` end to end: real sites, the real CLI translator."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from seawall.core import audit
from seawall.core.access import Principal, Role
from seawall.core.node import Node
from seawall.embassy import service
from seawall.embassy.service.rewriting import rewrite
from seawall.errors import Forbidden
from seawall.settings import load_settings
from tests.cli import Outcome, init_node, run_seawall, site_dirs

PASS = "correct-horse-battery-staple"
REPO = ("--repo", "gov-records")


def sw(home: Path, *args: str) -> Outcome:
    """Run ``seawall`` in-process with the embassy passphrase in the environment."""
    return run_seawall(home, *args, env={"SEAWALL_EMBASSY_PASSPHRASE": PASS})


@pytest.fixture
def home(tmp_path: Path) -> Path:
    made = init_node(tmp_path / "node")
    sites = site_dirs(tmp_path)
    args = ["embassy", "init", "--name", "gov-records", "--shares", "3-of-5"]
    result = sw(made, *args, *[f"--site=file://{d}" for d in sites])
    assert result.code == 0, result.err
    return made


@pytest.fixture
def records(tmp_path: Path) -> Path:
    """A ministry share: land records, staff files, a symlink and an empty dir."""
    src = tmp_path / "records"
    (src / "land").mkdir(parents=True)
    (src / "staff" / "doe").mkdir(parents=True)
    (src / "empty").mkdir()
    (src / "land" / "kingston.csv").write_text("1,Parcel 1,Kingston\n" * 2000)
    (src / "land" / "Spanish Town.CSV").write_text("2,Parcel 2,Spanish Town\n")
    (src / "staff" / "doe" / "medical.pdf").write_bytes(os.urandom(50_000))
    (src / "staff" / "roster.csv").write_text("doe,clerk\n")
    os.symlink("land/kingston.csv", src / "latest.csv")
    return src


def test_find_lists_matches_across_snapshots(home: Path, records: Path) -> None:
    root = str(records)
    first = sw(home, "embassy", "backup", *REPO, root, "--json").json()["snapshot"]  # type: ignore[index]
    (records / "staff" / "roster.csv").unlink()
    second = sw(home, "embassy", "backup", *REPO, root, "--json").json()["snapshot"]  # type: ignore[index]

    listed = sw(home, "embassy", "find", *REPO, "*.csv", "--json")
    assert listed.code == 0, listed.err
    docs = listed.json()
    assert isinstance(docs, list)
    assert {(d["snapshot"], d["path"], d["type"]) for d in docs} == {
        (first, f"{root}/land/kingston.csv", "file"),
        (first, f"{root}/latest.csv", "symlink"),
        (first, f"{root}/staff/roster.csv", "file"),
        (second, f"{root}/land/kingston.csv", "file"),
        (second, f"{root}/latest.csv", "symlink"),
    }
    kingston = next(d for d in docs if d["path"].endswith("kingston.csv"))
    assert set(kingston) == {"snapshot", "time", "path", "type", "size", "mtime"}
    assert kingston["size"] == 2000 * len("1,Parcel 1,Kingston\n")
    assert kingston["mtime"].endswith("+00:00") and kingston["time"].endswith("+00:00")

    # A pattern with a slash matches the path; -i ignores case; --snapshot and --path narrow.
    by_path = sw(
        home, "embassy", "find", *REPO, "staff/*", "-i", "*.csv", "--snapshot", second[:8], "--json"
    )
    assert {d["path"] for d in by_path.json()} == {  # type: ignore[union-attr]
        f"{root}/staff/doe",
        f"{root}/land/kingston.csv",
        f"{root}/land/Spanish Town.CSV",
        f"{root}/latest.csv",
    }
    under = sw(home, "embassy", "find", *REPO, "*", "--path", f"{root}/staff", "--json")
    assert sorted((d["snapshot"], d["path"]) for d in under.json()) == sorted(  # type: ignore[union-attr]
        [(first, f"{root}/staff/roster.csv")]
        + [
            (s, f"{root}/staff{p}")
            for s in (first, second)
            for p in ("", "/doe", "/doe/medical.pdf")
        ]
    )

    text = sw(home, "embassy", "find", *REPO, "medical.pdf")
    assert text.code == 0, text.err
    lines = text.out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(first[:8] + " ") and lines[1].startswith(second[:8] + " ")
    assert all(" file 50,000 " in line for line in lines)
    assert all(f"{root}/staff/doe/medical.pdf" in line for line in lines)


def test_find_says_nothing_found_and_refuses_bad_input_in_one_line(
    home: Path, records: Path
) -> None:
    assert sw(home, "embassy", "backup", *REPO, str(records)).code == 0
    none = sw(home, "embassy", "find", *REPO, "*.docx")
    assert (none.code, none.out, none.err_lines) == (0, "", ["nothing found"])
    assert sw(home, "embassy", "find", *REPO, "*.docx", "--json").json() == []
    for args, code, text in [
        (("[abc",), 65, "unclosed '['"),
        (("*.csv", "--snapshot", "deadbeef"), 66, "'deadbeef' matches no snapshot"),
        (("*.csv", "--newest", "soon"), 65, "--newest 'soon' is not a date"),
    ]:
        refused = sw(home, "embassy", "find", *REPO, *args)
        assert refused.code == code, refused.err
        assert len(refused.err_lines) == 1 and text in refused.err
        assert "Traceback" not in refused.err


def test_rewrite_dry_run_then_forget_and_prune_erase_a_folder(
    home: Path, records: Path, tmp_path: Path
) -> None:
    root = str(records)
    first = sw(home, "embassy", "backup", *REPO, root, "--json").json()["snapshot"]  # type: ignore[index]
    dump = sw(home, "embassy", "backup", *REPO, "--stdin", "--stdin-name", "land.sql")
    assert dump.code == 0, dump.err
    before = sw(home, "embassy", "snapshots", *REPO, "--json").json()
    staff = f"{root}/staff"

    plan = sw(home, "embassy", "rewrite", *REPO, "--exclude", staff, "--forget", "--dry-run")
    assert plan.code == 0, plan.err
    assert f"would remove 4 entries from {first[:8]}" in plan.err
    assert f"  - {staff}/doe/medical.pdf" in plan.err
    assert "1 snapshot unchanged" in plan.err and "dry run: nothing changed" in plan.err
    assert sw(home, "embassy", "snapshots", *REPO, "--json").json() == before

    done = sw(home, "embassy", "rewrite", *REPO, "--exclude", staff, "--forget", "--json")
    assert done.code == 0, done.err
    body = done.json()
    assert isinstance(body, dict)
    [entry] = body["rewritten"]
    assert entry["original"] == first and entry["reused"] is False
    assert entry["removed"] == [
        staff,
        f"{staff}/doe",
        f"{staff}/doe/medical.pdf",
        f"{staff}/roster.csv",
    ]
    assert body["forgotten"] == [first] and len(body["unchanged"]) == 1 and body["dry_run"] is False
    found = sw(home, "embassy", "find", *REPO, "medical.pdf")
    assert found.err_lines == ["nothing found"]
    pruned = sw(home, "embassy", "prune", *REPO, "--max-unused", "0%")
    assert pruned.code == 0, pruned.err
    restored = sw(
        home, "embassy", "restore", *REPO, entry["new"][:8], "--target", str(tmp_path / "r")
    )
    assert restored.code == 0, restored.err
    back = tmp_path / "r" / root.lstrip("/")
    assert sorted(str(p.relative_to(back)) for p in back.rglob("*")) == [
        "empty",
        "land",
        "land/Spanish Town.CSV",
        "land/kingston.csv",
        "latest.csv",
    ]
    assert (back / "land" / "kingston.csv").read_bytes() == (
        records / "land" / "kingston.csv"
    ).read_bytes()

    node = Node(load_settings(home=home))
    with node.unit(node.operator()) as ctx:
        [audited] = audit.search(ctx.db, audit.AuditFilter(action="embassy.rewrite"))
    node.close()
    assert audited.actor == "operator"
    assert audited.detail["excludes"] == [staff] and audited.detail["forgotten"] == [first]
    assert audited.detail["rewritten"] == [{"original": first, "new": entry["new"], "removed": 4}]


def test_rewrite_refuses_bad_input_and_anyone_without_embassy_operate(
    home: Path, records: Path
) -> None:
    assert sw(home, "embassy", "backup", *REPO, str(records)).code == 0
    before = sw(home, "embassy", "snapshots", *REPO, "--json").json()
    for args, code, text in [
        (("--exclude", "[abc"), 65, "unclosed '['"),
        (("--exclude", "x", "--snapshot", "deadbeef"), 66, "'deadbeef' matches no snapshot"),
        ((), 2, "--exclude"),
    ]:
        refused = sw(home, "embassy", "rewrite", *REPO, *args)
        assert refused.code == code, refused.err
        assert text in refused.err and "Traceback" not in refused.err
    node = Node(load_settings(home=home))
    viewer = Principal("ana", "JM", Role.VIEWER, source="web")
    try:
        access = service.Access(lambda: node.unit(viewer), "gov-records", node.clock, lambda: PASS)
        with pytest.raises(Forbidden):
            rewrite(access, ["*.pdf"], forget=True)
        with node.unit(node.operator()) as ctx:
            assert audit.search(ctx.db, audit.AuditFilter(action="embassy.rewrite")) == []
    finally:
        node.close()
    assert sw(home, "embassy", "snapshots", *REPO, "--json").json() == before
