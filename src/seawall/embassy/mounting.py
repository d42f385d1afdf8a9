"""A read-only view of a repository's snapshots, served as a filesystem through FUSE.

What the mountpoint shows (as ``restic mount`` does)::

    snapshots/<time>/...   each snapshot's tree, named by its UTC time to the second; two
                           snapshots taken in one second are each named <time>-<short id>
    snapshots/latest       a link to the newest
    ids/<id>               a link to ../snapshots/<time>, for each full snapshot id

A snapshot's tree is read when it is first entered, and a file's chunks when the file is read:
each pack is rebuilt from the first k valid shares and each chunk verified before any byte of
it is answered. The packs and chunks read last are kept in a small cache. Nothing can be
changed: every write answers EROFS. The whole view lives under a shared repository lock (see
:mod:`.locks`), refreshed while mounted, so a prune cannot delete what it may read.

The FUSE binding (pyfuse3 on trio) is the ``mount`` extra: without it this module still
imports, and :func:`serve` raises :class:`MountUnavailable`.
"""

from __future__ import annotations

import base64
import errno
import os
import signal
import stat
import threading
from bisect import bisect_right
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from seawall.embassy.erasure import SplitPack
from seawall.embassy.errors import IntegrityError, MountUnavailable
from seawall.embassy.index import Index, PackInfo
from seawall.embassy.packs import open_chunk
from seawall.embassy.snapshots import Node, NodeType, Snapshot
from seawall.embassy.store import RepositoryStore
from seawall.errors import SeawallError

try:
    import pyfuse3
    import trio
    from pyfuse3 import Operations
except ImportError:  # the `mount` extra is not installed: serve() says how to install it
    pyfuse3 = None  # type: ignore[assignment, unused-ignore]
    Operations = object  # type: ignore[assignment, misc, unused-ignore]

INSTALL_HINT = (
    "seawall embassy mount needs FUSE: install libfuse3 (Debian: apt-get install libfuse3-dev "
    "fuse3 pkg-config), then pip install 'seawall[mount]' (in a checkout: uv sync --extra mount)"
)
ROOT_INODE = 1
# Bytes of verified chunks kept, and rebuilt packs kept, for reads that come back to them.
CHUNK_CACHE_BYTES = 32 * 1024 * 1024
PACKS_KEPT = 2
# Nothing in a snapshot ever changes, so the kernel may keep what it was told.
TIMEOUT = 3600.0
_TYPE_BITS: dict[NodeType, int] = {
    "dir": stat.S_IFDIR,
    "file": stat.S_IFREG,
    "symlink": stat.S_IFLNK,
}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_TRUNC | os.O_CREAT
_T = TypeVar("_T")


@dataclass
class Entry:
    """One inode of the view: a directory, file or symbolic link."""

    kind: NodeType
    mode: int
    mtime_ns: int
    uid: int
    gid: int
    parent: int = ROOT_INODE
    ctime_ns: int = 0
    size: int = 0
    target: bytes = b""
    chunks: tuple[str, ...] = ()
    xattrs: dict[bytes, bytes] = field(default_factory=dict)
    nlink: int = 1
    # A directory's entries by name; None for a snapshot's top until its tree is read.
    children: dict[bytes, int] | None = None
    snapshot: Snapshot | None = None


@dataclass
class MountReport:
    """What a mount showed, and what it served before it was unmounted."""

    repository: str
    snapshots: int
    files_read: int = 0
    bytes_read: int = 0


def snapshot_names(snapshots: Iterable[Snapshot]) -> dict[str, str]:
    """Id -> name under ``snapshots/``: the UTC time to the second, and where two snapshots
    share a second, each followed by ``-`` and its short id."""
    times = {s.id: f"{s.time.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}" for s in snapshots}
    seen = Counter(times.values())
    return {i: t if seen[t] == 1 else f"{t}-{i[:8]}" for i, t in times.items()}


