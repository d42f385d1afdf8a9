"""Five TAXII writers and twenty readers at once lose no acknowledged object.

One Jamaican node, on SQLite and on PostgreSQL, served by a real uvicorn on 127.0.0.1: its
sync routes and its read routes run in uvicorn's worker-thread pool, so requests meet in the
store. Five analysts (two of CIRT-JM, one of a bank, one of no organisation and one of
Trinidad and Tobago's CIRT) post envelopes for a bounded time: new objects marked GREEN,
AMBER, AMBER+STRICT or RED, new versions of their own objects, duplicates (of what they sent
before, and twice in one envelope), an invalid object, and a version of another nation's
object. Twenty readers (the writers' own accounts and fifteen viewers across the
organisations and both nations) meanwhile poll with ``added_after`` and ``next``, read
manifests and look objects up by id.

Every answer is below 500 and well-formed, each status says exactly what happened to each
object, and no reader sees an object the TLP table in docs/intel.md keeps from it, nor misses
one acknowledged before it asked. Afterwards every acknowledged (id, version) is stored once
and nothing else is, ``date_added`` follows the row id, and each reader's polls and a fresh
paging of the collection hold exactly the rows the table lets that reader see.
"""

from __future__ import annotations

import itertools
import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from seawall.core import audit, organisations, tokens, users
from seawall.core.clock import SystemClock
from seawall.core.node import Node, init_node
from seawall.db.models.intel import IntelObject
from seawall.intel.collections import Audience, create_collection
from seawall.intel.tlp import Tlp, marking_id
from seawall.intel.validation import format_timestamp
from seawall.settings import load_settings
from seawall.web.app import create_app
from tests.conftest import LiveServer, serve_in_thread

MEDIA = "application/taxii+json;version=2.1"
STIX_MEDIA = "application/stix+json;version=2.1"
RUN_SECONDS = 8.0
WRITER_REQUESTS = 400  # per writer: the run ends at the deadline or here, whichever is first
READER_REQUESTS = 1500  # per reader
CREATED = "2026-11-01T10:00:00.000000Z"
BASE = datetime(2026, 11, 1, 10, tzinfo=UTC)
LEVELS = (Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED)
DUPLICATE = "already in the collection; not added again"
NAMED_ORG = "CIRT-JM"  # the collection's audience lists it: its members are named for RED

Key = tuple[str, str]  # (id, version) as TAXII writes them


@dataclass(frozen=True)
class Person:
    """A user of the node: a writer or a reader."""

    username: str
    nation: str
    org: str | None
    role: str = "viewer"


WRITERS = (
    Person("w-cirt-a", "JM", "CIRT-JM", "analyst"),
    Person("w-cirt-b", "JM", "CIRT-JM", "analyst"),
    Person("w-bank", "JM", "BANK-JM", "analyst"),
    Person("w-jm", "JM", None, "analyst"),
    Person("w-tt", "TT", "CIRT-TT", "analyst"),
)
VIEWERS = tuple(
    Person(f"r-{kind}-{n}", nation, org)
    for kind, nation, org in (
        ("cirt", "JM", "CIRT-JM"),
        ("bank", "JM", "BANK-JM"),
        ("jm", "JM", None),
        ("ttcirt", "TT", "CIRT-TT"),
        ("tt", "TT", None),
    )
    for n in range(3)
)
READERS = WRITERS + VIEWERS


def may_see(reader: Person, tlp: Tlp, nation: str, org: str | None, submitter: str) -> bool:
    """The TLP table of docs/intel.md, with RED's named recipients (submitter, listed orgs)."""
    if reader.org == NAMED_ORG or reader.username == submitter:
        return True
    if tlp is Tlp.RED:
        return False
    if reader.org is not None and reader.org == org:
        return True
    if tlp is Tlp.AMBER_STRICT:
        return False
    return reader.nation == nation or tlp is Tlp.GREEN


@dataclass(frozen=True)
class Sent:
    """One object version a writer sent as valid."""

    body: dict[str, Any]
    tlp: Tlp
    writer: Person

    def seen_by(self, reader: Person) -> bool:
        """Whether the table lets ``reader`` see it."""
        w = self.writer
        return may_see(reader, self.tlp, w.nation, w.org, w.username)


