"""TAXII benchmark: Seawall's TAXII 2.1 server beside medallion, then Seawall alone at scale.

Generates reproducible STIX 2.1 indicators carrying TLP 2.0 markings, and drives both servers
with the same client code (plain httpx, the TAXII media type, HTTP Basic auth):

1. At ``--compare-objects`` (2,000: medallion's memory backend slows quadratically) Seawall on
   its default SQLite database beside medallion (installed from PyPI into the bench's own venv,
   memory backend): validated POST obj/s, read-all obj/s (following ``next``/``more``) and
   ``match[id]`` p50/p95 latency, with the ratios.
2. Seawall alone at ``--objects`` (1,000,000) on a fresh PostgreSQL database: ``match[id]`` p95,
   read-all with ``limit=1000``, validated POST obj/s, and the server's peak resident memory.

Every server is a real subprocess on a free 127.0.0.1 port. Run with ``make bench`` or
``uv run --frozen python bench/taxii.py [--quick] [--objects N]``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg

WORK = Path(__file__).resolve().parent / ".work" / "taxii"
MEDALLION_VENV = Path(__file__).resolve().parent / ".work" / "medallion-venv"
SEAWALL = [sys.executable, "-m", "seawall"]
MEDIA_TYPE = "application/taxii+json;version=2.1"
USER, PASSWORD = "bench", "bench-password-not-secret-1"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{db}"
# The official TLP 2.0 marking definitions, weighted as a national CIRT's feed looks.
TLP_MARKINGS = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP_WEIGHTS = {"clear": 20, "green": 45, "amber": 25, "amber+strict": 7, "red": 3}


# -- data ----------------------------------------------------------------------------------------


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def indicators(count: int, seed: int = 7, start: int = 0) -> Iterator[dict[str, object]]:
    """Reproducible STIX 2.1 indicators, each with one TLP 2.0 marking."""
    rng = random.Random(seed * 1_000_003 + start)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    levels, weights = list(TLP_WEIGHTS), list(TLP_WEIGHTS.values())
    for n in range(start, start + count):
        created = base + timedelta(seconds=n, milliseconds=rng.randrange(1000))
        kind = rng.randrange(3)
        if kind == 0:
            value = ".".join(str(rng.randrange(1, 255)) for _ in range(4))
            pattern, name = f"[ipv4-addr:value = '{value}']", f"C2 address {value}"
        elif kind == 1:
            value = f"{rng.getrandbits(40):010x}.example-{rng.randrange(999)}.net"
            pattern, name = f"[domain-name:value = '{value}']", f"Phishing domain {value}"
        else:
            value = f"{rng.getrandbits(256):064x}"
            pattern, name = f"[file:hashes.'SHA-256' = '{value}']", "Ransomware dropper"
        level = rng.choices(levels, weights)[0]
        yield {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--{uuid.UUID(int=rng.getrandbits(128), version=4)}",
            "created": _stamp(created),
            "modified": _stamp(created),
            "name": name,
            "indicator_types": ["malicious-activity"],
            "pattern": pattern,
            "pattern_type": "stix",
            "valid_from": _stamp(created),
            "labels": ["bench"],
            "object_marking_refs": [TLP_MARKINGS[level]],
        }


# -- the one client both servers get -------------------------------------------------------------


@dataclass
class Timings:
    """Latencies in seconds."""

    samples: list[float] = field(default_factory=list)

    def pct(self, q: float) -> float:
        """The q-th percentile in milliseconds."""
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] * 1000


class TaxiiClient:
    """A minimal TAXII 2.1 client: the same code drives Seawall and medallion."""

    def __init__(self, objects_url: str, user: str, password: str) -> None:
        auth = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.objects_url = objects_url
        self.http = httpx.Client(
            headers={
                "Accept": MEDIA_TYPE,
                "Content-Type": MEDIA_TYPE,
                "Authorization": f"Basic {auth}",
            },
            timeout=600,
        )

    def post(self, objects: list[dict[str, object]]) -> int:
        """POST one envelope; returns how many the server counted as successes."""
        body = json.dumps({"objects": objects}, separators=(",", ":")).encode()
        answer = self.http.post(self.objects_url, content=body)
        if answer.status_code != 202:
            raise SystemExit(f"POST failed: {answer.status_code} {answer.text[:300]}")
        successes: int = answer.json().get("success_count", 0)
        return successes

    def read_all(self, limit: int) -> int:
        """Read every object, following ``next`` while ``more`` is true; returns the count."""
        count, cursor = 0, None
        while True:
            params: dict[str, str | int] = {"limit": limit}
            if cursor:
                params["next"] = cursor
            answer = self.http.get(self.objects_url, params=params)
            if answer.status_code != 200:
                raise SystemExit(f"GET failed: {answer.status_code} {answer.text[:300]}")
            page = answer.json()
            count += len(page.get("objects", []))
            cursor = page.get("next")
            if not page.get("more") or not cursor:
                return count

    def match_id(self, stix_id: str) -> float:
        """Seconds for one ``match[id]`` read, which must return the object."""
        start = time.perf_counter()
        answer = self.http.get(self.objects_url, params={"match[id]": stix_id})
        elapsed = time.perf_counter() - start
        if answer.status_code != 200 or not answer.json().get("objects"):
            raise SystemExit(
                f"match[id] {stix_id} failed: {answer.status_code} {answer.text[:200]}"
            )
        return elapsed


@dataclass
class Figures:
    """One server's figures."""

    post: float = 0.0
    read_all: float = 0.0
    match: Timings = field(default_factory=Timings)
    read_count: int = 0


