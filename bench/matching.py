"""Log-matching benchmark: ``seawall intel match`` beside ``grep -F`` on the same log.

Builds a node holding ``--indicators`` STIX indicators (domains, addresses, a few ranges,
hashes) and, for each size in ``--lines`` (default 1M and 10M), a Zeek ``dns.log`` of that
many queries, a small share of which touch an indicator or a name under one. Then, for
each log, in the same run:

- ``seawall intel match dns.log --json``: the whole command (start-up, reading the
  indicators through the store under TLP, matching, the report);
- ``grep -F -c -f values.txt dns.log``: fixed-string search for the same values, which is
  what a CIRT does without a matcher. grep finds substrings, so it also counts
  ``notevil.example`` for ``evil.example`` and cannot see that an address lies in a range;
  its count is printed beside Seawall's for that reason.

The first ``seawall intel match`` after the indicators changed compiles them and caches
the compiled set in the node's home (the first run); then ``--repeat`` rounds run, each:
the command (which reads the cached set), grep, ``seawall --help`` (the start-up floor),
and the scan alone (the Zeek fast path over the log with the cached set, in a fresh
process: the scan rate). The best of each is kept; wall and CPU time (user and system,
every thread) and peak RSS are printed, with the load average, since a shared machine
moves wall times.

``--format zeek-json`` writes the same records as Zeek JSON lines (``LogAscii::use_json``)
and runs the same comparison on them; the scan alone is then the Zeek JSON fast path
(:mod:`seawall.intel.matching.zeek_json`). ``--scan line`` makes the scan alone the line
reader instead (one process, every line, the index built before the clock starts): the
figure the fast path is measured against.

The ratio is Seawall's time over grep's (below 1: Seawall is faster). Run with
``make bench`` or ``uv run --frozen python bench/matching.py [--lines N[,N...]]``.

Importing the indicators takes most of the set-up at large sizes (a million indicators:
tens of minutes through ``seawall intel import``), and writing a 10M-line log about two
minutes. ``--work DIR`` keeps the node and the logs in ``DIR`` and reuses them on the next
run with the same ``--indicators`` and ``--seed`` (and lines), so they can be built ahead
of a quiet moment: ``--lines 1000 --repeat 1 --work DIR`` builds the node,
``--keep-cache`` then runs warm only (the cached set the node already holds; no first
run), and ``--no-peer`` leaves grep out (a million patterns make grep slow to start).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

WORK = Path(__file__).resolve().parent / ".work" / "matching"
SEAWALL = [sys.executable, "-m", "seawall"]
STAMP = "2026-11-25T00:00:00.000Z"  # a week before the log: not decayed
TLP_GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"


def _indicator(n: int, pattern: str) -> dict[str, object]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.UUID(int=n + 1, version=4)}",
        "created": STAMP,
        "modified": STAMP,
        "name": f"bench indicator {n}",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": STAMP,
        "object_marking_refs": [TLP_GREEN],
    }


def make_indicators(
    count: int, rng: random.Random
) -> tuple[list[dict[str, object]], dict[str, list[str]]]:
    """Indicators and their plain values by kind (what grep is given)."""
    objects: list[dict[str, object]] = []
    values: dict[str, list[str]] = {"domain": [], "ip": [], "hash": []}
    for n in range(count):
        kind = n % 10
        if kind < 6:
            value = f"{rng.getrandbits(32):08x}.bad-{rng.randrange(500)}.example"
            objects.append(_indicator(n, f"[domain-name:value = '{value}']"))
            values["domain"].append(value)
        elif kind < 9:
            value = str(ipaddress.IPv4Address(rng.randrange(0x0B000000, 0xDF000000)))
            objects.append(_indicator(n, f"[ipv4-addr:value = '{value}']"))
            values["ip"].append(value)
        elif n % 100 == 9:
            net = ipaddress.IPv4Network((rng.randrange(0x0B000000, 0xDF000000), 24), strict=False)
            objects.append(_indicator(n, f"[ipv4-addr:value ISSUBSET '{net}']"))  # not for grep
        else:
            value = f"{rng.getrandbits(256):064x}"
            objects.append(_indicator(n, f"[file:hashes.'SHA-256' = '{value}']"))
            values["hash"].append(value)
    return objects, values


def _address(rng: random.Random) -> str:
    return str(ipaddress.IPv4Address(rng.randrange(0x0B000001, 0xDF000000)))


def make_log(
    path: Path, lines: int, values: dict[str, list[str]], rng: random.Random, fmt: str = "zeek"
) -> int:
    """A Zeek dns.log shaped like a small ministry's: 400 clients, one resolver, and names
    that repeat (70% of queries go to 3,000 popular names, the rest to a long tail).
    About one query in 500 is for an indicator's name or one under it. ``fmt`` "zeek-json"
    writes the same records as Zeek's JSON writer does (``LogAscii::use_json``)."""
    planted = 0
    start = 1_796_302_933.0
    clients = [
        f"10.{rng.randrange(4)}.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(400)
    ]
    popular = [
        f"host{rng.randrange(5000)}.site-{rng.randrange(20000)}.example.org" for _ in range(3000)
    ]
    popular_answers = [_address(rng) for _ in popular]
    with path.open("w") as out:
        if fmt == "zeek":
            out.write("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n")
            out.write("#unset_field\t-\n#path\tdns\n")
            out.write(
                "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto"
                "\ttrans_id\tquery\tqtype_name\trcode_name\tanswers\tTTLs\n"
            )
        for n in range(lines):
            if rng.randrange(500) == 0:
                query = rng.choice(("", "www.", "cdn.")) + rng.choice(values["domain"])
                answer = rng.choice(values["ip"])
                planted += 1
            elif rng.random() < 0.7:
                at = rng.randrange(len(popular))
                query, answer = popular[at], popular_answers[at]
            else:
                query = f"host{rng.randrange(5000)}.site-{rng.randrange(20000)}.example.org"
                answer = _address(rng)
            when, client, port = f"{start + n * 0.01:.6f}", rng.choice(clients), 40000 + n % 20000
            if fmt == "zeek":
                out.write(
                    f"{when}\tC{n:x}\t{client}\t{port}\t10.0.0.1\t53\tudp\t{n % 65536}"
                    f"\t{query}\tA\tNOERROR\t{answer}\t300.000000\n"
                )
            else:
                out.write(
                    f'{{"ts":{when},"uid":"C{n:x}","id.orig_h":"{client}","id.orig_p":{port},'
                    f'"id.resp_h":"10.0.0.1","id.resp_p":53,"proto":"udp","trans_id":{n % 65536},'
                    f'"query":"{query}","qtype_name":"A","rcode_name":"NOERROR",'
                    f'"answers":["{answer}"],"TTLs":[300.0]}}\n'
                )
    return planted


