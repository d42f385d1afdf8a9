"""Cooperation pages over a real uvicorn, continued: partner organisations (list by kind, a
page with the programmes each funds or implements, add and edit), a programme's edit form,
the import of a file of programmes, share and unshare, and the roadmap items a programme
funds (on its page, and beside each item on the maturity pillar's roadmap page)."""

from __future__ import annotations

from contextlib import closing
from datetime import date

import httpx
import pytest
from sqlalchemy import func, select

from seawall.assess.gaps import add_item
from seawall.assess.rounds import agree, create_round
from seawall.coop import programmes
from seawall.coop.fields import ProgrammeDraft
from seawall.core import users
from seawall.core.node import Node
from seawall.db.models import AuditEntry
from seawall.db.models.coop import CoopOrganisation, Programme
from tests.conftest import LiveServer, sign_in_by_form
from tests.integration.test_intel_bad_input import csrf_of

PASSWORD = "a-long-password"
ORG = {
    "name": "Inter-American Development Bank",
    "acronym": "IDB",
    "kind": "development_partner",
    "website": "https://www.iadb.org",
}


@pytest.fixture
def people(node: Node) -> str:
    """Users of JM and TT, a JM round, a programme funded by the IDB; the round's id."""
    with node.unit(node.operator()) as ctx:
        users.add_user(ctx, "jm-assessor", "assessor", password=PASSWORD)
        users.add_user(ctx, "jm-viewer", "viewer", password=PASSWORD)
        users.add_user(ctx, "tt-assessor", "assessor", password=PASSWORD, nation="TT")
        row = create_round(ctx, "JM", "cmm-2021", 2026)
        agree(ctx, row.id, "D1.2", 1, reason="workshop")
        draft = ProgrammeDraft(
            ref="JM-CIRT",
            name="National CIRT capacity",
            funders=("IDB",),
            implementers=("OAS CICTE",),
            addresses=("cmm-2021:D1.2",),
            status="ongoing",
            shareable=True,
        )
        programmes.save_programme(ctx, node.settings, draft)
        return row.id


def _client(live: LiveServer, username: str) -> httpx.Client:
    http = httpx.Client(base_url=live.url, timeout=30)
    assert sign_in_by_form(http, username, PASSWORD).status_code == 303
    return http


def _count(node: Node, model: type[object]) -> int:
    with node.unit(node.operator()) as ctx:
        return int(ctx.db.scalar(select(func.count()).select_from(model)) or 0)


def _programme(node: Node) -> Programme:
    with node.unit(node.operator()) as ctx:
        row = ctx.db.scalar(select(Programme).where(Programme.ref == "JM-CIRT"))
        assert row is not None
        ctx.db.expunge(row)
        return row


def _org_id(node: Node, name: str) -> str:
    with node.unit(node.operator()) as ctx:
        found = ctx.db.scalar(select(CoopOrganisation.id).where(CoopOrganisation.name == name))
        assert found is not None
        return found


def test_organisations_by_kind_with_their_programmes_and_a_viewer_refused(
    node: Node, live_server: LiveServer, people: str
) -> None:
    with closing(_client(live_server, "jm-viewer")) as http:
        page = http.get("/coop/organisations")
        assert page.status_code == 200 and 'id="org-form"' not in page.text
        refused = http.post("/coop/organisations", data={**ORG, "csrf_token": csrf_of(page)})
        assert refused.status_code == 403 and "cannot change cooperation records" in refused.text
        assert _count(node, CoopOrganisation) == 0
    with closing(_client(live_server, "jm-assessor")) as http:
        page = http.get("/coop/organisations")
        assert 'id="org-form"' in page.text
        token = csrf_of(page)
        added = http.post("/coop/organisations", data={**ORG, "csrf_token": token})
        assert added.status_code == 200, added.text[:300]
        assert "Partner organisation Inter-American Development Bank added." in added.text
        cicte = {"name": "OAS CICTE", "kind": "regional body", "csrf_token": token}
        assert http.post("/coop/organisations", data=cicte).status_code == 200
        bad = http.post(
            "/coop/organisations", data={**ORG, "name": "X", "kind": "bank", "csrf_token": token}
        )
        assert bad.status_code == 422 and "kind:" in bad.text and 'value="X"' in bad.text
        regional = http.get("/coop/organisations", params={"kind": "regional_body"})
        assert "OAS CICTE" in regional.text and "Inter-American" not in regional.text

        idb = _org_id(node, ORG["name"])
        detail = http.get(f"/coop/organisations/{idb}")
        assert detail.status_code == 200
        assert 'id="funds"' in detail.text and "National CIRT capacity" in detail.text
        cicte_page = http.get(f"/coop/organisations/{_org_id(node, 'OAS CICTE')}")
        assert 'id="implements"' in cicte_page.text and 'id="funds"' not in cicte_page.text

        edited = http.post(
            f"/coop/organisations/{idb}",
            data={**ORG, "contact": "cyber@iadb.org", "csrf_token": token},
        )
        assert edited.status_code == 200 and "cyber@iadb.org" in edited.text
        assert "Inter-American Development Bank saved." in edited.text
        assert _count(node, CoopOrganisation) == 2
        spanish = http.get("/coop/organisations", params={"lang": "es"})
        assert "Organizaciones asociadas" in spanish.text
        assert "socio para el desarrollo" in spanish.text
    with closing(_client(live_server, "jm-viewer")) as http:
        page = http.get(f"/coop/organisations/{idb}")
        assert 'id="org-form"' not in page.text
        before = _count(node, AuditEntry)
        refused = http.post(
            f"/coop/organisations/{idb}",
            data={**ORG, "contact": "x@example.org", "csrf_token": csrf_of(page)},
        )
        assert refused.status_code == 403 and _count(node, AuditEntry) == before
    with closing(_client(live_server, "tt-assessor")) as http:
        assert http.get(f"/coop/organisations/{idb}").status_code == 404


