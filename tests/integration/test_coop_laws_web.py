"""The harmonisation matrix and CIRT directory pages over a real uvicorn: the group filter, the
downloads, the forms of an assessor, and the refusals (a viewer's POST answers 403 and writes
nothing; a user of another nation cannot edit this nation's records)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import closing

import httpx
import pytest
from sqlalchemy import func, select

from seawall.assess import rounds
from seawall.assess.frameworks import get_framework
from seawall.coop import cirts, laws
from seawall.core import users
from seawall.core.nations import region_members
from seawall.core.node import Node
from seawall.db.models import AuditEntry, Evidence
from seawall.db.models.coop_laws import LegalInstrument, NationalCirt
from tests.conftest import LiveServer, sign_in_by_form
from tests.integration.test_intel_bad_input import csrf_of

PASSWORD = "a-long-password"
FPR = "6A1E9F3C0B7D52A48E1F0C9B3D7A5E2F41C8B6D0"
SOURCE = "https://example.org/jm/cybercrimes-act"


@pytest.fixture
def seeded(node: Node) -> dict[str, str]:
    """Users of JM and TT, instruments of JM, TT, LC and GD, CIRT entries of JM and TT, and
    a SIM3 self-assessment of JM published to CARICOM; returns the JM instrument's id."""
    with node.unit(node.operator()) as ctx:
        users.add_user(ctx, "jm-assessor", "assessor", password=PASSWORD)
        users.add_user(ctx, "jm-viewer", "viewer", password=PASSWORD)
        users.add_user(ctx, "tt-analyst", "analyst", password=PASSWORD, nation="TT")
        users.add_user(ctx, "tt-assessor", "assessor", password=PASSWORD, nation="TT")
        jm = laws.add_instrument(
            ctx, nation="JM", kind="cybercrime", title="Cybercrimes Act", status="in_force",
            date="2015-12", source=SOURCE,
        )  # fmt: skip
        for nation, kind, title, status, sample in (
            ("TT", "data_protection", "Data Protection Act", "enacted", False),
            ("LC", "data_protection", "Data Protection Bill", "draft", True),
            ("GD", "budapest_convention", "Budapest accession", "in_force", False),
        ):
            laws.add_instrument(
                ctx, nation=nation, kind=kind, title=title, status=status,
                source=f"https://example.org/{nation.lower()}", sample=sample,
            )  # fmt: skip
        cirts.save_cirt(
            ctx, nation="JM", name="JaCIRT", status="established", established="2015",
            mandate="National incident response", constituency="Government and CI",
            services=["incident handling", "alerts"], email="cirt@jacirt.gov.jm",
            pgp_fingerprint=FPR, first_url="https://www.first.org/members/teams/jacirt",
            ti_url="https://www.trusted-introducer.org/directory/teams/jacirt.html",
            ti_status="listed", source="https://example.org/jacirt",
        )  # fmt: skip
        cirts.save_cirt(
            ctx, nation="TT", name="TT-CSIRT", status="established",
            source="https://example.org/ttcsirt",
        )  # fmt: skip
        _publish_sim3(ctx)
        return {"jm": jm.id}


def _publish_sim3(ctx: object) -> None:
    """JM's SIM3 round of 2026, every parameter agreed (O at 3, H 2, T 1, P 2), to CARICOM."""
    from seawall.core.context import Ctx

    assert isinstance(ctx, Ctx)
    row = rounds.create_round(ctx, "JM", "sim3-v2", 2026)
    framework = get_framework(ctx.db, "sim3-v2")
    stage = {"O": 3, "H": 2, "T": 1, "P": 2}
    for factor, dimension in framework.dimension_of().items():
        rounds.agree(ctx, row.id, factor, stage[dimension])
    rounds.grant_consent(ctx, "JM", "CARICOM")
    rounds.publish(ctx, row.id)


def _client(live_server: LiveServer, username: str) -> httpx.Client:
    http = httpx.Client(base_url=live_server.url, timeout=60)
    assert sign_in_by_form(http, username, PASSWORD).status_code == 303
    return http


