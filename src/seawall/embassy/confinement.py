"""A restore target that is written without following any symbolic link below it.

Every entry is reached from a descriptor of the target directory, one path component at a
time, with ``O_NOFOLLOW`` (openat-style). A link already in the target, or one the restore
made from a snapshot, is never followed: a write through one is refused with
:class:`RestoreThroughLink`, naming the snapshot entry. Links in the path *to* the target
are the caller's choice and are followed, once, when it is opened, unless the target
must lie inside a given directory: then the way from there is walked the same way.
"""

from __future__ import annotations

import errno
import os
import stat
from collections import OrderedDict
from contextlib import suppress
from pathlib import Path
from typing import NoReturn

from seawall.embassy.errors import RestoreThroughLink, RestoreWouldOverwrite
from seawall.errors import InvalidInput

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# Directory descriptors kept open between lookups (most recently used first out last).
KEEP_OPEN = 64


def shown(path: str) -> str:
    """A snapshot path as the CLI shows it (rooted at ``/``)."""
    return "/" + path


class TargetDir:
    """An open restore target; entries below it are reached without following links.

    The descriptors returned by :meth:`folder` and :meth:`parent` stay valid until the next
    call of either (at most :data:`KEEP_OPEN` are cached); use them at once, or ``os.dup``.
    """

    def __init__(self, root: Path, *, within: Path | None = None) -> None:
        self._open: OrderedDict[str, int] = OrderedDict()
        self.root = root
        if within is None:
            if root.exists() and not root.is_dir():
                raise RestoreWouldOverwrite(
                    f"{root} is a file, not a directory: restore into a directory"
                )
            root.mkdir(parents=True, exist_ok=True)
            self.fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        else:
            self.fd = self._inside(root, within)

    def _inside(self, root: Path, within: Path) -> int:
        """Open ``root`` from ``within`` without following a link on the way (the web's
        restore directory: a link made there after the target was checked leads nowhere)."""
        base = within.resolve()
        refusal = InvalidInput(
            f"restore into a directory inside {base} (the node's restore directory, "
            "SEAWALL_RESTORE_DIR): give a name such as drill-2026-12"
        )
        if not root.is_absolute() or not root.is_relative_to(base) or root == base:
            raise refusal
        base.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            rel = root.relative_to(base).as_posix()
            fd = os.dup(self.folder(rel, entry=rel))
        except (RestoreThroughLink, RestoreWouldOverwrite):
            raise refusal from None
        finally:
            for cached in self._open.values():
                os.close(cached)
            self._open.clear()
            os.close(self.fd)
        return fd

    def close(self) -> None:
        """Close every descriptor."""
        for fd in self._open.values():
            os.close(fd)
        self._open.clear()
        os.close(self.fd)

    def __enter__(self) -> TargetDir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def folder(self, rel: str, *, entry: str, create: bool = True) -> int:
        """A descriptor of directory ``rel`` ("" is the target), made when missing.

        ``entry`` is the snapshot entry being written, named if a link is in the way.
        """
        if not rel:
            return self.fd
        fd = self._open.get(rel)
        if fd is not None:
            self._open.move_to_end(rel)
            return fd
        head, _, name = rel.rpartition("/")
        parent = self.folder(head, entry=entry, create=create)
        try:
            fd = os.open(name, _DIR, dir_fd=parent)
        except FileNotFoundError:
            if not create:
                raise
            with suppress(FileExistsError):  # made meanwhile: opened (or refused) below
                os.mkdir(name, 0o777, dir_fd=parent)
            fd = self._open_dir(parent, name, rel, entry)
        except OSError as exc:
            if exc.errno not in (errno.ENOTDIR, errno.ELOOP):
                raise
            self._refuse(parent, name, rel, entry)
        self._open[rel] = fd
        while len(self._open) > KEEP_OPEN:
            os.close(self._open.popitem(last=False)[1])
        return fd

    def _open_dir(self, parent: int, name: str, rel: str, entry: str) -> int:
        try:
            return os.open(name, _DIR, dir_fd=parent)
        except OSError as exc:
            if exc.errno not in (errno.ENOTDIR, errno.ELOOP):
                raise
            self._refuse(parent, name, rel, entry)

    def _refuse(self, parent: int, name: str, rel: str, entry: str) -> NoReturn:
        """Raise the typed refusal for ``rel``, which is in the way as a link or a file."""
        st = os.lstat(name, dir_fd=parent)
        if stat.S_ISLNK(st.st_mode):
            where = "there" if rel == entry else f"at {shown(rel)}"
            raise RestoreThroughLink(
                f"refused to restore {shown(entry)}: the target has a symbolic link {where} "
                f"(to {os.readlink(name, dir_fd=parent)}), which a restore never follows; "
                "remove it, or restore into an empty directory",
                shown(entry),
            )
        raise RestoreWouldOverwrite(
            f"cannot restore {shown(entry)}: {shown(rel)} in the target is a file where the "
            "snapshot has a directory; restore elsewhere"
        )

    def parent(self, rel: str, *, create: bool = True) -> tuple[int, str]:
        """The descriptor of the directory holding ``rel``, and ``rel``'s last name."""
        head, _, name = rel.rpartition("/")
        return self.folder(head, entry=rel, create=create), name

    def lookup(self, rel: str) -> os.stat_result | None:
        """The status of ``rel`` itself (a link is not followed), or None when it is absent.

        A link or file in place of one of its directories is refused as :meth:`folder` does.
        """
        try:
            fd, name = self.parent(rel, create=False)
            return os.lstat(name, dir_fd=fd)
        except FileNotFoundError:
            return None

    def check_folder(self, rel: str, *, entry: str) -> bool:
        """Refuse now, before anything is written, if a link or file is in the way of ``rel``;
        True when the directory exists already (False: the restore makes it later)."""
        try:
            self.folder(rel, entry=entry, create=False)
        except FileNotFoundError:
            return False
        return True

    def remove(self, rel: str) -> None:
        """Remove the entry at ``rel`` if any (a link itself, never what it points to)."""
        fd, name = self.parent(rel)
        with suppress(FileNotFoundError):
            os.unlink(name, dir_fd=fd)

    def create(self, rel: str) -> int:
        """A new empty file at ``rel``, open for writing; it must not exist (links included)."""
        fd, name = self.parent(rel)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        return os.open(name, flags, 0o666, dir_fd=fd)

    def open_file(self, rel: str, flags: int = os.O_WRONLY) -> int:
        """Open the file at ``rel`` (made by this restore) again, never through a link."""
        fd, name = self.parent(rel)
        try:
            return os.open(name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise
            raise RestoreThroughLink(
                f"refused to restore {shown(rel)}: it became a symbolic link in the target "
                "while the restore ran; restore into a directory no one else writes to",
                shown(rel),
            ) from None
