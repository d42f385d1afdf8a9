"""The node's identity: its Ed25519 signing key, and its answer to a partner's challenge.

The private key lives in the node home (``intel-signing.key``, mode 0600; the name is the
one nodes were first given, and a node keeps its key) and is made on first use. Partners
register the public half, written ``ed25519:<base64>``, in their ``partners.public_key``;
its key id is the first 16 hex digits of its SHA-256. One key signs for every pillar: each
kind of signed statement has its own prefix, so that none can be replayed as another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from seawall.core.federation.errors import InvalidPublicKey
from seawall.settings import Settings

KEY_FILE = "intel-signing.key"
KEY_PREFIX = "ed25519:"
# Each kind of signed statement has its own prefix, so that none can be replayed as another:
# identity answers, audit heads (seawall.intel.witness) and packages (seawall-bundle/1 for
# intel bundles, see seawall.core.federation.packages).
IDENTITY_CHALLENGE = b"seawall-identity/1\n"
AUDIT_HEAD_PREFIX = b"seawall-audit-head/1\n"


@dataclass(frozen=True)
class NodeKey:
    """This node's signing key."""

    private: Ed25519PrivateKey

    @property
    def public_raw(self) -> bytes:
        """The 32 raw bytes of the public key."""
        return self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def public_text(self) -> str:
        """The public key as partners register it: ``ed25519:<base64>``."""
        return KEY_PREFIX + base64.b64encode(self.public_raw).decode()

    @property
    def key_id(self) -> str:
        """A short, stable name for the key."""
        return key_id_of(self.public_raw)

    def sign(self, data: bytes) -> str:
        """A detached signature over ``data``, base64."""
        return base64.b64encode(self.private.sign(data)).decode()


def key_id_of(raw: bytes) -> str:
    """The key id of a raw public key."""
    return hashlib.sha256(raw).hexdigest()[:16]


def key_path(settings: Settings) -> Path:
    """Where the node's private signing key is kept."""
    return settings.home / KEY_FILE


def load_node_key(settings: Settings) -> NodeKey:
    """The node's signing key, made (mode 0600) on first use."""
    path = key_path(settings)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        seed = Ed25519PrivateKey.generate().private_bytes_raw()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first; read theirs
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(base64.b64encode(seed).decode() + "\n")
    try:
        seed = base64.b64decode(path.read_text().strip(), validate=True)
        return NodeKey(Ed25519PrivateKey.from_private_bytes(seed))
    except (binascii.Error, ValueError):
        raise InvalidPublicKey(
            f"the signing key file {path} is damaged; move it aside to make a new one "
            "and give partners the new public key"
        ) from None


def parse_public_key(text: str) -> Ed25519PublicKey:
    """An Ed25519 public key from ``ed25519:<base64>`` (the prefix may be left out)."""
    value = text.strip().removeprefix(KEY_PREFIX)
    try:
        raw = base64.b64decode(value, validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError):
        raise InvalidPublicKey(
            "public key is not an Ed25519 key: expected ed25519:<base64 of 32 bytes>, "
            "as printed by `seawall intel partner key` on the partner"
        ) from None


def public_key_id(text: str) -> str:
    """The key id of a public key given as text."""
    key = parse_public_key(text)
    return key_id_of(key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def same_key(a: str, b: str) -> bool:
    """Whether two public keys, as text, are the same key."""
    return public_key_id(a) == public_key_id(b)


def verify_signature(public_text: str, signature: str, data: bytes) -> bool:
    """Whether ``signature`` (base64) is the holder of ``public_text`` signing ``data``."""
    key = parse_public_key(public_text)
    try:
        key.verify(base64.b64decode(signature, validate=True), data)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def identity_challenge(nation: str, challenge: str) -> bytes:
    """The bytes a node signs to prove which nation it is to a partner's challenge."""
    return IDENTITY_CHALLENGE + nation.encode() + b"\n" + challenge.encode()


def identity_proof(settings: Settings, challenge: str) -> dict[str, str]:
    """This node's answer to an identity challenge: nation, node name, key and a signature.

    A pillar may add its own fields (intel adds the nation's STIX identity id); the
    signature covers only the nation and the challenge.
    """
    key = load_node_key(settings)
    return {
        "nation": settings.nation,
        "node_name": settings.node_name,
        "public_key": key.public_text,
        "key_id": key.key_id,
        "signature": key.sign(identity_challenge(settings.nation, challenge)),
    }