@pytest.fixture
def assessor(live_server: LiveServer, seeded: dict[str, str]) -> Iterator[httpx.Client]:
    with closing(_client(live_server, "jm-assessor")) as http:
        yield http


def _rows(page: httpx.Response) -> list[str]:
    table = re.search(r'<table class="table matrix" id="matrix">(.*?)</table>', page.text, re.S)
    assert table, page.text[:800]
    return re.findall(r'<tr id="nation-([A-Z]{2})"', table[1])


def _cell(page: httpx.Response, nation: str, kind: str) -> str:
    row = re.search(rf'<tr id="nation-{nation}">(.*?)</tr>', page.text, re.S)
    assert row
    cell = re.search(rf'<td [^>]*data-kind="{kind}"[^>]*>.*?</td>', row[1], re.S)
    assert cell
    return cell[0]


def _written(node: Node) -> tuple[int, ...]:
    """How many instruments, CIRT entries, evidence records and audit entries other than
    sign-ins the node holds."""
    with node.unit(node.operator()) as ctx:
        counts = [
            ctx.db.scalar(select(func.count()).select_from(table)) or 0
            for table in (LegalInstrument, NationalCirt, Evidence)
        ]
        audit = select(func.count()).where(AuditEntry.action.not_like("auth.%"))
        return (*counts, ctx.db.scalar(audit) or 0)


def test_the_matrix_filtered_by_a_group_shows_exactly_its_members(
    node: Node, assessor: httpx.Client
) -> None:
    everyone = assessor.get("/coop/laws")
    assert everyone.status_code == 200
    assert _rows(everyone) == ["GD", "JM", "LC", "TT"]  # every nation with a record
    oecs = assessor.get("/coop/laws", params={"group": "oecs"})
    with node.unit(node.operator()) as ctx:
        members = region_members(ctx.db, "OECS")
    assert _rows(oecs) == members and "JM" not in members
    assert 'data-status="draft"' in _cell(oecs, "LC", "data_protection")
    assert "sample data" in _cell(oecs, "LC", "data_protection")
    assert "sample data" not in _cell(oecs, "GD", "budapest_convention")
    assert 'id="sample-note"' in oecs.text
    assert 'data-status="unknown"' in _cell(oecs, "AG", "cybercrime")
    caricom = assessor.get("/coop/laws", params={"group": "CARICOM"})
    assert len(_rows(caricom)) == 15 and "MQ" not in _rows(caricom)
    jm = _cell(caricom, "JM", "cybercrime")
    assert f'href="{SOURCE}"' in jm and "2015-12" in jm and 'data-status="in_force"' in jm
    assert "sample data" not in jm
    spanish = assessor.get("/coop/laws", params={"group": "OECS", "lang": "es"})
    assert "Protección de datos" in spanish.text and "datos de muestra" in spanish.text


def test_the_matrix_downloads_as_csv_html_and_pdf(assessor: httpx.Client) -> None:
    csv_file = assessor.get("/coop/laws/matrix.csv", params={"group": "OECS"})
    assert csv_file.headers["content-type"].startswith("text/csv")
    lines = csv_file.text.splitlines()
    assert lines[0].startswith("nation,name,data_protection,")
    assert len(lines) == 1 + 11 and any(line.startswith("LC,") for line in lines)
    html = assessor.get("/coop/laws/matrix.html", params={"group": "CARICOM"})
    assert html.headers["content-type"].startswith("text/html")
    assert f'href="{SOURCE}"' in html.text and "(CARICOM)" in html.text
    assert html.headers["content-disposition"].startswith("attachment;")
    pdf = assessor.get("/coop/laws/matrix.pdf", params={"group": "OECS", "lang": "fr"})
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert 'filename="harmonisation-matrix-oecs.pdf"' in pdf.headers["content-disposition"]


