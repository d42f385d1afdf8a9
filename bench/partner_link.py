"""Partner link benchmark: backup and restore through a partner site behind a thin link,
beside restic over SFTP on the same emulated link.

The link is tests/linkemu.py's: 2 Mbit/s each way (``tbf`` in a network namespace), 250 ms
round trip and 1% segment loss (a TCP proxy). Seawall backs up to a 1-of-2 repository on a
local disk and the partner (the partner gets the whole pack), then restores from the partner
alone. restic (the Debian package; its rest-server is not packaged) backs up to and restores
from an sshd in the same namespace, through the same proxy. Goodput is the data's size over
the wall time, as a fraction of the link rate. Needs root. Run with
``uv run python bench/partner_link.py [--size-mib 4]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from seawall.embassy.backup import back_up  # noqa: E402
from seawall.embassy.repository import Repository  # noqa: E402
from seawall.embassy.restore import restore_snapshot  # noqa: E402
from seawall.embassy.sites import open_site  # noqa: E402
from seawall.embassy.sites.directory import use_directory  # noqa: E402
from tests.hosts import start_guest  # noqa: E402
from tests.linkemu import Proxy, namespace, thin_host  # noqa: E402

RATE_BPS = 2_000_000 / 8
PASS = "bench-passphrase-not-secret"


def seawall_run(base: Path, data: Path, size: int) -> tuple[float, float, int]:
    """Backup and restore seconds through the partner, and the bytes on the wire."""
    guest = start_guest(base / "jm")
    try:
        with thin_host(guest) as (host, link):
            url = host.agreement()
            disk = base / "disk"
            disk.mkdir()
            sites = [open_site(f"file://{disk}"), open_site(url)]
            with Repository.init(sites, PASS, name="bench", k=1) as repo:
                start = time.perf_counter()
                snap = back_up(repo, [data]).snapshot
                backup_s = time.perf_counter() - start
            with Repository.open([open_site(url)], PASS) as again:
                start = time.perf_counter()
                restore_snapshot(again, snap.id, base / "restored")
                restore_s = time.perf_counter() - start
            return backup_s, restore_s, link.wire_bytes
    finally:
        use_directory(None)
        guest.close()


def restic_run(base: Path, data: Path) -> tuple[float, float, int]:
    """Backup and restore seconds of restic over SFTP to an sshd behind the same link."""
    restic = shutil.which("restic")
    if restic is None:
        raise SystemExit("restic is not installed (apt-get install restic)")
    with namespace("2mbit") as ns:
        keys = base / "ssh"
        keys.mkdir(parents=True)
        for key in ("host", "client"):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(keys / key)], check=True
            )
        (keys / "authorized_keys").write_text((keys / "client.pub").read_text())
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        config = keys / "sshd_config"
        config.write_text(
            f"Port 2222\nListenAddress {ns.inside}\nHostKey {keys / 'host'}\n"
            f"PidFile {keys / 'pid'}\nAuthorizedKeysFile {keys / 'authorized_keys'}\n"
            "StrictModes no\nUsePAM no\nPasswordAuthentication no\n"
            "PermitRootLogin prohibit-password\nSubsystem sftp internal-sftp\nLogLevel ERROR\n"
        )
        sshd = subprocess.Popen(
            ["ip", "netns", "exec", ns.name, "/usr/sbin/sshd", "-D", "-e", "-f", str(config)]
        )
        proxy = Proxy((ns.inside, 2222), 0.125, 0.01)
        proxy.start()
        try:
            time.sleep(1)
            ssh = (
                f"ssh -p {proxy.port} -i {keys / 'client'} -o StrictHostKeyChecking=no "
                f"-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR root@127.0.0.1 -s sftp"
            )
            env = {**os.environ, "RESTIC_PASSWORD": PASS}
            repo = f"sftp:root@127.0.0.1:{base / 'restic-repo'}"
            common = [restic, "-r", repo, "-o", f"sftp.command={ssh}", "-q"]
            subprocess.run([*common, "init"], env=env, check=True, capture_output=True)
            start = time.perf_counter()
            subprocess.run([*common, "backup", str(data)], env=env, check=True)
            backup_s = time.perf_counter() - start
            start = time.perf_counter()
            target = base / "restic-restored"
            subprocess.run(
                [*common, "restore", "latest", "--target", str(target)], env=env, check=True
            )
            restore_s = time.perf_counter() - start
            return backup_s, restore_s, proxy.up_bytes + proxy.down_bytes
        finally:
            proxy.stop()
            sshd.terminate()
            sshd.wait(10)


def main() -> None:
    """Run both tools on the same data and print goodput fractions and ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mib", type=float, default=4)
    args = parser.parse_args()
    size = int(args.size_mib * 1024 * 1024)
    with tempfile.TemporaryDirectory(prefix="seawall-partner-link-") as tmp:
        base = Path(tmp)
        data = base / "data"
        data.mkdir()
        (data / "ledger.bin").write_bytes(os.urandom(size))
        ours = seawall_run(base / "seawall", data, size)
        print(f"seawall: backup {ours[0]:.1f} s, restore {ours[1]:.1f} s, wire {ours[2]:,} B")
        theirs = restic_run(base / "restic-run", data)
    link_s = size / RATE_BPS
    print(f"data {size} bytes; at 2 Mbit/s the link needs {link_s:.1f} s each way")
    print("| Measure | Seawall | restic (SFTP) | Ratio |")
    print("|---|---|---|---|")
    for i, what in enumerate(("Backup", "Restore")):
        a, b = link_s / ours[i], link_s / theirs[i]
        print(
            f"| {what} goodput, fraction of link | {a:.2f} ({ours[i]:.1f} s) "
            f"| {b:.2f} ({theirs[i]:.1f} s) | {a / b:.2f}x |"
        )
    print(f"| Bytes on the wire, both ways | {ours[2]:,} | {theirs[2]:,} | |")


if __name__ == "__main__":
    main()
