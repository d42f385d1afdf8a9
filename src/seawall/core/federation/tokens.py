"""The API token a partner issued us, sealed at rest under a key derived from the node secret.

Every pillar's link to a partner authenticates with that token. It is stored encrypted
(AES-256-GCM, a random 96-bit nonce, the partner id as associated data, so that a sealed
token copied to another partner's row does not open) under a key derived with HKDF-SHA256
from the node secret. The stored form is base64 of the nonce followed by the ciphertext.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from seawall.core.federation.errors import PartnerNotLinked
from seawall.errors import NodeNotInitialised
from seawall.settings import Settings

# The HKDF info names the key's one use; changing it makes every stored token unreadable.
TOKEN_KEY_INFO = b"seawall/partner-token/1"
NONCE_BYTES = 12


def _token_key(settings: Settings) -> bytes:
    secret = settings.effective_secret_key
    if not secret:
        raise NodeNotInitialised(f"node home {settings.home} has no secret key; run `seawall init`")
    kdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=TOKEN_KEY_INFO)
    return kdf.derive(secret)


def seal_token(settings: Settings, partner_id: str, token: str) -> str:
    """The partner's API token encrypted (AES-256-GCM) under the node secret."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(_token_key(settings)).encrypt(nonce, token.encode(), partner_id.encode())
    return base64.b64encode(nonce + sealed).decode()


def open_token(settings: Settings, partner_id: str, sealed: str) -> str:
    """The partner's API token, or PartnerNotLinked when none is stored or it cannot be read."""
    try:
        raw = base64.b64decode(sealed, validate=True)
        plain = AESGCM(_token_key(settings)).decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], partner_id.encode()
        )
        return plain.decode()
    except (binascii.Error, ValueError, InvalidTag):
        raise PartnerNotLinked(
            "the stored token for this partner cannot be read (was the node secret changed?); "
            "store it again with `seawall intel partner link NAME --token ...`"
        ) from None