@dataclass
class Run:
    """What the threads share: the server, what was sent and acknowledged, what went wrong."""

    url: str
    secrets: dict[str, str]
    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: dict[Key, Sent] = field(default_factory=dict)
    acked: list[Key] = field(default_factory=list)  # append-only, in acknowledgement order
    refused: set[Key] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    writes: int = 0
    reads: int = 0

    def client(self, secret: str) -> httpx.Client:
        """An HTTP client sending ``secret`` as a Bearer token."""
        headers = {"Authorization": f"Bearer {secret}", "Accept": MEDIA, "Content-Type": MEDIA}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def problem(self, text: str) -> None:
        """Note a failure (threads cannot fail the test themselves)."""
        with self.lock:
            self.problems.append(text)

    def call(
        self, http: httpx.Client, who: str, method: str, url: str, **kwargs: Any
    ) -> httpx.Response | None:
        """Send one request; a 5xx or a dropped connection is a server error (None)."""
        try:
            answer = http.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            with self.lock:
                self.server_errors.append(f"{who} {method} {url}: {exc!r}")
            return None
        if answer.status_code >= 500:
            with self.lock:
                self.server_errors.append(
                    f"{who} {method} {url}: {answer.status_code} {answer.text[:300]}"
                )
            return None
        return answer

    def acked_sample(self, rng: random.Random, count: int) -> list[Key]:
        """Up to ``count`` acknowledged (id, version) pairs."""
        with self.lock:
            size = len(self.acked)
        return [self.acked[rng.randrange(size)] for _ in range(count)] if size else []


def stix_id(writer: int, n: int) -> str:
    """A deterministic indicator id, unique per (writer, n)."""
    return f"indicator--{uuid.UUID(int=(writer + 1) << 100 | n, version=4)}"


def indicator(ident: str, n: int, tlp: Tlp, version: str = CREATED) -> dict[str, Any]:
    """A valid indicator marked ``tlp`` at ``version``."""
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": ident,
        "created": CREATED,
        "modified": version,
        "pattern": f"[ipv4-addr:value = '198.51.{n // 250 % 250}.{n % 250}']",
        "pattern_type": "stix",
        "valid_from": CREATED,
        "object_marking_refs": [marking_id(tlp)],
    }


def stamp(**delta: float) -> str:
    """A version timestamp ``delta`` after BASE, as TAXII writes it."""
    return format_timestamp(BASE + timedelta(**delta))


def outcome(detail: dict[str, Any], success: bool) -> str:
    """What a status says happened to one object."""
    message = str(detail.get("message", ""))
    if success:
        return "added" if not message else "duplicate" if message == DUPLICATE else message
    if "'pattern'" in message:
        return "invalid"
    return "foreign" if "belongs to" in message else message


@dataclass
class Envelope:
    """One POST in the making: its objects, what its status must say, and the valid ones."""

    writer: Person
    objects: list[dict[str, Any]] = field(default_factory=list)
    expected: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    valid: dict[Key, Sent] = field(default_factory=dict)

    def add(self, obj: dict[str, Any], outcome: str, tlp: Tlp | None = None) -> None:
        """Put ``obj`` in, expecting ``outcome``; ``tlp`` for a new valid version."""
        self.objects.append(obj)
        self.expected[obj["id"], obj["modified"], outcome] += 1
        if tlp is not None:
            self.valid[obj["id"], obj["modified"]] = Sent(obj, tlp, self.writer)


