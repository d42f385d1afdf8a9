"""Where a host keeps the bytes of hosted versions: files under its own home, one per version.

The host never sees a key: every version is an opaque blob (a share, a sealed object, a
plaintext marker or key slot whose secret is wrapped) named by its version id. Files are
written with the local site's durable put (temporary file, fsync, rename), so a full disk
is ``site_full`` and a torn write is never seen.
"""

from __future__ import annotations

from pathlib import Path

from seawall.embassy.errors import ObjectMissing
from seawall.embassy.sites.local import LocalSite
from seawall.settings import Settings

HOSTED_DIR = "embassy-hosted"


def hosted_root(settings: Settings) -> Path:
    """The directory under the node home that holds every hosted version."""
    return settings.home / HOSTED_DIR


class HostedBlobs:
    """Version blobs of every agreement, as ``<agreement id>/<2 chars>/<version id>``."""

    def __init__(self, root: Path, *, fsync: bool = True) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self._site = LocalSite(root, fsync=fsync)

    @staticmethod
    def _name(agreement_id: str, version_id: str) -> str:
        return f"{agreement_id}/{version_id[-2:]}/{version_id}"

    def write(self, agreement_id: str, version_id: str, data: bytes) -> None:
        """Keep a version's bytes durably."""
        self._site.put(self._name(agreement_id, version_id), data)

    def read(self, agreement_id: str, version_id: str) -> bytes:
        """A version's bytes; ObjectMissing when the file is gone."""
        try:
            return self._site.get(self._name(agreement_id, version_id))
        except ObjectMissing:
            raise ObjectMissing(
                f"version {version_id} of agreement {agreement_id} is missing on this host"
            ) from None

    def remove(self, agreement_id: str, version_id: str) -> None:
        """Delete a version's bytes (a purge)."""
        self._site.delete(self._name(agreement_id, version_id))
