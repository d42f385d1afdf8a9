"""A site on an SFTP server (``sftp://user@host:port/path``), over paramiko with key auth.

Options in the URL query: ``key=/path/to/identity`` (otherwise the agent and the default
``~/.ssh`` keys), ``known_hosts=/path`` (default ``~/.ssh/known_hosts``) and
``accept_new=1`` to trust and record an unknown host key on first contact, as OpenSSH's
``StrictHostKeyChecking=accept-new`` does. A changed host key is always refused.
"""

from __future__ import annotations

import contextlib
import getpass
import stat
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar
from urllib.parse import quote, unquote, urlencode

import paramiko

from seawall.embassy.errors import (
    BadSiteUrl,
    HostKeyRejected,
    ObjectMissing,
    SiteFull,
    SiteUnavailable,
)
from seawall.embassy.sites.base import TEMP_PREFIX, ObjectInfo, TempInfo, check_name
from seawall.embassy.sites.urls import flag, query_options, redact_url, split_url

T = TypeVar("T")
DEFAULT_KNOWN_HOSTS = Path("~/.ssh/known_hosts")
READ_PIECE = 32768  # paramiko's SFTP request size, for reads and writes
# What paramiko raises, both for a broken link and (OSError) for an SFTP status answer;
# the two are told apart by whether the transport is still active.
LINK_ERRORS = (OSError, EOFError, paramiko.SSHException)


def _one_line(exc: BaseException) -> str:
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return " ".join(text.split()) or type(exc).__name__


def _is_status_failure(exc: BaseException) -> bool:
    """True for SSH_FX_FAILURE: OpenSSH reports ENOSPC and EDQUOT on write this way."""
    return isinstance(exc, OSError) and exc.errno is None and "failure" in str(exc).lower()


def _write_checked(handle: paramiko.SFTPFile, data: bytes) -> None:
    """Write ``data`` fast yet learn of every failed write request.

    paramiko drops the status of pipelined writes (and of close), so a full disk would
    pass silently and leave a torn object. All but the last request go pipelined; the
    last one is sent unpipelined, which makes paramiko wait for every outstanding write
    and raise on the first refused one. The size check then confirms the file.
    """
    split = max(0, len(data) - READ_PIECE)
    handle.set_pipelined(True)
    handle.write(data[:split])
    handle.set_pipelined(False)
    handle.write(data[split:])
    size = handle.stat().st_size
    if size != len(data):
        raise OSError(f"Failure: wrote {size} of {len(data)} bytes")


class _UnknownHostKey(paramiko.SSHException):
    """Raised by the reject policy so an unknown key is told apart from other failures."""


class _RejectUnknown(paramiko.MissingHostKeyPolicy):
    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        raise _UnknownHostKey(hostname)


class _AcceptNew(paramiko.MissingHostKeyPolicy):
    """Trust an unknown host key and append it to known_hosts (never replaces a changed one)."""

    def __init__(self, known_hosts: Path) -> None:
        self.known_hosts = known_hosts

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        client.get_host_keys().add(hostname, key.get_name(), key)
        entry = paramiko.hostkeys.HostKeyEntry([hostname], key)
        # Append rather than paramiko's save_host_keys, which rewrites the file and drops
        # lines it does not understand (markers, comments).
        line = entry.to_line()
        if line:
            with self.known_hosts.open("a", encoding="utf-8") as handle:
                handle.write(line)