@dataclass
class Writer:
    """One analyst posting for a bounded time; ``w`` picks its ids and random choices."""

    run: Run
    w: int
    mine: list[Key] = field(default_factory=list)  # acknowledged versions of its own
    n: int = 0

    def next_n(self) -> int:
        """A number not used by this writer before."""
        self.n += 1
        return self.n

    def envelope(self, rng: random.Random) -> Envelope:
        """New, versioned, duplicate, invalid and foreign objects, in random order."""
        me, run = WRITERS[self.w], self.run
        out = Envelope(me)
        for _ in range(rng.randint(2, 4)):
            n, level = self.next_n(), rng.choice(LEVELS)
            out.add(indicator(stix_id(self.w, n), n, level), "added", level)
        if self.mine and rng.random() < 0.4:  # a new version of one of mine
            n, level = self.next_n(), rng.choice(LEVELS)
            ident = rng.choice(self.mine)[0]
            out.add(indicator(ident, n, level, stamp(seconds=n)), "added", level)
        if self.mine and rng.random() < 0.4:  # sent again, acknowledged before
            out.add(run.sent[rng.choice(self.mine)].body, "duplicate")
        if rng.random() < 0.2:  # twice in one envelope
            out.add(out.objects[0], "duplicate")
        if rng.random() < 0.15:
            n = self.next_n()
            bad = indicator(stix_id(self.w, n), n, Tlp.GREEN)
            bad["pattern"] = "[ipv4-addr:value = '10.0.0.1'"
            out.add(bad, "invalid")
        theirs = [
            k
            for k in run.acked_sample(rng, 20)
            if run.sent[k].tlp is Tlp.GREEN and run.sent[k].writer.nation != me.nation
        ]
        if theirs and rng.random() < 0.3:  # STIX 2.1: only the creator versions an object
            n = self.next_n()
            attempt = indicator(theirs[0][0], n, Tlp.GREEN, stamp(days=365, seconds=n))
            out.add(attempt, "foreign")
        rng.shuffle(out.objects)
        return out

    def post(self, http: httpx.Client, out: Envelope) -> None:
        """Send one envelope and check that its status says what happened to each object."""
        run, me = self.run, out.writer.username
        with run.lock:
            run.sent.update(out.valid)  # before sending: readers may see them from now on
        body = json.dumps({"objects": out.objects}).encode()
        answer = run.call(http, me, "POST", "objects/", content=body)
        with run.lock:
            run.writes += 1
        if answer is None:
            return
        status = answer.json()
        got: Counter[tuple[str, str, str]] = Counter()
        for detail in status.get("successes", []):
            got[detail["id"], detail["version"], outcome(detail, True)] += 1
        for detail in status.get("failures", []):
            got[detail["id"], detail["version"], outcome(detail, False)] += 1
        if answer.status_code != 202 or got != out.expected or status["status"] != "complete":
            run.problem(f"{me}: {answer.status_code} {got - out.expected} {out.expected - got}")
            return
        with run.lock:
            run.acked += [(d["id"], d["version"]) for d in status["successes"]]
            run.refused |= {(d["id"], d["version"]) for d in status.get("failures", [])}
        self.mine.extend(out.valid)


def write(run: Run, w: int, deadline: float) -> None:
    """One writer's run: envelopes until the deadline or WRITER_REQUESTS."""
    writer, rng = Writer(run, w), random.Random(w)
    with run.client(run.secrets[f"{WRITERS[w].username}/write"]) as http:
        for _ in range(WRITER_REQUESTS):
            if time.monotonic() > deadline:
                return
            writer.post(http, writer.envelope(rng))


def check_page(
    run: Run, reader: Person, what: str, answer: httpx.Response | None, manifest: bool = False
) -> dict[str, Any] | None:
    """A well-formed TAXII page whose every object the reader may see, or None."""
    if answer is None:
        return None
    if answer.status_code != 200 or answer.headers.get("content-type") != MEDIA:
        run.problem(f"{reader.username} {what}: {answer.status_code} {answer.text[:200]}")
        return None
    page: dict[str, Any] = answer.json()
    items = page.get("objects", [])
    if not isinstance(page.get("more"), bool) or (page["more"] and not page.get("next")):
        run.problem(f"{reader.username} {what}: bad paging fields {sorted(page)}")
    if items and "X-TAXII-Date-Added-Last" not in answer.headers:
        run.problem(f"{reader.username} {what}: no X-TAXII-Date-Added-Last")
    for item in items:
        version = item.get("version" if manifest else "modified", "")
        sent = run.sent.get((item.get("id", ""), version))
        if sent is None:
            run.problem(f"{reader.username} {what}: got what no writer sent: {item}")
        elif not sent.seen_by(reader):
            run.problem(f"{reader.username} {what}: saw {item['id']} ({sent.tlp.label})")
        elif not manifest and item != sent.body:
            run.problem(f"{reader.username} {what}: {item['id']} differs from what was sent")
        elif manifest and (item.get("media_type") != STIX_MEDIA or "date_added" not in item):
            run.problem(f"{reader.username} {what}: manifest record {item}")
    return page


@dataclass
class Poller:
    """One reader polling with added_after, as a TAXII client keeping up with a feed."""

    reader: Person
    after: str | None = None
    seen: Counter[Key] = field(default_factory=Counter)
    requests: int = 0

    def poll(self, run: Run, http: httpx.Client, limit: int) -> None:
        """One pass: every page from ``after`` on, following next."""
        params: dict[str, Any] = {"match[version]": "all", "limit": limit}
        if self.after is not None:
            params["added_after"] = self.after
        latest = self.after
        for _ in range(1000):
            answer = run.call(http, self.reader.username, "GET", "objects/", params=params)
            self.requests += 1
            page = check_page(run, self.reader, "poll", answer)
            if page is None:
                return
            for obj in page.get("objects", []):
                self.seen[obj["id"], obj["modified"]] += 1
                if self.seen[obj["id"], obj["modified"]] == 2:
                    run.problem(f"{self.reader.username} polled {obj['id']} twice")
            last = answer.headers.get("X-TAXII-Date-Added-Last") if answer else None
            latest = max(latest or "", last or "") or None
            if not page["more"]:
                break
            params["next"] = page["next"]
        self.after = latest


