"""Custodian shares: any T of N recover the recovery key, T-1 do not, typos are caught."""

from __future__ import annotations

import itertools
import os

import pytest
from Crypto.Protocol.SecretSharing import Shamir
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.embassy.custody import CustodianShare, combine_shares, split_key
from seawall.embassy.errors import BadCustodianShare


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 6), st.data())
def test_any_threshold_shares_recover_the_key(threshold: int, draw: st.DataObject) -> None:
    custodians = draw.draw(st.integers(threshold, 7))
    key = os.urandom(32)
    shares = split_key(key, custodians=custodians, threshold=threshold)
    chosen = draw.draw(st.permutations(shares))[:threshold]
    texts = [s.to_text() for s in chosen]
    assert combine_shares([CustodianShare.from_text(t) for t in texts]) == key


def test_three_of_five_every_subset() -> None:
    key = os.urandom(32)
    shares = split_key(key, custodians=5, threshold=3)
    for subset in itertools.combinations(shares, 3):
        assert combine_shares(list(subset)) == key


def test_fewer_than_threshold_shares_do_not_recover_the_key() -> None:
    key = os.urandom(32)
    shares = split_key(key, custodians=5, threshold=3)
    with pytest.raises(BadCustodianShare, match="3 are needed"):
        combine_shares(shares[:2])
    # Interpolating two shares directly yields some other value, never the key.
    for pair in itertools.combinations(shares, 2):
        low = Shamir.combine([(s.index, s.value[:16]) for s in pair])
        high = Shamir.combine([(s.index, s.value[16:]) for s in pair])
        assert low != key[:16] and high != key[16:]


def test_a_mistyped_share_fails_its_checksum() -> None:
    share = split_key(os.urandom(32), custodians=3, threshold=2)[0].to_text()
    position = share.rindex("-") - 5
    wrong = "0" if share[position] != "0" else "1"
    with pytest.raises(BadCustodianShare, match="checksum"):
        CustodianShare.from_text(share[:position] + wrong + share[position + 1 :])
    with pytest.raises(BadCustodianShare):
        CustodianShare.from_text("not a share")


def test_shares_from_different_splits_are_refused() -> None:
    a = split_key(os.urandom(32), custodians=3, threshold=2)
    b = split_key(os.urandom(32), custodians=3, threshold=2)
    with pytest.raises(BadCustodianShare, match="different splits"):
        combine_shares([a[0], b[1]])


def test_share_text_tolerates_spaces_and_case() -> None:
    key = os.urandom(32)
    shares = split_key(key, custodians=3, threshold=2)
    texts = [" ".join(s.to_text().upper().split("-")).replace(" ", "-\n ") for s in shares[:2]]
    assert combine_shares([CustodianShare.from_text(t) for t in texts]) == key
