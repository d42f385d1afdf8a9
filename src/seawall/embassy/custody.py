"""Shamir custody of a recovery key: N printable shares, any T of which recover it.

Shamir's scheme in pycryptodome works on 16-byte secrets, so the 32-byte key is
split as two halves with the same share indices; a custodian's share carries both
halves. Fewer than T shares reveal nothing about the key. A share prints as::

    SWR1-<set id, 8 hex>-<T>-<N>-<index>-<64 hex>-<checksum, 8 hex>

where the checksum is the first 4 bytes of BLAKE3 over the text before it, so a
mistyped share is caught before it is combined.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import blake3
from Crypto.Protocol.SecretSharing import Shamir

from seawall.embassy.errors import BadCustodianShare

PREFIX = "SWR1"
HALF = 16
SHARE_TEXT = re.compile(
    r"^SWR1-([0-9a-f]{8})-(\d{1,3})-(\d{1,3})-(\d{1,3})-([0-9a-f]{64})-([0-9a-f]{8})$"
)


@dataclass(frozen=True)
class CustodianShare:
    """One custodian's part of a recovery key."""

    set_id: str
    threshold: int
    custodians: int
    index: int
    value: bytes

    def body(self) -> str:
        """The share text without its checksum."""
        return (
            f"{PREFIX}-{self.set_id}-{self.threshold}-{self.custodians}-{self.index}"
            f"-{self.value.hex()}"
        )

    def to_text(self) -> str:
        """Printable share with checksum."""
        body = self.body()
        return f"{body}-{blake3.blake3(body.encode()).hexdigest()[:8]}"

    @classmethod
    def from_text(cls, text: str) -> CustodianShare:
        """Parse and checksum-verify a printed share."""
        clean = "".join(text.split()).lower().replace("swr1", PREFIX, 1)
        match = SHARE_TEXT.match(clean)
        if not match:
            raise BadCustodianShare("a custodian share is not in SWR1-... form; copy it again")
        set_id, threshold, custodians, index, value, check = match.groups()
        share = cls(set_id, int(threshold), int(custodians), int(index), bytes.fromhex(value))
        if blake3.blake3(share.body().encode()).hexdigest()[:8] != check:
            raise BadCustodianShare(
                f"custodian share {share.index} fails its checksum; it was mistyped"
            )
        if not 1 <= share.index <= share.custodians or not 2 <= share.threshold <= share.custodians:
            raise BadCustodianShare("a custodian share has impossible index or threshold")
        return share


def split_key(key: bytes, *, custodians: int, threshold: int) -> list[CustodianShare]:
    """Split a 32-byte key into ``custodians`` shares, any ``threshold`` of which recover it."""
    if len(key) != 2 * HALF:
        raise BadCustodianShare("only 32-byte recovery keys can be split")
    if not 2 <= threshold <= custodians <= 255:
        raise BadCustodianShare("need 2 <= threshold <= custodians <= 255")
    set_id = os.urandom(4).hex()
    low = Shamir.split(threshold, custodians, key[:HALF])
    high = Shamir.split(threshold, custodians, key[HALF:])
    shares = []
    for (i, a), (j, b) in zip(low, high, strict=True):
        assert i == j
        shares.append(CustodianShare(set_id, threshold, custodians, i, a + b))
    return shares


def combine_shares(shares: list[CustodianShare]) -> bytes:
    """Recover the key from at least ``threshold`` shares of one split."""
    if not shares:
        raise BadCustodianShare("no custodian shares were given")
    first = shares[0]
    if any(
        (s.set_id, s.threshold, s.custodians) != (first.set_id, first.threshold, first.custodians)
        for s in shares
    ):
        raise BadCustodianShare("the custodian shares come from different splits")
    unique = {s.index: s for s in shares}
    if len(unique) < first.threshold:
        raise BadCustodianShare(
            f"{len(unique)} distinct custodian shares given; {first.threshold} are needed"
        )
    chosen = sorted(unique.values(), key=lambda s: s.index)[: first.threshold]
    low = Shamir.combine([(s.index, s.value[:HALF]) for s in chosen])
    high = Shamir.combine([(s.index, s.value[HALF:]) for s in chosen])
    return low + high
