"""Orphan packs: packs on the sites that no index names, as a killed backup leaves them.

A backup publishes an index file every few packs, so a run killed between two leaves packs
whose shares are stored but that no index names. The next backup adopts each such pack that
is complete on at least k + 1 of the sites it writes to (a share of the size the pack's
length implies on each): it reads the pack's chunk table from its authenticated trailer,
which lies in the last data share or two, writes the shares missing on those sites, and
then treats the pack's chunks as stored. A pack on k sites or fewer is not adopted: its
chunks are written again, and prune deletes the orphan.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from seawall.embassy.erasure import ShareHeader, open_share, share_size
from seawall.embassy.errors import (
    IO_ERRORS,
    SITE_ERRORS,
    IntegrityError,
    ShareInvalid,
    TooFewShares,
)
from seawall.embassy.index import Index, PackInfo
from seawall.embassy.packs import (
    PackEntry,
    open_trailer,
    read_trailer,
    share_name,
    share_pack_id,
    trailer_start,
)
from seawall.embassy.repairing import heal_pack

if TYPE_CHECKING:
    from seawall.embassy.store import RepositoryStore


@dataclass(frozen=True)
class Adopted:
    """An orphan pack a backup may use: its index entry, and whether every site holds it."""

    info: PackInfo
    complete: bool


def adopt_orphans(repo: RepositoryStore, index: Index, targets: Sequence[int]) -> list[Adopted]:
    """The orphan packs complete on at least k + 1 of ``targets``, made whole on them.

    A pack that cannot be read or made whole (a share gone since it was listed, a site
    failing) is left alone: the backup writes its chunks again.
    """
    k, n = repo.config.k, repo.config.n
    listed = repo.io.map(lambda i: _list_shares(repo, i), targets)
    holders: dict[str, list[int]] = {}
    for i, names in zip(targets, listed, strict=True):
        for name in names:
            holders.setdefault(name, []).append(i)
    known = {share_name(pid) for pid in index.packs}
    adopted: list[Adopted] = []
    for name, sites in sorted(holders.items()):
        pid = share_pack_id(name)
        if name in known or len(sites) < k + 1 or pid is None:
            continue
        found = repo.io.map(functools.partial(_size, repo, name=name), sites)
        sizes = dict(zip(sites, found, strict=True))
        size, count = Counter(sizes.values()).most_common(1)[0]
        if count < k + 1:
            continue
        try:
            length, entries = _chunk_table(repo, pid, [i for i in sites if sizes[i] == size])
        except (*IO_ERRORS, ShareInvalid, IntegrityError, TooFewShares):
            continue
        if size != share_size(length, k):
            continue
        info = PackInfo(pid, length, k, n, tuple(entries))
        missing = [i for i in targets if sizes.get(i) != size]
        if missing:
            try:
                heal_pack(repo, info, missing)
            except (*SITE_ERRORS, IntegrityError, TooFewShares):
                continue
        adopted.append(Adopted(info, complete=len(targets) == n))
    return adopted


def _list_shares(repo: RepositoryStore, i: int) -> list[str]:
    """Share names on site ``i``; none when it cannot be listed (it is then no holder)."""
    site = repo.sites[i]
    with suppress(*IO_ERRORS):
        if site is not None:
            return list(site.list("data/"))
    return []


def _size(repo: RepositoryStore, i: int, *, name: str) -> int:
    """Size of an object on site ``i``; -1 when it is gone or the site does not answer."""
    site = repo.sites[i]
    with suppress(*IO_ERRORS):
        info = site.stat(name) if site is not None else None
        if info is not None:
            return info.size
    return -1


def _data_block(repo: RepositoryStore, pid: bytes, i: int) -> tuple[ShareHeader, memoryview]:
    """Data share ``i`` of a pack, from site ``i``, authenticated."""
    site = repo.sites[i]
    if site is None:
        raise ShareInvalid(f"site {repo.config.sites[i]} is not connected")
    head, body = open_share(site.get(share_name(pid)), repo.master.mac_key)
    if (head.pack_id, head.k, head.n, head.index) != (pid, repo.config.k, repo.config.n, i):
        raise ShareInvalid(f"share {i} of {share_name(pid)} belongs to another pack")
    return head, body


def _chunk_table(
    repo: RepositoryStore, pid: bytes, holders: Sequence[int]
) -> tuple[int, list[PackEntry]]:
    """A pack's length and authenticated chunk table.

    Read from the last data shares, going back only as far as the trailer starts (one
    share of a 16 MiB pack's k); when one of those is missing, the pack is rebuilt from
    any k shares instead.
    """
    k = repo.config.k
    if k - 1 in holders:
        with suppress(*IO_ERRORS, ShareInvalid):
            return _table_from_tail(repo, pid)
    for i in holders:
        site = repo.sites[i]
        with suppress(*IO_ERRORS, ShareInvalid):
            if site is not None:
                head, _ = open_share(site.get(share_name(pid)), repo.master.mac_key)
                break
    else:
        raise TooFewShares(f"no share of {share_name(pid)} could be read")
    pack = repo.fetch_pack(PackInfo(pid, head.pack_length, k, repo.config.n, ()))
    return head.pack_length, read_trailer(pack.join(), repo.master.data_key)


def _table_from_tail(repo: RepositoryStore, pid: bytes) -> tuple[int, list[PackEntry]]:
    """The chunk table from data share k - 1 (and the ones before it, if the trailer
    reaches back into them)."""
    head, body = _data_block(repo, pid, repo.config.k - 1)
    length, size = head.pack_length, head.block_size
    # Data share i holds pack bytes i * size .. (i + 1) * size, the last ones zero padding.
    block = (length - 1) // size
    if block != repo.config.k - 1:
        _, body = _data_block(repo, pid, block)
    offset = block * size
    tail = bytes(body[: length - offset])
    start: int | None = None
    while start is None or offset > start:
        if len(tail) >= 4 and start is None:
            start = trailer_start(length, tail[-4:])
            continue
        if block == 0:
            raise IntegrityError(f"{share_name(pid)} has no trailer")
        block -= 1
        _, body = _data_block(repo, pid, block)
        tail, offset = bytes(body) + tail, offset - size
    return length, open_trailer(tail[start - offset : -4], start, repo.master.data_key)
