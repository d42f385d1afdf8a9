"""A site in a local directory (``file:///srv/embassy-a``), durable with fsync."""

from __future__ import annotations

import errno
import fcntl
import mmap
import os
import tempfile
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from seawall.embassy.errors import ObjectMissing, SiteFull, SiteUnavailable
from seawall.embassy.sites.base import TEMP_PREFIX, ObjectInfo, TempInfo, check_name

# Objects this large (shares) are written past the page cache with O_DIRECT where the
# filesystem allows it. A share is not read back soon, and a buffered write paid twice in
# CPU: the copy into the cache, then its write-back under fsync (together 1-2 s of kernel
# time per GiB on a two-core host, varying run to run; direct writes took 0.05 s).
DIRECT_MIN = 1024 * 1024
# O_DIRECT wants block-aligned memory, offsets and lengths: data goes through a page-aligned
# buffer, the last block is padded with zeros, and ftruncate then cuts the file to length.
BOUNCE_SIZE = 256 * 1024
_BLOCK = 4096
_O_DIRECT = getattr(os, "O_DIRECT", 0)
_local = threading.local()


def _bounce() -> mmap.mmap:
    """This thread's page-aligned buffer for direct writes."""
    buf: mmap.mmap | None = getattr(_local, "bounce", None)
    if buf is None:
        buf = _local.bounce = mmap.mmap(-1, BOUNCE_SIZE)
    return buf


def _write_direct(fd: int, data: bytes) -> bool:
    """Write ``data`` into an empty file with O_DIRECT; False when the filesystem refuses it."""
    if not _O_DIRECT:
        return False  # no such flag on this platform
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    try:
        fcntl.fcntl(fd, fcntl.F_SETFL, flags | _O_DIRECT)
    except OSError:
        return False  # ramfs, some FUSE filesystems
    buf, view, done = _bounce(), memoryview(data), 0
    try:
        while done < len(view):
            piece = view[done : done + BOUNCE_SIZE]
            padded = -(-len(piece) // _BLOCK) * _BLOCK
            buf[: len(piece)] = piece
            buf[len(piece) : padded] = bytes(padded - len(piece))
            if os.write(fd, memoryview(buf)[:padded]) != padded:
                raise OSError(errno.ENOSPC, "short write")  # only a full disk stops one early
            done += len(piece)
    except OSError as exc:
        # A filesystem that takes the flag but not the write: go on buffered, from the start.
        if exc.errno != errno.EINVAL or done:
            raise
        fcntl.fcntl(fd, fcntl.F_SETFL, flags)
        return False
    os.ftruncate(fd, len(view))
    return True


class LocalSite:
    """Objects as files under a root directory; writes go to a temp file, fsync, rename."""

    def __init__(self, root: Path, fsync: bool = True) -> None:
        self.root = root
        self.fsync = fsync

    @property
    def url(self) -> str:
        """``file://`` URL of the root."""
        return f"file://{self.root}"

    def _path(self, name: str) -> Path:
        return self.root / check_name(name)

    def _require_root(self) -> None:
        if not self.root.is_dir():
            raise SiteUnavailable(f"site {self.url} is not reachable: directory missing")

    def put(self, name: str, data: bytes) -> None:
        """Write atomically: temp file in the same directory, fsync, rename, fsync dir.

        With fsync on, a large object is written with O_DIRECT where the filesystem allows.
        """
        self._require_root()
        path = self._path(name)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX)
            try:
                with os.fdopen(fd, "wb") as handle:
                    if not (self.fsync and len(data) >= DIRECT_MIN and _write_direct(fd, data)):
                        handle.write(data)
                        handle.flush()
                    if self.fsync:
                        os.fsync(handle.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            if self.fsync:
                dir_fd = os.open(path.parent, os.O_RDONLY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise SiteFull(f"site {self.url} is full; free space or replace the site") from None
            raise SiteUnavailable(f"site {self.url} refused a write: {exc.strerror}") from None

    def get(self, name: str) -> bytes:
        """Read an object."""
        self._require_root()
        try:
            return self._path(name).read_bytes()
        except FileNotFoundError:
            raise ObjectMissing(f"{name} is missing on site {self.url}") from None
        except OSError as exc:
            raise SiteUnavailable(f"site {self.url} refused a read: {exc.strerror}") from None

    def list(self, prefix: str = "") -> Iterator[str]:
        """Names under the root that start with ``prefix`` (temp files excluded).

        Only directories that can hold such names are walked: listing ``locks/`` must not
        read every share of a large repository (it did, several times per command).
        """
        self._require_root()
        root = str(self.root)
        for dirpath, dirs, files in os.walk(root):
            base = os.path.relpath(dirpath, root)
            base = "" if base == "." else base.replace(os.sep, "/") + "/"
            dirs[:] = [
                d
                for d in dirs
                if (base + d + "/").startswith(prefix) or prefix.startswith(base + d + "/")
            ]
            for file in files:
                name = base + file
                if not file.startswith(TEMP_PREFIX) and name.startswith(prefix):
                    yield name

    def temporaries(self) -> Iterator[TempInfo]:
        """Temporary files of puts (``.tmp-*``) anywhere under the root."""
        self._require_root()
        root = str(self.root)
        for dirpath, _dirs, files in os.walk(root):
            base = os.path.relpath(dirpath, root)
            base = "" if base == "." else base.replace(os.sep, "/") + "/"
            for file in files:
                if file.startswith(TEMP_PREFIX):
                    try:
                        st = os.lstat(os.path.join(dirpath, file))
                    except FileNotFoundError:
                        continue  # renamed into place or removed meanwhile
                    when = datetime.fromtimestamp(st.st_mtime, UTC)
                    yield TempInfo(base + file, st.st_size, when)

    def delete(self, name: str) -> None:
        """Remove an object if present."""
        self._require_root()
        self._path(name).unlink(missing_ok=True)

    def stat(self, name: str) -> ObjectInfo | None:
        """Size of an object, or None."""
        self._require_root()
        try:
            return ObjectInfo(name, self._path(name).stat().st_size)
        except FileNotFoundError:
            return None

    def close(self) -> None:
        """Nothing to release."""
