"""Fixtures for the embassy engine: five local sites in tmp dirs and a small source tree."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from seawall.embassy.chunking import ChunkerParams
from seawall.embassy.keys import KdfParams
from seawall.embassy.repository import Repository
from seawall.embassy.sites.local import LocalSite

# Argon2id at its minimum cost keeps tests fast; production uses DEFAULT_KDF.
FAST_KDF = KdfParams(time_cost=1, memory_cost=64, parallelism=1)
SMALL_CHUNKS = ChunkerParams(min_size=2048, avg_size=8192, max_size=32768)
SMALL_PACK = 96 * 1024
PASSPHRASE = "correct horse battery staple"


def make_sites(root: Path, count: int = 5) -> list[LocalSite]:
    """``count`` empty local sites under ``root``."""
    sites = []
    for i in range(count):
        path = root / f"site{i}"
        path.mkdir(parents=True)
        sites.append(LocalSite(path, fsync=False))
    return sites


def make_source(root: Path, seed: int = 7) -> Path:
    """A small tree with text, random binaries, a symlink, an empty dir and odd modes."""
    rng = random.Random(seed)
    src = root / "src"
    (src / "docs" / "deep").mkdir(parents=True)
    (src / "empty").mkdir()
    words = [b"ministry", b"records", b"belize", b"storm", b"census", b"ledger"]
    text = b" ".join(rng.choice(words) for _ in range(60000))
    (src / "docs" / "register.csv").write_bytes(text)
    (src / "docs" / "deep" / "blob.bin").write_bytes(rng.randbytes(300_000))
    (src / "docs" / "deep" / "copy.bin").write_bytes(
        (src / "docs" / "deep" / "blob.bin").read_bytes()
    )
    (src / "small.txt").write_bytes(b"hello embassy\n")
    (src / "zero.dat").write_bytes(b"")
    os.chmod(src / "small.txt", 0o640)
    os.symlink("docs/register.csv", src / "link")
    os.utime(src / "small.txt", ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    return src


def tree_state(root: Path) -> dict[str, tuple[str, int, int, bytes | str]]:
    """Path -> (kind, mode, mtime_ns, content or link target) for comparing trees."""
    out: dict[str, tuple[str, int, int, bytes | str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            rel = path.relative_to(root).as_posix()
            st = path.lstat()
            if path.is_symlink():
                out[rel] = ("link", 0, 0, os.readlink(path))
            elif path.is_dir():
                out[rel] = ("dir", st.st_mode & 0o7777, st.st_mtime_ns, "")
            else:
                out[rel] = ("file", st.st_mode & 0o7777, st.st_mtime_ns, path.read_bytes())
    return out


@pytest.fixture
def sites(tmp_path: Path) -> list[LocalSite]:
    """Five empty local sites."""
    return make_sites(tmp_path / "sites")


@pytest.fixture
def repo(sites: list[LocalSite]) -> Iterator[Repository]:
    """A fresh 3-of-5 repository with small chunks and packs."""
    repository = Repository.init(
        sites,
        PASSPHRASE,
        name="gov-records",
        k=3,
        kdf=FAST_KDF,
        pack_size=SMALL_PACK,
        chunker=SMALL_CHUNKS,
    )
    yield repository
    repository.close()


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A small source tree."""
    return make_source(tmp_path)
