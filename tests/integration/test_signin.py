"""Sign-in through a real uvicorn server: one answer for every refusal, a back-off per
account, a throttle per client address, and an audit row for each refusal."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from seawall.core import audit, users
from seawall.core.access import Principal, Role
from seawall.core.clock import FrozenClock
from seawall.core.node import Node
from seawall.core.signin import Refusal, SignInPolicy, backoff, sign_in
from seawall.db.models import User
from seawall.web.app import create_app
from tests.conftest import LiveServer, serve_in_thread, sign_in_by_form

PASSWORD = "admin-correct-horse"
ATTACKER, ADMIN_DESK = "127.0.0.2", "127.0.0.3"


class CountingHasher(PasswordHasher):
    """The real Argon2id hasher, counting the verifications it runs."""

    def __init__(self) -> None:
        super().__init__()
        self.verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verified += 1
        return super().verify(hash, password)


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher()
    monkeypatch.setattr(users, "_hasher", counting)
    return counting


@pytest.fixture
def server(node: Node) -> Iterator[LiveServer]:
    # The documented defaults, spelt out: the numbers below are computed from them.
    node.settings = node.settings.model_copy(
        update={
            "login_max_failures": 5,
            "login_backoff_seconds": 30,
            "lockout_minutes": 15,
            "login_address_max_failures": 10,
        }
    )
    with node.unit(node.operator()) as ctx:
        users.add_user(ctx, "admin", "admin", password=PASSWORD)
        users.add_user(ctx, "ana", "analyst", password=PASSWORD)
        users.add_user(ctx, "gone", "viewer", password=PASSWORD)
        users.set_disabled(ctx, "gone")
    live = serve_in_thread(create_app(node=node))
    yield live
    live.stop()


class Browser:
    """A client at one loopback address, with the sign-in form's CSRF cookie."""

    def __init__(self, server: LiveServer, address: str) -> None:
        transport = httpx.HTTPTransport(local_address=address)
        self.http = httpx.Client(base_url=server.url, transport=transport, timeout=30)

    def sign_in(self, username: str, password: str) -> httpx.Response:
        return sign_in_by_form(self.http, username, password)


@pytest.fixture
def attacker(server: LiveServer) -> Iterator[Browser]:
    b = Browser(server, ATTACKER)
    yield b
    b.http.close()


@pytest.fixture
def admin_desk(server: LiveServer) -> Iterator[Browser]:
    b = Browser(server, ADMIN_DESK)
    yield b
    b.http.close()


def _shape(response: httpx.Response, username: str) -> tuple[int, str, dict[str, str]]:
    """Status, body (less the echoed username and the form's token) and headers."""
    varying = {"date", "content-length", "set-cookie"}
    headers = {k: v for k, v in response.headers.items() if k not in varying}
    cookies = sorted(c.split("=", 1)[0] for c in response.headers.get_list("set-cookie"))
    headers["set-cookie names"] = ",".join(cookies)
    body = response.text.replace(f'value="{username}"', 'value=""')
    body = re.sub(r'name="csrf_token" value="[^"]*"', "", body)  # fresh per form
    return response.status_code, body, headers


def _failures(node: Node) -> list[audit.AuditEntry]:
    with node.unit(node.operator()) as ctx:
        found = audit.search(ctx.db, audit.AuditFilter(action="auth.login_failed", limit=1000))
    return sorted(found, key=lambda e: e.seq)


def test_every_refusal_gets_one_answer_after_one_argon2_check(
    node: Node, clock: FrozenClock, hasher: CountingHasher, admin_desk: Browser
) -> None:
    for _ in range(5):
        admin_desk.sign_in("admin", "not-the-password")  # the 5th starts the back-off
    answers = {}
    for case, username, password in [
        ("unknown", "nobody", PASSWORD),
        ("wrong", "ana", "not-the-password"),
        ("disabled", "gone", PASSWORD),
        ("backing off", "admin", PASSWORD),
    ]:
        before = hasher.verified
        response = admin_desk.sign_in(username, password)
        assert hasher.verified - before == 1, case
        answers[case] = _shape(response, username)
    first = answers["unknown"]
    assert first[0] == 401
    assert "Sign-in failed" in first[1]
    for case, answer in answers.items():
        assert answer == first, case


def test_each_refusal_is_audited_with_who_where_and_why(
    node: Node, clock: FrozenClock, admin_desk: Browser, attacker: Browser
) -> None:
    for _ in range(5):
        admin_desk.sign_in("admin", "wrong-password-1")
    admin_desk.sign_in("admin", PASSWORD)  # during the back-off
    admin_desk.sign_in("nobody", "wrong-password-2")
    admin_desk.sign_in("gone", PASSWORD)
    for _ in range(11):
        attacker.sign_in("nobody", "wrong-password-3")
    rows = _failures(node)
    seen = [(e.source, e.detail["username"], e.detail["reason"]) for e in rows]
    assert seen == (
        [(ADMIN_DESK, "admin", "wrong_password")] * 5
        + [
            (ADMIN_DESK, "admin", "backing_off"),
            (ADMIN_DESK, "nobody", "unknown_user"),
            (ADMIN_DESK, "gone", "disabled"),
        ]
        + [(ATTACKER, "nobody", "unknown_user")] * 10
        + [(ATTACKER, "nobody", "throttled")]
    )
    assert all(e.actor == "anonymous" for e in rows)
    with node.unit(node.operator()) as ctx:
        admin_id = users.get_user(ctx, "admin").id
    assert [e.target for e in rows[:6]] == [admin_id] * 6
    assert rows[4].detail["delay_seconds"] == 30
    text = json.dumps([e.detail for e in rows])
    assert "password-" not in text and PASSWORD not in text


