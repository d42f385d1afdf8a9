"""What every command shares: the settings and a lazily opened node."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import click

from seawall.core.context import Ctx
from seawall.core.node import Node
from seawall.embassy.sites.directory import node_directory, use_directory
from seawall.settings import Settings, load_settings


@dataclass
class CliState:
    """Per-invocation state carried on ``click.Context.obj``."""

    home: Path | None = None
    # Custodian shares given to ``seawall embassy`` (as text): they open repositories.
    custodian_shares: tuple[str, ...] = ()
    _node: Node | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        """Settings for the chosen home."""
        return load_settings(home=self.home) if self.home else load_settings()

    def node(self) -> Node:
        """The node, checked ready (reachable, migrated, keyed)."""
        if self._node is None:
            node = Node(self.settings())
            node.check_ready()
            # seawall:// embassy sites find their partner (URL, key, token) on this node.
            use_directory(node_directory(node))
            self._node = node
        return self._node

    @contextmanager
    def operator_unit(self, source: str = "cli") -> Iterator[Ctx]:
        """A unit of work on the node as its operator: what a command run on the node does."""
        node = self.node()
        with node.unit(node.operator(source)) as ctx:
            yield ctx

    def close(self) -> None:
        """Close the node, if the command opened it."""
        if self._node is not None:
            self._node.close()
            self._node = None


pass_state = click.make_pass_decorator(CliState)
