"""Compression and authenticated encryption of blobs (chunks and repository metadata).

A sealed blob is::

    version (1) = 0x01 | flags (1) | salt (16) | nonce (12) | ciphertext | tag (16)

``flags`` bit 0 is set when the plaintext was zstd-compressed. The blob key is
``HKDF-SHA256(ikm=base key, salt=salt, info=b"seawall-embassy/v1 blob")``: every
blob gets its own key from a fresh random salt, so random 96-bit nonces can never
repeat under one key. The AEAD is AES-256-GCM; its associated data is the 30-byte
header followed by the caller's context (a chunk id or an object name), so a blob
moved to another name or with a flipped flag fails authentication.
"""

from __future__ import annotations

import os
import threading
from enum import StrEnum

import zstandard
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from seawall.embassy.errors import IntegrityError

VERSION = 1
FLAG_ZSTD = 0x01
SALT_SIZE = 16
NONCE_SIZE = 12
TAG_SIZE = 16
HEADER_SIZE = 2 + SALT_SIZE + NONCE_SIZE
OVERHEAD = HEADER_SIZE + TAG_SIZE
ZSTD_LEVEL = 3
ZSTD_MAX_LEVEL = 11
BLOB_INFO = b"seawall-embassy/v1 blob"
# A chunk that does not shrink by at least this fraction is stored raw.
MIN_SAVING = 0.03
SAMPLE_SIZE = 16 * 1024
MAX_PLAINTEXT = 1 << 31

_local = threading.local()


def derive_key(base_key: bytes, salt: bytes, info: bytes) -> bytes:
    """HKDF-SHA256 of ``base_key`` into a 32-byte key for one purpose."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(base_key)


class Compression(StrEnum):
    """How a backup compresses new chunks (as restic's ``--compression``)."""

    AUTO = "auto"  # zstd level 3, skipping what would not shrink
    MAX = "max"  # zstd level 11: smaller, several times slower
    OFF = "off"  # stored as read (encrypted all the same)

    @property
    def level(self) -> int | None:
        """The zstd level, or None to store chunks uncompressed."""
        return {"auto": ZSTD_LEVEL, "max": ZSTD_MAX_LEVEL, "off": None}[self.value]


def _compressor(level: int = ZSTD_LEVEL) -> zstandard.ZstdCompressor:
    # zstd contexts are not thread-safe; one per worker thread and level.
    compressors: dict[int, zstandard.ZstdCompressor] | None = getattr(_local, "compressors", None)
    if compressors is None:
        compressors = _local.compressors = {}
    comp = compressors.get(level)
    if comp is None:
        comp = compressors[level] = zstandard.ZstdCompressor(level=level, write_content_size=True)
    return comp


def _decompressor() -> zstandard.ZstdDecompressor:
    dec: zstandard.ZstdDecompressor | None = getattr(_local, "decompressor", None)
    if dec is None:
        dec = zstandard.ZstdDecompressor()
        _local.decompressor = dec
    return dec


def looks_incompressible(data: bytes | memoryview) -> bool:
    """Guess from three small samples whether zstd would gain nothing on ``data``."""
    if len(data) < 8 * SAMPLE_SIZE:
        return False
    mid = len(data) // 2
    view = memoryview(data)
    sample = b"".join((view[:SAMPLE_SIZE], view[mid : mid + SAMPLE_SIZE], view[-SAMPLE_SIZE:]))
    packed = _compressor().compress(sample)
    return len(packed) > len(sample) * (1 - MIN_SAVING)


def compress(data: bytes | memoryview, level: int = ZSTD_LEVEL) -> tuple[bytes | memoryview, bool]:
    """zstd (level 3 unless told) when it saves space, else the raw bytes; returns
    (body, compressed)."""
    if not len(data) or looks_incompressible(data):
        return data, False
    packed = _compressor(level).compress(data)
    if len(packed) > len(data) * (1 - MIN_SAVING):
        return data, False
    return packed, True


def seal(
    base_key: bytes,
    plaintext: bytes | memoryview,
    context: bytes,
    *,
    level: int | None = ZSTD_LEVEL,
) -> bytes:
    """Compress at zstd ``level`` (when worth it; None: never) and encrypt ``plaintext``,
    binding it to ``context``."""
    return bytes(seal_buffer(base_key, plaintext, context, level=level))


def seal_buffer(
    base_key: bytes,
    plaintext: bytes | memoryview,
    context: bytes,
    *,
    level: int | None = ZSTD_LEVEL,
) -> bytearray:
    """Like :func:`seal`, into a fresh buffer; a pack copies it once, so it is not copied here."""
    if len(plaintext) >= MAX_PLAINTEXT:
        raise ValueError("blob too large to seal")
    body, packed = (plaintext, False) if level is None else compress(plaintext, level)
    salt = os.urandom(SALT_SIZE)
    nonce = os.urandom(NONCE_SIZE)
    header = bytes([VERSION, FLAG_ZSTD if packed else 0]) + salt + nonce
    key = derive_key(base_key, salt, BLOB_INFO)
    # Encrypt straight behind the header: one output buffer, no concatenation copy.
    blob = bytearray(HEADER_SIZE + len(body) + TAG_SIZE)
    blob[:HEADER_SIZE] = header
    AESGCM(key).encrypt_into(nonce, body, header + context, memoryview(blob)[HEADER_SIZE:])
    return blob


def unseal(
    base_key: bytes, blob: bytes | memoryview, context: bytes, *, what: str = "object"
) -> bytes:
    """Authenticate, decrypt and decompress a sealed blob; IntegrityError if altered."""
    if len(blob) < OVERHEAD or blob[0] != VERSION or blob[1] & ~FLAG_ZSTD:
        raise IntegrityError(f"{what} is damaged or not a sealed blob; run check and repair")
    header = bytes(blob[:HEADER_SIZE])
    salt = header[2 : 2 + SALT_SIZE]
    nonce = header[2 + SALT_SIZE :]
    key = derive_key(base_key, salt, BLOB_INFO)
    try:
        # A view of the ciphertext: a large blob is not copied before decryption.
        body = AESGCM(key).decrypt(nonce, memoryview(blob)[HEADER_SIZE:], header + context)
    except InvalidTag:
        raise IntegrityError(
            f"{what} failed authentication (tampered, damaged or wrong key); run check and repair"
        ) from None
    if not blob[1] & FLAG_ZSTD:
        return body
    try:
        return _decompressor().decompress(body)
    except zstandard.ZstdError:
        raise IntegrityError(f"{what} decrypted but does not decompress") from None
