"""Oversized patterns and odd numbers through every ingest edge: a real uvicorn and the CLI.

One object over the pattern limits is refused with a one-line reason; the rest of its
file or envelope is stored. A query value Python's ``int()`` reads but that is not ASCII
digits (``²``) is a bad value on the page, never a 500.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from seawall.core import tokens, users
from seawall.core.access import Principal, Role
from seawall.core.node import Node
from seawall.db.models.intel import IntelObject
from seawall.intel import cases
from seawall.intel.collections import Audience, create_collection
from seawall.intel.validation import MAX_PATTERN_DEPTH, MAX_PATTERN_TERMS
from tests.cli import run_seawall
from tests.conftest import LiveServer, sign_in_by_form

MEDIA = "application/taxii+json;version=2.1"
STAMP = "2026-11-01T10:00:00.000Z"
PASSWORD = "a-long-password"
TERM = "ipv4-addr:value = '45.77.12.9'"
DEEP = "(" * 3000 + f"[{TERM}]" + ")" * 3000
WIDE = "[" + " OR ".join(["file:name LIKE 'x%'"] * 2000) + "]"


def indicator(n: int, pattern: str) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.UUID(int=n, version=4)}",
        "created": STAMP,
        "modified": STAMP,
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": STAMP,
    }


ENVELOPE = [indicator(1, f"[{TERM}]"), indicator(2, DEEP), indicator(3, WIDE), indicator(4, TERM)]
ENVELOPE[3]["pattern"] = "[domain-name:value = 'c2.example']"


def stored_ids(node: Node) -> set[str]:
    with node.unit(node.operator()) as ctx:
        return set(
            ctx.db.scalars(select(IntelObject.stix_id).where(IntelObject.type == "indicator"))
        )


@pytest.fixture
def analyst(node: Node) -> str:
    with node.unit(node.operator()) as ctx:
        users.add_user(ctx, "analyst", "analyst", password=PASSWORD)
        create_collection(ctx, "shared", "Shared", Audience(), "green")
        return tokens.create_token(ctx, "taxii", [], username="analyst").value


@pytest.fixture
def browser(live_server: LiveServer, analyst: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        sign_in_by_form(http, "analyst", PASSWORD)
        yield http


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


def assert_refused_alone(failures: dict[str, str]) -> None:
    deep, wide = ENVELOPE[1]["id"], ENVELOPE[2]["id"]
    assert set(failures) == {deep, wide}
    assert f"over the limit of {MAX_PATTERN_DEPTH}" in failures[deep]
    assert f"over the limit of {MAX_PATTERN_TERMS}" in failures[wide]


def test_taxii_stores_the_envelope_around_an_oversized_pattern(
    live_server: LiveServer, analyst: str, node: Node
) -> None:
    with httpx.Client(timeout=30) as http:
        headers = {"Authorization": f"Bearer {analyst}", "Accept": MEDIA, "Content-Type": MEDIA}
        collection = http.get(f"{live_server.url}/taxii2/api/collections/", headers=headers)
        url = (
            f"{live_server.url}/taxii2/api/collections/{collection.json()['collections'][0]['id']}"
        )
        answer = http.post(f"{url}/objects/", json={"objects": ENVELOPE}, headers=headers)
    assert answer.status_code == 202, answer.text
    status = answer.json()
    assert (status["success_count"], status["failure_count"]) == (2, 2)
    assert_refused_alone({f["id"]: f["message"] for f in status["failures"]})
    assert stored_ids(node) == {ENVELOPE[0]["id"], ENVELOPE[3]["id"]}


def test_the_import_page_stores_the_file_around_an_oversized_pattern(
    browser: httpx.Client, node: Node
) -> None:
    form = browser.get("/intel/import")
    assert form.status_code == 200
    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": ENVELOPE}
    answer = browser.post(
        "/intel/import",
        data={"collection": "shared", "csrf_token": csrf_of(form)},
        files={"file": ("bundle.json", json.dumps(bundle).encode(), "application/json")},
    )
    assert answer.status_code == 200, answer.text[-2000:]
    assert f"over the limit of {MAX_PATTERN_DEPTH}" in answer.text
    assert f"over the limit of {MAX_PATTERN_TERMS}" in answer.text
    assert stored_ids(node) == {ENVELOPE[0]["id"], ENVELOPE[3]["id"]}


def test_the_cli_imports_stix_around_an_oversized_pattern(
    node: Node, analyst: str, tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle.json"
    bundle.write_text(
        json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": ENVELOPE})
    )
    imported = run_seawall(
        node.settings.home, "intel", "import", str(bundle), "--collection", "shared", "--json"
    )
    assert imported.code == 65, imported.err  # some items were refused; the rest is stored
    report = imported.json()
    assert report["added"] == 2
    assert_refused_alone({r["id"]: r["message"] for r in report["rejected"]})
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    refused = run_seawall(
        node.settings.home, "intel", "import", str(deep), "--collection", "shared"
    )
    assert refused.code == 65
    assert refused.err_lines == [
        line for line in refused.err.splitlines() if "nested too deeply" in line
    ]


def test_the_cli_imports_a_misp_event_around_an_oversized_object(
    node: Node, analyst: str, tmp_path: Path
) -> None:
    # A MISP object becomes one indicator joining its attributes with AND.
    huge = [
        {"type": "filename", "object_relation": "filename", "value": f"f{i}.exe"}
        for i in range(MAX_PATTERN_TERMS + 1)
    ]
    event = {
        "Event": {
            "uuid": "5f0c8a2e-8f4b-4c5a-9a63-0c1f2d3e4b5a",
            "info": "Wide object",
            "date": "2026-11-20",
            "timestamp": "1763640000",
            "Tag": [{"name": "tlp:green"}],
            "Attribute": [
                {
                    "uuid": "1c4e7a52-6d3b-4f0a-b1c2-3d4e5f6a7b8c",
                    "type": "ip-dst",
                    "value": "45.77.12.9",
                    "timestamp": "1763640000",
                }
            ],
            "Object": [
                {
                    "uuid": "2d4e7a52-6d3b-4f0a-b1c2-3d4e5f6a7b8c",
                    "name": "file",
                    "timestamp": "1763640000",
                    "Attribute": huge,
                }
            ],
        }
    }
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    imported = run_seawall(
        node.settings.home, "intel", "import", str(path), "--collection", "shared", "--json"
    )
    assert imported.code == 65, imported.err
    report = imported.json()
    [refused] = report["rejected"]
    assert refused["id"] == "indicator--2d4e7a52-6d3b-4f0a-b1c2-3d4e5f6a7b8c"
    assert f"over the limit of {MAX_PATTERN_TERMS}" in refused["message"]
    assert "indicator--1c4e7a52-6d3b-4f0a-b1c2-3d4e5f6a7b8c" in stored_ids(node)


def test_the_sightings_page_reads_any_min_nations_without_failing(browser: httpx.Client) -> None:
    # int() reads "²"? No: it raises, though "²".isdigit() is True. It reads "١٢" as 12.
    # Neither is ASCII digits, so each is a bad value: the page shows every sighting.
    shown = {
        "\u00b2": 1,
        "\u0661\u0662": 1,
        "\uff13": 1,
        "1" * 5000: 1,
        "-1": 1,
        "": 1,
        "abc": 1,
        " 2 ": 2,
        "0": 1,
        "3": 3,
        "99999": 99999,
    }
    for value, least in shown.items():
        answer = browser.get("/intel/sightings", params={"min_nations": value})
        assert answer.status_code == 200, (value, answer.text[-500:])
        assert f'name="min_nations" min="1" value="{least}"' in answer.text, value


def test_a_refused_form_answers_with_the_refusals_own_status(
    node: Node, browser: httpx.Client
) -> None:
    home = browser.get("/intel")
    form = {"alias": "shared", "title": "Again", "tlp": "green", "csrf_token": csrf_of(home)}
    exists = browser.post("/intel/collections", data=form)
    assert exists.status_code == 409 and "already exists" in exists.text
    with node.unit(Principal("tt-analyst", "TT", Role.ANALYST)) as ctx:
        theirs = cases.open_case(ctx, "shared", "Trinidad's case")
    page = browser.get(f"/intel/cases/{theirs.id}")
    refused = browser.post(
        f"/intel/cases/{theirs.id}",
        data={"action": "status", "status": "closed", "csrf_token": csrf_of(page)},
    )
    assert refused.status_code == 403 and "add a note" in refused.text
    bad = browser.post(
        f"/intel/cases/{theirs.id}",
        data={"action": "status", "status": "sideways", "csrf_token": csrf_of(page)},
    )
    assert bad.status_code == 422
    with node.unit(node.operator()) as ctx:
        assert cases.show_case(ctx, theirs.id).status is cases.Status.NEW
