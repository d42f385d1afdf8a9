"""Cooperation pages over a real uvicorn: an assessor adds a programme, a viewer is refused
with 403 and nothing written, the filters, the coverage heat map, and the pages in French."""

from __future__ import annotations

from contextlib import closing

import httpx
import pytest
from sqlalchemy import func, select

from seawall.assess.rounds import agree, create_round
from seawall.core import users
from seawall.core.node import Node
from seawall.db.models import AuditEntry
from seawall.db.models.coop import Programme
from tests.conftest import LiveServer, sign_in_by_form
from tests.integration.test_intel_bad_input import csrf_of

PASSWORD = "a-long-password"
FORM = {
    "ref": "JM-CIRT",
    "name": "National CIRT capacity",
    "funders": "IDB; OAS",
    "implementers": "OAS CICTE",
    "beneficiaries": "JM",
    "addresses": "cmm:D1.2, sim3:O-1",
    "start": "2025-01-01",
    "end": "2027-12-31",
    "budget": "1,500,000",
    "currency": "USD",
    "status": "ongoing",
    "shareable": "yes",
}


@pytest.fixture
def people(node: Node) -> None:
    with node.unit(node.operator()) as ctx:
        users.add_user(ctx, "jm-assessor", "assessor", password=PASSWORD)
        users.add_user(ctx, "jm-viewer", "viewer", password=PASSWORD)
        users.add_user(ctx, "tt-assessor", "assessor", password=PASSWORD, nation="TT")
        row = create_round(ctx, "JM", "cmm-2021", 2026)
        for factor, stage in (("D1.2", 1), ("D4.1", 2), ("D1.1", 3)):
            agree(ctx, row.id, factor, stage, reason="workshop")


def _client(live: LiveServer, username: str) -> httpx.Client:
    http = httpx.Client(base_url=live.url, timeout=30)
    assert sign_in_by_form(http, username, PASSWORD).status_code == 303
    return http


def _state(node: Node) -> tuple[int, int]:
    with node.unit(node.operator()) as ctx:
        programmes = ctx.db.scalar(select(func.count()).select_from(Programme)) or 0
        audit = ctx.db.scalar(select(func.count()).select_from(AuditEntry)) or 0
    return int(programmes), int(audit)


def test_an_assessor_adds_a_programme_and_a_viewer_is_refused(
    node: Node, live_server: LiveServer, people: None
) -> None:
    with closing(_client(live_server, "jm-viewer")) as http:
        page = http.get("/coop/programmes")
        assert page.status_code == 200 and 'id="add-programme"' not in page.text
        before = _state(node)
        refused = http.post("/coop/programmes", data={**FORM, "csrf_token": csrf_of(page)})
        assert refused.status_code == 403
        assert "cannot change cooperation records" in refused.text
        assert _state(node)[0] == before[0] == 0
    with closing(_client(live_server, "jm-assessor")) as http:
        page = http.get("/coop/programmes")
        added = http.post("/coop/programmes", data={**FORM, "csrf_token": csrf_of(page)})
        assert added.status_code == 200, added.text[:300]
        assert "Programme JM-CIRT added." in added.text
        bad = http.post(
            "/coop/programmes",
            data={**FORM, "ref": "JM-2", "addresses": "cmm:D9.9", "csrf_token": csrf_of(page)},
        )
        assert bad.status_code == 422 and "cmm-2021 has no item" in bad.text
        assert 'value="JM-2"' in bad.text  # the form keeps what was typed
        listed = http.get("/coop/programmes", params={"partner": "IDB", "factor": "cmm-2021:D1.2"})
        assert "National CIRT capacity" in listed.text
        assert "National CIRT" not in http.get("/coop/programmes", params={"nation": "GD"}).text
        [row_id] = _ids(node)
        detail = http.get(f"/coop/programmes/{row_id}")
        assert "1,500,000.00 USD" in detail.text and "sim3-v2:O-1" in detail.text

        heat = http.get("/coop/coverage", params={"nation": "JM", "default_target": "3"})
        assert heat.status_code == 200
        assert 'data-factor="cmm-2021:D1.2"' in heat.text
        assert 'class="cov cov-none" data-nation="JM" data-factor="cmm-2021:D4.1"' in heat.text
        assert "2 gaps: 1 uncovered, 0 with possible duplication." in heat.text
        french = http.get("/coop/coverage", params={"default_target": "3", "lang": "fr"})
        assert "Couverture des lacunes" in french.text and "non couverte" in french.text
    with closing(_client(live_server, "tt-assessor")) as http:
        assert http.get(f"/coop/programmes/{row_id}").status_code == 404
        assert "National CIRT" not in http.get("/coop/programmes").text


def _ids(node: Node) -> list[str]:
    with node.unit(node.operator()) as ctx:
        return list(ctx.db.scalars(select(Programme.id)))