GOOD_CSV = (
    "ref,title,funder,beneficiary countries,factors,status\n"
    "JM-AWARE,Awareness month,CCSC,JM,cmm:D3.1,planned\n"
    "JM-LAW,Cybercrime bill drafting,OAS,JM,cmm:D4.1,Ongoing\n"
)
BAD_CSV = GOOD_CSV + "JM-X,Another,IDB,JM,cmm:D1.1,paused\n"


def test_a_programme_is_edited_imported_shared_and_unshared(
    node: Node, live_server: LiveServer, people: str
) -> None:
    row = _programme(node)
    with closing(_client(live_server, "jm-viewer")) as http:
        page = http.get(f"/coop/programmes/{row.id}")
        assert 'id="edit-programme"' not in page.text and 'id="share-form"' not in page.text
        token = csrf_of(http.get("/coop/programmes"))
        before = _count(node, AuditEntry)
        for path in (f"/coop/programmes/{row.id}", f"/coop/programmes/{row.id}/unshare"):
            refused = http.post(path, data={"ref": "JM-CIRT", "name": "x", "csrf_token": token})
            assert refused.status_code == 403, path
        files = {"file": ("p.csv", GOOD_CSV.encode(), "text/csv")}
        refused = http.post("/coop/programmes/import", data={"csrf_token": token}, files=files)
        assert refused.status_code == 403
        assert _count(node, AuditEntry) == before and _count(node, Programme) == 1
    with closing(_client(live_server, "jm-assessor")) as http:
        page = http.get(f"/coop/programmes/{row.id}")
        assert 'id="edit-programme"' in page.text and 'value="National CIRT capacity"' in page.text
        token = csrf_of(page)
        edited = http.post(
            f"/coop/programmes/{row.id}",
            data={
                "name": "National CIRT capacity, phase 2",
                "funders": "IDB",
                "addresses": "cmm:D1.2",
                "status": "completed",
                "shareable": "yes",
                "csrf_token": token,
            },
        )
        assert edited.status_code == 200, edited.text[:300]
        assert "Programme JM-CIRT saved." in edited.text and "phase 2" in edited.text
        bad = http.post(
            f"/coop/programmes/{row.id}",
            data={"name": "y", "start": "2027-01-01", "end": "2026-01-01", "csrf_token": token},
        )
        assert bad.status_code == 422 and "before the start" in bad.text
        assert _programme(node).name == "National CIRT capacity, phase 2"

        unshared = http.post(f"/coop/programmes/{row.id}/unshare", data={"csrf_token": token})
        assert unshared.status_code == 200 and "Programme JM-CIRT is private." in unshared.text
        assert not _programme(node).shareable
        shared = http.post(f"/coop/programmes/{row.id}/share", data={"csrf_token": token})
        assert "Programme JM-CIRT is shared with the nation" in shared.text
        assert _programme(node).shareable

        files = {"file": ("programmes.csv", BAD_CSV.encode(), "text/csv")}
        bad = http.post("/coop/programmes/import", data={"csrf_token": token}, files=files)
        assert bad.status_code == 422
        assert "row 4, column status: unknown status &#39;paused&#39;" in bad.text
        assert 'id="import-programmes"' in bad.text and _count(node, Programme) == 1
        files = {"file": ("programmes.csv", GOOD_CSV.encode(), "text/csv")}
        done = http.post("/coop/programmes/import", data={"csrf_token": token}, files=files)
        assert done.status_code == 200
        assert "Imported programmes.csv: 2 added, 0 updated, 0 unchanged." in done.text
        assert _count(node, Programme) == 3
        as_json = {"file": ("x.json", b'[{"ref": "JM-AWARE", "name": "Awareness month"}]', "")}
        again = http.post(
            "/coop/programmes/import", data={"csrf_token": token, "format": ""}, files=as_json
        )
        assert "0 added, 1 updated" in again.text
    with closing(_client(live_server, "tt-assessor")) as http:
        token = csrf_of(http.get("/coop/programmes"))
        missing = http.post(f"/coop/programmes/{row.id}/unshare", data={"csrf_token": token})
        assert missing.status_code == 404


