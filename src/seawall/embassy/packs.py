"""Packs: about 16 MiB of sealed chunks, self-described by a sealed trailer.

A pack is::

    magic "SWPK" | version (1) = 1 | 3 zero bytes
    | sealed chunk blob | sealed chunk blob | ...
    | sealed trailer | trailer length (4, little-endian)

Each chunk blob is :func:`seawall.embassy.sealing.seal` of the chunk with the raw
32-byte chunk id as context. The trailer is a sealed table (context
``b"seawall-embassy/v1 pack-trailer"``) of 44-byte entries: chunk id (32),
offset (4), sealed length (4), plaintext length (4), all little-endian, so a
pack can be indexed again without the index.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field

from seawall.embassy.chunking import chunk_id
from seawall.embassy.erasure import SplitPack
from seawall.embassy.errors import IntegrityError
from seawall.embassy.sealing import OVERHEAD, seal, unseal

MAGIC = b"SWPK\x01\x00\x00\x00"
ENTRY = struct.Struct("<32sIII")
TRAILER_CONTEXT = b"seawall-embassy/v1 pack-trailer"
TARGET_SIZE = 16 * 1024 * 1024
SHARE_NAME = re.compile(r"^data/([0-9a-f]{2})/([0-9a-f]{64})$")


def share_name(pid: bytes) -> str:
    """Object name of a pack's share on every site."""
    text = pid.hex()
    return f"data/{text[:2]}/{text}"


def share_pack_id(name: str) -> bytes | None:
    """The pack id an object name is the share of (:func:`share_name`), or None for a name
    that is no share name."""
    match = SHARE_NAME.match(name)
    if match is None or match[1] != match[2][:2]:
        return None
    return bytes.fromhex(match[2])


@dataclass(frozen=True)
class PackEntry:
    """Where one sealed chunk lies inside a pack."""

    id: bytes
    offset: int
    length: int
    raw_length: int


@dataclass
class PackBuilder:
    """Accumulates sealed chunk blobs until the pack is full."""

    blobs: list[bytes | bytearray] = field(default_factory=list)
    entries: list[PackEntry] = field(default_factory=list)
    size: int = len(MAGIC)

    def add(self, cid: bytes, blob: bytes | bytearray, raw_length: int) -> None:
        """Append a sealed chunk."""
        self.entries.append(PackEntry(cid, self.size, len(blob), raw_length))
        self.blobs.append(blob)
        self.size += len(blob)

    def __len__(self) -> int:
        return len(self.entries)

    def finish(self, data_key: bytes) -> bytes:
        """The pack bytes, trailer included."""
        return b"".join(self.pieces(data_key))

    def pieces(self, data_key: bytes) -> list[bytes | bytearray | memoryview]:
        """The pack as consecutive pieces (header, blobs, trailer), without joining them."""
        table = b"".join(ENTRY.pack(e.id, e.offset, e.length, e.raw_length) for e in self.entries)
        trailer = seal(data_key, table, TRAILER_CONTEXT, level=None)
        return [MAGIC, *self.blobs, trailer, struct.pack("<I", len(trailer))]


def packs_overhead(packs: int, chunks: int) -> int:
    """Bytes that ``packs`` packs holding ``chunks`` chunks in all add to the chunks: headers,
    sealed trailers and their lengths."""
    return packs * (len(MAGIC) + OVERHEAD + 4) + chunks * ENTRY.size


def read_trailer(pack: bytes, data_key: bytes) -> list[PackEntry]:
    """The chunk table of a pack, authenticated."""
    if len(pack) < len(MAGIC) + 4 or not pack.startswith(MAGIC):
        raise IntegrityError("pack has no valid header")
    start = trailer_start(len(pack), pack[-4:])
    return open_trailer(pack[start : len(pack) - 4], start, data_key)


def trailer_start(pack_length: int, length_field: bytes | memoryview) -> int:
    """Where the sealed trailer of a pack of ``pack_length`` bytes begins, from its last 4."""
    start: int = pack_length - 4 - struct.unpack("<I", length_field)[0]
    if start < len(MAGIC):
        raise IntegrityError("pack trailer length is impossible")
    return start


def open_trailer(sealed: bytes | memoryview, start: int, data_key: bytes) -> list[PackEntry]:
    """The authenticated chunk table in a sealed trailer that begins at pack offset ``start``.

    Needs only the trailer, so a reader holding the last bytes of a pack can index it.
    """
    table = unseal(data_key, sealed, TRAILER_CONTEXT, what="pack trailer")
    if len(table) % ENTRY.size:
        raise IntegrityError("pack trailer is not a whole number of entries")
    entries = [PackEntry(*ENTRY.unpack_from(table, i)) for i in range(0, len(table), ENTRY.size)]
    if any(e.offset < len(MAGIC) or e.offset + e.length > start for e in entries):
        raise IntegrityError("pack trailer points outside the pack's chunks")
    return entries


def open_chunk(pack: bytes | SplitPack, entry: PackEntry, data_key: bytes, id_key: bytes) -> bytes:
    """Unseal one chunk from a pack and check that its keyed hash is its id."""
    if isinstance(pack, SplitPack):
        blob = pack.view(entry.offset, entry.length)
    else:
        blob = memoryview(pack)[entry.offset : entry.offset + entry.length]
    data = unseal(data_key, blob, entry.id, what=f"chunk {entry.id.hex()[:16]}")
    if len(data) != entry.raw_length or chunk_id(data, id_key) != entry.id:
        raise IntegrityError(f"chunk {entry.id.hex()[:16]} does not match its id")
    return data