def test_an_assessor_adds_and_updates_an_instrument_of_their_nation(
    node: Node, assessor: httpx.Client, seeded: dict[str, str]
) -> None:
    page = assessor.get("/coop/laws")
    form = re.search(r'<form[^>]*id="law-form".*?</form>', page.text, re.S)
    assert form and re.findall(r'<option value="([A-Z]{2})"', form[0]) == ["JM"]
    added = assessor.post(
        "/coop/laws",
        data={
            "csrf_token": csrf_of(page), "nation": "JM", "kind": "data_protection",
            "title": "Data Protection Act", "status": "enacted", "date": "2020-06-19",
            "source": "https://example.org/jm/dpa", "group": "CARICOM",
        },
    )  # fmt: skip
    assert added.status_code == 200, added.text
    assert "Added Data Protection Act (JM)." in added.text
    assert 'data-status="enacted"' in _cell(added, "JM", "data_protection")
    bad = assessor.post(
        "/coop/laws",
        data={
            "csrf_token": csrf_of(page), "nation": "JM", "kind": "cybercrime", "title": "X",
            "status": "passed", "source": "https://example.org/x",
        },
    )  # fmt: skip
    assert bad.status_code == 422 and "&#39;passed&#39; is not one of" in bad.text
    jm = seeded["jm"]
    shown = assessor.get(f"/coop/laws/{jm}")
    assert 'id="instrument-form"' in shown.text
    updated = assessor.post(
        f"/coop/laws/{jm}",
        data={
            "csrf_token": csrf_of(shown), "title": "Cybercrimes Act, 2015", "status": "in_force",
            "date": "2015-12-07", "source": SOURCE, "note": "",
        },
    )  # fmt: skip
    assert updated.status_code == 200 and "Saved Cybercrimes Act, 2015." in updated.text
    with node.unit(node.operator()) as ctx:
        row = laws.get_instrument(ctx, jm)
        assert (row.title, row.date, row.entered_by) == (
            "Cybercrimes Act, 2015", "2015-12-07", "jm-assessor",
        )  # fmt: skip


def test_a_viewers_posts_answer_403_and_write_nothing(
    node: Node, live_server: LiveServer, seeded: dict[str, str]
) -> None:
    before = _written(node)
    with closing(_client(live_server, "jm-viewer")) as viewer:
        page = viewer.get("/coop/laws")
        assert page.status_code == 200 and 'id="law-form"' not in page.text
        token = csrf_of(page)
        answers = [
            viewer.post(
                "/coop/laws",
                data={
                    "csrf_token": token, "nation": "JM", "kind": "cybercrime", "title": "X",
                    "status": "draft", "source": "https://example.org/x",
                },
            ),
            viewer.post(
                f"/coop/laws/{seeded['jm']}",
                data={"csrf_token": token, "title": "X", "status": "none", "source": SOURCE},
            ),
            viewer.post(
                "/coop/cirts",
                data={
                    "csrf_token": token, "nation": "JM", "name": "X", "status": "planned",
                    "source": "https://example.org/x",
                },
            ),
        ]  # fmt: skip
        assert 'id="instrument-form"' not in viewer.get(f"/coop/laws/{seeded['jm']}").text
        assert 'id="cirt-form"' not in viewer.get("/coop/cirts/JM").text
    assert [a.status_code for a in answers] == [403, 403, 403]
    assert all('role="alert"' in a.text for a in answers)
    assert _written(node) == before


def test_a_user_of_trinidad_cannot_edit_jamaicas_instrument_or_cirt(
    node: Node, live_server: LiveServer, seeded: dict[str, str]
) -> None:
    jm = seeded["jm"]
    before = _written(node)
    for username in ("tt-analyst", "tt-assessor"):
        with closing(_client(live_server, username)) as tt:
            shown = tt.get(f"/coop/laws/{jm}")
            assert shown.status_code == 200 and 'id="instrument-form"' not in shown.text
            refused = tt.post(
                f"/coop/laws/{jm}",
                data={
                    "csrf_token": csrf_of(shown), "title": "Cybercrimes Act",
                    "status": "draft", "source": SOURCE,
                },
            )  # fmt: skip
            assert refused.status_code == 403, refused.text
            cirt = tt.post(
                "/coop/cirts",
                data={
                    "csrf_token": csrf_of(shown), "nation": "JM", "name": "X",
                    "status": "planned", "source": "https://example.org/x",
                },
            )  # fmt: skip
            assert cirt.status_code == 403
    assert "may not change JM" in refused.text  # the assessor: refused for the nation
    assert _written(node) == before
    with node.unit(node.operator()) as ctx:
        assert laws.get_instrument(ctx, jm).status == "in_force"
        assert cirts.get_cirt(ctx, "JM").name == "JaCIRT"


