"""An embassy repository spread over n sites: the store the embassy operations run over.

Backup, restore, check, repair, forget and prune are functions over it (see :mod:`.store`),
each in its own module. Metadata (marker, config, key slots, index files, snapshots, trees,
locks) is replicated to every site, so one surviving site and a passphrase recover the whole
history. Data packs are erasure-coded k-of-n; share i lives on site i. Publishing order is
packs, then index files, then tree and snapshot, so an interrupted run leaves a consistent
repository whose uploaded packs a rerun reuses. The engine records no audit entries: a
service layer above it does.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, suppress

from seawall.core.clock import Clock, SystemClock
from seawall.embassy.chunking import ChunkerParams
from seawall.embassy.config import (
    CONFIG,
    FORMAT,
    FORMAT_VERSION,
    MARKER,
    RepoConfig,
    object_context,
)
from seawall.embassy.erasure import (
    ShareHeader,
    SplitPack,
    encode_pieces,
    open_share,
    rebuild_split,
)
from seawall.embassy.errors import (
    IO_ERRORS,
    SITE_ERRORS,
    IndexDamaged,
    IntegrityError,
    ObjectMissing,
    ShareInvalid,
    SiteUnavailable,
    SnapshotMissing,
    TooFewSites,
)
from seawall.embassy.health import too_few_shares
from seawall.embassy.index import Index, PackInfo, dump_index_file, load_index_file
from seawall.embassy.keys import DEFAULT_KDF, KdfParams, KeySlot, MasterKey
from seawall.embassy.locks import HeldLock, UnlockReport, hold, remove_locks
from seawall.embassy.memory import tune_malloc
from seawall.embassy.opening import connect_missing, locate_repository, plan_repository
from seawall.embassy.packs import TARGET_SIZE, PackBuilder, share_name
from seawall.embassy.sealing import seal, unseal
from seawall.embassy.sites.base import Site
from seawall.embassy.snapshots import (
    DiffEntry,
    Node,
    Snapshot,
    diff_trees,
    is_under,
    load_tree,
)
from seawall.embassy.store import SentPack
from seawall.errors import SeawallError

# Seconds a reachability probe is trusted before sites are asked again.
PROBE_EVERY = 10.0


class Repository:
    """An open embassy repository; build one with :meth:`init` or :meth:`open`."""

    index_every = 4

    def __init__(
        self,
        sites: list[Site | None],
        master: MasterKey,
        config: RepoConfig,
        slot: KeySlot,
        clock: Clock,
    ) -> None:
        self.sites = sites
        self.master = master
        self.config = config
        self.opened_with = slot
        self.clock = clock
        # Before any worker thread allocates: keeps retained free buffers within the RSS budget.
        tune_malloc()
        self.io = ThreadPoolExecutor(max(4, 2 * config.n), thread_name_prefix="embassy-io")
        self._probed: tuple[float, list[tuple[int, Site]]] | None = None
        self._share_misses: Counter[int] = Counter()
        # Locks held now; every write checks them first (see check_lock).
        self.holding: list[HeldLock] = []
        # Things the user should hear about that did not stop the run (a damaged index file).
        self.warnings: list[str] = []

    # -- lifecycle -----------------------------------------------------------------

    @classmethod
    def init(
        cls,
        sites: Sequence[Site],
        passphrase: str,
        *,
        name: str,
        k: int = 3,
        kdf: KdfParams = DEFAULT_KDF,
        clock: Clock | None = None,
        pack_size: int = TARGET_SIZE,
        chunker: ChunkerParams | None = None,
    ) -> Repository:
        """Create a repository on every site (all must be reachable and empty)."""
        clock = clock or SystemClock()
        new = plan_repository(
            sites,
            passphrase,
            name=name,
            k=k,
            kdf=kdf,
            now=clock.now(),
            pack_size=pack_size,
            chunker=chunker,
        )
        slot = new.slot
        repo = cls(new.placed, new.master, new.config, slot, clock)
        sealed = repo.seal_meta(CONFIG, new.config.to_json())
        try:
            for i, site in enumerate(sites):
                site.put(slot.name, slot.to_json())
                site.put(CONFIG, sealed)
                site.put(MARKER, repo.marker_for(i))
        except SeawallError:
            # A site failed mid-way (full, gone): take back what was written, so every site
            # is empty again and the same init can simply be rerun.
            for site in sites:
                for name in (MARKER, CONFIG, slot.name):
                    with suppress(SeawallError):
                        site.delete(name)
            repo.close()
            raise
        return repo

    @classmethod
    def open(
        cls,
        sites: Sequence[Site],
        passphrase: str | None = None,
        *,
        recovery_key: bytes | None = None,
        connect: Callable[[str], Site] | None = None,
        clock: Clock | None = None,
    ) -> Repository:
        """Open from any sites that hold the repository; ``connect`` reaches the others."""
        clock = clock or SystemClock()
        opened = locate_repository(sites, passphrase, recovery_key)
        repo = cls(opened.placed, opened.master, opened.config, opened.slot, clock)
        if connect is not None:
            connect_missing(opened, connect)
        return repo

    def close(self) -> None:
        """Release threads and site connections."""
        self.io.shutdown(wait=True)
        for site in self.sites:
            if site is not None:
                with suppress(Exception):
                    site.close()

    def __enter__(self) -> Repository:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- sites and metadata --------------------------------------------------------

    def marker_for(self, index: int) -> bytes:
        """The plaintext ``repository`` marker for site ``index``."""
        doc: dict[str, object] = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "repository": self.config.id,
            "site": index,
        }
        return json.dumps(doc, sort_keys=True).encode()

    def reachable(self, *, fresh: bool = False) -> list[tuple[int, Site]]:
        """(index, site) of the sites that answer, probed at most every few seconds."""
        now = time.monotonic()
        if fresh or self._probed is None or now - self._probed[0] > PROBE_EVERY:
            up = []
            for i, site in enumerate(self.sites):
                if site is None:
                    continue
                try:
                    site.stat(MARKER)
                except SITE_ERRORS:
                    continue
                up.append((i, site))
            self._probed = (now, up)
        return list(self._probed[1])

    def attach_site(self, index: int, site: Site) -> None:
        """Use ``site`` as site ``index`` from now on (after a replacement)."""
        self.sites[index] = site
        self._lost()

    def _lost(self) -> None:
        """Forget the last probe after a site failed, so the next call probes again."""
        self._probed = None

    def seal_meta(self, name: str, plaintext: bytes) -> bytes:
        """Seal a repository object, bound to its repository and name."""
        return seal(self.master.data_key, plaintext, object_context(self.config.id, name))

    def unseal_meta(self, name: str, blob: bytes) -> bytes:
        """Open a sealed repository object; IntegrityError if it is not the one named."""
        return unseal(self.master.data_key, blob, object_context(self.config.id, name), what=name)

    def put_everywhere(
        self, name: str, data: bytes, *, degraded: bool = False, at_least: int | None = None
    ) -> None:
        """Write an object to every site; with ``degraded``, to the reachable ones.

        Degraded writes must still reach ``at_least`` sites (by default k + 1).
        """
        self.check_lock()
        k, n = self.config.k, self.config.n
        up = self.reachable(fresh=not degraded)
        down = [self.config.sites[i] for i in range(n) if i not in dict(up)]
        if down and not degraded:
            raise TooFewSites(f"site {', '.join(down)} unreachable; nothing more was written")
        errors: list[SeawallError] = []
        futures = [self.io.submit(site.put, name, data) for _, site in up]
        for future in futures:
            try:
                future.result()
            except SITE_ERRORS as exc:
                errors.append(exc)
        if errors:
            self._lost()
        need = n if not degraded else (min(n, k + 1) if at_least is None else at_least)
        if len(up) - len(errors) < need:
            if errors:
                raise errors[0]
            raise TooFewSites(f"{name} reached {len(up)} sites; {need} are needed")

    def get_meta(self, name: str) -> bytes:
        """Plaintext of a sealed object from the first site whose copy verifies."""
        last: Exception = ObjectMissing(f"{name} is missing on every reachable site")
        for _, site in self.reachable():
            try:
                return self.unseal_meta(name, site.get(name))
            except SITE_ERRORS as exc:
                self._lost()
                last = exc
            except (ObjectMissing, IntegrityError) as exc:
                last = exc
        if isinstance(last, IntegrityError):
            raise IntegrityError(f"{name} fails authentication on every reachable site")
        raise last

    def names(self, prefix: str) -> set[str]:
        """Names under ``prefix`` on any reachable site."""
        names: set[str] = set()
        for _, site in self.reachable():
            with suppress(*IO_ERRORS):
                names.update(site.list(prefix))
        return names

    def require_sites(self, *, degraded: bool, what: str) -> list[int]:
        """Indices of reachable sites, or TooFewSites when ``what`` cannot run with them."""
        up = [i for i, _ in self.reachable(fresh=True)]
        k, n = self.config.k, self.config.n
        if len(up) == n:
            return up
        down = ", ".join(self.config.sites[i] for i in range(n) if i not in up)
        if not degraded:
            raise TooFewSites(
                f"site {down} unreachable; {what} refused before writing anything "
                "(retry later, or use degraded mode)"
            )
        if len(up) < min(n, k + 1):
            raise TooFewSites(
                f"only {len(up)} of {n} sites reachable; degraded mode needs {k + 1} ({down} down)"
            )
        return up

    # -- locks ---------------------------------------------------------------------

    def lock(self, *, exclusive: bool) -> AbstractContextManager[HeldLock]:
        """Hold a shared or exclusive lock; RepositoryLocked when another conflicts."""
        return hold(self, exclusive=exclusive)

    def unlock(self, *, remove_all: bool = False) -> UnlockReport:
        """Remove stale locks, or with ``remove_all`` every lock (see :mod:`.locks`)."""
        return remove_locks(self, remove_all=remove_all)

    def check_lock(self) -> None:
        """A safe point: LockLost when a lock this repository holds is lost (see :mod:`.locks`).

        Every write below (objects, packs, deletions) passes one, so a run that lost its lock
        writes nothing more.
        """
        for held in tuple(self.holding):
            held.check()

    def confirm_lock(self) -> None:
        """Refresh the held locks now and check them: before a snapshot or a deletion."""
        for held in tuple(self.holding):
            held.confirm()

    # -- index and snapshots -------------------------------------------------------

    def load_index(self, *, partial: bool = False) -> Index:
        """Read every index file (first verifying copy of each).

        A file that verifies on no site is skipped, named in ``Index.damaged`` and in
        :attr:`warnings`, so that what needs only other packs still works. A run under the
        exclusive lock (prune) deletes what no index lists, so there a damaged file raises
        IndexDamaged, unless ``partial`` says the caller copes with a partial index (repair).
        """
        index = Index()
        for name in sorted(self.names("index/")):
            try:
                packs = load_index_file(self.get_meta(name), name)
            except ObjectMissing:
                continue  # deleted since it was listed (a prune retired it)
            except IntegrityError as exc:
                index.damaged[name] = exc.message
                continue
            for pack in packs:
                index.add(pack)
            index.files.add(name)
        for name in sorted(index.damaged):
            warning = (
                f"{name} is unreadable on every site; the packs it lists are left out "
                "(run repair --index)"
            )
            if warning not in self.warnings:
                self.warnings.append(warning)
        if index.damaged and not partial and any(h.lock.exclusive for h in self.holding):
            names = ", ".join(sorted(index.damaged))
            raise IndexDamaged(
                f"{names} unreadable on every site: its packs would look unused; "
                "run seawall embassy repair --index first"
            )
        return index

    def write_index_file(self, packs: Sequence[PackInfo], *, degraded: bool = False) -> str:
        name = f"index/{os.urandom(16).hex()}"
        self.put_everywhere(name, self.seal_meta(name, dump_index_file(packs)), degraded=degraded)
        return name

    def snapshots(self) -> list[Snapshot]:
        """All snapshots, oldest first."""
        found = []
        for name in self.names("snapshots/"):
            found.append(Snapshot.from_json(self.get_meta(name), name))
        return sorted(found, key=lambda s: (s.time, s.id))

    def find_snapshot(self, ref: str) -> Snapshot:
        """``latest``, a full id or a unique id prefix."""
        snaps = self.snapshots()
        if ref == "latest":
            if not snaps:
                raise SnapshotMissing("the repository has no snapshots yet; run a backup first")
            return snaps[-1]
        matches = [s for s in snaps if s.id.startswith(ref.lower())] if ref else []
        if len(matches) != 1:
            what = "matches no snapshot" if not matches else "is ambiguous"
            raise SnapshotMissing(f"snapshot {ref!r} {what}; list them with snapshots")
        return matches[0]

    def tree(self, snapshot: Snapshot) -> list[Node]:
        """The nodes of a snapshot, in path order."""
        name = f"trees/{snapshot.id}"
        return load_tree(self.get_meta(name), name)

    def ls(self, ref: str = "latest", prefix: str = "") -> list[Node]:
        """Nodes of a snapshot at or below ``prefix``."""
        inc = prefix.strip("/")
        return [n for n in self.tree(self.find_snapshot(ref)) if is_under(n.path, inc)]

    def diff(self, old: str, new: str) -> list[DiffEntry]:
        """What changed from snapshot ``old`` to snapshot ``new``."""
        return diff_trees(self.tree(self.find_snapshot(old)), self.tree(self.find_snapshot(new)))

    # -- packs and shares ----------------------------------------------------------

    def send_pack(self, builder: PackBuilder, targets: list[int]) -> SentPack:
        """Assemble and encode one pack and start writing its shares; see :meth:`settle`.

        Returns once the shares are handed to the I/O threads, so the next pack can be
        encoded while this one is written.
        """
        self.check_lock()
        pieces = builder.pieces(self.master.data_key)
        builder.blobs.clear()
        length = sum(len(piece) for piece in pieces)
        # The pack is never joined whole: each data share is copied straight from the blobs,
        # which are released (pieces emptied) before the parity shares are computed.
        pid, shares = encode_pieces(
            pieces, k=self.config.k, n=self.config.n, mac_key=self.master.mac_key
        )
        name = share_name(pid)
        sent = SentPack(PackInfo(pid, length, self.config.k, self.config.n, tuple(builder.entries)))
        for i in targets:
            site = self.sites[i]
            if site is None:
                sent.failed[i] = SiteUnavailable(f"site {self.config.sites[i]} is not connected")
            else:
                sent.writes.append((i, self.io.submit(site.put, name, shares[i])))
        return sent

    def settle(self, sent: SentPack) -> dict[int, SeawallError]:
        """Wait for a sent pack's share writes; each failed site's error."""
        for i, future in sent.writes:
            try:
                future.result()
            except SITE_ERRORS as exc:
                sent.failed[i] = exc
        sent.writes.clear()
        return sent.failed

    def _read_share(self, site_index: int, pack: PackInfo) -> tuple[ShareHeader, memoryview] | None:
        site = self.sites[site_index]
        if site is None:
            return None
        try:
            head, body = open_share(site.get(share_name(pack.id)), self.master.mac_key)
        except (*IO_ERRORS, ShareInvalid):
            self._share_misses[site_index] += 1
            return None
        if not head.of(pack.id, pack.k, pack.n, pack.length):
            return None
        return head, body

    def fetch_pack(self, pack: PackInfo) -> SplitPack:
        """Rebuild a pack from the first k valid shares (primary shares first), unjoined."""
        # Sites that failed before are asked last, so a lost site costs no extra round trip.
        order = [i for i in range(pack.n) if self.sites[i] is not None]
        order.sort(key=lambda i: self._share_misses[i])
        good: dict[int, memoryview] = {}
        while len(good) < pack.k and order:
            batch, order = order[: pack.k - len(good)], order[pack.k - len(good) :]
            for result in self.io.map(lambda i: self._read_share(i, pack), batch):
                if result is not None:
                    good.setdefault(result[0].index, result[1])
        if len(good) < pack.k:
            up = {i for i, _ in self.reachable(fresh=True)}
            raise too_few_shares(pack.id, len(good), pack.k, self.config.sites, up)
        return rebuild_split(
            good, pid=pack.id, k=pack.k, n=pack.n, length=pack.length, mac_key=self.master.mac_key
        )

    def delete_everywhere(self, name: str) -> None:
        """Delete an object on every reachable site."""
        self.check_lock()
        for _, site in self.reachable():
            site.delete(name)
