"""Correlation benchmark: Seawall's observable index beside MISP's pairwise table.

Builds ``--indicators`` indicator patterns whose values repeat as shared intelligence does:
most values are held once, many by a few objects, some by tens, and a few (a sinkhole, a
public resolver, a popular hash) by hundreds. Then, in the same run and over the same data,
it builds two models in their own SQLite files:

- **index** (Seawall): ``intel_observables`` exactly as the migration creates it, one row
  per (normalised observable, object), written batch by batch as an import stores objects;
- **pairwise** (MISP's correlation table): one row per pair of objects sharing a value,
  found at insert through an index of values (as MISP finds them through its attributes'
  value index) and stored with indexes on both ends.

For each it prints the bytes on disk per indicator, the insert cost per indicator, and
the latency of finding one object's correlations (median and 99th percentile), with the
ratio pairwise / index. Run ``uv run --frozen python bench/correlation.py
[--indicators 1000000]``; ``--indicators 100000`` takes about a tenth of the time.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import subprocess
import time
from pathlib import Path

from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.schema import CreateIndex, CreateTable

from seawall.db.models.intel_correlation import IntelObservable
from seawall.intel.observable_index import keys_of

WORK = Path(__file__).resolve().parent / ".work" / "correlation"
BATCH = 1_000  # objects per write transaction, as an import batch
# (share of indicators, smallest and largest number of objects holding one value)
GROUPS = ((0.50, 1, 1), (0.30, 2, 5), (0.15, 10, 50), (0.05, 200, 1000))


def patterns(count: int, rng: random.Random) -> list[str]:
    """``count`` indicator patterns whose values repeat in the shares of ``GROUPS``."""
    out: list[str] = []
    serial = 0
    for share, low, high in GROUPS:
        wanted = int(count * share)
        made = 0
        while made < wanted:
            size = min(rng.randint(low, high), wanted - made)
            serial += 1
            pattern = _pattern(serial)
            out += [pattern] * size
            made += size
    while len(out) < count:
        serial += 1
        out.append(_pattern(serial))
    rng.shuffle(out)
    return out


def _pattern(n: int) -> str:
    kind = n % 3
    if kind == 0:
        address = f"{10 + n // 16_777_216}.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
        return f"[ipv4-addr:value = '{address}']"
    if kind == 1:
        return f"[domain-name:value = 'host{n}.Example.']"
    return f"[file:hashes.'SHA-256' = '{n:064x}']"


def _connect(path: Path) -> sqlite3.Connection:
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def index_model(path: Path, keys: list[list[int]]) -> tuple[float, int]:
    """Seawall's index: build it batch by batch; (seconds, bytes)."""
    db = _connect(path)
    table = IntelObservable.__table__
    dialect = sqlite_dialect.dialect()
    db.execute(str(CreateTable(table).compile(dialect=dialect)))  # type: ignore[arg-type]
    for index in table.indexes:  # type: ignore[attr-defined]
        db.execute(str(CreateIndex(index).compile(dialect=dialect)))
    started = time.perf_counter()
    for at in range(0, len(keys), BATCH):
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO intel_observables (value_key, object_seq) VALUES (?, ?)",
            [(k, seq) for seq in range(at, min(at + BATCH, len(keys))) for k in keys[seq]],
        )
        db.execute("COMMIT")
    took = time.perf_counter() - started
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return took, path.stat().st_size


