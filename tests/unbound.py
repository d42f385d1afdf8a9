"""A real Unbound on 127.0.0.1 that applies a Seawall RPZ and logs what it applied.

:func:`running_unbound` serves ``root/seawall.rpz`` in front of an upstream zone for ``net.``
and logs each RPZ hit to ``root/unbound.log``; :func:`ask` queries it. tools/ensure-services
installs unbound (CI too): a missing binary fails the test rather than skipping it.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rcode

from tests.servers import free_port, stop_process

UNBOUND = shutil.which("unbound") or "/usr/sbin/unbound"


def unbound_conf(root: Path, port: int) -> str:
    """Unbound's configuration: ``root``'s upstream zone, its RPZ, and its log."""
    return f"""server:
    interface: 127.0.0.1
    port: {port}
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "{root}"
    pidfile: ""
    use-syslog: no
    logfile: "{root}/unbound.log"
    verbosity: 0
    module-config: "respip iterator"
    do-not-query-localhost: yes
remote-control:
    control-enable: no
auth-zone:
    name: "net."
    zonefile: "{root}/upstream.zone"
    for-downstream: no
    for-upstream: yes
    fallback-enabled: no
rpz:
    name: "rpz.seawall"
    zonefile: "{root}/seawall.rpz"
    rpz-log: yes
    rpz-log-name: "seawall"
"""


@contextmanager
def running_unbound(root: Path, upstream: str) -> Iterator[int]:
    """Unbound serving ``root/seawall.rpz`` over the zone ``upstream``; yields its port.

    Its log, ``root/unbound.log``, is complete once the block ends (the server has stopped).
    """
    (root / "upstream.zone").write_text(upstream)
    port = free_port()
    (root / "unbound.conf").write_text(unbound_conf(root, port))
    server = subprocess.Popen(
        [UNBOUND, "-c", str(root / "unbound.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield port
    finally:
        stop_process(server)


def ask(port: int, name: str, kind: str = "A") -> tuple[str, list[str]]:
    """The answer's code and records for ``name`` (retried until Unbound listens, 10 s)."""
    deadline = time.monotonic() + 10
    while True:
        try:
            answer = dns.query.udp(
                dns.message.make_query(name, kind), "127.0.0.1", port=port, timeout=1
            )
            return str(dns.rcode.to_text(answer.rcode())), [str(r) for r in answer.answer]
        except dns.exception.Timeout:
            if time.monotonic() > deadline:
                raise
