"""Key changes are ordered so that the sites never hold a slot whose secret nobody received.

The audit append is made to fail for real: a row at the next audit number, inserted from
another connection, makes the command's own append fail with ``UNIQUE constraint failed:
audit_entries.seq``, as a writer racing it once did. A site that refuses the slot is a
real, full filesystem.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select

from seawall.cli.main import main
from seawall.core import audit
from seawall.core.node import Node
from seawall.db.models.core import AuditEntry, AuditHead
from seawall.settings import load_settings
from tests.servers import small_filesystem

PASS = "correct-horse-battery-staple"
NEW = "a-brand-new-passphrase"


@dataclass
class Outcome:
    code: int
    out: str
    err: str


def sw(home: Path, *args: str, passphrase: str = PASS) -> Outcome:
    """Run ``seawall`` in-process through main(), the real error translator."""
    env = {"SEAWALL_EMBASSY_PASSPHRASE": passphrase, "SEAWALL_EMBASSY_NEW_PASSPHRASE": NEW}
    with CliRunner().isolation(env=env) as streams:
        try:
            main(["--home", str(home), *args])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        except Exception as exc:  # an untranslated failure (the audit's IntegrityError)
            print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        return Outcome(code, streams[0].getvalue().decode(), streams[1].getvalue().decode())


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "node"
    assert sw(h, "init", "--nation", "JM").code == 0
    return h


@pytest.fixture
def sites(tmp_path: Path, home: Path) -> list[Path]:
    """A 3-of-5 repository ``gov`` on five local directories."""
    dirs = [tmp_path / f"site-{i}" for i in range(5)]
    args = ["embassy", "init", "--name", "gov", "--shares", "3-of-5"]
    for d in dirs:
        d.mkdir()
        args.append(f"--site=file://{d}")
    assert sw(home, *args).code == 0
    return dirs


def slots(sites: list[Path]) -> list[set[str]]:
    """The key slot files on each site."""
    return [
        {p.name for p in (d / "keys").iterdir()} if (d / "keys").is_dir() else set() for d in sites
    ]


def jam_audit(home: Path) -> None:
    """Take the next audit number from another connection, leaving the head behind."""
    node = Node(load_settings(home=home))
    with node.unit(node.operator()) as ctx:
        head = ctx.db.scalar(select(AuditHead).where(AuditHead.id == audit.HEAD_ID))
        assert head is not None
        ctx.db.add(
            AuditEntry(
                seq=head.seq + 1,
                at=datetime.now(UTC),
                actor="another-command",
                nation="JM",
                action="test.racer",
                target="",
                source="cli",
                detail={},
                prev_hash=head.hash,
                hash="0" * 64,
            )
        )
    node.close()


def unjam_audit(home: Path) -> None:
    node = Node(load_settings(home=home))
    with node.unit(node.operator()) as ctx:
        ctx.db.execute(delete(AuditEntry).where(AuditEntry.action == "test.racer"))
    node.close()


def audited(home: Path, action: str) -> list[dict[str, object]]:
    node = Node(load_settings(home=home))
    with node.unit(node.operator()) as ctx:
        found = [dict(e.detail) for e in audit.search(ctx.db, audit.AuditFilter(action=action))]
    node.close()
    return found


SPLIT = ["embassy", "key", "split", "--repo", "gov", "--custodians", "5", "--threshold", "3"]


@pytest.mark.parametrize("deliver", ["print", "json", "out"])
def test_a_key_split_whose_audit_fails_publishes_no_slot(
    home: Path, sites: list[Path], tmp_path: Path, deliver: str
) -> None:
    before = slots(sites)
    out = tmp_path / "custodians"
    extra = {"print": [], "json": ["--json"], "out": ["--out", str(out)]}[deliver]
    jam_audit(home)
    failed = sw(home, *SPLIT, *extra)
    assert failed.code != 0
    assert "audit_entries.seq" in failed.err, failed.err
    assert slots(sites) == before  # no slot whose shares nobody holds
    assert "SWR1-" not in failed.out and not out.exists()

    unjam_audit(home)
    done = sw(home, *SPLIT, *extra)
    assert done.code == 0, done.err
    after = slots(sites)
    assert (
        all(len(here - before[0]) == 1 for here in after) and len(set(map(frozenset, after))) == 1
    )
    printed = sorted(out.iterdir()) if deliver == "out" else done.out.count("SWR1-")
    assert printed if deliver == "out" else printed == 5
    [entry] = audited(home, "embassy.key.split")
    assert entry["slot"] == (after[0] - before[0]).pop()


@pytest.mark.parametrize("command", ["add", "passwd", "remove"])
def test_a_key_change_whose_audit_fails_changes_no_site(
    home: Path, sites: list[Path], command: str
) -> None:
    assert sw(home, "embassy", "key", "add", "--repo", "gov", "--label", "deputy").code == 0
    before = slots(sites)
    args = {
        "add": ["add", "--label", "minister"],
        "passwd": ["passwd"],
        "remove": ["remove", sorted(before[0])[0]],
    }[command]
    jam_audit(home)
    failed = sw(home, "embassy", "key", *args, "--repo", "gov")
    assert failed.code != 0 and "audit_entries.seq" in failed.err, failed.err
    assert slots(sites) == before
    unjam_audit(home)
    assert sw(home, "embassy", "snapshots", "--repo", "gov").code == 0  # the old one still opens


def test_a_slot_a_full_site_refuses_is_taken_back_and_the_failure_audited(
    home: Path, tmp_path: Path
) -> None:
    dirs = [tmp_path / f"site-{i}" for i in range(4)]
    for d in dirs:
        d.mkdir()
    with small_filesystem(tmp_path / "site-4", "256k") as tiny:
        sites = [*dirs, tiny]
        args = ["embassy", "init", "--name", "gov", "--shares", "3-of-5"]
        assert sw(home, *args, *(f"--site=file://{d}" for d in sites)).code == 0
        before = slots(sites)
        fd = os.open(tiny / "filler", os.O_WRONLY | os.O_CREAT)
        with contextlib.suppress(OSError):  # write until the filesystem is full
            while True:
                os.write(fd, b"x" * 4096)
        os.close(fd)
        out = tmp_path / "custodians"
        failed = sw(home, *SPLIT, "--out", str(out))
        assert failed.code == 74, failed.err
        assert "open nothing" in failed.err and len(failed.err.strip().splitlines()) == 1
        assert slots(sites) == before  # taken back from the sites that took it
        assert len(list(out.iterdir())) == 5  # handed out before the sites were written
    # The change was recorded (with the shares handed out) before the sites were written.
    assert [e.get("outcome") for e in audited(home, "embassy.key.split")] == ["failure", None]
