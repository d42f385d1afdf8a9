"""Packs: a tampered pack never yields altered data, and every chunk verifies against its id."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.embassy.chunking import chunk_id
from seawall.embassy.errors import IntegrityError
from seawall.embassy.packs import MAGIC, PackBuilder, open_chunk, read_trailer
from seawall.embassy.sealing import seal

DATA_KEY = os.urandom(32)
ID_KEY = os.urandom(32)


def build(chunks: list[bytes]) -> bytes:
    builder = PackBuilder()
    for data in chunks:
        cid = chunk_id(data, ID_KEY)
        builder.add(cid, seal(DATA_KEY, data, cid), len(data))
    return builder.finish(DATA_KEY)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.binary(max_size=3000), min_size=1, max_size=6))
def test_pack_round_trips_through_its_trailer(chunks: list[bytes]) -> None:
    pack = build(chunks)
    entries = read_trailer(pack, DATA_KEY)
    assert [open_chunk(pack, e, DATA_KEY, ID_KEY) for e in entries] == chunks


@settings(max_examples=80, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=2000), min_size=1, max_size=4), st.data())
def test_a_tampered_pack_always_fails_authentication(
    chunks: list[bytes], draw: st.DataObject
) -> None:
    pack = bytearray(build(chunks))
    entries = read_trailer(bytes(pack), DATA_KEY)
    position = draw.draw(st.integers(0, len(pack) - 1))
    pack[position] ^= 1 << draw.draw(st.integers(0, 7))
    tampered = bytes(pack)
    hit = [e for e in entries if e.offset <= position < e.offset + e.length]
    if hit:
        with pytest.raises(IntegrityError):
            open_chunk(tampered, hit[0], DATA_KEY, ID_KEY)
    else:
        # Header, trailer or trailer length: the pack no longer describes itself.
        with pytest.raises(IntegrityError):
            read_trailer(tampered, DATA_KEY)
    for entry in entries:
        if entry not in hit:
            assert open_chunk(tampered, entry, DATA_KEY, ID_KEY) in chunks


def test_a_chunk_moved_under_another_id_is_refused() -> None:
    pack = build([b"first chunk", b"second chunk"])
    first, second = read_trailer(pack, DATA_KEY)
    swapped = type(first)(second.id, first.offset, first.length, first.raw_length)
    with pytest.raises(IntegrityError):
        open_chunk(pack, swapped, DATA_KEY, ID_KEY)
    assert pack.startswith(MAGIC)
