"""Sealing: round trips, compression detection, and authentication of every byte."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.embassy.errors import IntegrityError
from seawall.embassy.sealing import FLAG_ZSTD, HEADER_SIZE, OVERHEAD, seal, unseal

KEY = os.urandom(32)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=20_000), st.binary(max_size=40))
def test_seal_unseal_round_trips(data: bytes, context: bytes) -> None:
    assert unseal(KEY, seal(KEY, data, context), context) == data


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=1, max_size=4000), st.data())
def test_any_flipped_bit_fails_authentication(data: bytes, draw: st.DataObject) -> None:
    blob = bytearray(seal(KEY, data, b"ctx"))
    position = draw.draw(st.integers(0, len(blob) - 1))
    bit = draw.draw(st.integers(0, 7))
    blob[position] ^= 1 << bit
    with pytest.raises(IntegrityError):
        unseal(KEY, bytes(blob), b"ctx")


def test_wrong_context_or_key_fails() -> None:
    blob = seal(KEY, b"secret records", b"snapshots/a")
    with pytest.raises(IntegrityError):
        unseal(KEY, blob, b"snapshots/b")
    with pytest.raises(IntegrityError):
        unseal(os.urandom(32), blob, b"snapshots/a")
    with pytest.raises(IntegrityError):
        unseal(KEY, blob[:10], b"snapshots/a")


def test_text_is_compressed_and_random_bytes_are_stored_raw() -> None:
    text = b"national registry of births " * 20_000
    noise = os.urandom(300_000)
    packed = seal(KEY, text, b"")
    raw = seal(KEY, noise, b"")
    assert packed[1] & FLAG_ZSTD and len(packed) < len(text) // 10
    assert not raw[1] & FLAG_ZSTD and len(raw) == len(noise) + OVERHEAD
    assert unseal(KEY, raw, b"") == noise


def test_equal_plaintexts_seal_differently() -> None:
    a, b = seal(KEY, b"same", b""), seal(KEY, b"same", b"")
    assert a[:HEADER_SIZE] != b[:HEADER_SIZE] and a != b