SCAN_ONLY = """
import resource, sys, time
from datetime import UTC, datetime
from pathlib import Path
from seawall.intel.matching.columnar import fast_scan
from seawall.intel.matching.compiled import read_cached
from seawall.intel.matching.logs import LogFormat, reader_for
from seawall.intel.matching.scan import scan
from seawall.intel.matching.zeek_json import json_fast_scan
folder, log, fmt, how = Path(sys.argv[1]), Path(sys.argv[2]), LogFormat(sys.argv[3]), sys.argv[4]
newest = max(folder.glob("*.json"), key=lambda p: p.stat().st_mtime)
compiled = read_cached(folder, newest.name.removesuffix(".json"))
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
if how == "line":  # the index is built first, as match_logs does before any log
    index, windows = compiled.index(), compiled.windows()
start, used = time.perf_counter(), cpu()
if how == "line":
    read = reader_for(fmt, log, index.matcher.ports)
    with log.open(encoding="utf-8", errors="replace", newline="") as lines:
        tally = scan(lines, read, index, windows, datetime.now(UTC))
elif fmt is LogFormat.ZEEK_JSON:
    tally = json_fast_scan(log, compiled, datetime.now(UTC))
else:
    tally = fast_scan(log, compiled, datetime.now(UTC))
print(time.perf_counter() - start, cpu() - used, tally.lines)
"""


