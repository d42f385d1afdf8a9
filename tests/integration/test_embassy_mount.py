"""``seawall embassy mount``: a real repository served read-only through FUSE by the real CLI.

The mount runs as a subprocess (``python -m seawall ... embassy mount``), as a person runs it;
these tests read it with plain file calls, then end it with SIGTERM or ``fusermount3 -u``.
"""

from __future__ import annotations

import errno
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.util import find_spec
from pathlib import Path

import pytest

from seawall.core import audit
from seawall.core.node import Node
from seawall.settings import load_settings
from tests.cli import Outcome, init_node, run_seawall, site_dirs

PASS = "correct-horse-battery-staple"
REPO = "gov-records"

FUSE_MISSING = (
    "no /dev/fuse on this machine"
    if not Path("/dev/fuse").exists()
    else "pyfuse3 is not installed (the mount extra: apt-get install libfuse3-dev fuse3 "
    "pkg-config, then uv sync --extra mount)"
    if find_spec("pyfuse3") is None
    else ""
)
needs_fuse = pytest.mark.skipif(bool(FUSE_MISSING), reason=FUSE_MISSING)


def sw(home: Path, *args: str) -> Outcome:
    """Run ``seawall`` in-process with the embassy passphrase in the environment."""
    return run_seawall(home, *args, env={"SEAWALL_EMBASSY_PASSPHRASE": PASS})


def seawall_process(home: Path, *args: str, prelude: str = "") -> subprocess.Popen[str]:
    """``seawall --home HOME ARGS`` as a subprocess; ``prelude`` runs in it first."""
    env = {**os.environ, "SEAWALL_EMBASSY_PASSPHRASE": PASS}
    env.pop("SEAWALL_HOME", None)
    code = f"{prelude}\nfrom seawall.cli.main import main\nmain({['--home', str(home), *args]!r})"
    return subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


@contextmanager
def mounted(home: Path, mountpoint: Path) -> Iterator[subprocess.Popen[str]]:
    """``seawall embassy mount MOUNTPOINT --repo gov-records`` running until the block ends."""
    mountpoint.mkdir(exist_ok=True)
    proc = seawall_process(home, "embassy", "mount", str(mountpoint), "--repo", REPO)
    try:
        deadline = time.monotonic() + 60
        while not os.path.ismount(mountpoint):
            if proc.poll() is not None:
                out, err = proc.communicate()
                pytest.fail(f"mount exited {proc.returncode} before mounting: {out}{err}")
            assert time.monotonic() < deadline, "not mounted within 60 s"
            time.sleep(0.05)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        if os.path.ismount(mountpoint):
            subprocess.run(["fusermount3", "-u", "-z", str(mountpoint)], check=False)


def snapshot_names(snaps: list[dict[str, str]]) -> list[tuple[str, str]]:
    """(id, name under ``snapshots/``), oldest first, by the documented rule: the UTC time to
    the second, and where two share a second, each of them followed by ``-`` and its short id."""
    when = {s["id"]: datetime.fromisoformat(s["time"]).astimezone(UTC) for s in snaps}
    times = {i: f"{t:%Y-%m-%dT%H:%M:%SZ}" for i, t in when.items()}
    seen = Counter(times.values())
    return [
        (i, times[i] if seen[times[i]] == 1 else f"{times[i]}-{i[:8]}")
        for i in sorted(when, key=lambda i: when[i])
    ]


def tree(root: Path) -> dict[str, tuple[str, int, int, int, int, bytes | str]]:
    """Type, mode, mtime, owner and content or link target of everything below ``root``."""
    found: dict[str, tuple[str, int, int, int, int, bytes | str]] = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        rel = str(path.relative_to(root))
        if path.is_symlink():
            found[rel] = ("link", 0, 0, st.st_uid, st.st_gid, os.readlink(path))
        elif path.is_dir():
            found[rel] = ("dir", st.st_mode & 0o7777, st.st_mtime_ns, st.st_uid, st.st_gid, "")
        else:
            found[rel] = (
                "file",
                st.st_mode & 0o7777,
                st.st_mtime_ns,
                st.st_uid,
                st.st_gid,
                path.read_bytes(),
            )
    return found