def test_an_address_that_keeps_failing_is_held_off_and_another_is_not(
    clock: FrozenClock, hasher: CountingHasher, attacker: Browser, admin_desk: Browser
) -> None:
    for i in range(10):
        assert attacker.sign_in(f"guess{i}", "wrong-password").status_code == 401
    # The attacker now holds the right password: it is refused, for the address is held off,
    # after the same one Argon2 verification as any other try.
    before = hasher.verified
    assert attacker.sign_in("admin", PASSWORD).status_code == 401
    assert hasher.verified - before == 1
    assert admin_desk.sign_in("admin", PASSWORD).status_code == 303
    clock.advance(seconds=59)  # the 11th refusal held the address off for 60 s
    assert attacker.sign_in("admin", PASSWORD).status_code == 401
    clock.advance(seconds=121)  # and the 12th, during it, for 120 s more
    assert attacker.sign_in("admin", PASSWORD).status_code == 303


def test_the_admin_signs_in_after_the_back_off_while_an_attacker_hammers(
    node: Node, clock: FrozenClock, attacker: Browser, admin_desk: Browser
) -> None:
    signed_in_at = None
    for second in range(20 * 60):
        attacker.sign_in("admin", f"guess-{second}")
        if second % 60 == 59 and admin_desk.sign_in("admin", PASSWORD).status_code == 303:
            signed_in_at = second
            break
        clock.advance(seconds=1)
    assert signed_in_at == 59  # the first try after the 30 s back-off
    with node.unit(node.operator()) as ctx:
        user = users.get_user(ctx, "admin")
    assert user.failed_logins == 0 and user.locked_until is None


def test_the_account_back_off_doubles_and_is_not_extended_by_tries_during_it(
    node: Node, clock: FrozenClock, server: LiveServer
) -> None:
    # A fresh address per try, so that only the account's back-off applies.
    def attempt(n: int, password: str) -> int:
        b = Browser(server, f"127.0.1.{n}")
        try:
            return b.sign_in("admin", password).status_code
        finally:
            b.http.close()

    for n in range(5):
        attempt(n, "wrong-password")
    for n in range(5, 15):  # during the back-off: refused, and the window stays put
        clock.advance(seconds=2)
        assert attempt(n, PASSWORD) == 401
    clock.advance(seconds=11)  # 31 s after the 5th failure
    assert attempt(20, "wrong-password") == 401  # the 6th failure: 60 s now
    clock.advance(seconds=59)
    assert attempt(21, PASSWORD) == 401
    clock.advance(seconds=2)
    assert attempt(22, PASSWORD) == 303
    with node.unit(node.operator()) as ctx:
        admin = ctx.db.scalar(select(User).where(User.username == "admin"))
        assert admin is not None and admin.failed_logins == 0


def test_the_delay_grows_to_the_cap() -> None:
    delays = [
        backoff(n, threshold=5, base=timedelta(seconds=30), cap=timedelta(minutes=15))
        for n in range(12)
    ]
    assert [d.total_seconds() for d in delays] == [
        0, 0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900,
    ]  # fmt: skip


def test_a_refusal_page_names_no_reason(admin_desk: Browser) -> None:
    body = admin_desk.sign_in("gone", PASSWORD).text  # a disabled user's right password
    assert "Sign-in failed" in body
    assert not re.search(r"locked|disabled|unknown", body, re.IGNORECASE)


def test_back_off_and_throttle_are_kept_in_the_database(any_node: Node, clock: FrozenClock) -> None:
    policy = SignInPolicy(3, 4, timedelta(seconds=30), timedelta(minutes=15))
    with any_node.unit(any_node.operator()) as ctx:
        users.add_user(ctx, "admin", "admin", password=PASSWORD)

    def attempt(source: str, username: str, password: str) -> Refusal | None:
        who = Principal("anonymous", "JM", Role.VIEWER, scopes=frozenset(), source=source)
        with any_node.unit(who) as ctx:
            return sign_in(ctx, username, password, policy).refusal

    assert [attempt(f"10.0.0.{n}", "admin", "wrong-password") for n in range(3)] == [
        Refusal.WRONG_PASSWORD
    ] * 3
    assert attempt("10.0.0.9", "admin", PASSWORD) is Refusal.BACKING_OFF
    assert [attempt("10.0.1.1", "nobody", "wrong-password") for _ in range(5)] == [
        Refusal.UNKNOWN_USER
    ] * 4 + [Refusal.THROTTLED]
    clock.advance(seconds=31)
    assert attempt("10.0.1.1", "admin", PASSWORD) is Refusal.THROTTLED  # held off 60 s now
    assert attempt("10.0.0.9", "admin", PASSWORD) is None
