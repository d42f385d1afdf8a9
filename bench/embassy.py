"""Embassy benchmark: Seawall (3-of-5 across five local sites, fsync) beside restic and Borg.

Generates a reproducible ~1 GiB mixed dataset (records as CSV/JSON/text, incompressible binaries,
a large SQL dump), mutates about 5% of it for the incremental run, and runs every tool on the same
data in alternation. Prints wall time, CPU time, peak RSS and stored bytes with ratios against the
issue's targets. Run with ``make bench`` or ``uv run python bench/embassy.py [--size-mib 1024]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

WORK = Path(__file__).resolve().parent / ".work" / "embassy"
PASSPHRASE = "bench-passphrase-not-secret"
SEAWALL = [sys.executable, "-m", "seawall"]


@dataclass
class Measure:
    """One run of one tool."""

    wall: float
    cpu: float
    rss_mib: float


def run(cmd: list[str], env: dict[str, str] | None = None, stdin: bytes | None = None) -> Measure:
    """Run a command to completion and read its rusage (wall, user+sys CPU, peak RSS).

    Pending writes are flushed first (the last run's repository, a deleted tree's discards),
    so one tool's clean-up is not billed to the next command.
    """
    os.sync()
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        env={**os.environ, **(env or {})},
        stdin=subprocess.PIPE if stdin else None,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    if stdin:
        assert proc.stdin is not None
        proc.stdin.write(stdin)
        proc.stdin.close()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} failed: {err.strip()[-500:]}")
    return Measure(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def du(*paths: Path) -> int:
    """Bytes stored under the paths."""
    return sum(p.stat().st_size for root in paths for p in root.rglob("*") if p.is_file())


def generate(root: Path, size_mib: int, seed: int = 7) -> None:
    """A reproducible mixed dataset of about ``size_mib`` MiB."""
    marker = root / ".complete"
    if marker.exists() and marker.read_text() == f"{size_mib} MiB seed {seed}":
        return
    shutil.rmtree(root, ignore_errors=True)
    rng = random.Random(seed)
    budget = size_mib * 1024 * 1024
    records, binaries, dump = budget * 40 // 100, budget * 30 // 100, budget * 30 // 100
    parishes = ["Kingston", "St Andrew", "St Catherine", "Clarendon", "Manchester", "St James"]
    words = (
        "permit",
        "licence",
        "parcel",
        "title",
        "deed",
        "survey",
        "ministry",
        "registry",
        "pension",
        "tax",
        "customs",
        "court",
        "filing",
        "notice",
        "schedule",
        "appendix",
        "clause",
        "section",
    )
    (root / "records").mkdir(parents=True)
    written, n = 0, 0
    while written < records:
        kind = n % 3
        path = (
            root / "records" / f"dept-{n % 17:02d}" / f"file-{n:05d}.{['csv', 'json', 'txt'][kind]}"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = rng.randrange(2000, 12000)
        if kind == 0:
            text = "id,parish,area,value,date\n" + "".join(
                f"{n}-{i},{rng.choice(parishes)},{rng.randrange(50, 90000)},"
                f"{rng.randrange(10**6)},20{rng.randrange(10, 26)}-{rng.randrange(1, 13):02d}-"
                f"{rng.randrange(1, 29):02d}\n"
                for i in range(rows)
            )
        elif kind == 1:
            text = json.dumps(
                [
                    {
                        "id": f"{n}-{i}",
                        "parish": rng.choice(parishes),
                        "amount": rng.randrange(10**7),
                        "status": rng.choice(words),
                    }
                    for i in range(rows // 3)
                ]
            )
        else:
            text = "\n".join(
                " ".join(rng.choice(words) for _ in range(14)) for _ in range(rows // 2)
            )
        path.write_text(text)
        written += len(text)
        n += 1
    (root / "binaries").mkdir()
    for i in range(max(1, binaries // (24 * 1024 * 1024))):
        (root / "binaries" / f"scan-{i:03d}.bin").write_bytes(rng.randbytes(24 * 1024 * 1024))
    with (root / "landdb.sql").open("w") as handle:
        size, i = 0, 0
        while size < dump:
            line = (
                f"INSERT INTO parcels VALUES ({i}, '{rng.choice(parishes)}', "
                f"{rng.randrange(50, 90000)}, '{rng.choice(words)} {rng.choice(words)}');\n"
            )
            handle.write(line)
            size += len(line)
            i += 1
    marker.write_text(f"{size_mib} MiB seed {seed}")


def mutate(src: Path, dst: Path, seed: int = 11) -> None:
    """Copy the dataset and change about 5% of its bytes (edits, appends, a replaced scan)."""
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    rng = random.Random(seed)
    files = sorted(p for p in dst.rglob("*") if p.is_file() and p.name != ".complete")
    total = sum(p.stat().st_size for p in files)
    changed = 0
    for path in rng.sample(files, len(files)):
        if changed > total * 0.05:
            break
        data = bytearray(path.read_bytes())
        if path.suffix == ".bin":
            data = bytearray(rng.randbytes(len(data)))
        else:
            at = rng.randrange(max(1, len(data) - 4096))
            data[at : at + 4096] = rng.randbytes(min(4096, len(data) - at))
            data += b"appended row\n" * 200
        path.write_bytes(bytes(data))
        changed += len(data) if path.suffix == ".bin" else 8192
    os.utime(dst, None)


def warm(root: Path) -> None:
    """Read every file under ``root`` back into the page cache (untimed).

    Borg drops the files it reads from the page cache (``posix_fadvise(DONTNEED)`` in its
    chunker), so without this the tool that runs after Borg reads the dataset from disk and
    the others from memory: Seawall, next after Borg from the second round on, lost 0.5 s on
    every incremental run that way.
    """
    for path in sorted(root.rglob("*")):
        if path.is_file():
            with path.open("rb", buffering=0) as handle:
                while handle.read(1 << 20):
                    pass


@contextmanager
def in_place(dataset: Path, base: Path) -> Iterator[Path]:
    """Move a dataset to one fixed path, so every tool and run sees the same absolute path.

    The dataset is in the page cache when the tool starts, whichever tool ran before.
    """
    data = base / "data"
    dataset.rename(data)
    warm(data)
    try:
        yield data
    finally:
        data.rename(dataset)


def fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def bench_restic(base: Path, full: Path, inc: Path) -> dict[str, object]:
    repo = fresh(base / "restic-repo")
    env = {
        "RESTIC_PASSWORD": PASSPHRASE,
        "RESTIC_REPOSITORY": str(repo),
        "RESTIC_CACHE_DIR": str(base / "restic-cache"),
    }
    shutil.rmtree(base / "restic-cache", ignore_errors=True)
    run(["restic", "init"], env)
    with in_place(full, base) as data:
        first = run(["restic", "backup", "--quiet", str(data)], env)
    stored = du(repo)
    with in_place(inc, base) as data:
        second = run(["restic", "backup", "--quiet", str(data)], env)
    restore = run(["restic", "restore", "latest", "--target", str(fresh(base / "restic-out"))], env)
    check = run(["restic", "check", "--read-data"], env)
    return {
        "full": first,
        "incremental": second,
        "restore": restore,
        "check": check,
        "stored": stored,
    }


def bench_borg(base: Path, full: Path, inc: Path) -> dict[str, object]:
    repo = base / "borg-repo"
    shutil.rmtree(repo, ignore_errors=True)
    env = {
        "BORG_PASSPHRASE": PASSPHRASE,
        "BORG_CACHE_DIR": str(base / "borg-cache"),
        "BORG_CONFIG_DIR": str(base / "borg-config"),
        "BORG_BASE_DIR": str(base / "borg-base"),
    }
    shutil.rmtree(base / "borg-cache", ignore_errors=True)
    run(["borg", "init", "--encryption=repokey-blake2", str(repo)], env)
    with in_place(full, base) as data:
        first = run(["borg", "create", "--compression", "zstd,3", f"{repo}::full", str(data)], env)
    stored = du(repo)
    with in_place(inc, base) as data:
        second = run(["borg", "create", "--compression", "zstd,3", f"{repo}::inc", str(data)], env)
    return {"full": first, "incremental": second, "stored": stored}


def bench_seawall(base: Path, full: Path, inc: Path) -> dict[str, object]:
    home = fresh(base / "seawall-home")
    sites = [fresh(base / f"seawall-site-{i}") for i in range(5)]
    env = {"SEAWALL_HOME": str(home), "SEAWALL_EMBASSY_PASSPHRASE": PASSPHRASE}
    run([*SEAWALL, "init", "--nation", "JM"], env)
    args = [*SEAWALL, "embassy", "init", "--name", "bench", "--shares", "3-of-5"]
    for site in sites:
        args += ["--site", f"file://{site}"]
    run(args, env)
    # Fixed start-up cost paid by every command (imports, node database, Argon2id unlock).
    startup = run([*SEAWALL, "--help"], env)
    empty = run([*SEAWALL, "embassy", "backup", "--repo", "bench", str(fresh(base / "empty"))], env)
    with in_place(full, base) as data:
        first = run([*SEAWALL, "embassy", "backup", "--repo", "bench", str(data)], env)
    stored_total = du(*sites)
    with in_place(inc, base) as data:
        second = run([*SEAWALL, "embassy", "backup", "--repo", "bench", str(data)], env)
    check = run([*SEAWALL, "embassy", "check", "--repo", "bench", "--read-data"], env)
    shutil.rmtree(sites[1])
    shutil.rmtree(sites[3])
    restore = run(
        [
            *SEAWALL,
            "embassy",
            "restore",
            "--repo",
            "bench",
            "latest",
            "--target",
            str(fresh(base / "seawall-out")),
        ],
        env,
    )
    return {
        "full": first,
        "incremental": second,
        "restore": restore,
        "check": check,
        "stored": stored_total * 3 // 5,
        "stored_total": stored_total,
        "startup": startup,
        "empty": empty,
    }


def median_run(runs: list[dict[str, object]]) -> dict[str, object]:
    """Per measure, the run with the median wall time (its CPU with it); RSS is the peak."""
    merged: dict[str, object] = {}
    for key, first in runs[0].items():
        if not isinstance(first, Measure):
            merged[key] = first
            continue
        measures = sorted((run[key] for run in runs), key=lambda m: m.wall)  # type: ignore[attr-defined]
        middle = measures[len(measures) // 2]
        merged[key] = Measure(middle.wall, middle.cpu, max(m.rss_mib for m in measures))
    return merged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument(
        "--repeat", type=int, default=3, help="Alternating rounds; medians are reported."
    )
    options = parser.parse_args()
    for tool in ("restic", "borg"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed: apt-get install restic borgbackup")
    WORK.mkdir(parents=True, exist_ok=True)
    full, inc = WORK / "dataset", WORK / "dataset-mutated"
    print(f"generating {options.size_mib} MiB dataset in {full} ...", flush=True)
    generate(full, options.size_mib)
    mutate(full, inc)
    size = du(full)
    print(f"dataset: {size / 2**20:.0f} MiB; mutated copy differs in ~5%", flush=True)
    runs: dict[str, list[dict[str, object]]] = {"seawall": [], "restic": [], "borg": []}
    for round_no in range(1, options.repeat + 1):
        for name, fn in (
            ("seawall", bench_seawall),
            ("restic", bench_restic),
            ("borg", bench_borg),
        ):
            print(f"round {round_no}/{options.repeat}: running {name} ...", flush=True)
            runs[name].append(fn(WORK, full, inc))
    sw, rs, bg = (median_run(runs[name]) for name in ("seawall", "restic", "borg"))
    if options.repeat > 1:
        print(f"\nmedians over {options.repeat} alternating rounds; peak RSS is the highest seen")
        for key in ("full", "incremental", "restore", "check"):
            spread = [
                m.wall for m in (run[key] for run in runs["seawall"]) if isinstance(m, Measure)
            ]
            if spread:
                walls = ", ".join(f"{w:.1f}" for w in spread)
                print(f"  seawall {key}: {walls} s")

    def row(label: str, ours: Measure, peer: Measure, peer_name: str, target: float) -> None:
        ratio = ours.wall / peer.wall
        verdict = "ok" if ratio <= target else "MISS"
        print(
            f"{label:<32} {ours.wall:8.1f}s {ours.cpu:8.1f}s {ours.rss_mib:7.0f} | "
            f"{peer_name:<7} {peer.wall:8.1f}s {peer.cpu:8.1f}s {peer.rss_mib:7.0f} | "
            f"{ratio:5.2f}x (target <= {target}x) {verdict}"
        )

    print()
    print(f"{'measure':<32} {'seawall wall':>9} {'cpu':>9} {'rss MiB':>7} | peer")
    row("full backup", sw["full"], rs["full"], "restic", 0.7)  # type: ignore[arg-type]
    row("full backup", sw["full"], bg["full"], "borg", 0.9)  # type: ignore[arg-type]
    row("incremental backup", sw["incremental"], rs["incremental"], "restic", 0.7)  # type: ignore[arg-type]
    row("restore (2 of 5 sites lost)", sw["restore"], rs["restore"], "restic", 0.9)  # type: ignore[arg-type]
    row("check --read-data", sw["check"], rs["check"], "restic", 1.2)  # type: ignore[arg-type]
    per_copy = sw["stored"] / bg["stored"]  # type: ignore[operator]
    print(
        f"stored bytes per copy: seawall {sw['stored']:,} (total over 5 sites "
        f"{sw['stored_total']:,}), borg {bg['stored']:,}, restic {rs['stored']:,}; "
        f"ratio to borg {per_copy:.3f}x (target <= 1.02x) {'ok' if per_copy <= 1.02 else 'MISS'}"
    )
    startup, empty = sw["startup"], sw["empty"]
    print(
        f"seawall fixed cost per command: `seawall --help` {startup.wall:.2f}s wall "  # type: ignore[attr-defined]
        f"{startup.rss_mib:.0f} MiB; empty backup {empty.wall:.2f}s wall {empty.rss_mib:.0f} MiB"  # type: ignore[attr-defined]
    )
    peak = max(m.rss_mib for k, m in sw.items() if isinstance(m, Measure))  # type: ignore[union-attr]
    print(f"seawall peak RSS {peak:.0f} MiB (target <= 250 MiB) {'ok' if peak <= 250 else 'MISS'}")


if __name__ == "__main__":
    main()
