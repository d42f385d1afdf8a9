"""Signed packages: a file carried from node to node by hand, opened only with a known key.

A package is a magic line, a small signed header and a zstd-compressed payload::

    <magic>\n                         e.g. SEAWALL-INTEL-BUNDLE/1
    <header: one line of JSON>\n      sorted keys, ASCII
    <signature: base64 Ed25519>\n     canonical base64 only
    <zstd frame (with content checksum) of the payload>

The header holds ``sender`` (nation, node name, key id and public key, plus what the
pillar adds), ``payload_sha256`` (of the compressed bytes) and the pillar's own fields. The
detached signature covers the kind's signing prefix, the header line, a newline and the
compressed bytes, so changing any byte of the file breaks it; the prefix is the kind's own,
so a package of one kind never passes for another, nor for any other signed statement.

Opening trusts nothing before the signature verifies with the public key registered for a
partner of the sender's nation (an enabled one); only then is the payload decompressed,
within the kind's size cap and with its checksum. Each pillar defines its kind
(:class:`PackageKind`: magic, prefix, name, and the error classes it raises): intel's
offline bundles are one (:mod:`seawall.intel.bundles`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import zstandard

from seawall.core.federation.errors import (
    InvalidPublicKey,
    PackageSenderUnknown,
    PackageSignatureInvalid,
    PackageUnreadable,
    PartnerDisabled,
)
from seawall.core.federation.identity import NodeKey, same_key, verify_signature
from seawall.db.models import Partner
from seawall.settings import Settings

MAX_PACKAGE_BYTES = 1 << 30
ZSTD_LEVEL = 10


@dataclass(frozen=True)
class PackageKind:
    """One kind of package: its magic line, signing prefix, names and errors."""

    magic: bytes
    signing_prefix: bytes
    # How a message names a file of this kind ("Seawall intel bundle") and its payload.
    name: str
    noun: str
    unreadable: type[PackageUnreadable] = PackageUnreadable
    signature_invalid: type[PackageSignatureInvalid] = PackageSignatureInvalid
    sender_unknown: type[PackageSenderUnknown] = PackageSenderUnknown
    max_bytes: int = MAX_PACKAGE_BYTES

    def refuse(self, why: str) -> PackageUnreadable:
        """The error for a file that is not a package of this kind."""
        return self.unreadable(f"this file is not a {self.name} ({why}); nothing was imported")

    def signed_bytes(self, header: bytes, payload: bytes) -> bytes:
        """What the signature covers: the prefix, the header line and the payload."""
        return self.signing_prefix + header + b"\n" + payload


@dataclass(frozen=True)
class OpenedPackage:
    """A package whose signature has been checked against a registered partner's key."""

    partner: Partner
    sender_nation: str
    header: dict[str, Any]
    payload: bytes


def refuse_disabled(partner: Partner) -> None:
    """Raise PartnerDisabled for a disabled partner: nothing is exchanged with it."""
    if partner.disabled:
        raise PartnerDisabled(
            f"partner {partner.name!r} is disabled: nothing is exchanged with it; "
            f"enable it with `seawall partner enable {partner.name}`"
        )


def sender_of(settings: Settings, key: NodeKey) -> dict[str, Any]:
    """The ``sender`` of this node's packages, before a pillar adds its own fields."""
    return {
        "nation": settings.nation,
        "node_name": settings.node_name,
        "key_id": key.key_id,
        "public_key": key.public_text,
    }


def seal_package(
    kind: PackageKind, key: NodeKey, header: Mapping[str, Any], payload: bytes
) -> bytes:
    """A package of ``kind`` holding ``payload``, its header signed with ``key``."""
    compressed = zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_checksum=True).compress(payload)
    line = json.dumps(
        {**header, "payload_sha256": hashlib.sha256(compressed).hexdigest()},
        separators=(",", ":"),
        ensure_ascii=True,
        sort_keys=True,
    ).encode()
    signature = key.sign(kind.signed_bytes(line, compressed)).encode()
    return b"".join((kind.magic, line, b"\n", signature, b"\n", compressed))


def read_frame(kind: PackageKind, data: bytes) -> tuple[bytes, str, bytes]:
    """The header line, signature and compressed payload of a package, untrusted."""
    if not data.startswith(kind.magic):
        raise kind.refuse(f"it does not start with {kind.magic.decode().strip()}")
    header, sep1, rest = data[len(kind.magic) :].partition(b"\n")
    signature, sep2, payload = rest.partition(b"\n")
    if not (sep1 and sep2 and payload):
        raise kind.refuse(f"the header, signature or {kind.noun} is missing")
    try:
        text = signature.decode("ascii")
        # Only the canonical encoding: another spelling of the same bytes is a changed file.
        if base64.b64encode(base64.b64decode(text, validate=True)).decode() != text:
            raise ValueError(text)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise kind.refuse("the signature line is not base64") from None
    return header, text, payload


def decompress(kind: PackageKind, payload: bytes) -> bytes:
    """The payload, from one whole zstd frame with its checksum, within the size cap."""
    try:
        frame = zstandard.get_frame_parameters(payload)
        # Checked first: the declared size caps memory, and a frame without its checksum
        # (or with bytes after it) is not one this node wrote.
        if not frame.has_checksum or frame.content_size > kind.max_bytes:
            raise kind.refuse(f"no zstd content checksum, or over {_size(kind.max_bytes)}")
        reader = zstandard.ZstdDecompressor().decompressobj()
        raw = reader.decompress(payload)
    except zstandard.ZstdError:
        raise kind.refuse(f"the {kind.noun} is not zstd, or is damaged") from None
    if not reader.eof or reader.unused_data or len(raw) != frame.content_size:
        raise kind.refuse("a damaged or extended zstd frame")
    return raw


def open_package(kind: PackageKind, data: bytes, partners: Iterable[Partner]) -> OpenedPackage:
    """Verify a package against the partners' registered keys; only then decompress it."""
    header_bytes, signature, payload = read_frame(kind, data)
    try:
        header = json.loads(header_bytes)
        sender = header["sender"]
        nation = str(sender["nation"]).upper()
        presented = str(sender["public_key"])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise kind.refuse("no sender in the header") from None
    candidates = []
    for partner in partners:
        if partner.nation != nation or not partner.public_key:
            continue
        try:
            if same_key(partner.public_key, presented):
                candidates.append(partner)
        except InvalidPublicKey:
            continue
    if not candidates:
        raise kind.sender_unknown(
            f"this {kind.noun} is signed by a {nation} key that no registered partner holds; "
            "register the sender's key with `seawall intel partner link NAME --public-key`"
        )
    partner = candidates[0]
    refuse_disabled(partner)
    try:
        valid = verify_signature(
            partner.public_key, signature, kind.signed_bytes(header_bytes, payload)
        )
    except InvalidPublicKey:
        valid = False
    if not valid:
        raise kind.signature_invalid(
            f"the {kind.noun}'s signature does not verify with {partner.name}'s key: it was "
            "altered after signing; nothing was imported, ask the sender for a new copy"
        )
    return OpenedPackage(partner, nation, header, decompress(kind, payload))


def _size(limit: int) -> str:
    return f"{limit >> 30} GiB" if limit >= 1 << 30 else f"{limit >> 20} MiB"
