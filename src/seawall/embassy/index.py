"""The index: which pack holds each chunk, built from many sealed ``index/<id>`` files.

An index file is sealed JSON::

    {"version": 1,
     "packs": [{"id": "<64 hex>", "length": <sealed pack bytes>, "k": 3, "n": 5,
                "chunks": [["<64 hex chunk id>", <offset>, <sealed length>, <raw length>], ...]}]}

Files only ever add packs; ``prune`` writes a consolidated file, then deletes the old ones.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from seawall.embassy.errors import IntegrityError
from seawall.embassy.packs import PackEntry


@dataclass(frozen=True)
class PackInfo:
    """A stored pack: its id, size, erasure shape and chunk table."""

    id: bytes
    length: int
    k: int
    n: int
    entries: tuple[PackEntry, ...]

    def to_doc(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "id": self.id.hex(),
            "length": self.length,
            "k": self.k,
            "n": self.n,
            "chunks": [[e.id.hex(), e.offset, e.length, e.raw_length] for e in self.entries],
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> PackInfo:
        """Parse the JSON form."""
        entries = tuple(
            PackEntry(bytes.fromhex(c[0]), int(c[1]), int(c[2]), int(c[3])) for c in doc["chunks"]
        )
        return cls(
            bytes.fromhex(doc["id"]), int(doc["length"]), int(doc["k"]), int(doc["n"]), entries
        )


@dataclass(frozen=True)
class ChunkLocation:
    """A chunk's pack and entry."""

    pack: bytes
    entry: PackEntry


@dataclass
class Index:
    """All packs known from the index files that were read."""

    packs: dict[bytes, PackInfo] = field(default_factory=dict)
    chunks: dict[bytes, ChunkLocation] = field(default_factory=dict)
    files: set[str] = field(default_factory=set)
    # Index files that verify on no site, and why: the packs they list are unknown.
    damaged: dict[str, str] = field(default_factory=dict)

    def add(self, pack: PackInfo) -> None:
        """Record a pack and its chunks (the first pack seen for a chunk wins)."""
        self.packs[pack.id] = pack
        for entry in pack.entries:
            self.chunks.setdefault(entry.id, ChunkLocation(pack.id, entry))

    def remove(self, pack_ids: Iterable[bytes]) -> None:
        """Forget packs, then rebuild the chunk map from those left."""
        for pid in pack_ids:
            self.packs.pop(pid, None)
        self.chunks.clear()
        for pack in self.packs.values():
            for entry in pack.entries:
                self.chunks.setdefault(entry.id, ChunkLocation(pack.id, entry))

    def __contains__(self, cid: object) -> bool:
        return cid in self.chunks


def dump_index_file(packs: Iterable[PackInfo]) -> bytes:
    """The JSON plaintext of an index file."""
    doc = {"version": 1, "packs": [p.to_doc() for p in packs]}
    return json.dumps(doc, separators=(",", ":")).encode()


def load_index_file(data: bytes, name: str) -> list[PackInfo]:
    """Parse an index file's plaintext."""
    try:
        doc = json.loads(data)
        if doc.get("version") != 1:
            raise IntegrityError(f"{name} has an unknown index version")
        return [PackInfo.from_doc(p) for p in doc["packs"]]
    except (ValueError, KeyError, TypeError, IndexError):
        raise IntegrityError(f"{name} is not a valid index file") from None