class SnapshotView:
    """The inodes of a mount, filled as they are reached, and the reads of their files.

    Thread-safe: the FUSE loop hands each blocking call to a worker thread.
    """

    def __init__(self, repo: RepositoryStore, *, cache_bytes: int = CHUNK_CACHE_BYTES) -> None:
        self.repo = repo
        self.report = MountReport(repo.config.name, 0)
        self._index: Index | None = None
        self._entries: dict[int, Entry] = {}
        self._offsets: dict[int, list[int]] = {}
        self._chunks: OrderedDict[bytes, bytes] = OrderedDict()
        self._chunk_bytes = 0
        self._cache_bytes = cache_bytes
        self._packs: OrderedDict[bytes, SplitPack] = OrderedDict()
        self._opened: set[int] = set()
        self._lock = threading.RLock()
        self.uid, self.gid = os.getuid(), os.getgid()
        snapshots = repo.snapshots()
        self.report.snapshots = len(snapshots)
        newest = max((s.time for s in snapshots), default=repo.clock.now())
        top_ns = _ns(newest)
        self._add(Entry("dir", 0o555, top_ns, self.uid, self.gid, children={}))
        folder = self._add_child(ROOT_INODE, b"snapshots", self._folder(top_ns))
        ids = self._add_child(ROOT_INODE, b"ids", self._folder(top_ns))
        names = snapshot_names(snapshots)
        for snap in sorted(snapshots, key=lambda s: (s.time, s.id)):
            name = names[snap.id]
            top = self._folder(_ns(snap.time))
            top.children, top.snapshot = None, snap
            self._add_child(folder, name.encode(), top)
            self._add_child(ids, snap.id.encode(), self._link(f"../snapshots/{name}", snap.time))
        if snapshots:
            latest = max(snapshots, key=lambda s: (s.time, s.id))
            self._add_child(folder, b"latest", self._link(names[latest.id], latest.time))

    # -- the tree

    def entry(self, inode: int) -> Entry:
        """The entry of ``inode``; FileNotFoundError when there is none."""
        try:
            return self._entries[inode]
        except KeyError:
            raise FileNotFoundError(inode) from None

    def children(self, inode: int) -> dict[bytes, int]:
        """A directory's entries by name (a snapshot's tree is read the first time)."""
        entry = self.entry(inode)
        if entry.kind != "dir":
            raise NotADirectoryError(inode)
        with self._lock:
            if entry.children is None and entry.snapshot is not None:
                entry.children = {}
                try:
                    self._fill(inode, self.repo.tree(entry.snapshot))
                except BaseException:
                    entry.children = None  # tried again on the next visit
                    raise
            return entry.children or {}

    def lookup(self, parent: int, name: bytes) -> int:
        """The inode ``name`` names in the directory ``parent``; FileNotFoundError if none."""
        if name == b".":
            return parent
        if name == b"..":
            return self.entry(parent).parent
        found = self.children(parent).get(name)
        if found is None:
            raise FileNotFoundError(name)
        return found

    def _fill(self, top: int, nodes: Sequence[Node]) -> None:
        """Add a snapshot's nodes below its top directory ``top``, in path order."""
        snap = self.entry(top).snapshot
        assert snap is not None
        by_path: dict[str, int] = {"": top}
        for node in nodes:
            parts = node.path.split("/")
            if node.path.startswith("/") or any(p in ("", ".", "..") for p in parts):
                raise IntegrityError(f"snapshot {snap.short_id} names an unsafe path")
            parent = top
            for depth in range(1, len(parts)):
                above = "/".join(parts[:depth])
                if above not in by_path:  # a folder above a backed-up path: not recorded
                    made = self._folder(_ns(snap.time), mode=0o755)
                    by_path[above] = self._add_child(parent, parts[depth - 1].encode(), made)
                parent = by_path[above]
            if self._entries[parent].kind != "dir":
                continue  # below a link the snapshot also holds: a restore refuses it too
            original = by_path.get(node.link_of) if node.link_of else None
            if original is not None and self._entries[original].kind == "file":
                self._entries[original].nlink += 1
                children = self._entries[parent].children
                assert children is not None
                children[parts[-1].encode()] = original
                by_path[node.path] = original
                continue
            existing = self.children(parent).get(parts[-1].encode())
            entry = self._from_node(node)
            if existing is not None and self._entries[existing].kind == "dir" == entry.kind:
                made = self._entries[existing]  # synthesised before; now its recorded metadata
                made.mode, made.mtime_ns, made.uid, made.gid = (
                    entry.mode,
                    entry.mtime_ns,
                    entry.uid,
                    entry.gid,
                )
                by_path[node.path] = existing
                continue
            by_path[node.path] = self._add_child(parent, parts[-1].encode(), entry)

    def _from_node(self, node: Node) -> Entry:
        return Entry(
            node.type,
            node.mode & 0o7777,
            node.mtime_ns,
            node.uid if node.uid >= 0 else self.uid,
            node.gid if node.gid >= 0 else self.gid,
            ctime_ns=node.ctime_ns or node.mtime_ns,
            size=len(node.target.encode()) if node.type == "symlink" else node.size,
            target=os.fsencode(node.target),
            chunks=node.chunks,
            xattrs={k.encode(): base64.b64decode(v) for k, v in node.xattrs},
            children={} if node.type == "dir" else None,
        )

    def _folder(self, mtime_ns: int, mode: int = 0o555) -> Entry:
        return Entry("dir", mode, mtime_ns, self.uid, self.gid, children={})

    def _link(self, target: str, when: datetime) -> Entry:
        return Entry(
            "symlink",
            0o777,
            _ns(when),
            self.uid,
            self.gid,
            size=len(target),
            target=target.encode(),
        )

    def _add(self, entry: Entry) -> int:
        inode = ROOT_INODE + len(self._entries)
        if entry.ctime_ns == 0:
            entry.ctime_ns = entry.mtime_ns
        self._entries[inode] = entry
        return inode

    def _add_child(self, parent: int, name: bytes, entry: Entry) -> int:
        entry.parent = parent
        inode = self._add(entry)
        children = self._entries[parent].children
        assert children is not None
        children[name] = inode
        return inode

    # -- reading files

    def read(self, inode: int, offset: int, size: int) -> bytes:
        """``size`` bytes of a file from ``offset``, every chunk verified before use."""
        entry = self.entry(inode)
        if entry.kind != "file":
            raise IsADirectoryError(inode)
        with self._lock:
            self.repo.check_lock()
            starts = self._starts(inode, entry)
            end = min(offset + size, entry.size)
            pieces: list[bytes] = []
            at = offset
            number = bisect_right(starts, offset) - 1
            while at < end and 0 <= number < len(entry.chunks):
                data = self._chunk(entry.chunks[number])
                piece = data[at - starts[number] : end - starts[number]]
                if not piece:
                    break
                pieces.append(piece)
                at += len(piece)
                number += 1
            if inode not in self._opened:
                self._opened.add(inode)
                self.report.files_read += 1
            out = b"".join(pieces)
            self.report.bytes_read += len(out)
            return out

    def _index_now(self) -> Index:
        if self._index is None:
            self._index = self.repo.load_index()
        return self._index

    def _starts(self, inode: int, entry: Entry) -> list[int]:
        """Where each of a file's chunks starts."""
        starts = self._offsets.get(inode)
        if starts is None:
            index = self._index_now()
            starts, at = [], 0
            for cid in entry.chunks:
                location = index.chunks.get(bytes.fromhex(cid))
                if location is None:
                    raise IntegrityError(f"chunk {cid[:16]} is in no index; run check")
                starts.append(at)
                at += location.entry.raw_length
            self._offsets[inode] = starts
        return starts

    def _chunk(self, cid: str) -> bytes:
        """A verified chunk, from the cache or its pack."""
        key = bytes.fromhex(cid)
        data = self._chunks.get(key)
        if data is not None:
            self._chunks.move_to_end(key)
            return data
        location = self._index_now().chunks[key]
        pack = self._pack(self._index_now().packs[location.pack])
        master = self.repo.master
        data = open_chunk(pack, location.entry, master.data_key, master.id_key)
        self._chunks[key] = data
        self._chunk_bytes += len(data)
        while self._chunk_bytes > self._cache_bytes and len(self._chunks) > 1:
            _, dropped = self._chunks.popitem(last=False)
            self._chunk_bytes -= len(dropped)
        return data

    def _pack(self, info: PackInfo) -> SplitPack:
        pack = self._packs.get(info.id)
        if pack is None:
            pack = self.repo.fetch_pack(info)
            self._packs[info.id] = pack
            while len(self._packs) > PACKS_KEPT:
                self._packs.popitem(last=False)
        else:
            self._packs.move_to_end(info.id)
        return pack


