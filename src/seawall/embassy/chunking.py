"""Content-defined chunking (FastCDC 2020) with keyed BLAKE3 chunk ids.

Chunks are cut from a stream, never from a whole file in memory: the stream is read
in blocks of a few MiB, and each chunk is a view into its block, so bytes are copied
only when a block's uncut tail moves to the next one, and a block is reused once no
chunk views it. FastCDC decides a cut by reading forward from the chunk's start, with
the same masks at the same distances whether the bytes run on or not, so a cut it finds
before a block's end is the one it finds in the whole stream; only the piece that ends
at the block's end is cut again with the next block behind it. The cut points are thus
those of FastCDC over the whole stream whatever the block size. Chunk ids are keyed
so that a site cannot confirm that a known file is stored by hashing it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol

import blake3
from pyfastcdc import FastCDC

MIN_SIZE = 512 * 1024
AVG_SIZE = 1024 * 1024
MAX_SIZE = 4 * 1024 * 1024
ID_SIZE = 32
# Bytes read at once (at least max_size); with the tail carried over, a block is also the
# most a pending chunk view keeps alive.
BLOCK_SIZE = 4 * 1024 * 1024


class _Readable(Protocol):
    def readinto(self, buffer: memoryview, /) -> int | None: ...


@dataclass(frozen=True)
class ChunkerParams:
    """FastCDC sizes and gear seed; part of the repository config, fixed at init."""

    min_size: int = MIN_SIZE
    avg_size: int = AVG_SIZE
    max_size: int = MAX_SIZE
    seed: int = 0


@dataclass(frozen=True)
class Chunk:
    """One content-defined piece of a stream, with its keyed id."""

    id: bytes
    data: bytes


def chunk_id(data: bytes | memoryview, key: bytes) -> bytes:
    """Keyed BLAKE3 of ``data``: the id under which a chunk is deduplicated."""
    return blake3.blake3(data, key=key).digest()


class Chunker:
    """Cuts streams into chunks; safe to share between threads."""

    def __init__(
        self, params: ChunkerParams, id_key: bytes, *, block_size: int = BLOCK_SIZE
    ) -> None:
        self.params = params
        self.id_key = id_key
        self._cdc = FastCDC(
            params.avg_size,
            min_size=params.min_size,
            max_size=params.max_size,
            seed=params.seed,
        )
        # Room for a block of new bytes behind the uncut tail of the previous one (at most
        # max_size): each block then holds at least one whole chunk, so every block cuts.
        self._blocks = _BlockPool(max(block_size, params.max_size) + params.max_size)

    def chunks(self, stream: BinaryIO) -> Iterator[Chunk]:
        """Yield the chunks of ``stream`` in order; their data concatenates to the stream."""
        for piece in self.pieces(stream):
            yield Chunk(chunk_id(piece, self.id_key), bytes(piece))

    def pieces(self, stream: BinaryIO, size_hint: int | None = None) -> Iterator[memoryview]:
        """Yield the chunk data of ``stream`` in order, as read-only views, without ids.

        Each view stays valid after the next one is yielded: its buffer is reused only once
        no view of it is left. A stream expected (``size_hint``) to be at most one largest
        chunk is read whole into a per-thread buffer.
        """
        lookahead = self.params.max_size
        tail = memoryview(b"")
        if size_hint is not None and size_hint <= lookahead:
            # A small file goes into this thread's scratch buffer: no allocation, no page faults.
            buf = _scratch(lookahead + 1)
            filled = _fill(stream, memoryview(buf)[: size_hint + 1])
            data = memoryview(buf).toreadonly()[:filled]
            if filled <= size_hint:
                for piece in self._cdc.cut_buf(data):
                    yield piece.data
                return
            tail = data  # the stream outgrew its hint: go on in blocks
            del data, buf
        eof = False
        while not eof:
            buf = self._blocks.take()
            buf[: len(tail)] = tail
            filled = len(tail) + _fill(stream, memoryview(buf)[len(tail) :])
            eof = filled < len(buf)
            data = memoryview(buf).toreadonly()[:filled]
            start = 0
            for piece in self._cdc.cut_buf(data):
                if not eof and piece.offset + piece.length == filled:
                    break  # cut by the block's end, not by content: cut again with more bytes
                yield piece.data
                start = piece.offset + piece.length
            tail = data[start:] if not eof else memoryview(b"")
            del data, buf


class _BlockPool:
    """Read buffers of one size, reused once nothing views them any more.

    A fresh multi-MiB bytearray costs a zero-fill and page faults on every block, which
    was a third of a backup's reading thread. A buffer is known to be free when it can be
    resized: CPython refuses that while any memoryview of it is alive.
    """

    KEEP = 8

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: list[bytearray] = []
        self._lock = threading.Lock()

    def take(self) -> bytearray:
        with self._lock:
            for buf in self._kept:
                if _unviewed(buf):
                    return buf
            buf = bytearray(self.size)
            if len(self._kept) < self.KEEP:
                self._kept.append(buf)
            return buf


_local = threading.local()


def _scratch(size: int) -> bytearray:
    """This thread's reusable buffer of ``size`` bytes, or a new one while it is still viewed."""
    buf: bytearray | None = getattr(_local, "scratch", None)
    if buf is None or len(buf) != size or not _unviewed(buf):
        buf = bytearray(size)
        _local.scratch = buf
    return buf


def _unviewed(buf: bytearray) -> bool:
    """True when no memoryview of ``buf`` is alive (so it may be refilled)."""
    try:
        buf.append(0)
    except BufferError:
        return False
    del buf[-1]
    return True


def _fill(stream: BinaryIO | _Readable, view: memoryview) -> int:
    """Read into ``view`` until it is full or the stream ends; the byte count."""
    readinto = getattr(stream, "readinto", None)
    total = 0
    while total < len(view):
        if readinto is not None:
            got = readinto(view[total:])
        else:
            piece = stream.read(len(view) - total)  # type: ignore[union-attr]
            got = len(piece)
            view[total : total + got] = piece
        if not got:
            break
        total += got
    return total
