"""Real Seawall nodes on 127.0.0.1 that host embassy shares for a guest node (``seawall://``).

A :class:`Guest` is a node (not served) whose partner records point at hosts it adds with
:meth:`Guest.add_host`: each host is another nation's node served by uvicorn in a thread,
holding the guest's partner record and an account bound to it, whose token the guest stores
with the partner link. :meth:`Host.agreement` makes a hosting agreement and answers its
``seawall://`` URL.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from seawall.core import partners, tokens, users
from seawall.core.clock import FrozenClock
from seawall.core.federation.identity import load_node_key
from seawall.core.federation.links import link_partner
from seawall.core.node import Node
from seawall.embassy.hosting.agreements import add_agreement
from seawall.embassy.hosting.store import hosted_root
from seawall.embassy.sites.directory import node_directory, use_directory
from seawall.web.app import create_app
from tests.conftest import EPOCH, LiveServer, make_node, serve_in_thread


@dataclass
class Host:
    """A partner node that hosts the guest's shares, served on 127.0.0.1."""

    name: str  # the partner record's name on the guest
    node: Node
    live: LiveServer
    token: str
    guest_partner: str  # the guest's partner record's name on this host
    guest: Node  # resolves this host's seawall:// sites

    @property
    def root(self) -> Path:
        """Where this host keeps hosted versions."""
        return hosted_root(self.node.settings)

    def agreement(
        self, name: str | None = None, *, quota: int = 1 << 30, retention_days: int = 30
    ) -> str:
        """A new agreement for the guest; its ``seawall://`` URL."""
        name = name or f"agr-{uuid.uuid4().hex[:10]}"
        # Another test (a CLI run) may have pointed this process's directory elsewhere.
        use_directory(node_directory(self.guest))
        with self.node.unit(self.node.operator()) as ctx:
            add_agreement(
                ctx,
                name,
                self.guest_partner,
                quota_bytes=quota,
                retention_days=retention_days,
                expires_at=ctx.now() + timedelta(days=365),
            )
        return f"seawall://{self.name}/{name}"

    def stop(self) -> None:
        """Take the host off the network (its node stays open for inspection)."""
        self.live.stop()


@dataclass
class Guest:
    """The nation whose shares partner nodes host; its node resolves ``seawall://`` partners."""

    node: Node
    base: Path
    hosts: list[Host] = field(default_factory=list)

    def add_host(self, nation: str = "TT", name: str | None = None) -> Host:
        """Start a host node of ``nation`` and link it both ways with the guest."""
        name = name or f"{nation.lower()}-host-{uuid.uuid4().hex[:6]}"
        node = make_node(self.base / name, None, FrozenClock(EPOCH), nation)
        live = serve_in_thread(create_app(node=node))
        guest_partner = f"{self.node.nation.lower()}-guest"
        with node.unit(node.operator()) as ctx:
            partners.add_partner(ctx, guest_partner, self.node.nation, "http://127.0.0.1:9")
            link_partner(
                ctx,
                node.settings,
                guest_partner,
                public_key=load_node_key(self.node.settings).public_text,
            )
            users.add_user(ctx, "embassy-guest", "viewer", partner=guest_partner)
            token = tokens.create_token(ctx, "embassy", [], username="embassy-guest").value
        with self.node.unit(self.node.operator()) as ctx:
            partners.add_partner(ctx, name, nation, live.url, embassy_host=True)
            link_partner(
                ctx,
                self.node.settings,
                name,
                token=token,
                public_key=load_node_key(node.settings).public_text,
            )
        host = Host(name, node, live, token, guest_partner, self.node)
        self.hosts.append(host)
        return host

    def close(self) -> None:
        """Stop every host and close every node."""
        for host in self.hosts:
            host.live.stop()
            host.node.close()
        self.node.close()


def start_guest(base: Path, nation: str = "JM") -> Guest:
    """A guest node whose ``seawall://`` sites this process resolves."""
    node = make_node(base / "guest", None, FrozenClock(EPOCH), nation)
    use_directory(node_directory(node))
    return Guest(node, base)


@pytest.fixture
def guest(tmp_path: Path) -> Iterator[Guest]:
    """A guest node of this test alone (under ``tmp_path/jm``)."""
    made = start_guest(tmp_path / "jm")
    yield made
    use_directory(None)
    made.close()


@pytest.fixture(scope="session")
def partner_guest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Guest]:
    """A guest node for the session (its hosts are added by the tests that need them)."""
    guest = start_guest(tmp_path_factory.mktemp("embassy-guest"))
    yield guest
    use_directory(None)
    guest.close()


@pytest.fixture(scope="session")
def partner_host(partner_guest: Guest) -> Host:
    """One host node for the session; each test takes an agreement of its own."""
    return partner_guest.add_host()