def pairwise_model(path: Path, keys: list[list[int]]) -> tuple[float, int, int]:
    """MISP's pairwise model: build it batch by batch; (seconds, bytes, pairs)."""
    db = _connect(path)
    db.executescript(
        """
        CREATE TABLE attribute_values (value_key INTEGER NOT NULL, object_seq INTEGER NOT NULL);
        CREATE INDEX ix_attribute_values ON attribute_values (value_key);
        CREATE TABLE correlations (
            id INTEGER PRIMARY KEY, value_key INTEGER NOT NULL,
            a_seq INTEGER NOT NULL, b_seq INTEGER NOT NULL);
        CREATE INDEX ix_correlations_a ON correlations (a_seq);
        CREATE INDEX ix_correlations_b ON correlations (b_seq);
        """
    )
    pairs = 0
    started = time.perf_counter()
    for at in range(0, len(keys), BATCH):
        db.execute("BEGIN")
        for seq in range(at, min(at + BATCH, len(keys))):
            for key in keys[seq]:
                others = db.execute(
                    "SELECT object_seq FROM attribute_values WHERE value_key = ?", (key,)
                ).fetchall()
                db.executemany(
                    "INSERT INTO correlations (value_key, a_seq, b_seq) VALUES (?, ?, ?)",
                    [(key, other, seq) for (other,) in others],
                )
                pairs += len(others)
                db.execute(
                    "INSERT INTO attribute_values (value_key, object_seq) VALUES (?, ?)",
                    (key, seq),
                )
        db.execute("COMMIT")
    took = time.perf_counter() - started
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return took, path.stat().st_size, pairs


def lookups(path: Path, sql: str, args: list[tuple[int, ...]]) -> tuple[float, float]:
    """Median and 99th-percentile latency of ``sql`` over ``args``, in microseconds."""
    db = sqlite3.connect(path)
    times: list[float] = []
    for arg in args:
        started = time.perf_counter()
        db.execute(sql, arg).fetchall()
        times.append((time.perf_counter() - started) * 1e6)
    db.close()
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99)]


def main() -> None:
    """Build both models over the same indicators and print the figures side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--indicators", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args()
    rng = random.Random(options.seed)
    WORK.mkdir(parents=True, exist_ok=True)
    count = options.indicators
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    print(f"commit {commit}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    made = patterns(count, rng)
    started = time.perf_counter()
    keys = [sorted(keys_of("indicator", {"pattern": p})) for p in made]
    extract = time.perf_counter() - started
    distinct = len({k for ks in keys for k in ks})
    print(f"{count:,} indicators, {distinct:,} distinct values; "
          f"extraction {extract / count * 1e6:.1f} µs/indicator (both models need it)")  # fmt: skip
    index_s, index_bytes = index_model(WORK / "index.db", keys)
    pair_s, pair_bytes, pairs = pairwise_model(WORK / "pairwise.db", keys)
    sample = [rng.randrange(count) for _ in range(options.lookups)]
    index_med, index_p99 = lookups(
        WORK / "index.db",
        "SELECT o.object_seq FROM intel_observables AS o WHERE o.value_key IN"
        " (SELECT value_key FROM intel_observables WHERE object_seq = ?)",
        [(s,) for s in sample],
    )
    pair_med, pair_p99 = lookups(
        WORK / "pairwise.db",
        "SELECT b_seq FROM correlations WHERE a_seq = ? UNION ALL"
        " SELECT a_seq FROM correlations WHERE b_seq = ?",
        [(s, s) for s in sample],
    )
    rows = [
        ("rows", count, pairs),
        ("bytes on disk / indicator", index_bytes / count, pair_bytes / count),
        ("insert µs / indicator", index_s / count * 1e6, pair_s / count * 1e6),
        ("lookup median µs", index_med, pair_med),
        ("lookup p99 µs", index_p99, pair_p99),
    ]
    print(f"{'measure':<28}{'index':>14}{'pairwise':>14}{'pairwise/index':>16}")
    for name, ours, theirs in rows:
        ratio = theirs / ours if ours else float("inf")
        print(f"{name:<28}{ours:>14,.1f}{theirs:>14,.1f}{ratio:>15.1f}x")
    print(f"index file {index_bytes / 2**20:,.1f} MiB, pairwise file {pair_bytes / 2**20:,.1f} MiB")


if __name__ == "__main__":
    main()