def read(run: Run, poller: Poller, deadline: float) -> None:
    """One reader: polls, manifests, match[id] lookups and single objects, in turn."""
    me = poller.reader
    rng = random.Random(me.username)
    with run.client(run.secrets[f"{me.username}/read"]) as http:
        for turn in range(READER_REQUESTS):
            if time.monotonic() > deadline:
                return
            if turn % 4 == 0:
                poller.poll(run, http, rng.choice((7, 50, 500)))
                continue
            poller.requests += 1
            if turn % 4 == 1:
                params = {"match[version]": "all", "limit": 40}
                answer = run.call(http, me.username, "GET", "manifest/", params=params)
                check_page(run, me, "manifest", answer, manifest=True)
                continue
            # Acknowledged before the request: the reader must get each one it may see.
            keys = run.acked_sample(rng, 5)
            if not keys:
                continue
            due = {k for k in keys if run.sent[k].seen_by(me)}
            if turn % 4 == 2:
                ids = ",".join(sorted({k[0] for k in keys}))
                params = {"match[id]": ids, "match[version]": "all", "limit": 1000}
                answer = run.call(http, me.username, "GET", "objects/", params=params)
                page = check_page(run, me, "match[id]", answer)
            else:
                ident = keys[0][0]
                due = {k for k in due if k[0] == ident}
                params = {"match[version]": "all"}
                answer = run.call(http, me.username, "GET", f"objects/{ident}/", params=params)
                if answer is not None and answer.status_code == 404:
                    # Nothing visible: a TAXII error, and the object must be hidden from us.
                    error = answer.json()
                    if error.get("http_status") != "404" or not error.get("title"):
                        run.problem(f"{me.username} get {ident}: {answer.text[:200]}")
                    page = {"objects": []}
                else:
                    page = check_page(run, me, "get", answer)
            if page is not None:
                got = {(o["id"], o["modified"]) for o in page.get("objects", [])}
                if due - got:
                    run.problem(f"{me.username} missed acknowledged {sorted(due - got)}")


@dataclass
class Served:
    """A node with its users' tokens and a collection, served by uvicorn."""

    node: Node
    live: LiveServer
    collection_id: str
    secrets: dict[str, str]
    orgs: dict[str, str]  # id -> name


@pytest.fixture
def served(tmp_path: Path, database_url: str) -> Iterator[Served]:
    """The node on each backend, with a real clock: date_added must come from real time."""
    settings = load_settings(home=tmp_path / "home", database_url=database_url)
    node = init_node(settings, "JM", "Concurrency", SystemClock())
    with node.unit(node.operator()) as ctx:
        orgs = {
            name: organisations.add_org(ctx, name, "cirt", nation=nation).id
            for name, nation in (("CIRT-JM", "JM"), ("BANK-JM", "JM"), ("CIRT-TT", "TT"))
        }
        secrets: dict[str, str] = {}
        for person in READERS:
            org = orgs[person.org] if person.org else None
            users.add_user(ctx, person.username, person.role, nation=person.nation, org=org)
            for use in ("write", "read") if person in WRITERS else ("read",):
                issued = tokens.create_token(ctx, use, [], username=person.username)
                secrets[f"{person.username}/{use}"] = issued.value
        audience = Audience.of(nations=["JM", "TT"], organisations=[orgs[NAMED_ORG]])
        collection_id = create_collection(ctx, "shared", "Shared", audience, "green").id
    live = serve_in_thread(create_app(node=node))
    yield Served(node, live, collection_id, secrets, {v: k for k, v in orgs.items()})
    live.stop()
    node.close()


