"""The round's pages over a real uvicorn: participants shown, the lead invites and reveals,
stages hidden as the core says, and a viewer's or a rater's refused change answers 403 and
writes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select

from seawall.assess.participants import invite, list_participants
from seawall.assess.rounds import create_round, rate
from seawall.core import users
from seawall.core.node import Node
from seawall.db.models import AuditEntry
from seawall.db.models.assess import Consensus, Rating, Round
from tests.conftest import LiveServer, sign_in_by_form
from tests.integration.test_intel_bad_input import csrf_of

PASSWORD = "a-long-password"


@pytest.fixture
def round_id(node: Node) -> str:
    with node.unit(node.operator()) as ctx:
        for name, role in (
            ("jm-lead", "assessor"),
            ("jm-gov", "assessor"),
            ("jm-acad", "assessor"),
            ("jm-viewer", "viewer"),
        ):
            users.add_user(ctx, name, role, password=PASSWORD)
        lead = users.act_as(ctx, "jm-lead")
        gov = users.act_as(ctx, "jm-gov")
    with node.unit(lead) as ctx:
        rid = create_round(ctx, "JM", "cmm-2021", 2026).id
        invite(ctx, rid, "government", ["jm-gov"])
        invite(ctx, rid, "academia", ["jm-acad"])
    with node.unit(gov) as ctx:
        rate(ctx, rid, "government", "D1.1", 4, "funded strategy")
    return rid


def _client(live_server: LiveServer, username: str) -> httpx.Client:
    http = httpx.Client(base_url=live_server.url, timeout=30)
    assert sign_in_by_form(http, username, PASSWORD).status_code == 303
    return http


class Clients(dict[str, httpx.Client]):
    """A signed-in client per user, made on first use."""

    def __init__(self, live_server: LiveServer) -> None:
        super().__init__()
        self.live_server = live_server

    def __missing__(self, name: str) -> httpx.Client:
        self[name] = _client(self.live_server, name)
        return self[name]


@pytest.fixture
def as_user(live_server: LiveServer) -> Iterator[Clients]:
    made = Clients(live_server)
    yield made
    for http in made.values():
        http.close()


def _state(node: Node, rid: str) -> tuple[int, int, int, int, object]:
    with node.unit(node.operator()) as ctx:
        count = ctx.db.scalar(select(func.count()).select_from(AuditEntry)) or 0
        ratings = ctx.db.scalar(select(func.count()).select_from(Rating)) or 0
        agreed = ctx.db.scalar(select(func.count()).select_from(Consensus)) or 0
        people = len(list_participants(ctx, rid))
        row = ctx.db.get(Round, rid)
        assert row is not None
        return count, ratings, agreed, people, row.revealed_at


@pytest.mark.parametrize("who", ["jm-viewer", "jm-gov"])
def test_a_viewers_or_a_raters_change_is_refused_and_writes_nothing(
    node: Node, round_id: str, as_user: Clients, who: str
) -> None:
    http = as_user[who]
    page = http.get(f"/assess/rounds/{round_id}")
    assert page.status_code == 200
    assert 'id="invite-form"' not in page.text and 'id="reveal-form"' not in page.text
    token = csrf_of(page)
    before = _state(node, round_id)
    base = f"/assess/rounds/{round_id}"
    posts = {
        f"{base}/invite": {"group": "civil_society", "raters": who},
        f"{base}/reveal": {},
        f"{base}/lead": {"username": who},
        f"{base}/uninvite": {"group": "academia", "username": "jm-acad"},
        f"{base}/agree": {"factor": "D1.1", "stage": "3"},
        f"{base}/rate/academia": {"stage-D1.1": "1"},
    }
    for url, data in posts.items():
        answer = http.post(url, data={"csrf_token": token, **data})
        assert answer.status_code == 403, (url, answer.status_code)
    # An empty sheet for another group is refused as well, not "saved 0 ratings".
    empty = http.post(f"{base}/rate/academia", data={"csrf_token": token})
    assert empty.status_code == 403 and "Saved" not in empty.text
    assert _state(node, round_id) == before


def test_stages_are_hidden_until_the_lead_reveals_them(
    node: Node, round_id: str, as_user: Clients
) -> None:
    acad = as_user["jm-acad"]
    consensus = acad.get(f"/assess/rounds/{round_id}/consensus")
    assert 'id="hidden-note"' in consensus.text
    row = consensus.text.split('id="row-D1.1"')[1].split("</tr>")[0]
    assert "stage-chip s4" not in row and "funded strategy" not in row
    sheet = acad.get(f"/assess/rounds/{round_id}/rate/government").text
    assert "funded strategy" not in sheet
    # Academia's own sheet is editable; government's is not.
    assert "disabled" in sheet
    assert 'class="agree-form"' not in consensus.text

    lead = as_user["jm-lead"]
    page = lead.get(f"/assess/rounds/{round_id}")
    assert "jm-gov" in page.text and 'id="reveal-form"' in page.text
    token = csrf_of(page)
    invited = lead.post(
        f"/assess/rounds/{round_id}/invite",
        data={"csrf_token": token, "group": "civil_society", "raters": "jm-viewer"},
    )
    assert invited.status_code == 422 and "user jm-viewer (viewer) may not rate" in invited.text
    done = lead.post(f"/assess/rounds/{round_id}/reveal", data={"csrf_token": token})
    assert done.status_code == 200
    shown = acad.get(f"/assess/rounds/{round_id}/consensus").text
    assert "stage-chip s4" in shown.split('id="row-D1.1"')[1].split("</tr>")[0]
    assert _state(node, round_id)[4] is not None
