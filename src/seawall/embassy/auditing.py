"""Proof that a partner host still holds a share, without downloading it (embassy-format §13).

While a backup (or a repair, or a prune's repack) writes a share to a partner site, the guest
still has its bytes: it computes then, for each share, :data:`CHALLENGES` answers to
challenges nobody else can predict, and keeps them sealed in the repository (``audits/``
objects on every site), so any node with the passphrase can audit. Challenge ``j`` of share
``name`` on site ``url`` is the 32-byte nonce ``BLAKE3(key = A, "url\\nname\\nj")`` with
``A`` the repository's audit key (HKDF of the master key); its answer is the first 16 bytes
of ``BLAKE3(key = nonce, share bytes)``. An audit sends the host ``(name, nonce)`` pairs; the
host reads the share from its disk and answers the keyed hash; the guest compares. The host
cannot answer a nonce before it sees it, and a nonce is sent once (the guest counts what it
spent), so an answer proves the bytes were there when it was asked.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Callable
from contextlib import suppress

import blake3

from seawall.embassy.errors import IntegrityError
from seawall.embassy.keys import MasterKey
from seawall.embassy.sealing import derive_key
from seawall.embassy.store import RepositoryStore
from seawall.errors import SeawallError

AUDIT_INFO = b"seawall-embassy/v1 audit"
PREFIX = "audits/"
CHALLENGES = 8
ANSWER_BYTES = 16
FORMAT = 1


def audit_key(master: MasterKey) -> bytes:
    """The repository's audit key ``A``."""
    return derive_key(master.secret, b"", AUDIT_INFO)


def nonce(key: bytes, site: str, name: str, j: int) -> bytes:
    """Challenge ``j`` of share ``name`` on ``site`` (its URL without options)."""
    return blake3.blake3(f"{site}\n{name}\n{j}".encode(), key=key).digest()


def answer(challenge: bytes, data: bytes | memoryview) -> bytes:
    """The answer to a challenge over an object's bytes (what the host computes)."""
    return blake3.blake3(data, key=challenge).digest()[:ANSWER_BYTES]


def base_url(url: str) -> str:
    """A site URL without its options (a past view audits as its site)."""
    return url.partition("?")[0]


class Recorder:
    """Collects the answers of the shares written to partner sites during one open."""

    def __init__(self, key: bytes) -> None:
        self.key = key
        self.answers: dict[str, dict[str, bytes]] = {}
        self._lock = threading.Lock()

    def tap_for(self, url: str) -> Callable[[str, bytes], None]:
        """What the site calls with each object it stored (shares are kept, others not)."""
        site = base_url(url)

        def tap(name: str, data: bytes) -> None:
            if not name.startswith("data/"):
                return
            found = b"".join(
                answer(nonce(self.key, site, name, j), data) for j in range(CHALLENGES)
            )
            with self._lock:
                self.answers.setdefault(site, {})[name] = found

        return tap

    def save(self, repo: RepositoryStore) -> int:
        """Write what was collected as one sealed ``audits/`` object on every site that takes
        it; how many sites did (0 when nothing was collected or no site took it)."""
        with self._lock:
            collected = {site: dict(found) for site, found in self.answers.items()}
            self.answers.clear()
        if not collected:
            return 0
        doc = {
            "format": FORMAT,
            "challenges": CHALLENGES,
            "sites": {
                site: {n: base64.b64encode(a).decode() for n, a in sorted(found.items())}
                for site, found in collected.items()
            },
        }
        name = PREFIX + os.urandom(16).hex()
        sealed = repo.seal_meta(name, json.dumps(doc, sort_keys=True).encode())
        stored = 0
        for _, site in repo.reachable():
            with suppress(SeawallError):
                site.put(name, sealed)
                stored += 1
        return stored


def load_answers(repo: RepositoryStore) -> dict[str, dict[str, bytes]]:
    """Every recorded answer, by site URL and share name (an ``audits/`` object that does not
    verify is skipped: it cannot vouch for anything)."""
    found: dict[str, dict[str, bytes]] = {}
    for name in sorted(repo.names(PREFIX)):
        try:
            doc = json.loads(repo.get_meta(name))
        except (SeawallError, IntegrityError, ValueError):
            continue
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            continue
        for site, shares in (doc.get("sites") or {}).items():
            for share, text in shares.items():
                raw = base64.b64decode(text)
                if len(raw) == CHALLENGES * ANSWER_BYTES:
                    found.setdefault(site, {})[share] = raw
    return found


def expected(answers: bytes, j: int) -> bytes:
    """Answer ``j`` of a share's recorded answers."""
    return answers[j * ANSWER_BYTES : (j + 1) * ANSWER_BYTES]
