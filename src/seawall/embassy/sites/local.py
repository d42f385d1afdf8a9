"""A site in a local directory (``file:///srv/embassy-a``), durable with fsync."""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from seawall.embassy.errors import ObjectMissing, SiteFull, SiteUnavailable
from seawall.embassy.sites.base import ObjectInfo, check_name


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
        """Write atomically: temp file in the same directory, fsync, rename, fsync dir."""
        self._require_root()
        path = self._path(name)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    if self.fsync:
                        handle.flush()
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
        """Names under the root that start with ``prefix`` (temp files excluded)."""
        self._require_root()
        for dirpath, _dirs, files in os.walk(self.root):
            for file in files:
                if file.startswith(".tmp-"):
                    continue
                name = Path(dirpath, file).relative_to(self.root).as_posix()
                if name.startswith(prefix):
                    yield name

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