def test_concurrent_writers_and_readers_lose_no_acknowledged_object(served: Served) -> None:
    base = f"{served.live.url}/taxii2/api/collections/{served.collection_id}/"
    run = Run(base, served.secrets)
    pollers = [Poller(reader) for reader in READERS]
    idle_workers = _server_workers()
    started = time.monotonic()
    deadline = started + RUN_SECONDS
    threads = [threading.Thread(target=write, args=(run, w, deadline)) for w in range(5)]
    threads += [threading.Thread(target=read, args=(run, p, deadline)) for p in pollers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=RUN_SECONDS + 60)
    elapsed = time.monotonic() - started
    workers = _server_workers() - idle_workers
    assert not [t for t in threads if t.is_alive()], "a writer or reader did not finish"
    run.reads = sum(p.requests for p in pollers)
    print(  # the figures the concurrency claim is reported with
        f"\n{served.node.engine.url.get_backend_name()}: {run.writes / elapsed:.0f} writes/s, "
        f"{run.reads / elapsed:.0f} reads/s over {elapsed:.1f} s on {workers} server threads; "
        f"{len(set(run.acked))} versions acknowledged, {len(run.refused)} refused"
    )
    # uvicorn ran the requests side by side: FastAPI runs sync routes, and these read routes,
    # in AnyIO's worker threads, one more for each request that finds none idle.
    assert workers >= 5

    assert run.server_errors == []
    assert run.problems == []
    assert len(run.acked) > 50  # the writers got going

    with served.node.unit(served.node.operator()) as ctx:
        rows = ctx.db.execute(
            select(
                IntelObject.seq,
                IntelObject.stix_id,
                IntelObject.version,
                IntelObject.date_added,
                IntelObject.tlp,
                IntelObject.owner_nation,
                IntelObject.owner_org,
                IntelObject.submitted_by,
                IntelObject.superseded,
                IntelObject.body,
            )
            .where(IntelObject.collection_id == served.collection_id)
            .order_by(IntelObject.seq)
        ).all()
        chain = audit.verify(ctx.db, served.node.audit_key)
    stored = Counter((r.stix_id, format_timestamp(r.version)) for r in rows)
    assert [k for k, count in stored.items() if count > 1] == []
    assert set(stored) == set(run.acked)  # every acknowledged version, and nothing else
    assert not set(stored) & run.refused
    for r in rows:
        sent = run.sent[r.stix_id, format_timestamp(r.version)]
        holder = (sent.tlp, sent.writer.nation, sent.writer.org, sent.writer.username)
        assert (r.tlp, r.owner_nation, served.orgs.get(r.owner_org), r.submitted_by) == holder
        assert json.loads(r.body) == sent.body
    # The write lock is taken before the clock is read: date_added follows the row id.
    late = [(a.seq, b.seq) for a, b in itertools.pairwise(rows) if b.date_added < a.date_added]
    assert late == []
    newest = {r.stix_id: r.version for r in rows}
    for r in rows:
        newest[r.stix_id] = max(newest[r.stix_id], r.version)
    assert [r.seq for r in rows if r.superseded != (r.version < newest[r.stix_id])] == []
    assert chain.ok, chain.problems

    # Each reader pages the whole collection, and finishes its polling, afterwards.
    def finish(poller: Poller) -> tuple[Person, list[Key]]:
        me = poller.reader
        paged: list[Key] = []
        with run.client(run.secrets[f"{me.username}/read"]) as http:
            poller.poll(run, http, 500)
            params: dict[str, Any] = {"match[version]": "all", "limit": 97}
            for _ in range(1000):
                answer = run.call(http, me.username, "GET", "objects/", params=params)
                page = check_page(run, me, "page", answer)
                assert page is not None
                paged += [(o["id"], o["modified"]) for o in page.get("objects", [])]
                if not page["more"]:
                    break
                params["next"] = page["next"]
        return me, paged

    with ThreadPoolExecutor(4) as pool:
        finished = list(pool.map(finish, pollers))
    for (me, paged), poller in zip(finished, pollers, strict=True):
        may = {
            (r.stix_id, format_timestamp(r.version))
            for r in rows
            if may_see(me, Tlp(r.tlp), r.owner_nation, served.orgs.get(r.owner_org), r.submitted_by)
        }
        who = me.username
        assert len(paged) == len(set(paged)), f"{who} paged a row twice"
        assert set(paged) == may, f"{who} paged {len(may - set(paged))} rows too few"
        skipped = may - set(poller.seen)
        assert not skipped, f"{who}'s added_after polls skipped {len(skipped)} of {len(may)}"
        assert set(poller.seen) <= may
        assert max(poller.seen.values(), default=1) == 1, f"{who} polled a row twice"
    assert run.problems == []
    assert run.server_errors == []


def _server_workers() -> int:
    return sum(t.name == "AnyIO worker thread" for t in threading.enumerate())
