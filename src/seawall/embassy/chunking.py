"""Content-defined chunking (FastCDC 2020) with keyed BLAKE3 chunk ids.

Chunks are cut from a stream, never from a whole file in memory: at most one
``max_size`` buffer per chunker is alive. Chunk ids are keyed so that a site
cannot confirm that a known file is stored by hashing it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import blake3
from pyfastcdc import FastCDC

MIN_SIZE = 256 * 1024
AVG_SIZE = 1024 * 1024
MAX_SIZE = 4 * 1024 * 1024
ID_SIZE = 32


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
    """Cuts streams into chunks; reusable, but not safe to share between threads."""

    def __init__(self, params: ChunkerParams, id_key: bytes) -> None:
        self.params = params
        self.id_key = id_key
        self._cdc = FastCDC(
            params.avg_size,
            min_size=params.min_size,
            max_size=params.max_size,
            seed=params.seed,
        )

    def chunks(self, stream: BinaryIO) -> Iterator[Chunk]:
        """Yield the chunks of ``stream`` in order; their data concatenates to the stream."""
        for piece in self._cdc.cut_stream(stream):
            # pyfastcdc reuses its buffer for the next chunk, so copy before yielding.
            data = bytes(piece.data)
            yield Chunk(chunk_id(data, self.id_key), data)