def _ns(when: datetime) -> int:
    """Nanoseconds since the epoch (a snapshot's time has microseconds)."""
    return (when - _EPOCH) // timedelta(microseconds=1) * 1000


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class SnapshotFs(Operations):  # type: ignore[misc, unused-ignore]
    """The FUSE request handlers over a :class:`SnapshotView`: reads answered, writes EROFS.

    Calls that may reach the sites (a snapshot's tree, a file's chunks) run on a worker
    thread, so a slow site never holds up a listing elsewhere in the mount.
    """

    def __init__(self, view: SnapshotView, warn: Callable[[str], None]) -> None:
        super().__init__()
        self.view = view
        self.warn = warn

    async def _call(self, work: Callable[[], _T]) -> _T:
        try:
            done: _T = await trio.to_thread.run_sync(work)
            return done
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            code = {
                FileNotFoundError: errno.ENOENT,
                NotADirectoryError: errno.ENOTDIR,
                IsADirectoryError: errno.EISDIR,
            }[type(exc)]
            raise pyfuse3.FUSEError(code) from None
        except SeawallError as exc:
            # The caller sees EIO; the person who mounted sees why (too few shares, a lock lost).
            self.warn(exc.message)
            raise pyfuse3.FUSEError(errno.EIO) from None

    def _attributes(self, inode: int) -> pyfuse3.EntryAttributes:
        entry = self.view.entry(inode)
        attrs = pyfuse3.EntryAttributes()
        attrs.st_ino = inode
        attrs.entry_timeout = attrs.attr_timeout = TIMEOUT
        attrs.st_mode = _TYPE_BITS[entry.kind] | entry.mode
        attrs.st_nlink = entry.nlink
        attrs.st_uid, attrs.st_gid = entry.uid, entry.gid
        attrs.st_size = entry.size
        attrs.st_blksize = 4096
        attrs.st_blocks = (entry.size + 511) // 512
        attrs.st_atime_ns = attrs.st_mtime_ns = entry.mtime_ns
        attrs.st_ctime_ns = entry.ctime_ns
        return attrs

    async def lookup(
        self, parent_inode: int, name: bytes, ctx: pyfuse3.RequestContext
    ) -> pyfuse3.EntryAttributes:
        """The attributes of ``name`` in ``parent_inode``."""
        inode = await self._call(lambda: self.view.lookup(parent_inode, name))
        return self._attributes(inode)

    async def getattr(self, inode: int, ctx: pyfuse3.RequestContext) -> pyfuse3.EntryAttributes:
        """The attributes of ``inode``."""
        return await self._call(lambda: self._attributes(inode))

    async def readlink(self, inode: int, ctx: pyfuse3.RequestContext) -> bytes:
        """A link's target, as recorded."""
        return await self._call(lambda: self.view.entry(inode).target)

    async def opendir(self, inode: int, ctx: pyfuse3.RequestContext) -> int:
        """A directory handle: its inode (its tree is read now if it is a snapshot's top)."""
        await self._call(lambda: self.view.children(inode))
        return inode

    async def readdir(self, fh: int, start_id: int, token: pyfuse3.ReaddirToken) -> None:
        """The entries of directory ``fh`` from ``start_id``, in name order."""
        children = await self._call(lambda: self.view.children(fh))
        names = sorted(children.items())
        for number, (name, inode) in enumerate(names[start_id:], start_id + 1):
            if not pyfuse3.readdir_reply(token, name, self._attributes(inode), number):
                break

    async def releasedir(self, fh: int) -> None:
        """Nothing to let go of."""

    async def open(self, inode: int, flags: int, ctx: pyfuse3.RequestContext) -> pyfuse3.FileInfo:
        """A file handle (its inode), for reading only."""
        if flags & _WRITE_FLAGS:
            raise pyfuse3.FUSEError(errno.EROFS)
        if self.view.entry(inode).kind != "file":
            raise pyfuse3.FUSEError(errno.EISDIR)
        return pyfuse3.FileInfo(fh=inode, keep_cache=True)

    async def read(self, fh: int, off: int, size: int) -> bytes:
        """Bytes of a file, each chunk verified first."""
        return await self._call(lambda: self.view.read(fh, off, size))

    async def release(self, fh: int) -> None:
        """Nothing to let go of."""

    async def getxattr(self, inode: int, name: bytes, ctx: pyfuse3.RequestContext) -> bytes:
        """A recorded extended attribute."""
        value = self.view.entry(inode).xattrs.get(name)
        if value is None:
            raise pyfuse3.FUSEError(pyfuse3.ENOATTR)
        return value

    async def listxattr(self, inode: int, ctx: pyfuse3.RequestContext) -> Sequence[bytes]:
        """The names of the recorded extended attributes."""
        return sorted(self.view.entry(inode).xattrs)

    async def statfs(self, ctx: pyfuse3.RequestContext) -> pyfuse3.StatvfsData:
        """A filesystem with no room: nothing can be written to it."""
        data = pyfuse3.StatvfsData()
        data.f_bsize = data.f_frsize = 4096
        data.f_namemax = 255
        return data

    # Every change is refused: the kernel refuses most already, on the `ro` mount option.

    async def setattr(
        self,
        inode: int,
        attr: pyfuse3.EntryAttributes,
        fields: pyfuse3.SetattrFields,
        fh: int | None,
        ctx: pyfuse3.RequestContext,
    ) -> pyfuse3.EntryAttributes:
        """Refused: read-only."""
        raise pyfuse3.FUSEError(errno.EROFS)

    async def write(self, fh: int, off: int, buf: bytes) -> int:
        """Refused: read-only."""
        raise pyfuse3.FUSEError(errno.EROFS)

    async def create(
        self, parent_inode: int, name: bytes, mode: int, flags: int, ctx: pyfuse3.RequestContext
    ) -> tuple[pyfuse3.FileInfo, pyfuse3.EntryAttributes]:
        """Refused: read-only."""
        raise pyfuse3.FUSEError(errno.EROFS)

    async def mkdir(
        self, parent_inode: int, name: bytes, mode: int, ctx: pyfuse3.RequestContext
    ) -> pyfuse3.EntryAttributes:
        """Refused: read-only."""
        raise pyfuse3.FUSEError(errno.EROFS)

    async def unlink(self, parent_inode: int, name: bytes, ctx: pyfuse3.RequestContext) -> None:
        """Refused: read-only."""
        raise pyfuse3.FUSEError(errno.EROFS)

    async def rmdir(self, parent_inode: int, name: bytes, ctx: pyfuse3.RequestContext) -> None:
        """Refused: read-only."""
        raise pyfuse3.FUSEError(errno.EROFS)