def measure(
    client: TaxiiClient,
    objects: list[dict[str, object]],
    batch: int,
    page: int,
    lookups: int,
    seed: int,
) -> Figures:
    """POST the objects in envelopes, read them all back, then time ``match[id]`` reads."""
    figures = Figures()
    start, stored = time.perf_counter(), 0
    for at in range(0, len(objects), batch):
        stored += client.post(objects[at : at + batch])
    figures.post = len(objects) / (time.perf_counter() - start)
    if stored != len(objects):
        raise SystemExit(f"only {stored} of {len(objects)} objects were accepted")
    start = time.perf_counter()
    figures.read_count = client.read_all(page)
    figures.read_all = figures.read_count / (time.perf_counter() - start)
    rng = random.Random(seed)
    for obj in rng.sample(objects, min(lookups, len(objects))):
        figures.match.samples.append(client.match_id(str(obj["id"])))
    return figures


# -- servers -------------------------------------------------------------------------------------


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_ready(url: str, proc: subprocess.Popen[bytes], auth: tuple[str, str]) -> None:
    """Poll until the server answers, or fail with its stderr."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise SystemExit(f"server exited: {err.strip()[-800:]}")
        try:
            if httpx.get(url, auth=auth, headers={"Accept": MEDIA_TYPE}).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server at {url} did not answer in 60 s")


def peak_rss_mib(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process and its children, in MiB."""
    total = 0
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        pids += [int(p) for p in task.read_text().split()]
    for one in pids:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total / 1024


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server this bench started."""
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def seawall(home: Path, *args: str) -> str:
    """Run one Seawall CLI command against ``home``; returns stdout."""
    done = subprocess.run(
        [*SEAWALL, "--home", str(home), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "SEAWALL_USER_PASSWORD": PASSWORD},
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"seawall {' '.join(args[:3])} failed: {done.stderr.strip()[-800:]}")
    return done.stdout


@dataclass
class Server:
    """A running server and the client pointed at its collection."""

    client: TaxiiClient
    proc: subprocess.Popen[bytes]


@contextmanager
def seawall_server(home: Path, database_url: str | None) -> Iterator[Server]:
    """A fresh node (``seawall init``), a user, a token and a collection, served by uvicorn."""
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    init = ["init", "--nation", "JM", "--name", "Bench"]
    seawall(home, *init, *(["--database-url", database_url] if database_url else []))
    seawall(home, "user", "add", USER, "--role", "analyst")
    token = json.loads(
        seawall(home, "token", "create", "--user", USER, "--name", "bench", "--json")
    )
    collection = json.loads(
        seawall(home, "intel", "collection", "create", "bench", "--tlp", "green", "--json")
    )
    port = free_port()
    serve = ["serve", "--host", "127.0.0.1", "--port", str(port)]
    base = f"http://127.0.0.1:{port}/taxii2/"
    with serving(
        [*SEAWALL, "--home", str(home), *serve],
        base,
        f"{base}api/collections/{collection['id']}/objects/",
        token["token"],
    ) as server:
        yield server


@contextmanager
def serving(command: list[str], ready: str, objects: str, secret: str) -> Iterator[Server]:
    """Run a server until the block ends: ready once ``ready`` answers, and a client of its
    collection at ``objects`` that authenticates as USER with ``secret``."""
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_ready(ready, proc, (USER, secret))
        yield Server(TaxiiClient(objects, USER, secret), proc)
    finally:
        stop(proc)


# The least any Python TAXII server on this stack can take: uvicorn (uvloop, httptools) with
# an ASGI app that answers every request with one fixed envelope, doing no work at all.
FLOOR_APP = """
import sys, uvicorn
BODY = b'{"more":false,"objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--0"}]}'
HEADERS = [(b"content-type", b"application/taxii+json;version=2.1")]
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


