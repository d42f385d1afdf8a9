"""The narrow store interface the embassy operations run over.

Backup, restore, check, repair, forget and prune are functions over a :class:`RepositoryStore`:
sites and their probing, sealed metadata copied to every site, erasure-coded packs, the
index, snapshots and locks. :class:`~seawall.embassy.repository.Repository` implements it,
and imports no operation, so the operations depend on the store and never the reverse.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from seawall.core.clock import Clock
from seawall.embassy.config import RepoConfig
from seawall.embassy.erasure import SplitPack
from seawall.embassy.index import Index, PackInfo
from seawall.embassy.packs import PackBuilder
from seawall.embassy.sites.base import Site
from seawall.embassy.snapshots import Node, Snapshot
from seawall.errors import SeawallError


@dataclass
class SentPack:
    """A pack whose shares are being written: its index entry and the writes in flight."""

    info: PackInfo
    writes: list[tuple[int, Future[None]]] = field(default_factory=list)
    failed: dict[int, SeawallError] = field(default_factory=dict)


class PurposeKeys(Protocol):
    """The purpose keys derived from the master key (the master secret itself is not needed)."""

    @property
    def data_key(self) -> bytes:
        """Base key for sealed chunks and metadata."""
        ...

    @property
    def id_key(self) -> bytes:
        """Key of the keyed BLAKE3 chunk ids."""
        ...

    @property
    def mac_key(self) -> bytes:
        """Key of the keyed BLAKE3 pack ids and share MACs."""
        ...


class RepositoryStore(Protocol):
    """An open repository as the operations see it."""

    index_every: int
    """Packs uploaded between two index files written by a backup."""
    config: RepoConfig
    """The authenticated repository config (k, n, site URLs, chunker); a site replacement
    writes the next generation."""

    @property
    def sites(self) -> list[Site | None]:
        """Site ``i`` holds share ``i``; None when it could not be reached at open."""
        ...

    @property
    def master(self) -> PurposeKeys:
        """The keys that seal, identify and authenticate."""
        ...

    @property
    def clock(self) -> Clock:
        """The injected clock."""
        ...

    @property
    def io(self) -> ThreadPoolExecutor:
        """The threads that talk to the sites."""
        ...

    # -- sites and metadata

    def reachable(self, *, fresh: bool = False) -> list[tuple[int, Site]]:
        """(index, site) of the sites that answer, probed at most every few seconds."""
        ...

    def require_sites(self, *, degraded: bool, what: str) -> list[int]:
        """Indices of reachable sites, or TooFewSites when ``what`` cannot run with them."""
        ...

    def attach_site(self, index: int, site: Site) -> None:
        """Use ``site`` as site ``index`` from now on (after a replacement)."""
        ...

    def marker_for(self, index: int) -> bytes:
        """The plaintext ``repository`` marker for site ``index``."""
        ...

    def seal_meta(self, name: str, plaintext: bytes) -> bytes:
        """Seal a repository object, bound to its repository and name."""
        ...

    def unseal_meta(self, name: str, blob: bytes) -> bytes:
        """Open a sealed repository object; IntegrityError if it is not the one named."""
        ...

    def put_everywhere(
        self, name: str, data: bytes, *, degraded: bool = False, at_least: int | None = None
    ) -> None:
        """Write an object to every site; with ``degraded``, to the reachable ones."""
        ...

    def get_meta(self, name: str) -> bytes:
        """Plaintext of a sealed object from the first site whose copy verifies."""
        ...

    def names(self, prefix: str) -> set[str]:
        """Names under ``prefix`` on any reachable site."""
        ...

    def delete_everywhere(self, name: str) -> None:
        """Delete an object on every reachable site."""
        ...

    # -- locks

    def lock(self, *, exclusive: bool) -> AbstractContextManager[object]:
        """Hold a shared or exclusive lock; RepositoryLocked when another conflicts."""
        ...

    def check_lock(self) -> None:
        """A safe point: LockLost when a held lock is lost."""
        ...

    def confirm_lock(self) -> None:
        """Refresh the held locks now and check them: before a snapshot or a deletion."""
        ...

    # -- index and snapshots

    def load_index(self, *, partial: bool = False) -> Index:
        """Read every index file (first verifying copy of each)."""
        ...

    def write_index_file(self, packs: Sequence[PackInfo], *, degraded: bool = False) -> str:
        """Publish an index file listing ``packs``; its name."""
        ...

    def snapshots(self) -> list[Snapshot]:
        """All snapshots, oldest first."""
        ...

    def find_snapshot(self, ref: str) -> Snapshot:
        """``latest``, a full id or a unique id prefix."""
        ...

    def tree(self, snapshot: Snapshot) -> list[Node]:
        """The nodes of a snapshot, in path order."""
        ...

    # -- packs

    def send_pack(self, builder: PackBuilder, targets: list[int]) -> SentPack:
        """Encode one pack and start writing its shares to ``targets``; see :meth:`settle`."""
        ...

    def settle(self, sent: SentPack) -> dict[int, SeawallError]:
        """Wait for a sent pack's share writes; each failed site's error."""
        ...

    def fetch_pack(self, pack: PackInfo) -> SplitPack:
        """Rebuild a pack from the first k valid shares, unjoined."""
        ...