def refusal(attempt: Callable[[], object]) -> int | None:
    """The errno an attempt failed with, or None when it did not fail."""
    try:
        attempt()
    except OSError as exc:
        return exc.errno
    return None


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return init_node(tmp_path / "node")


@pytest.fixture
def sites(tmp_path: Path) -> list[Path]:
    return site_dirs(tmp_path)


@pytest.fixture
def records(tmp_path: Path) -> Path:
    """A ministry share: nested dirs, a multi-chunk file, a hard link, a symlink, odd modes."""
    rng = random.Random(17)
    src = tmp_path / "records"
    (src / "land" / "parcels").mkdir(parents=True)
    (src / "empty").mkdir()
    (src / "land" / "parcels" / "kingston.csv").write_text(
        "".join(f"{i},Parcel {i},Kingston,{i * 37 % 1000}\n" for i in range(20_000))
    )
    # Over the 4 MiB most a chunk holds: at least two chunks, read across their seam.
    (src / "scan.tif").write_bytes(rng.randbytes(9 * 1024 * 1024 + 12345))
    (src / "keys.txt").write_text("registry\n")
    (src / "zero.dat").write_bytes(b"")
    os.link(src / "keys.txt", src / "keys-again.txt")
    os.chmod(src / "keys.txt", 0o600)
    os.symlink("land/parcels/kingston.csv", src / "latest.csv")
    os.utime(src / "scan.tif", ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    return src


@pytest.fixture
def repository(home: Path, sites: list[Path], records: Path) -> list[tuple[str, str]]:
    """gov-records (3-of-5) with two snapshots of ``records``: (id, name under snapshots/)."""
    args = ["embassy", "init", "--name", REPO, "--shares", "3-of-5"]
    for d in sites:
        args += ["--site", f"file://{d}"]
    assert sw(home, *args).code == 0
    assert sw(home, "embassy", "backup", "--repo", REPO, str(records)).code == 0
    (records / "keys.txt").write_text("registry, second edition\n")
    assert sw(home, "embassy", "backup", "--repo", REPO, str(records)).code == 0
    listed = sw(home, "embassy", "snapshots", "--repo", REPO, "--json")
    return snapshot_names(listed.json())


@needs_fuse
def test_the_mount_shows_every_snapshot_byte_for_byte_with_two_sites_lost(
    home: Path, sites: list[Path], records: Path, repository: list[tuple[str, str]], tmp_path: Path
) -> None:
    first_keys = b"registry\n"
    latest = records / "keys.txt"
    (first, first_name), (second, second_name) = repository
    inside = str(records).lstrip("/")  # a snapshot holds the absolute path, less its "/"
    mnt = tmp_path / "mnt"
    with mounted(home, mnt):
        assert sorted(os.listdir(mnt)) == ["ids", "snapshots"]
        assert sorted(os.listdir(mnt / "snapshots")) == sorted([first_name, second_name, "latest"])
        assert os.readlink(mnt / "snapshots" / "latest") == second_name
        assert sorted(os.listdir(mnt / "ids")) == sorted([first, second])
        assert os.readlink(mnt / "ids" / first) == f"../snapshots/{first_name}"
        # Read with every site up, then with two of the five gone: any three shares do.
        assert (mnt / "snapshots" / first_name / inside / "keys.txt").read_bytes() == first_keys
        shutil.rmtree(sites[1])
        shutil.rmtree(sites[3])

        shown = tree(mnt / "snapshots" / second_name / inside)
        assert shown == tree(records)
        assert tree(mnt / "ids" / second / inside) == shown
        older = tree(mnt / "snapshots" / first_name / inside)
        assert older["keys.txt"][-1] == older["keys-again.txt"][-1] == first_keys
        assert {k: v for k, v in older.items() if "keys" not in k} == {
            k: v for k, v in shown.items() if "keys" not in k
        }
        assert latest.read_bytes() != first_keys

        scan = mnt / "snapshots" / second_name / inside / "scan.tif"
        with scan.open("rb") as f:  # reads that start and end inside chunks
            f.seek(4 * 1024 * 1024 - 100)
            assert (
                f.read(5000)
                == (records / "scan.tif").read_bytes()[
                    4 * 1024 * 1024 - 100 : 4 * 1024 * 1024 + 4900
                ]
            )
        one = (mnt / "snapshots" / second_name / inside / "keys.txt").stat()
        other = (mnt / "snapshots" / second_name / inside / "keys-again.txt").stat()
        assert (one.st_ino, one.st_nlink) == (other.st_ino, 2)
        assert (mnt / "snapshots" / second_name / inside / "scan.tif").stat().st_size == (
            9 * 1024 * 1024 + 12345
        )


@needs_fuse
def test_the_mount_is_read_only(
    home: Path, repository: list[tuple[str, str]], tmp_path: Path
) -> None:
    mnt = tmp_path / "mnt"
    name = repository[0][1]
    with mounted(home, mnt):
        folder = mnt / "snapshots" / name / str(tmp_path).lstrip("/") / "records"
        attempts = {
            "write": lambda: (folder / "keys.txt").open("r+b"),
            "create": lambda: (folder / "new.txt").write_bytes(b"x"),
            "mkdir": lambda: (folder / "new").mkdir(),
            "unlink": lambda: (folder / "zero.dat").unlink(),
            "chmod": lambda: (folder / "keys.txt").chmod(0o777),
            "rename": lambda: (folder / "zero.dat").rename(folder / "one.dat"),
            "symlink": lambda: (folder / "link").symlink_to("keys.txt"),
            "snapshots": lambda: (mnt / "snapshots" / "new").mkdir(),
        }
        assert {what: refusal(attempt) for what, attempt in attempts.items()} == dict.fromkeys(
            attempts, errno.EROFS
        )
        assert sorted(os.listdir(folder)) == sorted(
            ["empty", "keys-again.txt", "keys.txt", "land", "latest.csv", "scan.tif", "zero.dat"]
        )


@needs_fuse
def test_sigterm_unmounts_and_the_mount_is_audited_and_holds_off_prune(
    home: Path, repository: list[tuple[str, str]], tmp_path: Path
) -> None:
    mnt = tmp_path / "mnt"
    with mounted(home, mnt) as proc:
        # The shared lock the mount holds keeps prune from deleting what it may read.
        pruned = sw(home, "embassy", "prune", "--repo", REPO)
        assert pruned.code == 73, pruned.output
        assert "repository is locked" in pruned.err
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        err = proc.communicate()[1]
    assert not os.path.ismount(mnt)
    assert os.listdir(mnt) == []
    assert f"Mounted {REPO} (2 snapshots) at {mnt}" in err
    assert f"Unmounted {mnt}" in err
    assert sw(home, "embassy", "prune", "--repo", REPO).code == 0  # the lock went with it
    node = Node(load_settings(home=home))
    with node.unit(node.operator()) as ctx:
        entries = audit.search(ctx.db, audit.AuditFilter(action="embassy.mount"))
    node.close()
    assert [(e.action, e.detail["mountpoint"]) for e in reversed(entries)] == [
        ("embassy.mount.started", str(mnt)),
        ("embassy.mount.ended", str(mnt)),
    ]


@needs_fuse
def test_fusermount_unmount_ends_the_mount(
    home: Path, repository: list[tuple[str, str]], tmp_path: Path
) -> None:
    mnt = tmp_path / "mnt"
    with mounted(home, mnt) as proc:
        subprocess.run(["fusermount3", "-u", str(mnt)], check=True)
        assert proc.wait(timeout=30) == 0
    assert not os.path.ismount(mnt)


def test_without_the_fuse_binding_mount_says_how_to_install_it(
    home: Path, repository: list[tuple[str, str]], tmp_path: Path
) -> None:
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    # As on a plain `pip install seawall`: importing pyfuse3 fails.
    proc = seawall_process(
        home,
        "embassy",
        "mount",
        str(mnt),
        "--repo",
        REPO,
        prelude="import sys; sys.modules['pyfuse3'] = None",
    )
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 69
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "pip install 'seawall[mount]'" in lines[0]
    assert "libfuse3" in lines[0]
    assert not os.path.ismount(mnt)


def test_mount_refuses_a_mountpoint_that_is_no_directory(
    home: Path, repository: list[tuple[str, str]], tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("x")
    for where in (tmp_path / "file", tmp_path / "absent"):
        done = sw(home, "embassy", "mount", str(where), "--repo", REPO)
        assert done.code == 65, done.output
        assert done.err_lines == [f"error: {where} is not a directory to mount on"]