def test_the_roadmap_items_a_programme_funds_show_on_both_pages(
    node: Node, live_server: LiveServer, people: str
) -> None:
    with node.unit(node.operator()) as ctx:
        item = add_item(ctx, "JM", "cmm-2021", "D1.2", "24/7 CSIRT cover", "JaCIRT",
                        date(2027, 6, 30))  # fmt: skip
        other = add_item(ctx, "JM", "cmm-2021", "D5.4", "Restore drills", "eGov", date(2027, 3, 31))
        programmes.fund_items(ctx, "JM-CIRT", [item.id])
        item_id, other_id = item.id, other.id
    row = _programme(node)
    with closing(_client(live_server, "jm-viewer")) as http:
        page = http.get(f"/coop/programmes/{row.id}")
        funded = page.text.split('id="funded-items"', 1)[1].split("</section>", 1)[0]
        assert "cmm-2021:D1.2" in funded or "D1.2" in funded
        assert "24/7 CSIRT cover" in funded and "JaCIRT" in funded and "30 Jun 2027" in funded
        assert "Restore drills" not in funded
        gaps_page = http.get(f"/assess/rounds/{people}/gaps")
        assert gaps_page.status_code == 200
        funded_row = gaps_page.text.split(f'id="item-{item_id}"', 1)[1].split("</tr>", 1)[0]
        assert f'href="/coop/programmes/{row.id}"' in funded_row and "JM-CIRT" in funded_row
        other_row = gaps_page.text.split(f'id="item-{other_id}"', 1)[1].split("</tr>", 1)[0]
        assert "JM-CIRT" not in other_row
        spanish = http.get(f"/coop/programmes/{row.id}", params={"lang": "es"})
        assert "Elementos de la hoja de ruta que financia" in spanish.text


def test_a_writer_names_on_the_web_the_roadmap_items_a_programme_funds(
    node: Node, live_server: LiveServer, people: str
) -> None:
    with node.unit(node.operator()) as ctx:
        item = add_item(ctx, "JM", "cmm-2021", "D1.2", "24/7 CSIRT cover", "JaCIRT",
                        date(2027, 6, 30))  # fmt: skip
        item_id = item.id
    row = _programme(node)
    with closing(_client(live_server, "jm-viewer")) as http:
        page = http.get(f"/coop/programmes/{row.id}")
        assert 'id="fund-form"' not in page.text
        refused = http.post(
            f"/coop/programmes/{row.id}/fund", data={"item": item_id, "csrf_token": csrf_of(page)}
        )
        assert refused.status_code == 403 and _programme(node).funds_items == []
    with closing(_client(live_server, "jm-assessor")) as http:
        page = http.get(f"/coop/programmes/{row.id}")
        assert f'<option value="{item_id}">' in page.text  # the nation's roadmap, to choose from
        token = csrf_of(page)
        unknown = http.post(
            f"/coop/programmes/{row.id}/fund", data={"item": "no-such-item", "csrf_token": token}
        )
        assert unknown.status_code == 404 and _programme(node).funds_items == []
        funded = http.post(
            f"/coop/programmes/{row.id}/fund", data={"item": item_id, "csrf_token": token}
        )
        assert funded.status_code == 200, funded.text[:300]
        assert "Programme JM-CIRT funds 1 roadmap item." in funded.text
        assert f'id="funded-{item_id}"' in funded.text
        assert _programme(node).funds_items == [item_id]
