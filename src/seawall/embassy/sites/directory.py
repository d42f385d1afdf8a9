"""Where ``seawall://PARTNER/...`` sites find their partner: its URL, key and our token.

A process resolves partner names through one directory: the CLI sets it to the node it
opened (``--home``), tests to the node they play; otherwise the node of the environment's
settings is read. This module stays light (no HTTP client), so setting the directory costs a
command nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from seawall.core.node import Node


@dataclass(frozen=True)
class PartnerEndpoint:
    """How to reach a partner: its record's name and nation, URL, public key and our token."""

    name: str
    nation: str
    url: str
    public_key: str
    token: str


Directory = Callable[[str], PartnerEndpoint]
"""Finds a partner record by name (raises a SeawallError when it cannot)."""

_directory: Directory | None = None
_directory_lock = threading.Lock()


def use_directory(directory: Directory | None) -> None:
    """Resolve ``seawall://`` partners with ``directory`` in this process (None: the node of
    the environment's settings)."""
    global _directory
    with _directory_lock:
        _directory = directory


def node_directory(node: Node) -> Directory:
    """A directory reading partner records and tokens from ``node`` (a core Node)."""
    from seawall.core.federation.links import partner_token
    from seawall.core.partners import get_partner

    def find(name: str) -> PartnerEndpoint:
        with node.unit(node.operator("embassy")) as ctx:
            partner = get_partner(ctx, name)
            token = partner_token(ctx, node.settings, partner)
            return PartnerEndpoint(
                partner.name, partner.nation, partner.url, partner.public_key, token
            )

    return find


def resolve(name: str) -> PartnerEndpoint:
    """The partner ``name`` as this process's directory finds it."""
    with _directory_lock:
        directory = _directory
    if directory is None:
        from seawall.core.node import Node
        from seawall.settings import load_settings

        node = Node(load_settings())
        try:
            return node_directory(node)(name)
        finally:
            node.close()
    return directory(name)
