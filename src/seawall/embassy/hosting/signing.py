"""The guest's embassy key: an Ed25519 key derived from the repository master key, with which
the guest signs what it lets a host purge.

The host never holds a repository key; it holds the public half of this one, registered on
the agreement. Whoever holds the repository's passphrase can derive it, so the key alone
protects nothing against an attacker on the guest node: retention time does (see
:mod:`seawall.embassy.hosting.retention`). The key makes sure that no one else (the host's
own operators, another partner) can make the host purge a guest's versions.
"""

from __future__ import annotations

from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from seawall.core.federation.identity import NodeKey, verify_signature
from seawall.embassy.keys import MasterKey
from seawall.embassy.sealing import derive_key

KEY_INFO = b"seawall-embassy/v1 hosting-sign"
RELEASE = b"seawall-embassy-release/1\n"
PURGE = b"seawall-embassy-purge/1\n"


def embassy_key(master: MasterKey) -> NodeKey:
    """The repository's hosting signing key (HKDF of the master key, as an Ed25519 seed)."""
    seed = derive_key(master.secret, b"", KEY_INFO)
    return NodeKey(Ed25519PrivateKey.from_private_bytes(seed))


def release_statement(agreement: str, before: datetime) -> bytes:
    """What a guest signs to let the host purge the versions superseded by ``before``."""
    return RELEASE + agreement.encode() + b"\n" + before.isoformat().encode()


def purge_statement(agreement: str, version: str) -> bytes:
    """What a guest signs to ask the host to purge one version now."""
    return PURGE + agreement.encode() + b"\n" + version.encode()


def signed_by(public_key: str, signature: str, statement: bytes) -> bool:
    """Whether ``signature`` is the holder of ``public_key`` signing ``statement``."""
    return verify_signature(public_key, signature, statement)
