"""The repository config and the fixed object names every site holds.

The config is sealed JSON at ``config``; the plaintext ``repository`` marker names the
repository id and the site's share index. See docs/embassy-format.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from seawall.embassy.chunking import ChunkerParams
from seawall.embassy.erasure import check_shape
from seawall.embassy.errors import BadRepositoryConfig

FORMAT = "seawall-embassy"
FORMAT_VERSION = 1
MARKER = "repository"
CONFIG = "config"


def read_marker(data: bytes) -> dict[str, object] | None:
    """The marker's fields, or None when it is no marker of this format (torn, emptied,
    overwritten). The marker is not authenticated: only the sealed config proves a site."""
    try:
        doc = json.loads(data)
    except ValueError:
        return None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        return None
    if not isinstance(doc.get("repository"), str) or not isinstance(doc.get("site"), int):
        return None
    return doc


def marker_fits(data: bytes, repo_id: str, index: int) -> bool:
    """True when ``data`` is the marker site ``index`` of repository ``repo_id`` should hold."""
    doc = read_marker(data)
    return doc is not None and (doc["repository"], doc["site"]) == (repo_id, index)


def object_context(repo_id: str, name: str) -> bytes:
    """AEAD context binding a sealed repository object to its repository and name."""
    return f"seawall-embassy/v1 {repo_id} {name}".encode()


@dataclass(frozen=True)
class RepoConfig:
    """The sealed repository config, identical on every site (highest generation wins)."""

    id: str
    name: str
    k: int
    n: int
    sites: tuple[str, ...]
    chunker: ChunkerParams
    pack_size: int
    generation: int
    created: str

    def to_json(self) -> bytes:
        """Sealed-plaintext JSON."""
        doc = {
            "version": FORMAT_VERSION,
            "id": self.id,
            "name": self.name,
            "k": self.k,
            "n": self.n,
            "sites": list(self.sites),
            "chunker": {
                "algorithm": "fastcdc2020",
                "min_size": self.chunker.min_size,
                "avg_size": self.chunker.avg_size,
                "max_size": self.chunker.max_size,
                "normalized_chunking": 1,
                "seed": self.chunker.seed,
            },
            "pack_size": self.pack_size,
            "generation": self.generation,
            "created": self.created,
        }
        return json.dumps(doc, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> RepoConfig:
        """Parse; BadRepositoryConfig when malformed."""
        try:
            doc = json.loads(data)
            if doc["version"] != FORMAT_VERSION:
                raise BadRepositoryConfig("repository format version is not supported")
            ch = doc["chunker"]
            config = cls(
                id=str(doc["id"]),
                name=str(doc["name"]),
                k=int(doc["k"]),
                n=int(doc["n"]),
                sites=tuple(str(s) for s in doc["sites"]),
                chunker=ChunkerParams(
                    int(ch["min_size"]), int(ch["avg_size"]), int(ch["max_size"]), int(ch["seed"])
                ),
                pack_size=int(doc["pack_size"]),
                generation=int(doc["generation"]),
                created=str(doc["created"]),
            )
        except (ValueError, KeyError, TypeError):
            raise BadRepositoryConfig("repository config is malformed") from None
        check_shape(config.k, config.n)
        if len(config.sites) != config.n:
            raise BadRepositoryConfig("repository config lists the wrong number of sites")
        return config