def seawall(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """One Seawall command against the bench node; fails the bench on error."""
    done = subprocess.run(
        [*SEAWALL, "--home", str(home), *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"seawall {' '.join(args[:2])} failed: {done.stderr.strip()[-600:]}")
    return done


def make_node(
    work: Path, count: int, rng: random.Random, seed: int = -1
) -> tuple[Path, dict[str, list[str]], Path]:
    """A bench node in ``work`` holding ``count`` generated indicators (TLP:GREEN, in
    ``feeds``); returns its home, the indicators' plain values by kind, and a file of those
    values, one a line, for ``grep -F -f``. A node ``work`` already holds for the same
    ``count`` and ``seed`` (its ``ready`` file says) is reused."""
    home = work / "node"
    ready = work / "ready"
    fixed = work / "values.txt"
    if seed >= 0 and ready.exists() and ready.read_text().split()[:2] == [str(count), str(seed)]:
        _, values = make_indicators(count, rng)  # the same values: the same seed
        print(f"reusing the node of {count:,} indicators in {work}", flush=True)
        if not fixed.exists():
            fixed.write_text(
                "\n".join(v for k in ("domain", "ip", "hash") for v in values[k]) + "\n"
            )
        seawall(home, "init", "--nation", "JM", "--name", "Bench")  # migrates it, if need be
        return home, values, fixed
    ready.unlink(missing_ok=True)
    shutil.rmtree(home, ignore_errors=True)
    seawall(home, "init", "--nation", "JM", "--name", "Bench")
    seawall(home, "intel", "collection", "create", "feeds", "--tlp", "green")
    objects, values = make_indicators(count, rng)
    bundle = work / "indicators.json"
    bundle.write_text(
        json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects})
    )
    # A child's peak RSS starts from this process's size when it forks: keep it small.
    del objects
    print(f"loading {count:,} indicators ...", flush=True)
    start = time.perf_counter()
    seawall(home, "intel", "import", str(bundle), "--collection", "feeds", "--json")
    took = time.perf_counter() - start
    print(f"imported in {took:.1f}s", flush=True)
    bundle.unlink()
    fixed.write_text("\n".join(v for kind in ("domain", "ip", "hash") for v in values[kind]) + "\n")
    ready.write_text(f"{count} {seed} {took:.1f}\n")
    return home, values, fixed


