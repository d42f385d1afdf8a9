"""k-of-n erasure coding of sealed packs into authenticated shares (zfec, Reed-Solomon).

A share is::

    magic "SWSH" | version (1) = 1 | k (1) | n (1) | index (1) | pack id (32)
    | pack length (8, little-endian) | body (ceil(length / k) bytes) | MAC (32)

The body is zfec block ``index`` of the pack, zero-padded to ``k`` equal blocks
(blocks ``0..k-1`` are the pack itself). The MAC is keyed BLAKE3 (the repository
MAC key) over everything before it. A share whose MAC fails is treated as missing;
any ``k`` valid shares rebuild the pack, whose keyed BLAKE3 must equal its id.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import blake3
import zfec  # type: ignore[import-untyped]

from seawall.embassy.errors import BadRepositoryConfig, IntegrityError, ShareInvalid, TooFewShares

MAGIC = b"SWSH"
VERSION = 1
HEADER = struct.Struct("<4sBBBB32sQ")
MAC_SIZE = 32
ID_SIZE = 32


def pack_id(pack: bytes, mac_key: bytes) -> bytes:
    """Keyed BLAKE3 of a sealed pack: its id, verified after every decode."""
    return blake3.blake3(pack, key=mac_key).digest()


def check_shape(k: int, n: int) -> None:
    """Refuse k/n that zfec or the header cannot carry."""
    if not 1 <= k <= n <= 255:
        raise BadRepositoryConfig(f"shares {k}-of-{n} are impossible; need 1 <= k <= n <= 255")


@dataclass(frozen=True)
class ShareHeader:
    """The authenticated header of a share."""

    k: int
    n: int
    index: int
    pack_id: bytes
    pack_length: int

    @property
    def block_size(self) -> int:
        """Bytes of zfec block per share."""
        return -(-self.pack_length // self.k) if self.pack_length else 0

    def of(self, pid: bytes, k: int, n: int, length: int) -> bool:
        """True when this is a share of the pack ``pid`` (``k``-of-``n``, ``length`` bytes).

        A share that authenticates may still belong to another pack (copied or misfiled);
        every reader checks this before it counts the share.
        """
        return (self.pack_id, self.k, self.n, self.pack_length) == (pid, k, n, length)


def share_size(pack_length: int, k: int) -> int:
    """Total bytes of one share of a pack of ``pack_length`` bytes."""
    return HEADER.size + (-(-pack_length // k) if pack_length else 0) + MAC_SIZE


def encode_pack(pack: bytes, pid: bytes, *, k: int, n: int, mac_key: bytes) -> list[bytes]:
    """Split a sealed pack into ``n`` authenticated shares (index = list position)."""
    return encode_pieces([pack], k=k, n=n, mac_key=mac_key, pid=pid)[1]


def encode_pieces(
    pieces: list[bytes | bytearray | memoryview],
    *,
    k: int,
    n: int,
    mac_key: bytes,
    pid: bytes | None = None,
) -> tuple[bytes, list[bytes]]:
    """The id and ``n`` shares of the pack that ``pieces`` concatenate to, never joined whole.

    Each data share is copied once, straight from the pieces, and then ``pieces`` is
    emptied so that the caller's last references go before parity is computed from the
    data shares' bodies. Equivalent to :func:`encode_pack` over ``b"".join(pieces)``; the
    id is computed (keyed BLAKE3) unless given.
    """
    check_shape(k, n)
    length = sum(len(piece) for piece in pieces)
    if pid is None:
        hasher = blake3.blake3(key=mac_key)
        for piece in pieces:
            hasher.update(piece)
        pid = hasher.digest()
    size = -(-length // k) if length else 0
    runs: list[list[bytes | memoryview]] = [[] for _ in range(k)]
    block, room = 0, size
    for piece in pieces:
        view = memoryview(piece)
        while len(view):
            if not room:
                block, room = block + 1, size
            take = min(room, len(view))
            runs[block].append(view[:take])
            view, room = view[take:], room - take
    # Zero padding up to k equal blocks (a tiny pack may leave whole blocks of padding).
    for i in range(block, k):
        fill = room if i == block else size
        if fill:
            runs[i].append(bytes(fill))
    shares: list[bytes] = []
    for index in range(k):
        shares.append(
            _share(HEADER.pack(MAGIC, VERSION, k, n, index, pid, length), runs[index], mac_key)
        )
        runs[index].clear()
    pieces.clear()
    if n > k:
        if size:
            bodies = tuple(memoryview(sh)[HEADER.size : HEADER.size + size] for sh in shares)
            parity = zfec.Encoder(k, n).encode(bodies, tuple(range(k, n)))
        else:
            parity = [b""] * (n - k)
        for index, body in zip(range(k, n), parity, strict=True):
            head = HEADER.pack(MAGIC, VERSION, k, n, index, pid, length)
            shares.append(_share(head, [body], mac_key))
    return pid, shares


def _share(head: bytes, body: Sequence[bytes | memoryview], mac_key: bytes) -> bytes:
    mac = blake3.blake3(head, key=mac_key)
    for part in body:
        mac.update(part)
    return b"".join((head, *body, mac.digest()))


def open_share(
    share: bytes, mac_key: bytes, *, what: str = "share"
) -> tuple[ShareHeader, memoryview]:
    """Verify a share's MAC and header; its header and body, or ShareInvalid."""
    if len(share) < HEADER.size + MAC_SIZE:
        raise ShareInvalid(f"{what} is truncated; run repair")
    magic, version, k, n, index, pid, length = HEADER.unpack_from(share)
    body = memoryview(share)[HEADER.size : len(share) - MAC_SIZE]
    mac = blake3.blake3(memoryview(share)[: len(share) - MAC_SIZE], key=mac_key).digest()
    if mac != share[-MAC_SIZE:]:
        raise ShareInvalid(f"{what} failed authentication (altered or damaged); run repair")
    head = ShareHeader(k, n, index, pid, length)
    if magic != MAGIC or version != VERSION or not 1 <= k <= n or index >= n:
        raise ShareInvalid(f"{what} has an unknown format; run repair")
    if len(body) != head.block_size:
        raise ShareInvalid(f"{what} has a body of the wrong length; run repair")
    return head, body