@contextmanager
def floor_server() -> Iterator[Server]:
    """An ASGI app that does nothing but answer, under the uvicorn Seawall runs on."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/taxii2/api/collections/floor/objects/"
    with serving([sys.executable, "-c", FLOOR_APP, str(port)], url, url, PASSWORD) as server:
        yield server


def ensure_medallion() -> Path:
    """medallion from PyPI in the bench's own venv (never the project's environment)."""
    python = MEDALLION_VENV / "bin" / "python"
    if not (MEDALLION_VENV / "bin" / "medallion").exists():
        subprocess.run([sys.executable, "-m", "venv", str(MEDALLION_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "medallion"],
            check=True,
        )
    return MEDALLION_VENV / "bin" / "medallion"


@contextmanager
def medallion_server(page: int) -> Iterator[Server]:
    """medallion with its memory backend, one user and one empty writable collection."""
    binary = ensure_medallion()
    port = free_port()
    collection = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
    root = f"http://127.0.0.1:{port}/api1/"
    data = {
        "/discovery": {"title": "medallion bench", "default": root, "api_roots": [root]},
        "api1": {
            "information": {
                "title": "bench",
                "versions": [MEDIA_TYPE],
                "max_content_length": 1_000_000_000,
            },
            "status": [],
            "collections": [
                {
                    "id": collection,
                    "title": "bench",
                    "can_read": True,
                    "can_write": True,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": [],
                    "manifest": [],
                }
            ],
        },
    }
    WORK.mkdir(parents=True, exist_ok=True)
    data_file, config_file = WORK / "medallion-data.json", WORK / "medallion-config.json"
    data_file.write_text(json.dumps(data))
    config = {
        "backend": {
            "module_class": "MemoryBackend",
            "module": "medallion.backends.memory_backend",
            "filename": str(data_file),
        },
        "users": {USER: PASSWORD},
        "taxii": {"max_page_size": page},
    }
    config_file.write_text(json.dumps(config))
    with serving(
        [str(binary), "--host", "127.0.0.1", "--port", str(port), str(config_file)],
        f"http://127.0.0.1:{port}/taxii2/",
        f"{root}collections/{collection}/objects/",
        PASSWORD,
    ) as server:
        yield server


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards."""
    name = f"seawall_bench_{os.getpid()}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_URL.format(db=name)
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- runs ----------------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the verdict table."""

    measure: str
    value: str
    target: str
    ok: bool


def compare(args: argparse.Namespace, rows: list[Row]) -> None:
    """Seawall beside medallion at a size medallion can hold."""
    objects = list(indicators(args.compare_objects, args.seed))
    print(f"\n== Seawall (SQLite) beside medallion at {len(objects):,} objects")
    with medallion_server(args.page) as server:
        theirs = measure(server.client, objects, args.batch, args.page, args.lookups, args.seed)
    with seawall_server(WORK / "seawall-compare", None) as server:
        ours = measure(server.client, objects, args.batch, args.page, args.lookups, args.seed)
    print(f"{'':24}{'Seawall':>14}{'medallion':>14}{'ratio':>10}")
    pairs = [
        ("POST obj/s", ours.post, theirs.post, ours.post / theirs.post),
        ("read-all obj/s", ours.read_all, theirs.read_all, ours.read_all / theirs.read_all),
        ("match[id] p50 ms", ours.match.pct(50), theirs.match.pct(50), 0.0),
        ("match[id] p95 ms", ours.match.pct(95), theirs.match.pct(95), 0.0),
    ]
    for name, mine, peer, ratio in pairs:
        shown = ratio or (peer / mine if mine else 0.0)
        print(f"{name:24}{mine:>14,.1f}{peer:>14,.1f}{shown:>9,.1f}x")
    if ours.read_count != theirs.read_count:
        print(f"  note: read-all returned {ours.read_count} vs {theirs.read_count} objects")
    with floor_server() as server:
        floor = Timings([server.client.match_id(str(o["id"])) for o in objects[: args.lookups]])
    print(
        f"  floor: an ASGI app that only answers takes {floor.pct(50):.2f} ms p50 through the "
        f"same client; medallion's p50 is {theirs.match.pct(50) / floor.pct(50):,.0f}x that, "
        "the most any server on this stack could reach"
    )
    for name, ratio in (
        ("POST vs medallion", ours.post / theirs.post),
        ("read-all vs medallion", ours.read_all / theirs.read_all),
        ("match[id] p50 vs medallion", theirs.match.pct(50) / ours.match.pct(50)),
    ):
        rows.append(Row(f"{name} @{len(objects):,}", f"{ratio:,.1f}x", ">= 100x", ratio >= 100))


def scale(args: argparse.Namespace, rows: list[Row]) -> None:
    """Seawall alone on PostgreSQL at ``--objects``."""
    total = args.objects
    print(f"\n== Seawall alone on PostgreSQL at {total:,} objects")
    with postgres_database() as url, seawall_server(WORK / "seawall-scale", url) as s:
        rng = random.Random(args.seed)
        wanted = set(rng.sample(range(total), min(args.lookups, total)))
        probes: list[str] = []
        start, loaded, chunk = time.perf_counter(), 0, 20_000
        for at in range(0, total, chunk):
            batch = list(indicators(min(chunk, total - at), args.seed, start=at))
            probes += [str(o["id"]) for n, o in enumerate(batch, at) if n in wanted]
            began = time.perf_counter()
            for off in range(0, len(batch), args.batch):
                loaded += s.client.post(batch[off : off + args.batch])
            now = time.perf_counter()
            rate, recent = loaded / (now - start), len(batch) / (now - began)
            print(
                f"\r  loading: {loaded:,}/{total:,} ({rate:,.0f} obj/s; last {recent:,.0f})",
                end="",
                flush=True,
            )
        print()
        # What autovacuum does on its own soon after a bulk load: fresh planner statistics.
        with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE intel_objects")
        extra = list(indicators(max(args.batch * 4, 2_000), args.seed + 1, start=total))
        start = time.perf_counter()
        for off in range(0, len(extra), args.batch):
            s.client.post(extra[off : off + args.batch])
        post = len(extra) / (time.perf_counter() - start)
        start = time.perf_counter()
        count = s.client.read_all(1000)
        read = count / (time.perf_counter() - start)
        rng.shuffle(probes)
        timings = Timings([s.client.match_id(stix_id) for stix_id in probes])
        rss = peak_rss_mib(s.proc.pid)
    print(f"  validated POST at {total:,}: {post:,.0f} obj/s")
    print(f"  read-all limit=1000: {count:,} objects at {read:,.0f} obj/s")
    print(f"  match[id]: p50 {timings.pct(50):.2f} ms, p95 {timings.pct(95):.2f} ms")
    print(f"  server peak RSS (VmHWM): {rss:,.0f} MiB")
    at = f"@{total:,}"
    rows += [
        Row(f"match[id] p95 {at}", f"{timings.pct(95):.2f} ms", "<= 10 ms", timings.pct(95) <= 10),
        Row(f"read-all limit=1000 {at}", f"{read:,.0f} obj/s", ">= 20,000", read >= 20_000),
        Row(f"validated POST {at}", f"{post:,.0f} obj/s", ">= 5,000", post >= 5_000),
        Row(f"peak RSS {at}", f"{rss:,.0f} MiB", "<= 1,024 MiB", rss <= 1024),
    ]


def main() -> None:
    """Parse arguments, run the comparison and the scale run, and print the verdicts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=1_000_000, help="Scale run size.")
    parser.add_argument("--compare-objects", type=int, default=2_000, help="Size beside medallion.")
    parser.add_argument("--quick", action="store_true", help="A small run (scale at 20,000).")
    parser.add_argument("--batch", type=int, default=500, help="Objects per POST envelope.")
    parser.add_argument("--page", type=int, default=1000, help="limit= for read-all.")
    parser.add_argument("--lookups", type=int, default=300, help="match[id] requests.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-medallion", action="store_true")
    parser.add_argument("--skip-scale", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.objects = min(args.objects, 20_000)
    rows: list[Row] = []
    if not args.skip_medallion:
        compare(args, rows)
    if not args.skip_scale:
        scale(args, rows)
    print(f"\n{'Measure':40}{'Value':>16}{'Target':>16}  Verdict")
    for row in rows:
        print(f"{row.measure:40}{row.value:>16}{row.target:>16}  {'ok' if row.ok else 'MISS'}")


if __name__ == "__main__":
    main()
