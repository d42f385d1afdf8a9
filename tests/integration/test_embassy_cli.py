"""``seawall embassy`` end to end: real sites, the real CLI translator, audit and evidence."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from seawall.core import audit
from seawall.core.evidence import list_evidence
from seawall.core.node import Node
from seawall.embassy import service
from seawall.embassy.errors import BadSiteUrl, RepositoryExists
from seawall.embassy.locks import Lock
from seawall.embassy.repository import Repository
from seawall.embassy.sites.local import LocalSite
from seawall.settings import load_settings
from tests.cli import Outcome, init_node, run_seawall, site_dirs
from tests.servers import S3Endpoint, SftpEndpoint

PASS = "correct-horse-battery-staple"


def sw(
    home: Path,
    *args: str,
    passphrase: str = PASS,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
) -> Outcome:
    """Run ``seawall`` in-process with the embassy passphrase in the environment."""
    full_env = {"SEAWALL_EMBASSY_PASSPHRASE": passphrase, **(env or {})}
    return run_seawall(home, *args, stdin=stdin, env=full_env)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return init_node(tmp_path / "node")


@pytest.fixture
def sites(tmp_path: Path) -> list[Path]:
    return site_dirs(tmp_path)


@pytest.fixture
def records(tmp_path: Path) -> Path:
    """A small ministry share: text, binary, nested dirs, a symlink, an empty dir, modes."""
    src = tmp_path / "records"
    (src / "land" / "parcels").mkdir(parents=True)
    (src / "empty").mkdir()
    (src / "land" / "parcels" / "kingston.csv").write_text(
        "".join(f"{i},Parcel {i},Kingston,{i * 37 % 1000}\n" for i in range(40_000))
    )
    (src / "scan.tif").write_bytes(os.urandom(700_000))
    (src / "keys.txt").write_text("registry\n")
    os.chmod(src / "keys.txt", 0o600)
    os.symlink("land/parcels/kingston.csv", src / "latest.csv")
    os.utime(src / "scan.tif", ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    return src


def init_repo(home: Path, urls: list[str], shares: str = "3-of-5") -> None:
    args = ["embassy", "init", "--name", "gov-records", "--shares", shares]
    for url in urls:
        args += ["--site", url]
    result = sw(home, *args)
    assert result.code == 0, result.err


def tree(root: Path) -> dict[str, tuple[str, int, int, bytes | str]]:
    """Everything a restore must preserve: type, mode, mtime, content or link target."""
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


def test_restore_is_bit_identical_with_two_of_five_sites_lost(
    home: Path, sites: list[Path], records: Path, tmp_path: Path
) -> None:
    init_repo(home, [f"file://{d}" for d in sites])
    backed = sw(
        home, "embassy", "backup", "--repo", "gov-records", str(records), "--tag", "daily", "--json"
    )
    assert backed.code == 0, backed.err
    snapshot = backed.json()["snapshot"]  # type: ignore[index]
    shutil.rmtree(sites[1])
    shutil.rmtree(sites[3])
    target = tmp_path / "restored"
    restored = sw(
        home,
        "embassy",
        "restore",
        "--repo",
        "gov-records",
        snapshot[:8],
        "--target",
        str(target),
        "--json",
    )
    assert restored.code == 0, restored.err
    assert tree(target / str(records).lstrip("/")) == tree(records)


def test_restore_never_overwrites_without_being_asked(
    home: Path, sites: list[Path], records: Path, tmp_path: Path
) -> None:
    init_repo(home, [f"file://{d}" for d in sites])
    sw(home, "embassy", "backup", "--repo", "gov-records", str(records))
    target = tmp_path / "restored"
    existing = target / str(records).lstrip("/") / "keys.txt"
    existing.parent.mkdir(parents=True)
    existing.write_text("newer local edit\n")
    refused = sw(
        home, "embassy", "restore", "--repo", "gov-records", "latest", "--target", str(target)
    )
    assert refused.code != 0
    assert len(refused.err.strip().splitlines()) == 1
    assert existing.read_text() == "newer local edit\n"
    typo = sw(home, "embassy", "restore", "--repo", "gov-records", "deadbeef", "--target", "x")
    assert typo.code == 66 and "deadbeef" in typo.err
    # Refused as typed, neither is a restore drill that failed.
    node = Node(load_settings(home=home))
    with node.unit(node.operator()) as ctx:
        assert list_evidence(ctx, supports="cmm:D1.2") == []
    node.close()
    forced = sw(
        home,
        "embassy",
        "restore",
        "--repo",
        "gov-records",
        "latest",
        "--target",
        str(target),
        "--overwrite",
    )
    assert forced.code == 0, forced.err
    assert existing.read_text() == "registry\n"


def test_restore_never_writes_through_a_link_restored_before(
    home: Path, sites: list[Path], tmp_path: Path
) -> None:
    # Snapshot 1 holds data/esc -> outside; snapshot 2 holds data/esc/pwned.txt.
    outside = tmp_path / "outside"
    outside.mkdir()
    share = tmp_path / "share"
    (share / "data").mkdir(parents=True)
    (share / "data" / "esc").symlink_to(outside)
    init_repo(home, [f"file://{d}" for d in sites])
    ids = []
    for step in range(2):
        if step:
            (share / "data" / "esc").unlink()
            (share / "data" / "esc").mkdir()
            (share / "data" / "esc" / "pwned.txt").write_text("not here\n")
        backed = sw(home, "embassy", "backup", "--repo", "gov-records", str(share), "--json")
        assert backed.code == 0, backed.err
        ids.append(backed.json()["snapshot"])  # type: ignore[index]
    target = tmp_path / "restored"
    args = ["embassy", "restore", "--repo", "gov-records", "--target", str(target)]
    first = sw(home, *args[:4], ids[0], *args[4:])
    assert first.code == 0, first.err
    assert (target / str(share).lstrip("/") / "data" / "esc").is_symlink()
    for extra in ([], ["--overwrite"]):
        refused = sw(home, *args[:4], ids[1], *args[4:], *extra)
        assert refused.code == 73, refused.err
        assert len(refused.err.strip().splitlines()) == 1
        assert "symbolic link" in refused.err and f"{share}/data/esc" in refused.err
        assert "Traceback" not in refused.err
        assert list(outside.iterdir()) == []


def test_check_names_flipped_shares_and_repair_heals_them(
    home: Path, sites: list[Path], records: Path, tmp_path: Path
) -> None:
    init_repo(home, [f"file://{d}" for d in sites])
    sw(home, "embassy", "backup", "--repo", "gov-records", str(records))
    victims = []
    for site in (sites[0], sites[2]):
        share = next(p for p in sorted((site / "data").rglob("*")) if p.is_file())
        data = bytearray(share.read_bytes())
        data[len(data) // 2] ^= 0xFF
        share.write_bytes(bytes(data))
        victims.append(share.name)
    checked = sw(home, "embassy", "check", "--repo", "gov-records", "--read-data", "--json")
    assert checked.code == 1
    report = checked.json()
    named = {p["name"].rsplit("/", 1)[-1] for p in report["problems"]}  # type: ignore[index]
    assert set(victims) <= named
    repaired = sw(home, "embassy", "repair", "--repo", "gov-records", "--json")
    assert repaired.code == 0, repaired.err
    assert repaired.json()["shares_rebuilt"] >= 2  # type: ignore[index]
    assert sw(home, "embassy", "check", "--repo", "gov-records", "--read-data").code == 0
    target = tmp_path / "after-repair"
    sw(home, "embassy", "restore", "--repo", "gov-records", "latest", "--target", str(target))
    assert tree(target / str(records).lstrip("/")) == tree(records)


def test_every_run_is_audited_and_becomes_evidence(
    home: Path, sites: list[Path], records: Path, tmp_path: Path
) -> None:
    init_repo(home, [f"file://{d}" for d in sites])
    sw(home, "embassy", "backup", "--repo", "gov-records", str(records))
    sw(home, "embassy", "check", "--repo", "gov-records")
    sw(
        home,
        "embassy",
        "restore",
        "--repo",
        "gov-records",
        "latest",
        "--target",
        str(tmp_path / "r"),
    )
    node = Node(load_settings(home=home))
    with node.unit(node.operator()) as ctx:
        actions = [e.action for e in audit.search(ctx.db, audit.AuditFilter(action="embassy"))]
        drills = list_evidence(ctx, supports="cmm:D1.2")
        verdict = audit.verify(ctx.db, node.audit_key)
    node.close()
    assert actions[:3] == ["embassy.restore", "embassy.check", "embassy.backup"]
    assert [e.kind for e in drills] == ["embassy.restore"]
    assert drills[0].outcome == "success"
    assert verdict.ok


def test_bad_input_gets_one_clear_line_and_loses_nothing(
    home: Path, sites: list[Path], records: Path, tmp_path: Path
) -> None:
    init_repo(home, [f"file://{d}" for d in sites])
    sw(home, "embassy", "backup", "--repo", "gov-records", str(records))
    before = {p: p.read_bytes() for d in sites for p in d.rglob("*") if p.is_file()}

    wrong = sw(home, "embassy", "snapshots", "--repo", "gov-records", passphrase="not-it")
    missing = sw(home, "embassy", "backup", "--repo", "gov-records", str(tmp_path / "nope"))
    unknown = sw(home, "embassy", "snapshots", "--repo", "no-such-repo")
    for result, code, text in [
        (wrong, 77, "passphrase"),
        (missing, 66, "does not exist"),
        (unknown, 66, "no repository 'no-such-repo'"),
    ]:
        assert result.code == code, result.err
        assert text in result.err
        assert len(result.err.strip().splitlines()) == 1
        assert "Traceback" not in result.err and PASS not in result.err
    after = {p: p.read_bytes() for d in sites for p in d.rglob("*") if p.is_file()}
    assert after == before

    # A name the registry refuses is refused before anything is written to the sites.
    fresh = [tmp_path / f"fresh-{i}" for i in range(5)]
    for d in fresh:
        d.mkdir()
    for name, complaint in (("Gov Records", "is not allowed"), ("gov-records", "already")):
        args = ["embassy", "init", "--name", name, *[f"--site=file://{d}" for d in fresh]]
        refused = sw(home, *args)
        assert refused.code != 0 and complaint in refused.err, refused.err
        assert len(refused.err.strip().splitlines()) == 1
        assert [list(d.iterdir()) for d in fresh] == [[]] * 5

    for d in sites[:3]:
        shutil.rmtree(d)
    too_few = sw(home, "embassy", "backup", "--repo", "gov-records", str(records))
    assert too_few.code == 69
    assert "unreachable" in too_few.err


def test_three_of_five_custodians_recover_access(
    home: Path, sites: list[Path], records: Path, tmp_path: Path
) -> None:
    init_repo(home, [f"file://{d}" for d in sites])
    sw(home, "embassy", "backup", "--repo", "gov-records", str(records))
    out = tmp_path / "custodians"
    split = sw(
        home,
        "embassy",
        "key",
        "split",
        "--repo",
        "gov-records",
        "--custodians",
        "5",
        "--threshold",
        "3",
        "--out",
        str(out),
    )
    assert split.code == 0, split.err
    files = sorted(out.iterdir())
    assert len(files) == 5
    assert all(f.stat().st_mode & 0o777 == 0o600 for f in files)
    two = ["--share-file", str(files[0]), "--share-file", str(files[4])]
    refused = sw(
        home,
        "embassy",
        "key",
        "recover",
        "--repo",
        "gov-records",
        *two,
        env={"SEAWALL_EMBASSY_NEW_PASSPHRASE": "brand-new-passphrase"},
    )
    assert refused.code != 0
    assert "3 are needed" in refused.err
    three = [*two, "--share-file", str(files[2])]
    recovered = sw(
        home,
        "embassy",
        "key",
        "recover",
        "--repo",
        "gov-records",
        *three,
        env={"SEAWALL_EMBASSY_NEW_PASSPHRASE": "brand-new-passphrase"},
    )
    assert recovered.code == 0, recovered.err
    listed = sw(
        home,
        "embassy",
        "snapshots",
        "--repo",
        "gov-records",
        "--json",
        passphrase="brand-new-passphrase",
    )
    assert listed.code == 0
    assert len(listed.json()) == 1  # type: ignore[arg-type]


def test_one_repository_spans_local_sftp_and_s3_sites(
    home: Path, tmp_path: Path, records: Path, sshd_server: SftpEndpoint, s3_server: S3Endpoint
) -> None:
    local = tmp_path / "local-site"
    local.mkdir()
    init_repo(home, [f"file://{local}", sshd_server.url, s3_server.url], shares="2-of-3")
    backed = sw(home, "embassy", "backup", "--repo", "gov-records", str(records))
    assert backed.code == 0, backed.err
    shutil.rmtree(local)
    target = tmp_path / "from-sftp-and-s3"
    restored = sw(
        home, "embassy", "restore", "--repo", "gov-records", "latest", "--target", str(target)
    )
    assert restored.code == 0, restored.err
    assert tree(target / str(records).lstrip("/")) == tree(records)
    stats = sw(home, "embassy", "stats", "--repo", "gov-records", "--json")
    states = [s["up"] for s in stats.json()["sites"]]  # type: ignore[index]
    assert states == [False, True, True]


def test_stdin_backup_and_any_site_url_opens_the_repository(
    home: Path, sites: list[Path], tmp_path: Path
) -> None:
    init_repo(home, [f"file://{d}" for d in sites])
    dump = b"".join(b"INSERT INTO land VALUES (%d, 'parcel');\n" % i for i in range(50_000))
    # A name no restore would write is refused up front, not stored in an unrestorable snapshot.
    for unsafe in ("../../etc/passwd", "a/./b", "/"):
        args = ["embassy", "backup", "--repo", "gov-records", "--stdin", "--stdin-name", unsafe]
        refused = sw(home, *args, stdin=b"x")
        assert refused.code == 65 and "not a safe relative file name" in refused.err
    listed = sw(home, "embassy", "snapshots", "--repo", "gov-records", "--json")
    assert json.loads(listed.out) == []
    backed = sw(
        home,
        "embassy",
        "backup",
        "--repo",
        "gov-records",
        "--stdin",
        "--stdin-name",
        "db.sql",
        stdin=dump,
    )
    assert backed.code == 0, backed.err
    other_home = tmp_path / "new-node"
    assert sw(other_home, "init", "--nation", "JM").code == 0
    target = tmp_path / "dr"
    restored = sw(
        other_home,
        "embassy",
        "restore",
        "--repo",
        f"file://{sites[4]}",
        "latest",
        "--target",
        str(target),
    )
    assert restored.code == 0, restored.err
    assert [p.read_bytes() for p in target.rglob("db.sql")] == [dump]


def test_forget_applies_the_keep_policy(home: Path, sites: list[Path], records: Path) -> None:
    init_repo(home, [f"file://{d}" for d in sites])
    for i in range(3):
        (records / "keys.txt").write_text(f"version {i}\n")
        assert sw(home, "embassy", "backup", "--repo", "gov-records", str(records)).code == 0
    forgot = sw(
        home, "embassy", "forget", "--repo", "gov-records", "--keep-last", "1", "--prune", "--json"
    )
    assert forgot.code == 0, forgot.err
    body = forgot.json()
    assert len(body["kept"]) == 1 and len(body["removed"]) == 2  # type: ignore[index]
    assert sw(home, "embassy", "check", "--repo", "gov-records", "--read-data").code == 0


def test_prune_repacks_within_max_unused_and_says_what_it_did(
    home: Path, sites: list[Path], records: Path
) -> None:
    init_repo(home, [f"file://{d}" for d in sites])
    assert sw(home, "embassy", "backup", "--repo", "gov-records", str(records)).code == 0
    (records / "keys.txt").write_text("rotated\n")
    assert sw(home, "embassy", "backup", "--repo", "gov-records", str(records)).code == 0
    would = sw(home, "embassy", "forget", "--repo", "gov-records", "--keep-last", "1", "--dry-run")
    assert would.code == 0, would.err
    assert "Would keep 1 snapshot and remove 1" in would.err
    forgot = sw(home, "embassy", "forget", "--repo", "gov-records", "--keep-last", "1")
    assert forgot.code == 0, forgot.err
    assert "removed 1" in forgot.err  # the dry run removed nothing
    plan = sw(home, "embassy", "prune", "--repo", "gov-records", "--max-unused", "0%", "--dry-run")
    assert plan.code == 0, plan.err
    assert "Would delete" in plan.err and "dry run: nothing changed" in plan.err
    pruned = sw(home, "embassy", "prune", "--repo", "gov-records", "--max-unused", "0%", "--json")
    assert pruned.code == 0, pruned.err
    body = pruned.json()
    # The first backup's pack also holds the files the second one reuses: it is rewritten.
    assert body["packs_repacked"] >= 1 and body["unused_bytes_kept"] == 0  # type: ignore[index]
    again = sw(home, "embassy", "prune", "--repo", "gov-records", "--max-unused", "0%")
    assert again.code == 0, again.err
    assert "repacked 0 into 0" in again.err  # say() writes to stderr
    assert sw(home, "embassy", "check", "--repo", "gov-records", "--read-data").code == 0


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (("prune", "--max-unused", "lots"), "--max-unused 'lots' is not a percentage like 10%"),
        (("prune", "--max-unused", "150%"), "--max-unused must be from 0% up to 100%"),
        (("check", "--read-data-subset", "0%"), "--read-data-subset must be above 0% up to 100%"),
    ],
)
def test_percentages_out_of_range_are_refused_in_one_line(
    home: Path, sites: list[Path], args: tuple[str, ...], complaint: str
) -> None:
    init_repo(home, [f"file://{d}" for d in sites])
    refused = sw(home, "embassy", args[0], "--repo", "gov-records", *args[1:])
    assert refused.code == 65
    assert complaint in refused.err
    assert len(refused.err.strip().splitlines()) == 1


def test_repair_refills_a_wiped_site_at_its_old_address(
    home: Path, sites: list[Path], records: Path, tmp_path: Path
) -> None:
    init_repo(home, [f"file://{d}" for d in sites])
    sw(home, "embassy", "backup", "--repo", "gov-records", str(records))
    shutil.rmtree(sites[2])
    sites[2].mkdir()  # the disk was replaced: same mount point, nothing on it
    checked = sw(home, "embassy", "check", "--repo", "gov-records", "--json")
    assert checked.code == 1
    assert any(p["site"] == 2 for p in checked.json()["problems"])  # type: ignore[index]
    repaired = sw(home, "embassy", "repair", "--repo", "gov-records")
    assert repaired.code == 0, repaired.err
    assert sw(home, "embassy", "check", "--repo", "gov-records", "--read-data").code == 0
    shutil.rmtree(sites[0])
    shutil.rmtree(sites[1])  # now the refilled site's shares are needed for any restore
    target = tmp_path / "from-refilled"
    restored = sw(
        home,
        "embassy",
        "restore",
        "--repo",
        f"file://{sites[2]}",
        "latest",
        "--target",
        str(target),
    )
    assert restored.code == 0, restored.err
    assert tree(target / str(records).lstrip("/")) == tree(records)


def test_a_site_holding_other_files_is_never_adopted(
    home: Path, sites: list[Path], records: Path
) -> None:
    init_repo(home, [f"file://{d}" for d in sites])
    sw(home, "embassy", "backup", "--repo", "gov-records", str(records))
    shutil.rmtree(sites[0])
    sites[0].mkdir()
    (sites[0] / "someone-elses.txt").write_text("not ours")
    repaired = sw(home, "embassy", "repair", "--repo", "gov-records")
    assert repaired.code == 69
    assert (sites[0] / "someone-elses.txt").read_text() == "not ours"
    assert sorted(p.name for p in sites[0].iterdir()) == ["someone-elses.txt"]


def test_backup_names_what_it_left_out(home: Path, sites: list[Path], tmp_path: Path) -> None:
    init_repo(home, [f"file://{d}" for d in sites])
    src = tmp_path / "spool"
    src.mkdir()
    (src / "kept.txt").write_text("kept\n")
    for n in range(12):
        os.mkfifo(src / f"pipe-{n:02d}")  # neither file, directory nor symlink
    told = sw(home, "embassy", "backup", "--repo", "gov-records", str(src))
    assert told.code == 0, told.err
    left = [line for line in told.err.splitlines() if line.startswith("left out")]
    assert len(left) == 11  # ten named, then a count
    assert left[0] == f"left out {src}/pipe-00: not a file, directory or symlink"
    assert left[-1] == "left out 2 more (see --json)"
    listed = sw(home, "embassy", "backup", "--repo", "gov-records", str(src), "--json").json()
    assert isinstance(listed, dict) and len(listed["skipped"]) == 12 and listed["files"] == 1


BELIZE = [("Belize City", "17.4986", "-88.1886"), ("Belmopan", "17.2510", "-88.7590")]


def locate(home: Path, site: str, place: tuple[str, str, str]) -> Outcome:
    name, lat, lon = place
    return sw(
        home,
        "embassy",
        "site",
        "locate",
        "--repo",
        "gov-records",
        site,
        "--place",
        name,
        "--lat",
        lat,
        "--lon",
        lon,
    )


def test_exposure_warns_when_one_storm_covers_more_sites_than_k_of_n_survives(
    home: Path, sites: list[Path], tmp_path: Path
) -> None:
    init_repo(home, [f"file://{d}" for d in sites])
    unknown = sw(home, "embassy", "exposure", "--repo", "gov-records", "--json")
    assert unknown.code == 0, unknown.err
    assert len(unknown.json()["unlocated"]) == 5  # type: ignore[arg-type,index]
    places = [*BELIZE, ("Belize River", "17.35", "-88.45")]
    places += [("Kingston", "17.9714", "-76.7931"), ("Bridgetown", "13.0975", "-59.6167")]
    for number, place in enumerate(places, start=1):  # sites are numbered from 1, as on the web
        assert locate(home, str(number), place).code == 0
    risky = sw(home, "embassy", "exposure", "--repo", "gov-records", "--json")
    assert risky.code == 1  # three sites in one footprint; 3-of-5 survives losing two
    body = risky.json()
    assert body["at_risk"] is True and body["tolerable"] == 2  # type: ignore[index]
    assert body["sites"] == [f"file://{d}" for d in sites[:3]]  # type: ignore[index]
    # On record as a run and as evidence the maturity pillar can cite.
    node = Node(load_settings(home=home))
    try:
        with node.unit(node.operator()) as ctx:
            [found] = [
                e for e in list_evidence(ctx, supports="cmm:D1.3") if e.kind == "embassy.exposure"
            ]
            assert found.outcome == "partial"
            assert "covers 3 of 5 sites; more than the 2 it can lose" in found.summary
    finally:
        node.close()
    # Moving one Belize site to Port of Spain spreads the repository enough.
    assert locate(home, f"file://{sites[2]}", ("Port of Spain", "10.6549", "-61.5019")).code == 0
    spread = sw(home, "embassy", "exposure", "--repo", "gov-records")
    assert spread.code == 0, spread.err
    assert "spread enough" in spread.err
    assert "Port of Spain" in spread.out
    # A site replaced elsewhere is no longer where the old one was.
    fresh = tmp_path / "fresh-site"
    fresh.mkdir()
    replaced = sw(
        home, "embassy", "site", "replace", "--repo", "gov-records", "1", f"file://{fresh}"
    )
    assert replaced.code == 0, replaced.err
    after = sw(home, "embassy", "exposure", "--repo", "gov-records", "--json")
    assert after.json()["unlocated"] == [f"file://{fresh}"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("site", "lat", "complaint"),
    [
        ("1", "95", "latitude 95.0 is not between -90 and 90 degrees"),
        ("6", "17", "site 6 is out of range: gov-records has sites 1 to 5"),
        ("0", "17", "site 0 is out of range: gov-records has sites 1 to 5"),
        ("file:///elsewhere", "17", "is not a site of gov-records"),
    ],
)
def test_locating_a_site_refuses_bad_places_in_one_line(
    home: Path, sites: list[Path], site: str, lat: str, complaint: str
) -> None:
    init_repo(home, [f"file://{d}" for d in sites])
    refused = locate(home, site, ("Somewhere", lat, "-88"))
    assert refused.code != 0
    assert complaint in refused.err
    assert len(refused.err.strip().splitlines()) == 1


def test_ls_shows_owners_and_hard_links(home: Path, sites: list[Path], records: Path) -> None:
    init_repo(home, [f"file://{d}" for d in sites])
    os.link(records / "keys.txt", records / "keys2.txt")
    assert sw(home, "embassy", "backup", "--repo", "gov-records", str(records)).code == 0
    listed = sw(home, "embassy", "ls", "--repo", "gov-records", "--prefix", str(records), "--json")
    assert listed.code == 0, listed.err
    entries = {e["path"]: e for e in listed.json()}  # type: ignore[union-attr]
    me = os.getuid()
    keys = entries[str(records / "keys.txt")]
    assert (keys["uid"], keys["mode"], keys["size"]) == (me, 0o600, 9)
    assert entries[str(records / "keys2.txt")]["hard_link_of"] == str(records / "keys.txt")
    assert "hard_link_of" not in keys
    text = sw(home, "embassy", "ls", "--repo", "gov-records", "--prefix", str(records))
    user = keys["user"] or str(me)
    assert any(
        line.startswith(f"f 0600 {user}:") and line.endswith("/keys.txt")
        for line in text.out.splitlines()
    )


def test_backup_compression_is_chosen_per_backup(
    home: Path, sites: list[Path], records: Path, tmp_path: Path
) -> None:
    init_repo(home, [f"file://{d}" for d in sites])

    def backup(compression: str) -> Outcome:
        args = ["embassy", "backup", "--repo", "gov-records", str(records), "--json"]
        return sw(home, *args, "--compression", compression)

    (records / "log.txt").write_text("dnsmasq query[A] host.gov.jm from 10.0.0.7\n" * 20_000)
    off = backup("off")
    assert off.code == 0, off.err
    (records / "log2.txt").write_text("squid TCP_MISS/200 GET http://portal.gov.jm/\n" * 20_000)
    squeezed = backup("max")
    assert squeezed.code == 0, squeezed.err
    # The second file is as large as the first, but compressed it costs a sliver of it.
    assert squeezed.json()["stored_bytes"] * 20 < off.json()["stored_bytes"]
    bad = backup("best")
    assert bad.code == 2 and "best" in bad.err
    target = tmp_path / "restored"
    done = sw(
        home, "embassy", "restore", "--repo", "gov-records", "latest", "--target", str(target)
    )
    assert done.code == 0, done.err
    assert (target / str(records).lstrip("/") / "log2.txt").read_text().count("squid") == 20_000


def test_a_change_that_fails_half_way_is_audited_with_its_error(
    home: Path, sites: list[Path], records: Path
) -> None:
    init_repo(home, [f"file://{d}" for d in sites])
    assert sw(home, "embassy", "backup", "--repo", "gov-records", str(records)).code == 0
    for d in sites[:3]:
        shutil.rmtree(d)  # too few sites left to write to
    failed = sw(home, "embassy", "prune", "--repo", "gov-records")
    assert failed.code == 69, failed.err
    node = Node(load_settings(home=home))
    with node.unit(node.operator()) as ctx:
        [entry] = audit.search(ctx.db, audit.AuditFilter(action="embassy.prune"))
    node.close()
    assert entry.detail["outcome"] == "failure" and entry.detail["error"]


def test_forget_keeps_each_group_and_a_dry_run_shows_why(
    home: Path, sites: list[Path], records: Path
) -> None:
    init_repo(home, [f"file://{d}" for d in sites])
    repo = ("--repo", "gov-records")
    assert sw(home, "embassy", "backup", *repo, str(records)).code == 0
    dump = ("--stdin", "--stdin-name", "landdb.sql")
    assert sw(home, "embassy", "backup", *repo, *dump, stdin=b"COPY land;\n").code == 0
    would = sw(home, "embassy", "forget", *repo, "--keep-daily", "7", "--dry-run")
    assert would.code == 0, would.err
    assert f"paths={records}" in would.err and "paths=stdin:landdb.sql" in would.err
    assert would.err.count("\n  keep   ") == 2 and would.err.count("(daily snapshot)") == 2
    plan = sw(home, "embassy", "forget", *repo, "--keep-daily", "7", "--dry-run", "--json")
    body = plan.json()
    assert isinstance(body, dict) and body["group_by"] == ["host", "paths"]
    assert sorted(g["key"]["paths"] for g in body["groups"]) == [
        [str(records)],
        ["stdin:landdb.sql"],
    ]
    assert all(
        [k["reasons"] for k in g["keep"]] == [["daily snapshot"]] and g["remove"] == []
        for g in body["groups"]
    )
    forgot = sw(home, "embassy", "forget", *repo, "--keep-daily", "7")
    assert forgot.code == 0, forgot.err
    assert "Kept 2 snapshots, removed 0" in forgot.err
    bad = sw(home, "embassy", "forget", *repo, "--keep-last", "1", "--group-by", "hostname")
    assert bad.code == 65 and "--group-by 'hostname'" in bad.err
    one = sw(home, "embassy", "forget", *repo, "--keep-last", "1", "--group-by", "", "--json")
    assert one.code == 0, one.err
    single = one.json()
    assert isinstance(single, dict) and [g["key"] for g in single["groups"]] == [{}]
    assert len(single["kept"]) == 1 and len(single["removed"]) == 1


def test_unlock_removes_a_dead_nodes_lock_and_is_audited(home: Path, sites: list[Path]) -> None:
    init_repo(home, [f"file://{d}" for d in sites])
    with Repository.open([LocalSite(d) for d in sites], PASS) as repo:
        now = repo.clock.now()
        lock = Lock("e5" * 8, True, "node-b", 4242, now, now)  # a prune on another node
        repo.put_everywhere(lock.name, repo.seal_meta(lock.name, lock.to_json()))
    blocked = sw(home, "embassy", "prune", "--repo", "gov-records")
    assert blocked.code == 73
    assert "exclusive lock by pid 4242 on node-b" in blocked.err
    assert "`seawall embassy unlock --repo gov-records --remove-all`" in blocked.err
    stale_only = sw(home, "embassy", "unlock", "--repo", "gov-records", "--json")
    assert stale_only.code == 0, stale_only.err
    body = stale_only.json()
    assert isinstance(body, dict) and body["removed"] == []
    assert [k["hostname"] for k in body["kept"]] == ["node-b"]
    every = sw(home, "embassy", "unlock", "--repo", "gov-records", "--remove-all")
    assert every.code == 0, every.err
    assert "Removed 1 lock: exclusive lock by pid 4242 on node-b" in every.err
    assert sw(home, "embassy", "prune", "--repo", "gov-records").code == 0
    node = Node(load_settings(home=home))
    with node.unit(node.operator()) as ctx:
        entries = audit.search(ctx.db, audit.AuditFilter(action="embassy.unlock"))
    node.close()
    done = sorted((e.detail["remove_all"], len(e.detail["removed"])) for e in entries)
    assert done == [(False, 0), (True, 1)]
    removed = next(e for e in entries if e.detail["remove_all"]).detail["removed"]
    assert removed[0]["hostname"] == "node-b" and removed[0]["pid"] == 4242


def test_prune_deletes_and_counts_what_an_interrupted_run_left(
    home: Path, sites: list[Path], records: Path
) -> None:
    init_repo(home, [f"file://{d}" for d in sites])
    assert sw(home, "embassy", "backup", "--repo", "gov-records", str(records)).code == 0
    (sites[1] / "data" / "ee").mkdir(parents=True, exist_ok=True)
    (sites[1] / "data" / "ee" / ("ee" * 32)).write_bytes(os.urandom(7_000))  # no index has it
    killed = sites[3] / "data" / ".tmp-x1y2z3"
    killed.write_bytes(os.urandom(3_000))
    os.utime(killed, (1_600_000_000, 1_600_000_000))
    checked = sw(home, "embassy", "check", "--repo", "gov-records", "--json")
    assert checked.code == 0, checked.err  # warnings only
    body = checked.json()
    assert isinstance(body, dict)
    kinds = sorted((p["kind"], p["severity"]) for p in body["problems"])
    assert kinds == [("pack-orphan", "warning"), ("temp-stale", "warning")]
    plan = sw(home, "embassy", "prune", "--repo", "gov-records", "--dry-run")
    assert "1 orphan share (7,000 bytes) and 1 temporary file (3,000 bytes)" in plan.err
    assert "free 10,000 bytes on the sites" in plan.err
    done = sw(home, "embassy", "prune", "--repo", "gov-records", "--json").json()
    assert isinstance(done, dict)
    assert (done["orphans_deleted"], done["temp_files_deleted"], done["bytes_freed"]) == (
        1,
        1,
        10_000,
    )
    assert not killed.exists()
    assert sw(home, "embassy", "check", "--repo", "gov-records", "--json").json()["problems"] == []  # type: ignore[index]


def test_backup_and_exposure_print_plain_words_without_markup(
    home: Path, sites: list[Path], records: Path
) -> None:
    init_repo(home, [f"file://{d}" for d in sites])
    shutil.rmtree(sites[4])
    backed = sw(home, "embassy", "backup", "--repo", "gov-records", str(records), "--degraded")
    assert backed.code == 0, backed.err
    assert "(degraded: run repair)" in backed.err
    places = [*BELIZE, ("Belize River", "17.35", "-88.45"), ("Kingston", "17.9714", "-76.7931")]
    for number, place in enumerate(places[:4], start=1):
        assert locate(home, str(number), place).code == 0
    risky = sw(home, "embassy", "exposure", "--repo", "gov-records")
    assert "at risk: a restore needs 3 sites" in risky.err
    assert "1 site not located;" in risky.err
    assert locate(home, f"file://{sites[2]}", ("Port of Spain", "10.6549", "-61.5019")).code == 0
    assert locate(home, f"file://{sites[1]}", ("Bridgetown", "13.0975", "-59.6167")).code == 0
    spread = sw(home, "embassy", "exposure", "--repo", "gov-records")
    assert "spread enough: one storm takes at most" in spread.err
    assert "sites are folders on this machine" in spread.err
    for result in (backed, risky, spread):
        for stream in (result.out, result.err):
            for markup in ("[/", "[green]", "[yellow]", "[red]"):
                assert markup not in stream


def test_restore_with_fewer_than_k_sites_names_the_sites_to_bring_back(
    home: Path, sites: list[Path], records: Path, tmp_path: Path
) -> None:
    init_repo(home, [f"file://{d}" for d in sites])
    assert sw(home, "embassy", "backup", "--repo", "gov-records", str(records)).code == 0
    gone = [sites[0], sites[2], sites[3]]
    for site in gone:
        shutil.rmtree(site)
    args = ["embassy", "restore", "--repo", "gov-records", "--target", str(tmp_path / "out")]
    refused = sw(home, *args)
    assert refused.code == 69, refused.err
    assert len(refused.err.strip().splitlines()) == 1
    assert "run repair" not in refused.err
    assert "3 of 5 sites are down" in refused.err
    for site in gone:
        assert f"file://{site}" in refused.err
    assert (
        "bring back at least 1 of them (a pack needs shares from 3 of the 5 sites)" in refused.err
    )


def test_site_replace_is_one_service_call_audited_as_done_or_with_its_error(
    home: Path, sites: list[Path], records: Path, tmp_path: Path
) -> None:
    init_repo(home, [f"file://{d}" for d in sites])
    assert sw(home, "embassy", "backup", "--repo", "gov-records", str(records)).code == 0
    shutil.rmtree(sites[1])
    fresh = tmp_path / "fresh-site"
    fresh.mkdir()
    node = Node(load_settings(home=home))
    try:
        access = service.Access(
            lambda: node.unit(node.operator()), "gov-records", node.clock, lambda: PASS
        )
        with pytest.raises(BadSiteUrl, match="is not one of this repository's sites"):
            service.replace_site(access, "file:///nowhere", f"file://{fresh}")
        with pytest.raises(RepositoryExists):
            service.replace_site(access, "1", f"file://{sites[0]}")  # holds the repository
        service.replace_site(access, f"file://{sites[1]}", f"file://{fresh}")
        with node.unit(node.operator()) as ctx:
            entries = audit.search(ctx.db, audit.AuditFilter(action="embassy.site.replaced"))
    finally:
        node.close()
    urls = [f"file://{d}" for d in sites]
    assert sorted(e.detail.get("outcome", "done") for e in entries) == ["done", "failure"]
    [failed] = [e for e in entries if e.detail.get("outcome") == "failure"]
    assert failed.detail["error"] == "repository_exists"
    [done] = [e for e in entries if "outcome" not in e.detail]
    assert done.detail["old"] == urls
    assert done.detail["new"] == [urls[0], f"file://{fresh}", *urls[2:]]
    listed = sw(home, "embassy", "list", "--json").json()
    assert listed[0]["sites"] == done.detail["new"]  # type: ignore[index]


def test_restore_returns_the_target_it_resolved_inside_the_restore_directory(
    home: Path, sites: list[Path], records: Path, tmp_path: Path
) -> None:
    init_repo(home, [f"file://{d}" for d in sites])
    assert sw(home, "embassy", "backup", "--repo", "gov-records", str(records)).code == 0
    restores = tmp_path / "restores"
    restores.mkdir()
    node = Node(load_settings(home=home))
    try:
        access = service.Access(
            lambda: node.unit(node.operator()), "gov-records", node.clock, lambda: PASS
        )
        done = service.restore(access, "latest", " drills/../drill ", within=restores)
        plain = service.restore(access, "latest", tmp_path / "plain")
    finally:
        node.close()
    assert done.target == restores.resolve() / "drill"
    assert (done.report.files, done.report.symlinks) == (3, 1)
    assert (done.target / str(records).lstrip("/") / "keys.txt").read_text() == "registry\n"
    assert plain.target == tmp_path / "plain"
