"""Every pillar's evidence reads in the page's language, from the figures it was recorded with:
the home page's evidence list in Spanish, with the catalog's plural forms."""

from __future__ import annotations

import re
import uuid
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from seawall.coop import programmes
from seawall.coop.fields import ProgrammeDraft
from seawall.core import users
from seawall.core.access import Principal, Role
from seawall.core.node import Node
from seawall.intel.cases import Determination, Status, open_case, set_status
from seawall.intel.collections import Audience, create_collection
from seawall.intel.matching.sightings import match_logs
from seawall.intel.store import writing
from seawall.intel.tlp import Tlp, marking_id
from tests.conftest import LiveServer, sign_in_by_form

PASSWORD = "a-long-password"
ANALYST = Principal("jm-analyst", "JM", Role.ANALYST, user_id="jm-analyst")
ASSESSOR = Principal("jm-assessor", "JM", Role.ASSESSOR)
STAMP = "2026-11-01T10:00:00.000Z"
ZEEK = (
    "#separator \\x09\n#set_separator\t,\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tquery\tanswers\n"
    "1796216533.000000\tC1\t10.0.0.5\t5000\t10.0.0.1\t53\twww.evil.example\t-\n"
    "1796302934.000000\tC3\t10.0.0.6\t5002\t10.0.0.1\t53\tgood.example\t192.0.2.1\n"
)


def _evidence_in_spanish(node: Node, live_server: LiveServer) -> str:
    """The text of the Spanish home page's evidence list, as a viewer reads it."""
    with node.unit(node.operator()) as ctx:
        users.add_user(ctx, "jm-viewer", "viewer", password=PASSWORD)
    with closing(httpx.Client(base_url=live_server.url, timeout=30)) as http:
        assert sign_in_by_form(http, "jm-viewer", PASSWORD).status_code == 303
        text = http.get("/?lang=es").text
    start = text.index('id="evidence"')
    return " ".join(re.sub(r"<[^>]+>", " ", text[start : text.index("</section>", start)]).split())


def test_intel_evidence_reads_in_spanish(
    node: Node, live_server: LiveServer, tmp_path: Path
) -> None:
    indicator = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.UUID(int=1, version=4)}",
        "created": STAMP,
        "modified": STAMP,
        "name": "evil",
        "pattern": "[domain-name:value = 'evil.example']",
        "pattern_type": "stix",
        "valid_from": STAMP,
        "object_marking_refs": [marking_id(Tlp.GREEN)],
    }
    log = tmp_path / "dns.log"
    log.write_text(ZEEK)
    with node.unit(ANALYST) as ctx:
        collection = create_collection(ctx, "feeds", "Feeds", Audience(), "green")
        writing.add_objects(ctx, collection, [indicator])
        report = match_logs(ctx, [log])
        case = open_case(ctx, "feeds", "Phishing wave")
        set_status(ctx, case.id, Status.CLOSED, Determination.CONFIRMED)
    assert (report.indicators, len(report.hits)) == (1, 1)
    evidence = _evidence_in_spanish(node, live_server)
    assert (
        f"Se cotejaron {report.lines} líneas de registro (zeek) contra 1 indicador compartido:"
        " 1 coincidente"
    ) in evidence
    assert "Caso «Phishing wave» cerrado (confirmado); nación implicada: JM" in evidence
    assert "Matched" not in evidence and "closed" not in evidence
    assert "Defensa colectiva" in evidence and " intel " not in f"{evidence} "  # the badge


def test_coop_evidence_reads_in_spanish(node: Node, live_server: LiveServer) -> None:
    draft = ProgrammeDraft(
        ref="JM-CIRT-1",
        name="National CIRT capacity",
        funders=("Inter-American Development Bank", "OAS CICTE"),
        addresses=("cmm:D1.2",),
        status="completed",
    )
    with node.unit(ASSESSOR) as ctx:
        programmes.save_programme(ctx, node.settings, draft)
    evidence = _evidence_in_spanish(node, live_server)
    assert (
        "Programa JM-CIRT-1 completado: National CIRT capacity"
        " (Inter-American Development Bank, OAS CICTE)"
    ) in evidence
    assert "completed" not in evidence
    assert "Cooperación" in evidence and " coop " not in f"{evidence} "


@pytest.mark.parametrize("language", ["fr", "nl"])
def test_a_record_made_before_its_figures_were_kept_shows_its_stored_line(language: str) -> None:
    from seawall.web.said import evidence_line

    stored = "Case 'x' closed (confirmed); nations on it: JM"
    assert evidence_line(language, "intel.case.closed", {"case": "c", "nations": ["JM"]}, stored)
    assert evidence_line(language, "intel.case.closed", {"nations": ["JM"]}, stored) == stored
