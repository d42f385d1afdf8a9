"""Whether a TCP port can be listened on, and which process holds it when it cannot.

``seawall serve`` asks before it says it is serving: a busy port is one line naming the
process that listens there (read from ``/proc/net/tcp``, ``/proc/net/tcp6`` and the
``/proc/<pid>/fd`` links to that socket), not a server that starts and dies.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
from pathlib import Path

from seawall.errors import PortUnavailable

LISTEN = "0A"
"""The state of a listening socket in ``/proc/net/tcp``."""


def listening_inodes(port: int, proc: Path = Path("/proc")) -> set[str]:
    """The socket inodes listening on ``port`` (any address), from ``/proc/net/tcp{,6}``."""
    found: set[str] = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = (proc / "net" / table).read_text(errors="replace").splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == LISTEN and _port_of(fields[1]) == port:
                found.add(fields[9])
    return found


def _port_of(address: str) -> int | None:
    """The port of a ``/proc/net/tcp`` address (``0100007F:1F40``); None for one unreadable."""
    _, colon, port = address.rpartition(":")
    try:
        return int(port, 16) if colon else None
    except ValueError:
        return None


def holders(port: int, proc: Path = Path("/proc")) -> list[tuple[int, str]]:
    """The (pid, command name) of each process this user may see that listens on ``port``."""
    inodes = {f"socket:[{inode}]" for inode in listening_inodes(port, proc)}
    found: list[tuple[int, str]] = []
    if not inodes:
        return found
    try:
        entries = list(proc.iterdir())
    except OSError:  # no process table to read: the caller says "another user's process"
        return found
    for entry in entries:
        if not entry.name.isdigit():
            continue
        if _links(entry / "fd") & inodes:
            try:
                name = (entry / "comm").read_text().strip()
            except OSError:
                name = "?"
            found.append((int(entry.name), name))
    return sorted(found)


def _links(fds: Path) -> set[str]:
    """What a process's open descriptors point at; none for another user's process."""
    found: set[str] = set()
    try:
        for fd in fds.iterdir():
            with contextlib.suppress(OSError):  # closed meanwhile (the listing's own)
                found.add(os.readlink(fd))
    except OSError:  # another user's process, or one that just ended
        pass
    return found


def check_port(host: str, port: int) -> None:
    """Return if ``host:port`` can be listened on now; else PortUnavailable saying who holds
    it (or that the address is not this machine's, or needs privileges)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As uvicorn binds: a port left in TIME_WAIT by a server just stopped is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except (socket.gaierror, UnicodeError, TypeError):  # TypeError: a NUL in it
            raise PortUnavailable(
                f"cannot listen on {host}:{port}: {host!r} is no address"
            ) from None
        except OSError as exc:
            raise PortUnavailable(_why(host, port, exc)) from None


def _why(host: str, port: int, exc: OSError) -> str:
    where = f"{host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        held = holders(port)
        if held:
            who = ", ".join(f"{name} (pid {pid})" for pid, name in held)
            return f"port {where} is in use by {who}: stop it, or serve with --port"
        return f"port {where} is in use by another user's process: serve with --port"
    if exc.errno == errno.EACCES:
        return f"port {where} needs privileges: serve on a port above 1023 (--port 8000)"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {where}: {host} is not an address of this machine"
    return f"cannot listen on {where}: {exc.strerror}"


__all__ = ["check_port", "holders", "listening_inodes"]
