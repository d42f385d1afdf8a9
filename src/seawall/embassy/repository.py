"""An embassy repository spread over n sites: backup, restore, check, repair, forget, prune.

Metadata (marker, config, key slots, index files, snapshots, trees, locks) is
replicated to every site, so one surviving site and a passphrase recover the
whole history. Data packs are erasure-coded k-of-n; share i lives on site i.
Publishing order is packs, then index files, then tree and snapshot, so an
interrupted run leaves a consistent repository whose uploaded packs a rerun reuses.
The engine records no audit entries: a service layer above it does.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO, Literal

from seawall.core.clock import Clock, SystemClock
from seawall.embassy.backup import BackupReport, back_up
from seawall.embassy.checking import (
    CheckReport,
    RepairReport,
    check_repository,
    repair_repository,
    replace_site,
)
from seawall.embassy.chunking import ChunkerParams
from seawall.embassy.config import (
    CONFIG,
    FORMAT,
    FORMAT_VERSION,
    MARKER,
    RepoConfig,
    object_context,
    read_marker,
)
from seawall.embassy.custody import CustodianShare
from seawall.embassy.erasure import (
    ShareHeader,
    SplitPack,
    check_shape,
    encode_pieces,
    open_share,
    rebuild_split,
    share_size,
)
from seawall.embassy.errors import (
    IO_ERRORS,
    SITE_ERRORS,
    BadRepositoryConfig,
    IndexDamaged,
    IntegrityError,
    ObjectMissing,
    RepositoryExists,
    RepositoryMissing,
    ShareInvalid,
    SiteUnavailable,
    SnapshotMissing,
    TooFewSites,
    WrongPassphrase,
)
from seawall.embassy.health import too_few_shares
from seawall.embassy.index import Index, PackInfo, dump_index_file, load_index_file
from seawall.embassy.keys import (
    DEFAULT_KDF,
    KdfParams,
    KeyChange,
    KeySlot,
    MasterKey,
    change_keys,
    make_passphrase_slot,
    new_master_key,
    plan_recovery_key,
    plan_removal,
    unlock,
)
from seawall.embassy.locks import HeldLock, UnlockReport, hold, remove_locks
from seawall.embassy.memory import tune_malloc
from seawall.embassy.packs import TARGET_SIZE, PackBuilder, share_name
from seawall.embassy.progress import ProgressFn
from seawall.embassy.pruning import (
    DEFAULT_MAX_UNUSED,
    ForgetReport,
    PruneReport,
    forget_snapshots,
    plan_prune,
    prune_packs,
)
from seawall.embassy.restore import RestoreReport, restore_snapshot
from seawall.embassy.sealing import Compression, seal, unseal
from seawall.embassy.sites.base import Site
from seawall.embassy.snapshots import (
    DEFAULT_GROUP_BY,
    KeepPolicy,
    Node,
    Snapshot,
    is_under,
    load_tree,
)
from seawall.embassy.store import SentPack
from seawall.errors import InvalidInput, SeawallError

# Seconds a reachability probe is trusted before sites are asked again.
PROBE_EVERY = 10.0


@dataclass(frozen=True)
class DiffEntry:
    """One difference between two snapshots: ``+`` added, ``-`` removed, ``M`` modified."""

    change: Literal["+", "-", "M"]
    path: str


@dataclass(frozen=True)
class SiteHealth:
    """A site and whether it answered."""

    index: int
    url: str
    up: bool


@dataclass(frozen=True)
class Stats:
    """Size and dedup figures of a repository."""

    snapshots: int
    packs: int
    chunks: int
    raw_bytes: int
    stored_bytes: int
    bytes_per_site: int
    k: int
    n: int
    sites: tuple[SiteHealth, ...]


def _blank(site: Site) -> bool:
    """A reachable site with nothing on it: a wiped disk or a rebuilt bucket at the old address.

    Such a site takes its old place so that ``repair`` refills it; a site holding anything else
    (another repository, stray files) is never adopted.
    """
    return site.stat(MARKER) is None and next(iter(site.list()), None) is None


MIN_PASSPHRASE = 12


def check_passphrase_rule(passphrase: str) -> None:
    """Refuse a passphrase shorter than the rule (spaces do not count): it alone guards a
    government's copies in other nations."""
    if len(passphrase.strip()) < MIN_PASSPHRASE:
        raise InvalidInput(
            f"passphrase is too short: use at least {MIN_PASSPHRASE} characters besides "
            "spaces (a few words are easy to remember and hard to guess)"
        )


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
        check_passphrase_rule(passphrase)
        clock = clock or SystemClock()
        n = len(sites)
        check_shape(k, n)
        if len({s.url for s in sites}) != n:
            raise BadRepositoryConfig(
                "the same site is listed twice; each share needs its own site"
            )
        for site in sites:
            if site.stat(MARKER) is not None:
                raise RepositoryExists(f"site {site.url} already holds a repository; pick another")
        master = new_master_key()
        params = chunker or ChunkerParams()
        params = replace(params, seed=master.chunker_seed)
        now = clock.now()
        config = RepoConfig(
            id=os.urandom(16).hex(),
            name=name,
            k=k,
            n=n,
            sites=tuple(s.url for s in sites),
            chunker=params,
            pack_size=pack_size,
            generation=1,
            created=now.isoformat(),
        )
        slot = make_passphrase_slot(master, passphrase, created=now, label="initial", kdf=kdf)
        repo = cls(list(sites), master, config, slot, clock)
        sealed = repo.seal_meta(CONFIG, config.to_json())
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
        markers: list[tuple[Site, dict[str, object]]] = []
        reachable = 0
        for site in sites:
            try:
                doc = json.loads(site.get(MARKER))
                reachable += 1
            except SITE_ERRORS:
                continue
            except (ObjectMissing, ValueError):
                reachable += 1
                continue
            if isinstance(doc, dict) and doc.get("format") == FORMAT:
                markers.append((site, doc))
        if not markers:
            if not reachable:
                raise TooFewSites(
                    "none of the given sites is reachable; check the URLs and network"
                )
            raise RepositoryMissing("no embassy repository on the given sites; check the URL")
        # The id most markers name: one torn or overwritten marker cannot mislead the open.
        ids = Counter(str(d.get("repository")) for _, d in markers)
        repo_id = ids.most_common(1)[0][0]
        holders = [s for s, d in markers if d.get("repository") == repo_id]
        slots = cls._read_slots(holders)
        if not slots:
            raise BadRepositoryConfig(
                "no readable key slot on the given sites; repair from another"
            )
        master, slot = unlock(slots, passphrase=passphrase, recovery_key=recovery_key)
        config = cls._read_config(holders, master, repo_id)
        placed: list[Site | None] = [None] * config.n
        for site, doc in markers:
            if doc.get("repository") != repo_id:
                continue
            index = doc.get("site")
            if isinstance(index, int) and 0 <= index < config.n and placed[index] is None:
                placed[index] = site
            elif site.url in config.sites:
                placed[config.sites.index(site.url)] = site
        # A site at a config URL whose marker is torn, emptied or names another repository is
        # still this one's when its config authenticates under this id (the marker is not
        # authenticated, the config is): check names the marker, and repair rewrites it.
        for site in sites:
            if site.url in config.sites and all(site is not s for s in placed):
                i = config.sites.index(site.url)
                if placed[i] is None and cls._holds_config(site, master, repo_id):
                    placed[i] = site
        repo = cls(placed, master, config, slot, clock)
        for i, url in enumerate(config.sites):
            if placed[i] is None and connect is not None:
                # Any failure to reach a site leaves it unreachable; check names it.
                with suppress(SeawallError, ValueError, AttributeError):
                    site = connect(url)
                    doc = read_marker(site.get(MARKER)) if site.stat(MARKER) else None
                    if (
                        _blank(site)
                        or (doc is not None and doc["repository"] == repo_id)
                        or cls._holds_config(site, master, repo_id)
                    ):
                        placed[i] = site
        return repo

    @staticmethod
    def _holds_config(site: Site, master: MasterKey, repo_id: str) -> bool:
        """True when ``site`` holds a config that authenticates as repository ``repo_id``'s."""
        with suppress(*IO_ERRORS, IntegrityError, BadRepositoryConfig):
            data = unseal(
                master.data_key, site.get(CONFIG), object_context(repo_id, CONFIG), what="config"
            )
            return RepoConfig.from_json(data).id == repo_id
        return False

    @staticmethod
    def _read_slots(sites: Sequence[Site]) -> list[KeySlot]:
        found: dict[str, KeySlot] = {}
        for site in sites:
            with suppress(*IO_ERRORS):
                for name in site.list("keys/"):
                    with suppress(*IO_ERRORS, BadRepositoryConfig):
                        slot = KeySlot.from_json(site.get(name))
                        found.setdefault(slot.id, slot)
        return list(found.values())

    @staticmethod
    def _read_config(sites: Sequence[Site], master: MasterKey, repo_id: str) -> RepoConfig:
        best: RepoConfig | None = None
        for site in sites:
            with suppress(*IO_ERRORS, IntegrityError, BadRepositoryConfig):
                data = unseal(
                    master.data_key,
                    site.get(CONFIG),
                    object_context(repo_id, CONFIG),
                    what="config",
                )
                config = RepoConfig.from_json(data)
                if config.id == repo_id and (best is None or config.generation > best.generation):
                    best = config
        if best is None:
            raise IntegrityError(
                "the repository config fails authentication on every given site; "
                "open from another site and run repair"
            )
        return best

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

    def health(self) -> list[SiteHealth]:
        """Probe every site now."""
        up = {i for i, _ in self.reachable(fresh=True)}
        return [SiteHealth(i, url, i in up) for i, url in enumerate(self.config.sites)]

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
        a = {n.path: n for n in self.tree(self.find_snapshot(old))}
        b = {n.path: n for n in self.tree(self.find_snapshot(new))}
        out: list[DiffEntry] = []
        for path in sorted(a.keys() | b.keys()):
            if path not in b:
                out.append(DiffEntry("-", path))
            elif path not in a:
                out.append(DiffEntry("+", path))
            else:
                x, y = a[path], b[path]
                if (x.type, x.mode, x.size, x.target, x.chunks) != (
                    y.type,
                    y.mode,
                    y.size,
                    y.target,
                    y.chunks,
                ) or (x.type != "dir" and x.mtime_ns != y.mtime_ns):
                    out.append(DiffEntry("M", path))
        return out

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

    # -- operations (each lives in its own module) ---------------------------------

    def backup(
        self,
        paths: Sequence[str | os.PathLike[str]] = (),
        *,
        excludes: Sequence[str] = (),
        tags: Sequence[str] = (),
        stdin: BinaryIO | None = None,
        stdin_name: str = "stdin",
        degraded: bool = False,
        progress: ProgressFn | None = None,
        hostname: str | None = None,
        compression: Compression = Compression.AUTO,
    ) -> BackupReport:
        """Back up paths and/or a stream as a new snapshot (see :mod:`.backup`)."""
        return back_up(
            self,
            paths,
            excludes=excludes,
            tags=tags,
            stdin=stdin,
            stdin_name=stdin_name,
            degraded=degraded,
            progress=progress,
            hostname=hostname,
            compression=compression,
        )

    def restore(
        self,
        ref: str,
        target: str | os.PathLike[str],
        *,
        include: str | None = None,
        overwrite: bool = False,
        progress: ProgressFn | None = None,
        within: Path | None = None,
    ) -> RestoreReport:
        """Restore a snapshot under ``target``, never overwriting unless asked (and, with
        ``within``, only inside that directory)."""
        return restore_snapshot(
            self,
            ref,
            target,
            include=include,
            overwrite=overwrite,
            progress=progress,
            within=within,
        )

    def check(
        self, read_data: bool | float = False, *, progress: ProgressFn | None = None
    ) -> CheckReport:
        """Verify structure, and with ``read_data`` (True or a fraction) every share read."""
        return check_repository(self, read_data, progress=progress)

    def repair(self, *, index: bool = False, progress: ProgressFn | None = None) -> RepairReport:
        """Rebuild missing or corrupt shares and copies; clear degraded snapshots. With
        ``index``, first index every pack again from its trailer (see :mod:`.reindexing`)."""
        return repair_repository(self, index=index, progress=progress)

    def replace_site(
        self, old: int | str, new: Site, *, progress: ProgressFn | None = None
    ) -> None:
        """Swap a lost or retired site for an empty one and rebuild its shares there."""
        replace_site(self, old, new, progress=progress)

    def forget(
        self,
        policy: KeepPolicy,
        *,
        tags: Sequence[str] = (),
        group_by: Sequence[str] = DEFAULT_GROUP_BY,
        prune: bool = False,
        max_unused: float = DEFAULT_MAX_UNUSED,
        dry_run: bool = False,
    ) -> ForgetReport:
        """Remove snapshots outside ``policy`` within each ``group_by`` group (only those
        carrying all ``tags``)."""
        return forget_snapshots(
            self,
            policy,
            tags=tags,
            group_by=group_by,
            prune=prune,
            max_unused=max_unused,
            dry_run=dry_run,
        )

    def prune(
        self,
        *,
        max_unused: float = DEFAULT_MAX_UNUSED,
        dry_run: bool = False,
        progress: ProgressFn | None = None,
    ) -> PruneReport:
        """Delete unused packs and orphans; repack partly used packs (see :mod:`.pruning`)."""
        if dry_run:
            return plan_prune(self, max_unused=max_unused)
        return prune_packs(self, max_unused=max_unused, progress=progress)

    # -- keys ----------------------------------------------------------------------

    def key_slots(self) -> list[KeySlot]:
        """The key slots found on the reachable sites."""
        return self._read_slots([s for _, s in self.reachable()])

    # A key change is planned here, then carried out by keys.change_keys, which records and
    # hands out its secret before any site holds the new slot. The methods below that plan
    # and carry out at once record nothing: the CLI audits through change_keys.

    def plan_passphrase(
        self, passphrase: str, *, label: str = "", kdf: KdfParams = DEFAULT_KDF
    ) -> KeyChange:
        """Another passphrase's slot, not yet written anywhere."""
        check_passphrase_rule(passphrase)
        return KeyChange(
            adds=make_passphrase_slot(
                self.master, passphrase, created=self.clock.now(), label=label, kdf=kdf
            )
        )

    def plan_recovery_key(
        self, *, custodians: int, threshold: int, label: str = "recovery"
    ) -> KeyChange:
        """A recovery slot and its key's custodian shares, not yet written anywhere."""
        return plan_recovery_key(
            self.master,
            created=self.clock.now(),
            custodians=custodians,
            threshold=threshold,
            label=label,
        )

    def plan_passphrase_change(
        self, new: str, *, kdf: KdfParams = DEFAULT_KDF, label: str = ""
    ) -> KeyChange:
        """A slot for ``new`` that retires the slot this session opened with."""
        if self.opened_with.kind != "passphrase":
            raise WrongPassphrase("open with the passphrase to change it, not a recovery key")
        added = self.plan_passphrase(new, label=label or self.opened_with.label, kdf=kdf)
        return replace(added, retires=self.opened_with)

    def add_passphrase(
        self, passphrase: str, *, label: str = "", kdf: KdfParams = DEFAULT_KDF
    ) -> KeySlot:
        """Add a slot that opens with another passphrase."""
        change = self.plan_passphrase(passphrase, label=label, kdf=kdf)
        change_keys(self, change, record=nullcontext)
        assert change.adds is not None
        return change.adds

    def add_recovery_key(
        self, *, custodians: int, threshold: int, label: str = "recovery"
    ) -> list[CustodianShare]:
        """Create a recovery key slot and split the key among custodians."""
        change = self.plan_recovery_key(custodians=custodians, threshold=threshold, label=label)
        change_keys(self, change, record=nullcontext)
        return list(change.shares)

    def remove_key_slot(self, slot_id: str) -> None:
        """Delete a slot from every site; the last slot cannot be removed."""
        change_keys(self, plan_removal(self.key_slots(), slot_id), record=nullcontext)

    def change_passphrase(
        self, new: str, *, kdf: KdfParams = DEFAULT_KDF, label: str = ""
    ) -> KeySlot:
        """Re-wrap the master key under ``new`` and drop the slot this session opened with."""
        change_keys(
            self, self.plan_passphrase_change(new, kdf=kdf, label=label), record=nullcontext
        )
        return self.opened_with

    # -- stats ---------------------------------------------------------------------

    def stats(self) -> Stats:
        """Snapshot count, stored and raw sizes, and site health."""
        index = self.load_index()
        stored = sum(p.length for p in index.packs.values())
        per_site = sum(share_size(p.length, p.k) for p in index.packs.values())
        raw = sum(loc.entry.raw_length for loc in index.chunks.values())
        return Stats(
            snapshots=len(self.snapshots()),
            packs=len(index.packs),
            chunks=len(index.chunks),
            raw_bytes=raw,
            stored_bytes=stored,
            bytes_per_site=per_site,
            k=self.config.k,
            n=self.config.n,
            sites=tuple(self.health()),
        )
