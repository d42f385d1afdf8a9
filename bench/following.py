"""Streaming benchmark: ``seawall intel match --follow -`` beside ``grep -F --line-buffered``.

Builds the same node and Zeek ``dns.log`` as ``bench/matching.py`` (``--indicators``
indicators, ``--lines`` queries, one in 500 touching an indicator), then pipes the log,
in the same run, into:

- ``seawall intel match - --follow --batch N --json``: the followed path, batch by batch
  (the reader and exact matcher per batch, one JSON report per batch, nothing recorded);
- ``grep -F --line-buffered -c -f values.txt``: what a CIRT runs on a pipe without a
  matcher (it finds substrings, so its count is printed beside Seawall's, not compared).

Each tool runs ``--repeat`` times, alternating, and the best is kept; the figure is lines a
second through the whole command (start-up included) and the ratio of the wall times
(Seawall over grep: below 1, Seawall is faster). Run with
``uv run --frozen python bench/following.py [--lines N] [--indicators N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from matching import SEAWALL, make_log, make_node

WORK = Path(__file__).resolve().parent / ".work" / "following"


def piped(command: list[str], log: Path) -> tuple[float, str]:
    """Wall seconds and stdout of ``command`` reading ``log`` on its standard input."""
    with log.open("rb") as source, tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        done = subprocess.run(command, stdin=source, stdout=out, stderr=subprocess.PIPE)
        elapsed = time.perf_counter() - start
        if done.returncode not in (0, 1):  # grep exits 1 when nothing matched
            raise SystemExit(f"{command[0]} failed: {done.stderr.decode()[-600:]}")
        out.seek(0)
        return elapsed, out.read().decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--indicators", type=int, default=50_000)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    home, values, fixed = make_node(WORK, args.indicators, random.Random(args.seed))
    log = WORK / "dns.log"
    planted = make_log(log, args.lines, values, random.Random(args.seed + args.lines))
    follow = [*SEAWALL, "--home", str(home), "intel", "match", "-", "--follow"]
    follow += ["--batch", str(args.batch), "--json"]
    grep = ["grep", "-F", "--line-buffered", "-c", "-f", str(fixed)]
    piped(follow, log)  # the first run compiles the indicators into the node's cache
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(args.repeat):
        elapsed, out = piped(follow, log)
        ours.append(elapsed)
        reports = [json.loads(line) for line in out.splitlines() if line.strip()]
        read = sum(r["lines"] for r in reports)
        found = sum(h["count"] for r in reports for h in r["matched"])
        elapsed, out = piped(grep, log)
        theirs.append(elapsed)
        counted = int(out.strip() or 0)
    best, peer = min(ours), min(theirs)
    total = args.lines + 6  # the header
    print(
        f"{args.lines:,} lines, {args.indicators:,} indicators, {planted:,} planted, "
        f"{os.cpu_count()} cores"
    )
    rate = f"{best:.2f}s ({total / best:,.0f} lines/s)"
    print(f"seawall --follow -: {rate}, {found:,} matched, {read:,} read")
    print(f"grep -F (pipe):     {peer:.2f}s ({total / peer:,.0f} lines/s), {counted:,} lines")
    print(f"ratio: {best / peer:.2f}x grep's wall time")
    if os.environ.get("KEEP_BENCH_WORK") is None:
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
