"""Erasure coding: any k of n shares rebuild a pack; altered shares count as missing."""

from __future__ import annotations

import itertools
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.embassy.erasure import (
    decode_pack,
    encode_pack,
    encode_pieces,
    open_share,
    pack_id,
    rebuild_split,
)
from seawall.embassy.errors import (
    BadRepositoryConfig,
    IntegrityError,
    ShareInvalid,
    TooFewShares,
)

MAC = os.urandom(32)


@st.composite
def shapes(draw: st.DrawFn) -> tuple[int, int, bytes, list[int]]:
    n = draw(st.integers(1, 8))
    k = draw(st.integers(1, n))
    data = draw(st.binary(max_size=5000))
    chosen = draw(st.permutations(range(n)))[:k]
    return k, n, data, list(chosen)


@settings(max_examples=80, deadline=None)
@given(shapes())
def test_any_k_of_n_shares_decode_to_the_pack(shape: tuple[int, int, bytes, list[int]]) -> None:
    k, n, data, chosen = shape
    pid = pack_id(data, MAC)
    shares = encode_pack(data, pid, k=k, n=n, mac_key=MAC)
    assert len(shares) == n
    assert decode_pack([shares[i] for i in chosen], pid=pid, k=k, n=n, mac_key=MAC) == data


@settings(max_examples=80, deadline=None)
@given(shapes(), st.data())
def test_a_rebuilt_pack_hands_out_any_range_without_joining(
    shape: tuple[int, int, bytes, list[int]], draw: st.DataObject
) -> None:
    k, n, data, chosen = shape
    pid = pack_id(data, MAC)
    shares = encode_pack(data, pid, k=k, n=n, mac_key=MAC)
    bodies = {open_share(shares[i], MAC)[0].index: open_share(shares[i], MAC)[1] for i in chosen}
    split = rebuild_split(bodies, pid=pid, k=k, n=n, length=len(data), mac_key=MAC)
    assert len(split) == len(data) and split.join() == data
    start = draw.draw(st.integers(0, len(data)))
    length = draw.draw(st.integers(0, len(data) - start))
    # Ranges inside one block and across block edges read the same bytes.
    assert bytes(split.view(start, length)) == data[start : start + length]
    with pytest.raises(IntegrityError):
        split.view(start, len(data) - start + 1)


def test_every_three_of_five_subset_decodes() -> None:
    data = os.urandom(100_001)
    pid = pack_id(data, MAC)
    shares = encode_pack(data, pid, k=3, n=5, mac_key=MAC)
    for subset in itertools.combinations(range(5), 3):
        got = decode_pack([shares[i] for i in subset], pid=pid, k=3, n=5, mac_key=MAC)
        assert got == data


@settings(max_examples=80, deadline=None)
@given(st.binary(min_size=1, max_size=3000), st.data())
def test_a_tampered_share_always_fails_authentication(data: bytes, draw: st.DataObject) -> None:
    pid = pack_id(data, MAC)
    shares = encode_pack(data, pid, k=2, n=4, mac_key=MAC)
    victim = draw.draw(st.integers(0, 3))
    share = bytearray(shares[victim])
    position = draw.draw(st.integers(0, len(share) - 1))
    share[position] ^= 1 << draw.draw(st.integers(0, 7))
    with pytest.raises(ShareInvalid):
        open_share(bytes(share), MAC)


def test_tampered_shares_are_treated_as_missing() -> None:
    data = os.urandom(50_000)
    pid = pack_id(data, MAC)
    shares = encode_pack(data, pid, k=3, n=5, mac_key=MAC)
    broken = [bytearray(s) for s in shares]
    broken[0][100] ^= 0xFF
    broken[2][-1] ^= 0x01
    assert decode_pack([bytes(s) for s in broken], pid=pid, k=3, n=5, mac_key=MAC) == data
    broken[4][60] ^= 0x10
    with pytest.raises(TooFewShares):
        decode_pack([bytes(s) for s in broken], pid=pid, k=3, n=5, mac_key=MAC)


def test_shares_of_another_pack_or_key_do_not_count() -> None:
    data = os.urandom(10_000)
    pid = pack_id(data, MAC)
    shares = encode_pack(data, pid, k=2, n=3, mac_key=MAC)
    other = encode_pack(data, pid, k=2, n=3, mac_key=os.urandom(32))
    with pytest.raises(TooFewShares):
        decode_pack([shares[0], *other], pid=pid, k=2, n=3, mac_key=MAC)


def test_impossible_shapes_are_refused() -> None:
    with pytest.raises(BadRepositoryConfig):
        encode_pack(b"x", pack_id(b"x", MAC), k=4, n=3, mac_key=MAC)


@settings(max_examples=60, deadline=None)
@given(shapes(), st.lists(st.integers(0, 5000), max_size=6))
def test_shares_of_a_pack_in_pieces_equal_those_of_the_joined_pack(
    shape: tuple[int, int, bytes, list[int]], cuts: list[int]
) -> None:
    k, n, data, _ = shape
    bounds = sorted({min(c, len(data)) for c in cuts})
    pieces = [data[a:b] for a, b in zip([0, *bounds], [*bounds, len(data)], strict=True)]
    pid, shares = encode_pieces(pieces, k=k, n=n, mac_key=MAC)
    assert pid == pack_id(data, MAC)
    assert shares == encode_pack(data, pid, k=k, n=n, mac_key=MAC)


def test_a_decoded_pack_must_hash_to_its_id() -> None:
    data = os.urandom(30_000)
    wrong = pack_id(data + b"!", MAC)
    # Shares that authenticate but were labelled with another pack's id.
    shares = encode_pack(data, wrong, k=3, n=5, mac_key=MAC)
    bodies = {i: open_share(shares[i], MAC)[1] for i in (0, 3, 4)}
    with pytest.raises(IntegrityError, match="does not match its id"):
        rebuild_split(bodies, pid=wrong, k=3, n=5, length=len(data), mac_key=MAC)
