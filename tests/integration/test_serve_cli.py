"""``seawall serve``: a busy port is refused up front naming its holder; requests are logged."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.cli import init_node, run_seawall
from tests.conftest import free_port
from tests.servers import stop_process


def test_a_busy_port_is_refused_before_serving(tmp_path: Path) -> None:
    home = init_node(tmp_path / "node")
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        busy = run_seawall(home, "serve", "--host", "127.0.0.1", "--port", str(port))
    assert busy.code == 73 and "serving" not in busy.output
    assert busy.err_lines == [
        f"error: port 127.0.0.1:{port} is in use by {_comm()} (pid {os.getpid()}): "
        "stop it, or serve with --port"
    ]


def test_serve_logs_each_request_on_stdout(tmp_path: Path) -> None:
    home = init_node(tmp_path / "node")
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "seawall", "--home", str(home), "serve",
             "--host", "127.0.0.1", "--port", str(port)],
            stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60  # a whole node starting on a busy CI machine
        while time.monotonic() < deadline and process.poll() is None:
            with contextlib.suppress(httpx.TransportError):
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            time.sleep(0.1)
        while '"GET /healthz HTTP/1.1"' not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop_process(process)
    shown = log.read_text()
    assert '"GET /healthz HTTP/1.1" 200' in shown, shown
    assert "Running job" not in shown  # the scheduler's INFO narration stays out


def _comm() -> str:
    with open(f"/proc/{os.getpid()}/comm") as handle:
        return handle.read().strip()