def require_binding() -> None:
    """MountUnavailable, saying how to install it, unless the FUSE binding is installed."""
    if pyfuse3 is None:
        raise MountUnavailable(INSTALL_HINT)


def serve(
    repo: RepositoryStore,
    mountpoint: Path,
    *,
    fsname: str,
    ready: Callable[[MountReport], None],
    warn: Callable[[str], None],
) -> MountReport:
    """Mount the snapshots read-only at ``mountpoint`` and answer until unmounted.

    Runs in the foreground until SIGINT or SIGTERM (then it unmounts) or an unmount from
    outside (``fusermount3 -u``); ``ready`` is called once the mount is in place. A shared
    lock is held, and refreshed, the whole time.
    """
    require_binding()
    with repo.lock(exclusive=False):
        view = SnapshotView(repo)
        options = set(pyfuse3.default_options) | {"ro", f"fsname={fsname}", "subtype=seawall"}
        fs = SnapshotFs(view, warn)
        trio.run(_answer, lambda: _mount(fs, mountpoint, options), lambda: ready(view.report))
    return view.report


def _mount(fs: SnapshotFs, mountpoint: Path, options: set[str]) -> None:
    try:
        pyfuse3.init(fs, str(mountpoint), options)
    except RuntimeError as exc:
        raise MountUnavailable(
            f"could not mount on {mountpoint} ({exc}): FUSE needs /dev/fuse and the right "
            "to mount (root, or fusermount3 installed setuid)"
        ) from None


async def _answer(mount: Callable[[], None], ready: Callable[[], None]) -> None:
    """Mount, then answer FUSE requests until unmounted from outside, or until SIGINT or
    SIGTERM; either way the mount is gone when this returns."""
    async with trio.open_nursery() as nursery:
        # Listening before the mount exists: a signal that comes at once still unmounts.
        await nursery.start(_stop_on_signal)
        mount()
        try:
            ready()
            await pyfuse3.main()
        finally:
            pyfuse3.close(unmount=True)
        nursery.cancel_scope.cancel()  # unmounted from outside: stop waiting for a signal


async def _stop_on_signal(*, task_status: trio.TaskStatus[None]) -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        task_status.started()
        async for _ in signals:
            pyfuse3.terminate()  # pyfuse3.main() returns, and _answer unmounts
            return
