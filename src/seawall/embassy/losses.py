"""Lost packs and what they take with them: the snapshots and files whose chunks they held.

A pack is lost when fewer than k of its shares are good: no repair can rebuild it. A chunk
it held is lost only if no readable pack holds a copy too (an interrupted prune can leave
one), and a file is hit when any of its chunks is lost.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from seawall.catalogs import counted
from seawall.embassy.index import Index
from seawall.embassy.packs import share_name

if TYPE_CHECKING:
    from seawall.embassy.store import RepositoryStore

# Files named in a one-line message; the report (and --json) lists them all.
SHOW_FILES = 10


@dataclass(frozen=True)
class PackLoss:
    """A pack beyond repair: its share name and, per snapshot id, the paths of the files hit."""

    pack: str
    snapshots: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def files(self) -> int:
        """How many files, over all snapshots, lose data."""
        return sum(len(paths) for _, paths in self.snapshots)

    def to_doc(self) -> dict[str, Any]:
        """JSON form: every snapshot and file."""
        return {
            "pack": self.pack,
            "snapshots": [{"id": sid, "files": list(paths)} for sid, paths in self.snapshots],
        }

    def describe(self) -> str:
        """One line: the snapshots and the first few files hit, and how many more."""
        if not self.snapshots:
            return f"{self.pack} is lost; no snapshot uses it (prune removes it)"
        named = [f"{sid[:8]}:/{path}" for sid, paths in self.snapshots for path in paths]
        shown = ", ".join(named[:SHOW_FILES])
        more = f" and {len(named) - SHOW_FILES} more" if len(named) > SHOW_FILES else ""
        return (
            f"{self.pack} is lost: {counted(self.files, 'file')} of "
            f"{counted(len(self.snapshots), 'snapshot')} lose data ({shown}{more})"
        )


def find_losses(repo: RepositoryStore, index: Index, lost: Collection[bytes]) -> list[PackLoss]:
    """What each pack in ``lost`` takes with it, walking every snapshot's tree once."""
    if not lost:
        return []
    gone = {e.id for pid in lost for e in index.packs[pid].entries}
    # A copy in a readable pack still restores (the index may resolve to either).
    kept = {
        e.id
        for pack in index.packs.values()
        if pack.id not in lost
        for e in pack.entries
        if e.id in gone
    }
    owner: dict[str, list[bytes]] = {}
    for pid in lost:
        for entry in index.packs[pid].entries:
            if entry.id not in kept:
                owner.setdefault(entry.id.hex(), []).append(pid)
    hits: dict[bytes, dict[str, list[str]]] = {pid: {} for pid in lost}
    for snap in repo.snapshots():
        for node in repo.tree(snap):
            packs = {pid for cid in node.chunks for pid in owner.get(cid, ())}
            for pid in packs:
                hits[pid].setdefault(snap.id, []).append(node.path)
    return [
        PackLoss(
            share_name(pid),
            tuple((sid, tuple(paths)) for sid, paths in hits[pid].items()),
        )
        for pid in sorted(lost)
    ]


def unindex_packs(repo: RepositoryStore, index: Index, lost: Collection[bytes]) -> list[str]:
    """Take the packs ``lost`` out of the index (restic's ``repair index``); their share names.

    While a lost pack is indexed, a backup takes its chunks as stored and a new snapshot
    names data no one can read. One index file listing every other pack the readable files
    list is written to every site first, and only then are those files deleted: a run
    stopped in between leaves the pack indexed, and the next repair finds it lost again. The
    pack's shares stay on the sites: with a site that holds good ones back, ``repair
    --index`` indexes it again from its trailer.
    """
    if not lost:
        return []
    repo.confirm_lock()
    kept = [pack for pid, pack in index.packs.items() if pid not in lost]
    if kept:
        repo.write_index_file(kept)
    for name in sorted(index.files):
        repo.delete_everywhere(name)
    return [share_name(pid) for pid in sorted(lost)]


def find_unlisted(repo: RepositoryStore, index: Index) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Per snapshot id, the files that need a chunk no index lists: data of a pack lost
    beyond repair and taken out of the index, until a backup stores those chunks again."""
    found = []
    for snap in repo.snapshots():
        paths = tuple(
            node.path
            for node in repo.tree(snap)
            if any(bytes.fromhex(cid) not in index for cid in node.chunks)
        )
        if paths:
            found.append((snap.id, paths))
    return tuple(found)


def summarise_unlisted(unlisted: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    """One line naming the first few files that need chunks no index lists."""
    named = [f"{sid[:8]}:/{path}" for sid, paths in unlisted for path in paths]
    shown = ", ".join(named[:SHOW_FILES])
    more = f" and {len(named) - SHOW_FILES} more" if len(named) > SHOW_FILES else ""
    return (
        f"{counted(len(named), 'file')} of {counted(len(unlisted), 'snapshot')} need chunks "
        f"of packs lost beyond repair ({shown}{more}): back up those files again (the next "
        "backup stores their chunks anew), or bring back a site that holds good shares and "
        "run repair --index"
    )


def summarise_losses(losses: list[PackLoss], *, verb: str) -> str:
    """One line naming each lost pack (the first few) and the files they hold in all."""
    names = [loss.pack for loss in losses]
    shown = ", ".join(names[:SHOW_FILES])
    more = f" and {len(names) - SHOW_FILES} more" if len(names) > SHOW_FILES else ""
    files = sum(loss.files for loss in losses)
    snaps = len({sid for loss in losses for sid, _ in loss.snapshots})
    return (
        f"{verb} {counted(len(names), 'pack')} with fewer than k good shares ({shown}{more}); "
        f"{counted(files, 'file')} of {counted(snaps, 'snapshot')} lose data: "
        "`check --read-data --json` lists them; "
        "bring back a site that holds good shares, or restore those files from another copy"
    )