def test_the_directory_shows_each_cirt_with_its_sim3_and_the_regions_figures(
    node: Node, assessor: httpx.Client
) -> None:
    page = assessor.get("/coop/cirts", params={"group": "CARICOM"})
    assert page.status_code == 200
    card = re.search(r'<section class="card cirt" id="cirt-JM">(.*?)</section>', page.text, re.S)
    assert card, page.text[:800]
    jm = card[1]
    for shown in (
        "JaCIRT", "National incident response", "Government and CI", "incident handling, alerts",
        'href="mailto:cirt@jacirt.gov.jm"', "6A1E 9F3C 0B7D 52A4 8E1F 0C9B 3D7A 5E2F 41C8 B6D0",
        'href="https://www.first.org/members/teams/jacirt"',
        'href="https://www.trusted-introducer.org/directory/teams/jacirt.html"',
        "<li>O 3.0</li>", "<li>T 1.0</li>", "self-assessment of 2026",
    ):  # fmt: skip
        assert shown in jm, shown
    assert re.search(r'class="sharing"><span class="muted">no<', jm)
    assert "<li>O 3.0</li>" not in re.search(r'id="cirt-TT">(.*?)</section>', page.text, re.S)[1]  # type: ignore[index]
    assert re.search(r'id="figure-established">\s*2 of 15', page.text)
    assert re.search(r'id="figure-sharing">\s*0 of 15', page.text)
    figure = re.search(r'id="figure-sim3">(.*?)</dd>', page.text, re.S)
    assert figure and "<li>O 3.0</li>" in figure[1] and "<li>H 2.0</li>" in figure[1]
    missing = re.search(r'id="missing">(.*?)</section>', page.text, re.S)
    assert missing and "LC" in missing[1] and "JM" not in missing[1]
    oecs = assessor.get("/coop/cirts", params={"group": "OECS"})
    assert 'id="cirt-JM"' not in oecs.text and re.search(
        r'id="figure-established">\s*0 of 11', oecs.text
    )


def test_an_assessor_edits_their_nations_cirt_and_a_bad_fingerprint_is_refused(
    node: Node, assessor: httpx.Client
) -> None:
    page = assessor.get("/coop/cirts/JM")
    assert 'id="cirt-form"' in page.text and 'value="JaCIRT"' in page.text
    fields = {
        "csrf_token": csrf_of(page), "nation": "JM", "name": "JaCIRT", "status": "established",
        "source": "https://example.org/jacirt", "services": "incident handling\nalerts\ntraining",
        "email": "cirt@jacirt.gov.jm", "pgp_fingerprint": FPR,
    }  # fmt: skip
    bad = assessor.post("/coop/cirts", data={**fields, "pgp_fingerprint": "DEADBEEF"})
    assert bad.status_code == 422 and "not an OpenPGP key fingerprint" in bad.text
    assert 'value="DEADBEEF"' in bad.text  # the form keeps what was typed
    saved = assessor.post("/coop/cirts", data=fields)
    assert saved.status_code == 200 and "Saved JaCIRT." in saved.text
    with node.unit(node.operator()) as ctx:
        row = cirts.get_cirt(ctx, "JM")
        assert row.services == ["incident handling", "alerts", "training"]
        assert row.first_url == "" and row.entered_by == "jm-assessor"
    assert assessor.get("/coop/cirts/LC").status_code == 404  # not theirs, and no entry