@dataclass(frozen=True)
class SplitPack:
    """A rebuilt pack kept as its ``k`` blocks (padding excluded), never joined whole."""

    blocks: tuple[bytes | memoryview, ...]
    block_size: int
    length: int

    def __len__(self) -> int:
        return self.length

    def view(self, offset: int, length: int) -> bytes | memoryview:
        """Bytes ``offset .. offset + length``: a view, or a copy when they span two blocks."""
        if offset < 0 or length < 0 or offset + length > self.length:
            raise IntegrityError("a pack entry points outside its pack")
        if not length:
            return memoryview(b"")
        first, start = divmod(offset, self.block_size) if self.block_size else (0, 0)
        if start + length <= self.block_size:
            return memoryview(self.blocks[first])[start : start + length]
        pieces, left = [], length
        for block in self.blocks[first:]:
            piece = memoryview(block)[start : start + left]
            pieces.append(piece)
            left -= len(piece)
            start = 0
            if not left:
                break
        return b"".join(pieces)

    def join(self) -> bytes:
        """The whole pack in one buffer."""
        return b"".join(self.blocks)


def rebuild_pack(
    blocks: dict[int, memoryview], *, pid: bytes, k: int, n: int, length: int, mac_key: bytes
) -> bytes:
    """Rebuild a pack from ``k`` verified share bodies keyed by share index."""
    return rebuild_split(blocks, pid=pid, k=k, n=n, length=length, mac_key=mac_key).join()


def rebuild_split(
    blocks: dict[int, memoryview], *, pid: bytes, k: int, n: int, length: int, mac_key: bytes
) -> SplitPack:
    """Like :func:`rebuild_pack`, without copying the blocks into one buffer."""
    if len(blocks) < k:
        raise TooFewShares(
            f"pack {pid.hex()[:16]} has {len(blocks)} valid shares of the {k} needed; "
            "bring sites back online or run repair"
        )
    indices = sorted(blocks)[:k]
    systematic = indices == list(range(k))
    if systematic:
        parts = [blocks[i] for i in indices]
    else:
        parts = zfec.Decoder(k, n).decode(tuple(blocks[i] for i in indices), tuple(indices))
    size = len(parts[0]) if parts else 0
    if size * k < length:
        raise IntegrityError(f"pack {pid.hex()[:16]} shares are shorter than the pack")
    # Drop the zero padding (it may fill the last block and more).
    trimmed: list[bytes | memoryview] = []
    left = length
    for part in parts:
        piece: bytes | memoryview = memoryview(part)[: min(size, left)]
        left -= len(piece)
        trimmed.append(piece)
    if not systematic:
        # The data blocks are the verified share bodies themselves, whose MACs bind them to
        # this pack id, index and length; only a decode computes new bytes to check.
        hasher = blake3.blake3(key=mac_key)
        for piece in trimmed:
            hasher.update(piece)
        if hasher.digest() != pid:
            raise IntegrityError(f"pack {pid.hex()[:16]} rebuilt from shares does not match its id")
    return SplitPack(tuple(trimmed), size, length)


def decode_pack(shares: Iterable[bytes], *, pid: bytes, k: int, n: int, mac_key: bytes) -> bytes:
    """Rebuild a pack from whichever shares verify; invalid ones count as missing."""
    good: dict[int, memoryview] = {}
    length = 0
    for share in shares:
        try:
            head, body = open_share(share, mac_key)
        except ShareInvalid:
            continue
        if head.pack_id == pid and head.k == k and head.n == n:
            good[head.index] = body
            length = head.pack_length
        if len(good) == k:
            break
    return rebuild_pack(good, pid=pid, k=k, n=n, length=length, mac_key=mac_key)
