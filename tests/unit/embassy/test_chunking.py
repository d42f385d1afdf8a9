"""Content-defined chunking: deterministic, lossless, keyed, and shift-resistant."""

from __future__ import annotations

import io
import random

from hypothesis import given, settings
from hypothesis import strategies as st
from pyfastcdc import FastCDC

from seawall.embassy.chunking import Chunker, ChunkerParams, chunk_id

PARAMS = ChunkerParams(min_size=256, avg_size=1024, max_size=4096, seed=99)
KEY = bytes(range(32))


def cut(data: bytes, key: bytes = KEY, params: ChunkerParams = PARAMS) -> list[tuple[bytes, bytes]]:
    return [(c.id, c.data) for c in Chunker(params, key).chunks(io.BytesIO(data))]


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=40_000))
def test_chunking_is_deterministic_and_lossless(data: bytes) -> None:
    first = cut(data)
    assert first == cut(data)
    assert b"".join(d for _, d in first) == data
    assert all(cid == chunk_id(d, KEY) for cid, d in first)
    assert all(len(d) <= PARAMS.max_size for _, d in first)


@settings(max_examples=20, deadline=None)
@given(st.binary(min_size=1, max_size=4000), st.integers(0, 2**32))
def test_chunk_ids_depend_on_the_key(data: bytes, salt: int) -> None:
    other = salt.to_bytes(32, "little")
    if other != KEY:
        assert chunk_id(data, KEY) != chunk_id(data, other)


def test_insertion_only_changes_nearby_chunks() -> None:
    data = random.Random(1).randbytes(200_000)
    before = {cid for cid, _ in cut(data)}
    after = {cid for cid, _ in cut(data[:100_000] + b"inserted!" + data[100_000:])}
    assert len(before & after) >= len(before) - 4


class Trickle(io.RawIOBase):
    """A stream that hands out at most ``step`` bytes per read, as pipes and sockets may."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.step, self.pos = data, step, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        piece = self.data[self.pos : self.pos + min(len(buffer), self.step)]
        buffer[: len(piece)] = piece
        self.pos += len(piece)
        return len(piece)


def test_stream_chunking_reads_in_pieces() -> None:
    data = random.Random(2).randbytes(50_000)
    pieces = [c.data for c in Chunker(PARAMS, KEY).chunks(Trickle(data, 777))]  # type: ignore[arg-type]
    assert b"".join(pieces) == data
    assert [chunk_id(p, KEY) for p in pieces] == [cid for cid, _ in cut(data)]


@settings(max_examples=40, deadline=None)
@given(
    st.binary(max_size=60_000),
    st.sampled_from(["none", "exact", "short", "long"]),
    st.integers(1, 4),
)
def test_block_reads_cut_where_fastcdc_cuts_the_whole_stream(
    data: bytes, hint: str, blocks: int
) -> None:
    # Blocks of max_size and up (the smallest allowed), so cuts often fall at block ends.
    size_hint = {"none": None, "exact": len(data), "short": len(data) // 3, "long": 2 * len(data)}
    whole = FastCDC(
        PARAMS.avg_size, min_size=PARAMS.min_size, max_size=PARAMS.max_size, seed=PARAMS.seed
    )
    expected = [bytes(c.data) for c in whole.cut_buf(data)]
    chunker = Chunker(PARAMS, KEY, block_size=blocks * PARAMS.max_size)
    got = [bytes(v) for v in chunker.pieces(io.BytesIO(data), size_hint[hint])]
    assert got == expected


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32), st.integers(0, 120_000), st.integers(1, 3), st.integers(0, 4))
def test_blocks_of_random_data_cut_where_fastcdc_cuts_the_whole_stream(
    seed: int, size: int, blocks: int, runs: int
) -> None:
    # Random bytes cut often and everywhere (hypothesis' binaries favour runs of one byte);
    # a few zero runs longer than max_size force cuts at max_size across block ends.
    rng = random.Random(seed)
    data = bytearray(rng.randbytes(size))
    for _ in range(runs):
        at = rng.randrange(size + 1)
        data[at:at] = bytes(rng.randrange(PARAMS.max_size, 3 * PARAMS.max_size))
    whole = FastCDC(
        PARAMS.avg_size, min_size=PARAMS.min_size, max_size=PARAMS.max_size, seed=PARAMS.seed
    )
    expected = [bytes(c.data) for c in whole.cut_buf(bytes(data))]
    chunker = Chunker(PARAMS, KEY, block_size=blocks * PARAMS.max_size)
    assert [bytes(v) for v in chunker.pieces(io.BytesIO(bytes(data)))] == expected


def test_a_block_is_reused_only_when_no_chunk_views_it() -> None:
    data = random.Random(3).randbytes(200_000)
    chunker = Chunker(PARAMS, KEY, block_size=2 * PARAMS.max_size)
    expected = [
        bytes(c.data)
        for c in FastCDC(
            PARAMS.avg_size, min_size=PARAMS.min_size, max_size=PARAMS.max_size, seed=PARAMS.seed
        ).cut_buf(data)
    ]
    # Views kept until the end: every block stays in use, so none may be refilled.
    held = list(chunker.pieces(io.BytesIO(data)))
    assert [bytes(v) for v in held] == expected
    # Views dropped as they come: blocks are refilled, and the chunks are still right.
    assert [bytes(v) for v in chunker.pieces(io.BytesIO(data))] == expected


def test_a_short_read_does_not_end_a_small_file() -> None:
    data = random.Random(4).randbytes(20_000)
    got = b"".join(Chunker(PARAMS, KEY).pieces(Trickle(data, 1000), len(data)))  # type: ignore[arg-type]
    assert got == data


def test_a_small_file_does_not_overwrite_the_views_of_the_one_before() -> None:
    rng = random.Random(5)
    first, second = rng.randbytes(3000), rng.randbytes(3000)
    chunker = Chunker(PARAMS, KEY)
    held = list(chunker.pieces(io.BytesIO(first), len(first)))
    again = list(chunker.pieces(io.BytesIO(second), len(second)))
    assert b"".join(held) == first
    assert b"".join(again) == second
