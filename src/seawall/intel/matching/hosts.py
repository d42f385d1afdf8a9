"""Which host of a log record is ours: internal networks, and certificates' hosts.

A match names the *internal* host involved, the one a responder would go and look at.
Internal means a private address: RFC 1918 (``10/8``, ``172.16/12``, ``192.168/16``) or an
RFC 4193 unique local IPv6 address (``fc00::/7``). A node has no setting of its own for
its networks, so these are the ranges every site's internal hosts use.

Zeek's ``x509.log`` names no host at all: a certificate is tied to its connection by the
file id (``id``, listed in ``ssl.log``'s ``cert_chain_fuids`` and in ``files.log``'s
``fuid`` with ``tx_hosts`` and ``rx_hosts``) or, from Zeek 4.2, by its ``fingerprint``
(listed in ``ssl.log``'s ``cert_chain_fps``). :class:`CertificateHosts` reads the
``ssl`` and ``files`` logs beside an ``x509`` log, of the same rotation
(``ssl.10:00:00-11:00:00.log.gz`` beside ``x509.10:00:00-11:00:00.log.gz``), for the
certificates the ``x509`` log holds and nothing else, so memory stays with the ``x509``
log's size.
"""

from __future__ import annotations

import gzip
import ipaddress
import json
import time
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, cast

_INTERNAL = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)

# Fields that name a certificate: x509.log's own, and the lists that point at them.
_CERT_KEYS = ("id", "fingerprint")
_SSL_CHAINS = (
    "cert_chain_fuids",
    "client_cert_chain_fuids",
    "cert_chain_fps",
    "client_cert_chain_fps",
)
_MAX_LINE = 2**20
RELOOK = 30.0  # seconds between reads of a growing x509 log's ssl and files logs


def is_internal(address: str) -> bool:
    """Whether ``address`` is in an internal (RFC 1918 or RFC 4193) network."""
    try:
        parsed = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return False
    return any(parsed in network for network in _INTERNAL if network.version == parsed.version)


def internal_host(*groups: Sequence[str]) -> str | None:
    """The first internal address in ``groups`` (tried in order), else the first address."""
    for group in groups:
        for address in group:
            if is_internal(address):
                return address
    for group in groups:
        for address in group:
            if address:
                return address
    return None


def set_separator(value: str) -> str:
    """A Zeek ``#set_separator`` header's value with its escapes read (``\\x2c``), or as
    written when it is no escape; a comma when empty."""
    try:
        return value.encode().decode("unicode_escape") or ","
    except UnicodeDecodeError:
        return value or ","


def zeek_records(path: Path) -> Iterator[dict[str, list[str]]]:
    """Each record of a Zeek log (TSV or JSON, gzip or not): field -> its values."""
    try:
        with path.open("rb") as raw:
            head = raw.peek(2)[:2]
            stream = cast(IO[bytes], gzip.GzipFile(fileobj=raw) if head == b"\x1f\x8b" else raw)
            names: list[str] = []
            separator = ","
            for data in iter(lambda: stream.readline(_MAX_LINE), b""):
                # As ZeekReader reads it: a line ends at \n, and a \r before it ends its text.
                line = data.decode("utf-8", "replace").rstrip("\r\n")
                if line.startswith("#"):
                    key, _, rest = line.partition("\t")
                    if key == "#set_separator":
                        separator = set_separator(rest)
                    elif key == "#fields":
                        names = rest.split("\t")
                    continue
                if line.startswith("{"):
                    yield _json_record(line)
                elif names:
                    yield _tsv_record(names, line.split("\t"), separator)
    except (OSError, EOFError, zlib.error):
        return  # a companion log that cannot be read names no hosts


def json_record(line: str) -> dict[str, Any] | None:
    """A line's JSON object; None for a line that holds none (a broken line, or one nested
    past Python's stack: a JSON reader reads it as a line that is no record)."""
    try:
        parsed = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


def _json_record(line: str) -> dict[str, list[str]]:
    """A JSON line's fields and their values; nothing for a line that holds no object."""
    parsed = json_record(line) or {}
    record: dict[str, list[str]] = {}
    for name, value in parsed.items():
        items = value if isinstance(value, list) else [value]
        # Hosts and certificate keys are strings (or numbers); a list or object in their
        # place names nothing, and str() of one nested deep would overflow the stack.
        record[name] = [str(i) for i in items if isinstance(i, str | int | float)]
    return record


def _tsv_record(names: list[str], cells: list[str], separator: str) -> dict[str, list[str]]:
    record: dict[str, list[str]] = {}
    for name, cell in zip(names, cells, strict=False):
        if cell not in ("-", "(empty)", ""):
            record[name] = cell.split(separator)
    return record


def sibling(path: Path, kind: str) -> Path | None:
    """The ``kind`` log (``ssl``, ``files``) of the same rotation as the log at ``path``."""
    _, dot, rest = path.name.partition(".")
    if not dot:
        return None
    found = path.with_name(f"{kind}.{rest}")
    return found if found != path and found.is_file() else None


class CertificateHosts:
    """The internal host each certificate of one ``x509`` log was seen with."""

    def __init__(self, path: Path | None, every: float = RELOOK) -> None:
        self.path = path
        self.every = every
        self._hosts: dict[str, str] | None = None
        self._stamp: list[tuple[int, int]] = []
        self._read_at = 0.0

    def host(self, keys: Iterable[str]) -> str | None:
        """The host the certificate with these keys (file id, fingerprint) was seen with.

        A certificate not found is looked for again once the logs have changed since they
        were read (a followed log grows: Zeek writes a connection's ssl.log line when it
        ends, after its certificates), at most every ``every`` seconds, since that reads
        the logs again."""
        wanted = list(keys)
        if self._hosts is None or (
            not self._find(wanted)
            and time.monotonic() - self._read_at >= self.every
            and self._stamp != self._stamps()
        ):
            self._stamp, self._read_at = self._stamps(), time.monotonic()
            self._hosts = self._load()
        return self._find(wanted)

    def _find(self, keys: list[str]) -> str | None:
        for key in keys:
            found = (self._hosts or {}).get(key)
            if found is not None:
                return found
        return None

    def _stamps(self) -> list[tuple[int, int]]:
        """The size and time of change of the logs read, to see whether they changed."""
        if self.path is None:
            return []
        stamps = []
        for path in (self.path, sibling(self.path, "ssl"), sibling(self.path, "files")):
            try:
                found = path.stat() if path is not None else None
            except OSError:
                found = None
            stamps.append((found.st_size, found.st_mtime_ns) if found else (-1, -1))
        return stamps

    def _load(self) -> dict[str, str]:
        if self.path is None:
            return {}
        ssl, files = sibling(self.path, "ssl"), sibling(self.path, "files")
        if ssl is None and files is None:
            return {}
        wanted = {k for r in zeek_records(self.path) for f in _CERT_KEYS for k in r.get(f, ())}
        hosts: dict[str, str] = {}
        if ssl is not None:
            for record in zeek_records(ssl):
                found = internal_host(record.get("id.orig_h", []), record.get("id.resp_h", []))
                for chain in _SSL_CHAINS:
                    for key in record.get(chain, ()):
                        if found and key in wanted:
                            hosts.setdefault(key, found)
        if files is not None:
            for record in zeek_records(files):
                for key in record.get("fuid", ()):
                    if key in wanted and key not in hosts:
                        found = internal_host(
                            record.get("rx_hosts", []), record.get("tx_hosts", [])
                        )
                        if found:
                            hosts[key] = found
        return hosts