def timed(command: list[str]) -> tuple[float, str, float, float]:
    """Wall seconds, stdout, peak RSS (MiB) and CPU seconds (user and system, all threads)
    of one command (its own, from wait4).

    The peak RSS is read by ``/usr/bin/time``, which starts the command: a process's peak
    starts from its parent's size when it forks, and this one has held the generated
    indicators (ru_maxrss from wait4 would report that, not the command)."""
    start = time.perf_counter()
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r") as peak,
    ):
        wrapped = ["/usr/bin/time", "-f", "%M", "-o", peak.name, *command]
        child = subprocess.Popen(wrapped, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
        kib = peak.read().split()
    if child.returncode not in (0, 1) or (child.returncode == 1 and "Traceback" in stderr):
        # grep exits 1 when nothing matched; Python, when it fails
        raise SystemExit(f"{command[0]} failed: {stderr.strip()[-600:]}")
    return elapsed, stdout, int(kib[-1]) / 1024, usage.ru_utime + usage.ru_stime


def main() -> None:
    """Build the node and the logs, run both tools, print the figures and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--indicators", type=int, default=50_000)
    parser.add_argument("--lines", default="1000000,10000000", help="Log sizes, comma-separated.")
    parser.add_argument("--repeat", type=int, default=3, help="Runs of each tool; best kept.")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--work", type=Path, help="Keep the node and logs here and reuse them (see above)."
    )
    parser.add_argument("--keep-cache", action="store_true", help="Warm runs only: no first run.")
    parser.add_argument("--no-peer", action="store_true", help="Leave grep out.")
    parser.add_argument(
        "--format",
        choices=("zeek", "zeek-json"),
        default="zeek",
        help="The log's format: Zeek TSV, or the same records as Zeek JSON lines.",
    )
    parser.add_argument(
        "--scan",
        choices=("fast", "line"),
        default="fast",
        help="What the scan-alone figure runs: the format's fast path, or the line reader "
        "(one process, every line).",
    )
    args = parser.parse_args()
    work = args.work or WORK
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    home, values, fixed = make_node(work, args.indicators, random.Random(args.seed), args.seed)
    cache = home / "cache" / "matching"
    for lines in (int(n) for n in args.lines.split(",")):
        if not args.keep_cache:
            shutil.rmtree(cache, ignore_errors=True)  # the first run after a change compiles
        suffix = ".log" if args.format == "zeek" else "-json.log"
        log = work / f"dns-{lines}-{args.seed}{suffix}"
        _one_size(home, log, lines, values, fixed, args, random.Random(args.seed + lines))
    if args.work is None and os.environ.get("KEEP_BENCH_WORK") is None:
        shutil.rmtree(work, ignore_errors=True)


def _one_size(
    home: Path,
    log: Path,
    lines: int,
    values: dict[str, list[str]],
    fixed: Path,
    args: argparse.Namespace,
    rng: random.Random,
) -> None:
    made = log.with_name(log.name + ".planted")  # written once the log is whole
    if made.exists():
        planted = int(made.read_text())
    else:
        planted = make_log(log, lines, values, rng, args.format)
        made.write_text(f"{planted}\n")
    repeat = args.repeat
    size = log.stat().st_size
    shown = "Zeek dns.log" if args.format == "zeek" else "Zeek JSON dns.log"
    print(f"\nlog: {lines:,} {shown} lines ({size / 2**20:,.0f} MiB), {planted:,} planted hits")
    print(f"scan alone: {'the fast path' if args.scan == 'fast' else 'the line reader'}")
    subprocess.run(["cat", str(log)], stdout=subprocess.DEVNULL, check=True)  # warm the cache
    load_before = os.getloadavg()[0]
    command = [*SEAWALL, "--home", str(home), "intel", "match", str(log), "--json"]
    grep = ["grep", "-F", "-c", "-f", str(fixed), str(log)]
    cold = None if args.keep_cache else timed(command)
    ours, theirs, helps, scans = [], [], [], []
    for _ in range(repeat):
        ours.append(timed(command))
        if not args.no_peer:
            theirs.append(timed(grep))
        helps.append(timed([*SEAWALL, "--help"]))
        _, shown, peak, _ = timed(
            [
                *(sys.executable, "-c", SCAN_ONLY, str(home / "cache" / "matching"), str(log)),
                *(args.format, args.scan),
            ]
        )
        wall, cpu = (float(x) for x in shown.split()[:2])
        scans.append((wall, cpu, peak))
    load_after = os.getloadavg()[0]
    best_ours = min(ours, key=lambda r: r[0])
    best_theirs = min(theirs, key=lambda r: r[0]) if theirs else None
    report = json.loads(best_ours[1])
    lines_matched = sum(h["count"] for h in report["matched"])
    scan_wall = min(s[0] for s in scans)
    scan_cpu = min(s[1] for s in scans)
    scan_rss = max(s[2] for s in scans)
    best_help = min(h[0] for h in helps)

    def peer(text: str) -> str:
        return f"{text:>14}" if best_theirs else f"{'-':>14}"

    print(f"\n{'':38}{'Seawall':>14}{'grep -F':>14}")
    if cold is not None:
        print(f"{'wall, first run (compiles, caches)':38}{cold[0]:>13.2f}s")
    print(
        f"{f'wall, best of {repeat}':38}{best_ours[0]:>13.2f}s"
        + peer(f"{best_theirs[0]:.2f}s" if best_theirs else "")
    )
    print(f"{'  every run':38}{' '.join(f'{r[0]:.2f}' for r in ours):>14}")
    print(f"{'':38}{'':>14}" + peer(" ".join(f"{r[0]:.2f}" for r in theirs)))
    print(
        f"{'CPU s (user+sys), best run':38}{min(r[3] for r in ours):>13.2f}s"
        + peer(f"{min(r[3] for r in theirs):.2f}s" if theirs else "")
    )
    print(
        f"{'lines/s, whole command':38}{lines / best_ours[0]:>14,.0f}"
        + peer(f"{lines / best_theirs[0]:,.0f}" if best_theirs else "")
    )
    print(f"{'scan alone: wall / CPU s':38}{f'{scan_wall:.2f} / {scan_cpu:.2f}':>14}")
    print(f"{'lines/s, scan alone (wall)':38}{lines / scan_wall:>14,.0f}")
    print(f"{'lines per CPU-second, scan alone':38}{lines / scan_cpu:>14,.0f}")
    print(f"{'peak RSS MiB, scan alone (process)':38}{scan_rss:>14,.0f}")
    print(f"{'seawall --help (start-up), best':38}{best_help:>13.2f}s")
    print(
        f"{'matches (records / lines)':38}{lines_matched:>14,}"
        + peer(f"{int(best_theirs[1]):,}" if best_theirs else "")
    )
    print(f"{'indicators matched':38}{len(report['matched']):>14,}")
    first = f"{cold[2]:,.0f}" if cold is not None else "-"
    print(f"{'peak RSS MiB, first run / warm':38}{f'{first} / {best_ours[2]:,.0f}':>14}")
    print(
        f"{'load average (1 min), before / after':38}{f'{load_before:.1f} / {load_after:.1f}':>14}"
    )
    if best_theirs:
        print(f"\nratio (Seawall time / grep time): {best_ours[0] / best_theirs[0]:.2f}x")


if __name__ == "__main__":
    main()
