"""Nations' nodes for stories told across borders: each served by uvicorn on 127.0.0.1 on the
real clock, and administered as a person would, through the ``seawall`` CLI.

- :func:`serve_nation` -> :class:`NationNode` (its home, :class:`Node`, server, ``cli()``)
- :func:`seawall_process` runs ``python -m seawall --home HOME ...`` in a child process: a
  person at a terminal on a machine with nothing of this test in it
- :func:`tree_manifest` -> every entry of a tree as ``stat`` and a hash see it, to compare a
  restore bit for bit
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seawall.core.clock import SystemClock
from seawall.core.node import Node, init_node
from seawall.settings import load_settings
from seawall.web.app import create_app
from tests.cli import Outcome, run_seawall
from tests.conftest import LiveServer, serve_in_thread

# A child process must not inherit a node of the test's environment, nor its passphrases.
_PRIVATE_ENV = ("SEAWALL_HOME", "SEAWALL_EMBASSY_PASSPHRASE", "SEAWALL_EMBASSY_NEW_PASSPHRASE")


@dataclass
class NationNode:
    """One nation's node, served on 127.0.0.1 until :meth:`stop`."""

    nation: str
    home: Path
    node: Node
    live: LiveServer | None

    @property
    def url(self) -> str:
        """Where partners reach it."""
        assert self.live is not None, f"{self.nation}'s node is not served"
        return self.live.url

    def cli(self, *args: str, env: dict[str, str] | None = None) -> Outcome:
        """``seawall --home HOME ARGS`` in-process, failing the test on a non-zero exit."""
        done = run_seawall(self.home, *args, env=env)
        assert done.code == 0, f"seawall {' '.join(args)} exited {done.code}: {done.output}"
        return done

    def stop(self) -> None:
        """Take the node off the network and close its database."""
        if self.live is not None:
            self.live.stop()
            self.live = None
        self.node.close()


def serve_nation(home: Path, nation: str, name: str) -> NationNode:
    """A new node of ``nation`` under ``home``, served on a free loopback port.

    The node keeps the real clock: the CLI runs against the same home with the real clock, and
    the hosts' tokens and agreements must agree with both about what time it is.
    """
    settings = load_settings(home=home, cookie_secure=False)
    node = init_node(settings, nation, name, clock=SystemClock())
    return NationNode(nation, home, node, serve_in_thread(create_app(node=node)))


def seawall_process(home: Path, *args: str, env: dict[str, str] | None = None) -> Outcome:
    """``python -m seawall --home HOME ARGS`` as a child process; its exit code and output."""
    base = {k: v for k, v in os.environ.items() if k not in _PRIVATE_ENV}
    done = subprocess.run(
        [sys.executable, "-m", "seawall", "--home", str(home), *args],
        capture_output=True,
        env={**base, **(env or {})},
        stdin=subprocess.DEVNULL,
        timeout=600,
        check=False,
    )
    return Outcome(done.returncode, done.stdout.decode(), done.stderr.decode())


def tree_manifest(root: Path) -> dict[str, dict[str, Any]]:
    """Every entry under ``root`` (itself as ``.``): type, mode, mtime, owner, size, content
    hash or link target, and the other names of a file with several."""
    entries: dict[str, dict[str, Any]] = {}
    inodes: dict[tuple[int, int], list[str]] = {}
    paths = [root, *sorted(root.rglob("*"))]
    for path in paths:
        rel = "." if path == root else str(path.relative_to(root))
        info = path.lstat()
        entry: dict[str, Any] = {
            "mode": stat.S_IMODE(info.st_mode),
            "mtime_ns": info.st_mtime_ns,
            "uid": info.st_uid,
            "gid": info.st_gid,
        }
        if stat.S_ISLNK(info.st_mode):
            entry.update(type="symlink", target=os.readlink(path))
        elif stat.S_ISDIR(info.st_mode):
            entry.update(type="dir")
        else:
            entry.update(
                type="file",
                size=info.st_size,
                sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
            )
            inodes.setdefault((info.st_dev, info.st_ino), []).append(rel)
        entries[rel] = entry
    for names in inodes.values():
        for name in names:
            entries[name]["same_file_as"] = sorted(set(names) - {name})
    return entries
