"""The small contract every site implements.

Object names are relative, ``/``-separated keys such as ``config``, ``keys/3f2a``,
``data/ab/ab12...``. A ``put`` is atomic: a reader sees the old object, the new one,
or none, never a torn write. Implementations map their own failures onto
:mod:`seawall.embassy.errors` (unreachable, full, missing).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from seawall.embassy.errors import BadSiteUrl

NAME = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")
# A put that writes a temporary object first names it so, beside its target.
TEMP_PREFIX = ".tmp-"


def check_name(name: str) -> str:
    """Refuse names that could escape the site root (``..``, absolute, empty parts)."""
    if not NAME.match(name) or any(part in (".", "..") for part in name.split("/")):
        raise BadSiteUrl(f"object name {name!r} is not a safe relative key")
    return name


@dataclass(frozen=True)
class ObjectInfo:
    """What ``stat`` tells about an object."""

    name: str
    size: int


class Site(Protocol):
    """A place that stores opaque, named blobs."""

    @property
    def url(self) -> str:
        """The site URL, with any credentials removed (safe to log and show)."""
        ...

    def put(self, name: str, data: bytes) -> None:
        """Store ``data`` under ``name`` atomically, replacing any previous object."""
        ...

    def get(self, name: str) -> bytes:
        """Read an object; raises ObjectMissing when absent."""
        ...

    def list(self, prefix: str = "") -> Iterator[str]:
        """Names of the objects whose names start with ``prefix``."""
        ...

    def delete(self, name: str) -> None:
        """Remove an object; absent objects are not an error."""
        ...

    def stat(self, name: str) -> ObjectInfo | None:
        """Size of an object, or None when absent."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


@dataclass(frozen=True)
class TempInfo:
    """A temporary object of a put: its name (for ``delete``), size and last change (UTC)."""

    name: str
    size: int
    modified: datetime


@runtime_checkable
class HoldsTemporaries(Protocol):
    """A site whose puts write a temporary object (``.tmp-*``) and rename it into place.

    A put killed before its rename leaves the temporary behind, and ``list`` never shows
    it. Sites whose puts are single requests (S3) leave none and need not implement this.
    """

    def temporaries(self) -> Iterator[TempInfo]:
        """Every temporary object under the root, whoever is writing it."""
        ...
