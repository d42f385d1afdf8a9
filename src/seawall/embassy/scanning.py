"""Scanning sources for a backup: the walk, and each entry's owner and extended attributes."""

from __future__ import annotations

import base64
import fnmatch
import functools
import grp
import os
import pwd
import stat
from collections.abc import Iterator, Sequence
from typing import TypedDict

from seawall.embassy.snapshots import Node


def walk(root: str, excludes: Sequence[str]) -> Iterator[tuple[str, os.stat_result | OSError]]:
    """Absolute paths below ``root`` (itself first), depth-first in name order.

    An entry that vanished since its directory was listed, or a directory that cannot be
    listed, comes with the error instead of (or after) its status, so the caller can say
    what it left out and go on.
    """
    try:
        st = os.lstat(root)
    except OSError as exc:
        yield root, exc
        return
    yield root, st
    if not stat.S_ISDIR(st.st_mode):
        return
    try:
        names = sorted(os.listdir(root))
    except OSError as exc:
        yield root, exc
        return
    for name in names:
        child = os.path.join(root, name)
        if _excluded(child, excludes):
            continue
        yield from walk(child, excludes)


def _excluded(path: str, excludes: Sequence[str]) -> bool:
    base = os.path.basename(path)
    return any(fnmatch.fnmatch(path, g) or fnmatch.fnmatch(base, g) for g in excludes)


def node_path(abspath: str) -> str:
    """The tree path an absolute path is stored under (relative to ``/``)."""
    return abspath.lstrip("/")


class Owner(TypedDict):
    """Who owns an entry, by number and by name (empty where the id has no name here)."""

    uid: int
    gid: int
    user: str
    group: str


def file_node(
    path: str, abspath: str, st: os.stat_result, owner: Owner, *, link_of: str = ""
) -> Node:
    """A file's node before its contents are read (chunks and size are filled in after)."""
    return Node(
        path,
        "file",
        stat.S_IMODE(st.st_mode),
        st.st_mtime_ns,
        inode=st.st_ino,
        ctime_ns=st.st_ctime_ns,
        link_of=link_of,
        xattrs=read_xattrs(abspath),
        **owner,
    )


def read_xattrs(path: str) -> tuple[tuple[str, str], ...]:
    """An entry's extended attributes, base64-encoded; none where the filesystem has none."""
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return ()  # no xattr support here, or the entry is gone (its read will say so)
    found = []
    for name in sorted(names):
        try:
            value = os.getxattr(path, name, follow_symlinks=False)
        except OSError:
            continue
        found.append((name, base64.b64encode(value).decode()))
    return tuple(found)


def owner_of(st: os.stat_result) -> Owner:
    """Who owns an entry, by number and by name."""
    return {
        "uid": st.st_uid,
        "gid": st.st_gid,
        "user": _user_name(st.st_uid),
        "group": _group_name(st.st_gid),
    }


@functools.lru_cache(maxsize=1024)
def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return ""  # an id with no name here: only the number is kept


@functools.lru_cache(maxsize=1024)
def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return ""
