"""An emulated thin link to a host node: a rate limit in the kernel, delay, loss and cuts in
a TCP proxy, and every byte counted.

The host node's uvicorn listens inside a network namespace of its own, reached over a veth
pair whose two ends each carry a ``tbf`` qdisc at the link's rate (upload and download
apart, as on a real full-duplex link). The guest reaches it through :class:`Proxy`, an
asyncio TCP proxy on 127.0.0.1 that

- holds each piece of data for half the round trip in each direction;
- emulates loss as TCP feels it with SACK: each 1448-byte segment is lost with the given
  probability, and the stream stalls for one round trip (its retransmission) behind it.
  Packets are not really dropped (this kernel has no ``netem``), so the congestion window
  does not shrink: real TCP at 1% loss over 250 ms reaches less (about 0.6 Mbit/s per
  connection by the Mathis formula);
- cuts every open connection on demand, after a given count of upload bytes, and refuses
  new ones for a while (the link is down), as a dropped link does;
- counts the TCP payload bytes it forwards each way (HTTP headers and bodies; not the
  TCP/IP headers).

Needs root (``ip netns``, ``tc``); :func:`thin_link` skips the test otherwise. Addresses are
in 10.231.0.0/16, and traffic goes only to loopback and the namespace.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import fcntl
import os
import random
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
import uvicorn

from seawall.core import partners, tokens, users
from seawall.core.clock import FrozenClock
from seawall.core.federation.identity import load_node_key
from seawall.core.federation.links import link_partner
from seawall.web.app import create_app
from tests.conftest import EPOCH, LiveServer, make_node
from tests.hosts import Guest, Host

CLONE_NEWNET = 0x40000000
SEGMENT = 1448


def run(*argv: str) -> None:
    """Run a command, failing loudly with its error output."""
    subprocess.run(argv, check=True, capture_output=True, text=True)


@dataclass
class Namespace:
    """A network namespace joined to this one by a veth pair shaped by ``tbf``."""

    name: str
    inside: str  # the namespace's address
    outside: str  # this side's address
    out: str = ""  # the veth end on this side
    inn: str = ""  # the veth end in the namespace

    def socket(self, port: int = 0) -> socket.socket:
        """A TCP socket listening inside the namespace (made on a thread that joins it)."""
        made: list[socket.socket | BaseException] = []

        def make() -> None:
            try:
                libc = ctypes.CDLL(None, use_errno=True)
                with open(f"/var/run/netns/{self.name}") as ns:
                    if libc.setns(ns.fileno(), CLONE_NEWNET) != 0:
                        raise OSError(ctypes.get_errno(), "setns failed")
                sock = socket.socket()
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((self.inside, port))
                sock.listen(64)
                made.append(sock)
            except BaseException as exc:
                made.append(exc)

        # The thread's namespace changes with it and ends with it; the socket stays there.
        thread = threading.Thread(target=make)
        thread.start()
        thread.join()
        found = made[0]
        if isinstance(found, BaseException):
            raise found
        return found


@contextlib.contextmanager
def namespace(rate: str) -> Iterator[Namespace]:
    """A namespace whose veth link carries ``rate`` each way; removed even on failure."""
    if os.geteuid() != 0 or shutil.which("ip") is None or shutil.which("tc") is None:
        pytest.skip("an emulated link needs root, ip and tc")
    tag = uuid.uuid4().hex[:6]
    name, out, inn = f"swl-{tag}", f"swo{tag}", f"swi{tag}"
    try:
        run("ip", "netns", "add", name)
        run("ip", "link", "add", out, "type", "veth", "peer", "name", inn)
        ns = _address(name, out)
        run("ip", "link", "set", inn, "netns", ns.name)
        run("ip", "link", "set", out, "up")
        inside = ("ip", "netns", "exec", ns.name)
        run(*inside, "ip", "addr", "add", f"{ns.inside}/30", "dev", inn)
        run(*inside, "ip", "link", "set", inn, "up")
        run(*inside, "ip", "link", "set", "lo", "up")
        tbf = ("root", "tbf", "rate", rate, "burst", "32kbit", "latency", "400ms")
        run("tc", "qdisc", "add", "dev", out, *tbf)  # upload: towards the host
        run(*inside, "tc", "qdisc", "add", "dev", inn, *tbf)  # download: from the host
        yield ns
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            run("ip", "link", "del", out)
        with contextlib.suppress(subprocess.CalledProcessError):
            run("ip", "netns", "del", name)


def _address(name: str, out: str) -> Namespace:
    """Put the first /30 of 10.231.0.0/16 that no interface holds on ``out``.

    Under a lock, as another test process (an xdist worker) may be choosing at the same time:
    two links on one subnet would route one's traffic into the other's namespace.
    """
    with open(os.path.join(tempfile.gettempdir(), "seawall-linkemu.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        shown = subprocess.run(
            ["ip", "-o", "-4", "addr", "show"], check=True, capture_output=True, text=True
        ).stdout
        net = next(n for n in range(1, 250) if f" 10.231.{n}." not in shown)
        ns = Namespace(name, f"10.231.{net}.2", f"10.231.{net}.1", out, out.replace("swo", "swi"))
        run("ip", "addr", "add", f"{ns.outside}/30", "dev", out)
    return ns


@dataclass
class Proxy:
    """A TCP proxy on 127.0.0.1 to ``upstream`` adding delay, loss stalls and cuts."""

    upstream: tuple[str, int]
    delay: float  # one way, seconds
    loss: float  # per 1448-byte segment
    seed: int = 1
    down_for: float = 2.0  # how long a cut keeps the link down
    up_bytes: int = 0  # guest to host
    down_bytes: int = 0  # host to guest
    cuts: int = 0
    cut_at: list[int] = field(default_factory=list)  # upload byte counts to cut at
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _open: set[asyncio.StreamWriter] = field(default_factory=set)
    _down_until: float = 0.0
    _random: random.Random = field(default_factory=random.Random)

    @property
    def url(self) -> str:
        """Where the guest reaches the host."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Serve on a thread of its own until :meth:`stop`."""
        self._random.seed(self.seed)
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            server = loop.run_until_complete(asyncio.start_server(self._accept, "127.0.0.1", 0))
            self.port = server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()
            server.close()
            for writer in self._open:
                writer.transport.abort()
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.wait(pending))
            loop.run_until_complete(server.wait_closed())
            loop.close()

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        ready.wait(10)

    def stop(self) -> None:
        """Stop serving and close every connection."""
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def cut(self) -> None:
        """Drop the link: close every open connection, refuse new ones for ``down_for``."""
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._cut)

    def _cut(self) -> None:
        self.cuts += 1
        self._down_until = time.monotonic() + self.down_for
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if time.monotonic() < self._down_until:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self._open.update((writer, up_writer))
        try:
            await asyncio.gather(
                self._pump(reader, up_writer, upload=True),
                self._pump(up_reader, writer, upload=False),
            )
        except (OSError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # a cut, a reset, or the proxy stopping: the connection just ends
        finally:
            for each in (writer, up_writer):
                self._open.discard(each)
                each.transport.abort()

    def _stall(self, size: int) -> float:
        """Round trips lost to retransmissions of the segments in ``size`` bytes."""
        segments = max(1, -(-size // SEGMENT))
        lost = sum(1 for _ in range(segments) if self._random.random() < self.loss)
        return lost * 2 * self.delay

    async def _pump(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, *, upload: bool
    ) -> None:
        """Forward one direction: each piece leaves ``delay`` after it came (in order, after
        any loss stall), and the pump reads no further ahead than 64 pieces."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(64)
        loop = asyncio.get_running_loop()

        async def read() -> None:
            last = 0.0
            while True:
                data = await source.read(16384)
                due = max(last, loop.time() + self.delay) + (self._stall(len(data)) if data else 0)
                last = due
                await queue.put((due, data))
                if not data:
                    return

        async def write() -> None:
            while True:
                due, data = await queue.get()
                await asyncio.sleep(max(0.0, due - loop.time()))
                if not data:
                    if sink.can_write_eof():
                        sink.write_eof()
                    return
                sink.write(data)
                if upload:
                    before = self.up_bytes
                    self.up_bytes += len(data)
                    if any(before < at <= self.up_bytes for at in self.cut_at):
                        # The rest of this piece never arrives: cut before it is flushed.
                        self._cut()
                        return
                else:
                    self.down_bytes += len(data)
                await sink.drain()

        await asyncio.gather(read(), write())


@dataclass
class ThinLink:
    """A host node behind an emulated link, and the proxy that counts its bytes."""

    ns: Namespace
    proxy: Proxy
    server: LiveServer

    @property
    def wire_bytes(self) -> int:
        """TCP payload bytes both ways."""
        return self.proxy.up_bytes + self.proxy.down_bytes

    def widen(self) -> None:
        """Lift the rate limit, the delay and the loss: to read back what crossed the thin
        link without waiting on it again. Bytes are still counted."""
        self.proxy.delay = 0.0
        self.proxy.loss = 0.0
        run("tc", "qdisc", "del", "dev", self.ns.out, "root")
        run("ip", "netns", "exec", self.ns.name, "tc", "qdisc", "del", "dev", self.ns.inn, "root")


def serve_in_namespace(app: object, ns: Namespace) -> LiveServer:
    """uvicorn serving ``app`` on a socket inside ``ns``, on a thread of this process."""
    sock = ns.socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off")  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start within 10 s")
        time.sleep(0.02)
    return LiveServer(f"http://{ns.inside}:{port}", server, thread)


@contextlib.contextmanager
def thin_host(
    guest: Guest,
    *,
    rate: str = "2mbit",
    rtt: float = 0.25,
    loss: float = 0.01,
    nation: str = "TT",
    seed: int = 1,
) -> Iterator[tuple[Host, ThinLink]]:
    """A host node for ``guest`` behind an emulated link (as ``Guest.add_host`` links one)."""
    with namespace(rate) as ns:
        name = f"{nation.lower()}-thin-{uuid.uuid4().hex[:6]}"
        node = make_node(guest.base / name, None, FrozenClock(EPOCH), nation)
        live = serve_in_namespace(create_app(node=node), ns)
        proxy = Proxy((ns.inside, int(live.url.rsplit(":", 1)[1])), rtt / 2, loss, seed)
        proxy.start()
        try:
            host = _link(guest, name, node, live, proxy.url)
            yield host, ThinLink(ns, proxy, live)
        finally:
            proxy.stop()
            live.stop()
            node.close()


def _link(guest: Guest, name: str, node: object, live: LiveServer, url: str) -> Host:
    """Link the host and the guest both ways; the guest reaches the host at ``url``."""
    from seawall.core.node import Node

    assert isinstance(node, Node)
    guest_partner = f"{guest.node.nation.lower()}-guest"
    with node.unit(node.operator()) as ctx:
        partners.add_partner(ctx, guest_partner, guest.node.nation, "http://127.0.0.1:9")
        link_partner(
            ctx,
            node.settings,
            guest_partner,
            public_key=load_node_key(guest.node.settings).public_text,
        )
        users.add_user(ctx, "embassy-guest", "viewer", partner=guest_partner)
        token = tokens.create_token(ctx, "embassy", [], username="embassy-guest").value
    with guest.node.unit(guest.node.operator()) as ctx:
        partners.add_partner(ctx, name, node.nation, url, embassy_host=True)
        link_partner(
            ctx,
            guest.node.settings,
            name,
            token=token,
            public_key=load_node_key(node.settings).public_text,
        )
    return Host(name, node, live, token, guest_partner, guest.node)


def wait_until(check: Callable[[], bool], timeout: float) -> bool:
    """Poll ``check`` until true or ``timeout`` seconds passed."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