class SftpSite:
    """Objects as files under a directory on an SFTP server.

    A put writes ``.tmp-<random>`` beside the target, then ``posix-rename@openssh.com``
    moves it over the target, so readers never see a torn object. One SFTP session is
    shared and calls are serialised; a dropped connection is re-opened once per call.
    """

    def __init__(
        self,
        host: str,
        root: str,
        *,
        user: str | None = None,
        port: int = 22,
        key_filename: Path | None = None,
        known_hosts: Path | None = None,
        accept_new: bool = False,
        timeout: float = 15.0,
    ) -> None:
        if not host:
            raise BadSiteUrl("an sftp:// site needs a host")
        if not root.startswith("/"):
            raise BadSiteUrl(f"sftp site path {root!r} must be absolute")
        self.host = host
        self.port = port
        self.user = user or getpass.getuser()
        self.root = str(PurePosixPath(root))
        self.key_filename = key_filename.expanduser() if key_filename else None
        self.known_hosts = (known_hosts or DEFAULT_KNOWN_HOSTS).expanduser()
        self.accept_new = accept_new
        self.timeout = timeout
        if self.key_filename is not None and not self.key_filename.is_file():
            raise BadSiteUrl(f"identity file {self.key_filename} for {self.url} does not exist")
        self._lock = threading.Lock()
        self._client: paramiko.SSHClient | None = None
        self._sftp: paramiko.SFTPClient | None = None

    @classmethod
    def from_url(cls, url: str, **opts: Any) -> SftpSite:
        """Build a site from ``sftp://user@host:port/path?key=...&known_hosts=...&accept_new=1``."""
        parts = split_url(url, "sftp")
        if parts.password is not None:
            raise BadSiteUrl(
                f"site URL {redact_url(url)} carries a password; use key authentication (?key=)"
            )
        query = query_options(url, parts, ("key", "known_hosts", "accept_new"))
        path = unquote(parts.path) or "/"
        key = query.get("key")
        known_hosts = query.get("known_hosts")
        return cls(
            parts.hostname or "",
            path,
            user=unquote(parts.username) if parts.username else None,
            port=parts.port or 22,
            key_filename=Path(key) if key else None,
            known_hosts=Path(known_hosts) if known_hosts else None,
            accept_new=flag(url, "accept_new", query.get("accept_new")),
            **opts,
        )

    @property
    def url(self) -> str:
        """``sftp://user@host:port/path`` with the (non-secret) options that shape the site."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        base = f"sftp://{quote(self.user, safe='')}@{host}:{self.port}{quote(self.root)}"
        query: dict[str, str] = {}
        if self.key_filename is not None:
            query["key"] = str(self.key_filename)
        if self.known_hosts != DEFAULT_KNOWN_HOSTS.expanduser():
            query["known_hosts"] = str(self.known_hosts)
        if self.accept_new:
            query["accept_new"] = "1"
        return f"{base}?{urlencode(query, safe='/')}" if query else base

    @property
    def _where(self) -> str:
        """The URL without options, for messages."""
        return self.url.partition("?")[0]

    # -- connection ---------------------------------------------------------------------

    def _connect(self) -> paramiko.SFTPClient:
        client = paramiko.SSHClient()
        try:
            if self.accept_new and not self.known_hosts.exists():
                self.known_hosts.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                self.known_hosts.touch(mode=0o600)
            if self.known_hosts.exists():
                client.load_host_keys(str(self.known_hosts))
            policy: paramiko.MissingHostKeyPolicy = (
                _AcceptNew(self.known_hosts) if self.accept_new else _RejectUnknown()
            )
            client.set_missing_host_key_policy(policy)
            client.connect(
                self.host,
                self.port,
                username=self.user,
                key_filename=str(self.key_filename) if self.key_filename else None,
                allow_agent=self.key_filename is None,
                look_for_keys=self.key_filename is None,
                timeout=self.timeout,
                banner_timeout=self.timeout,
                auth_timeout=self.timeout,
                channel_timeout=self.timeout,
            )
            sftp = client.open_sftp()
            channel = sftp.get_channel()
            if channel is not None:
                channel.settimeout(self.timeout)
            attrs = sftp.stat(self.root)
        except paramiko.BadHostKeyException:
            client.close()
            raise HostKeyRejected(
                f"host key of {self.host}:{self.port} differs from the one in {self.known_hosts};"
                " if the server was rebuilt remove its old line, otherwise suspect interception"
            ) from None
        except _UnknownHostKey:
            client.close()
            raise HostKeyRejected(
                f"host key of {self.host}:{self.port} is not in {self.known_hosts}; add it"
                " (ssh-keyscan) or use ?accept_new=1 for a first contact"
            ) from None
        except paramiko.AuthenticationException:
            client.close()
            raise SiteUnavailable(
                f"site {self._where} refused the key for user {self.user}; check the identity"
                " file and authorized_keys"
            ) from None
        except FileNotFoundError:
            client.close()
            raise SiteUnavailable(
                f"site {self._where} is not reachable: directory missing on the server"
            ) from None
        except (*LINK_ERRORS, ValueError) as exc:
            client.close()
            raise SiteUnavailable(
                f"site {self._where} is not reachable: {_one_line(exc)}"
            ) from None
        if not stat.S_ISDIR(attrs.st_mode or 0):
            client.close()
            raise SiteUnavailable(f"site {self._where} is not reachable: path is not a directory")
        self._client = client
        self._sftp = sftp
        return sftp

    def _alive(self) -> bool:
        transport = self._client.get_transport() if self._client else None
        return transport is not None and transport.is_active()

    def _discard(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None
        self._sftp = None

    def _call(self, what: str, op: Callable[[paramiko.SFTPClient], T]) -> T:
        """Run ``op`` on the session, re-opening it once if the connection had dropped."""
        with self._lock:
            for attempt in (1, 2):
                sftp = self._sftp if self._sftp is not None and self._alive() else None
                if sftp is None:
                    self._discard()
                    sftp = self._connect()
                try:
                    return op(sftp)
                except LINK_ERRORS as exc:
                    if isinstance(exc, TimeoutError):
                        # A late answer would confuse the next request: start afresh.
                        self._discard()
                        raise SiteUnavailable(
                            f"site {self._where} timed out during {what}"
                        ) from None
                    if self._alive():
                        if isinstance(exc, PermissionError):
                            raise SiteUnavailable(
                                f"site {self._where} refused {what}: permission denied"
                            ) from None
                        raise SiteUnavailable(
                            f"site {self._where} failed {what}: {_one_line(exc)}"
                        ) from None
                    self._discard()
                    if attempt == 2:
                        raise SiteUnavailable(
                            f"site {self._where} dropped the connection during {what}"
                        ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _remote(self, name: str) -> str:
        return f"{self.root.rstrip('/')}/{check_name(name)}"

    # -- Site ---------------------------------------------------------------------------

    def put(self, name: str, data: bytes) -> None:
        """Write to a temp name in the target directory, then rename over the target."""
        path = self._remote(name)
        parent = path.rpartition("/")[0] or "/"

        def op(sftp: paramiko.SFTPClient) -> None:
            tmp = f"{parent}/{TEMP_PREFIX}{uuid.uuid4().hex}"
            try:
                handle = sftp.open(tmp, "wb")
            except FileNotFoundError:
                self._make_dirs(sftp, parent)
                handle = sftp.open(tmp, "wb")
            try:
                with handle:
                    _write_checked(handle, data)
            except LINK_ERRORS as exc:
                if self._alive():
                    self._remove_quietly(sftp, tmp)
                    if _is_status_failure(exc):
                        raise SiteFull(
                            f"site {self._where} failed a write, most likely full;"
                            " free space or replace the site"
                        ) from None
                raise
            try:
                sftp.posix_rename(tmp, path)
            except BaseException:
                if self._alive():
                    self._remove_quietly(sftp, tmp)
                raise

        self._call("a write", op)

    def _make_dirs(self, sftp: paramiko.SFTPClient, directory: str) -> None:
        """``mkdir -p`` below the root; a directory made meanwhile by another writer is fine."""
        relative = PurePosixPath(directory).relative_to(self.root)
        current = PurePosixPath(self.root)
        for part in relative.parts:
            current = current / part
            try:
                sftp.mkdir(str(current))
            except OSError as exc:
                if not self._alive():
                    raise
                try:
                    attrs = sftp.stat(str(current))
                except FileNotFoundError:
                    raise exc from None
                if not stat.S_ISDIR(attrs.st_mode or 0):
                    raise SiteUnavailable(
                        f"site {self._where} has a file where directory {current} should be"
                    ) from None

    def _remove_quietly(self, sftp: paramiko.SFTPClient, path: str) -> None:
        # The temp name is random and list() skips it; a leftover costs only space.
        with contextlib.suppress(*LINK_ERRORS):
            sftp.remove(path)

    def get(self, name: str) -> bytes:
        """Read an object; raises ObjectMissing when absent."""
        path = self._remote(name)

        def op(sftp: paramiko.SFTPClient) -> bytes:
            try:
                with sftp.open(path, "rb") as handle:
                    attrs = handle.stat()
                    if not stat.S_ISREG(attrs.st_mode or 0):
                        raise ObjectMissing(f"{name} is missing on site {self._where}")
                    size = attrs.st_size or 0
                    if size:
                        handle.prefetch(size)
                    # Reading request-sized pieces: paramiko's one big read() is many
                    # times slower on large objects.
                    buffer = bytearray()
                    while piece := handle.read(READ_PIECE):
                        buffer += piece
                    data = bytes(buffer)
            except FileNotFoundError:
                raise ObjectMissing(f"{name} is missing on site {self._where}") from None
            if len(data) != size:
                raise SiteUnavailable(
                    f"site {self._where} returned {len(data)} of {size} bytes of {name}"
                )
            return data

        return self._call("a read", op)

    def _listdir(self, relative: str) -> list[paramiko.SFTPAttributes]:
        """The entries of a directory below the root, by name ([] if it was removed)."""
        directory = f"{self.root.rstrip('/')}/{relative}".rstrip("/") or "/"

        def op(sftp: paramiko.SFTPClient) -> list[paramiko.SFTPAttributes]:
            try:
                return sftp.listdir_attr(directory)
            except FileNotFoundError:
                if directory == self.root:
                    raise SiteUnavailable(
                        f"site {self._where} is not reachable: directory missing on the server"
                    ) from None
                return []  # removed while we walked

        return sorted(self._call("a listing", op), key=lambda e: e.filename)

    def _files(self, prefix: str = "") -> Iterator[tuple[str, paramiko.SFTPAttributes]]:
        """Regular files under the root with their names, walking only directories that can
        hold names starting with ``prefix`` (every one for no prefix)."""
        pending = [""]
        while pending:
            relative = pending.pop()
            for entry in self._listdir(relative):
                name = f"{relative}{entry.filename}"
                if stat.S_ISDIR(entry.st_mode or 0):
                    folder = name + "/"
                    if folder.startswith(prefix) or prefix.startswith(folder):
                        pending.append(folder)
                elif stat.S_ISREG(entry.st_mode or 0):
                    yield name, entry

    def temporaries(self) -> Iterator[TempInfo]:
        """Temporary files of puts (``.tmp-*``) anywhere under the root."""
        for name, entry in self._files():
            if entry.filename.startswith(TEMP_PREFIX):
                when = datetime.fromtimestamp(entry.st_mtime or 0, UTC)
                yield TempInfo(name, entry.st_size or 0, when)

    def list(self, prefix: str = "") -> Iterator[str]:
        """Names that start with ``prefix``, walking only directories that can hold them."""
        for name, entry in self._files(prefix):
            if not entry.filename.startswith(TEMP_PREFIX) and name.startswith(prefix):
                yield name

    def delete(self, name: str) -> None:
        """Remove an object if present."""
        path = self._remote(name)

        def op(sftp: paramiko.SFTPClient) -> None:
            with contextlib.suppress(FileNotFoundError):
                sftp.remove(path)

        self._call("a delete", op)

    def stat(self, name: str) -> ObjectInfo | None:
        """Size of an object, or None."""
        path = self._remote(name)

        def op(sftp: paramiko.SFTPClient) -> ObjectInfo | None:
            try:
                attrs = sftp.stat(path)
            except FileNotFoundError:
                return None
            if not stat.S_ISREG(attrs.st_mode or 0):
                return None
            return ObjectInfo(name, attrs.st_size or 0)

        return self._call("a stat", op)

    def close(self) -> None:
        """Close the SFTP session and the SSH connection."""
        with self._lock:
            self._discard()
