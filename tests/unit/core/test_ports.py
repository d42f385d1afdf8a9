"""A busy port is named with the process that holds it, read from /proc, before serving."""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path

import pytest

from seawall.core.logs import configure_logging
from seawall.core.ports import check_port, holders, listening_inodes
from seawall.errors import PortUnavailable


def test_a_port_held_by_a_listener_names_its_process() -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        assert (os.getpid(), _comm()) in holders(port)
        with pytest.raises(PortUnavailable) as refused:
            check_port("127.0.0.1", port)
    assert refused.value.message == (
        f"port 127.0.0.1:{port} is in use by {_comm()} (pid {os.getpid()}): "
        "stop it, or serve with --port"
    )
    check_port("127.0.0.1", port)  # closed: free again


def test_an_address_not_of_this_machine_is_one_line() -> None:
    with pytest.raises(PortUnavailable, match="is not an address of this machine"):
        check_port("192.0.2.1", 8000)


@pytest.mark.parametrize("host", ["no such host.invalid", "a\x00b", "[::1]"])
def test_a_host_that_is_no_address_is_one_line(host: str) -> None:
    with pytest.raises(PortUnavailable, match="is no address"):
        check_port(host, 8000)


def test_weasyprint_layout_warnings_stay_out_of_the_console() -> None:
    configure_logging("info", json=False)
    assert not logging.getLogger("weasyprint").isEnabledFor(logging.WARNING)
    assert logging.getLogger("weasyprint").isEnabledFor(logging.ERROR)


def _comm() -> str:
    with open(f"/proc/{os.getpid()}/comm") as handle:
        return handle.read().strip()


def test_odd_lines_in_proc_are_passed_over(tmp_path: Path) -> None:
    (tmp_path / "net").mkdir()
    header = (
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt uid inode\n"
    )
    good = (
        "1: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000 1000 0 4242 1\n"
    )
    odd = [
        "   0: 0100007F 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 1 1\n",
        "   2: 0100007F:ZZZZ 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 2 1\n",
        "   3: truncated\n",
    ]
    (tmp_path / "net" / "tcp").write_text(header + "".join(odd) + good)
    (tmp_path / "net" / "tcp6").write_bytes(b"\xff\xfe not text\n\x00")
    assert listening_inodes(8000, tmp_path) == {"4242"}
    assert holders(8000, tmp_path) == []  # no process directories here
