"""Index rebuild (``repair --index``): index every pack on the sites again from its trailer.

Each pack ends in a sealed table of its chunks (see :mod:`.packs`), so the index can be
rebuilt without it, as restic's ``repair index`` and Kopia's ``index recover`` do. Packs
that a readable index file lists keep their entries; every other pack on the sites is
rebuilt from k shares and its trailer authenticated. One consolidated index file naming
every pack is written to every site first; the old index files, the damaged ones among
them, are deleted only then. A rebuild stopped at any point leaves the readable index files
or the new one (or both) in place, and a rerun finishes the work.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from seawall.embassy.erasure import open_share
from seawall.embassy.errors import IO_ERRORS, IntegrityError, ShareInvalid, TooFewShares
from seawall.embassy.index import PackInfo
from seawall.embassy.packs import read_trailer, share_pack_id
from seawall.embassy.progress import Progress, ProgressFn

if TYPE_CHECKING:
    from seawall.embassy.store import RepositoryStore


@dataclass(frozen=True)
class IndexRebuild:
    """What ``repair --index`` did."""

    packs_indexed: int
    packs_read: int
    damaged: tuple[str, ...]
    retired: tuple[str, ...]
    unreadable: tuple[str, ...]
    written: str | None

    def to_doc(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "packs_indexed": self.packs_indexed,
            "packs_read": self.packs_read,
            "damaged": list(self.damaged),
            "retired": list(self.retired),
            "unreadable": list(self.unreadable),
            "written": self.written,
        }


def rebuild_index(repo: RepositoryStore, report: ProgressFn) -> IndexRebuild:
    """Index every pack on the sites; call under the exclusive lock with every site up."""
    index = repo.load_index(partial=True)
    holders: dict[str, list[int]] = {}
    for i, site in repo.reachable(fresh=True):
        repo.check_lock()
        for name in site.list("data/"):
            holders.setdefault(name, []).append(i)
    unindexed = sorted(
        name
        for name in holders
        if (pid := share_pack_id(name)) is not None and pid not in index.packs
    )
    packs = list(index.packs.values())
    unreadable: list[str] = []
    for number, name in enumerate(unindexed):
        repo.check_lock()
        try:
            packs.append(_pack_info(repo, name, holders[name]))
        except (*IO_ERRORS, ShareInvalid, IntegrityError, TooFewShares):
            # Fewer than k good shares (a backup killed mid-pack): prune deletes it.
            unreadable.append(name)
        report(Progress("reindex", files=number + 1, total_files=len(unindexed)))
    old = sorted(index.files | set(index.damaged))
    written: str | None = None
    # A fresh index is needed when a file is damaged, a pack is unindexed, or files pile up.
    if index.damaged or len(packs) > len(index.packs) or len(old) > 1:
        repo.confirm_lock()
        # On every site (put_everywhere refuses otherwise) before any old file goes.
        written = repo.write_index_file(packs) if packs else None
        for name in old:
            repo.delete_everywhere(name)
    else:
        old = []
    return IndexRebuild(
        packs_indexed=len(packs),
        packs_read=len(packs) - len(index.packs),
        damaged=tuple(sorted(index.damaged)),
        retired=tuple(old),
        unreadable=tuple(unreadable),
        written=written,
    )


def _pack_info(repo: RepositoryStore, name: str, holders: list[int]) -> PackInfo:
    """A pack's index entry: its shape from an authenticated share header, its chunks from
    its authenticated trailer."""
    pid = bytes.fromhex(name.rsplit("/", 1)[1])
    for i in holders:
        site = repo.sites[i]
        if site is None:
            continue
        with suppress(*IO_ERRORS, ShareInvalid):
            head, _ = open_share(site.get(name), repo.master.mac_key)
            if head.pack_id == pid:
                break
    else:
        raise TooFewShares(f"no share of {name} authenticates")
    shape = PackInfo(pid, head.pack_length, head.k, head.n, ())
    pack = repo.fetch_pack(shape).join()
    entries = read_trailer(pack, repo.master.data_key)
    return PackInfo(pid, head.pack_length, head.k, head.n, tuple(entries))
