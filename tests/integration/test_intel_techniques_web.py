"""The technique heat map page and API through a real uvicorn: each analyst sees exactly the
techniques they may read, in every language."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from seawall.core import organisations, tokens, users, websessions
from seawall.core.node import Node
from seawall.intel import attack
from seawall.intel import cases as casework
from seawall.intel.collections import Audience, create_collection, get_collection
from seawall.intel.store import writing
from seawall.intel.tlp import Tlp, marking_id
from seawall.web.deps import SESSION_COOKIE
from tests.conftest import LiveServer

DATA = Path(__file__).parents[1] / "data" / "attack"
STAMP = "2026-11-01T10:00:00.000Z"


def sid(kind: str, n: int) -> str:
    return f"{kind}--{uuid.UUID(int=n, version=4)}"


def obj(kind: str, n: int, tlp: Tlp, **props: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "spec_version": "2.1",
        "id": sid(kind, n),
        "created": STAMP,
        "modified": STAMP,
        "object_marking_refs": [marking_id(tlp)],
        **props,
    }


def linked(n: int, technique: str, tlp: Tlp) -> list[dict[str, Any]]:
    """An indicator and its ``indicates`` relationship to ``technique``, both at ``tlp``."""
    return [
        obj(
            "indicator",
            n,
            tlp,
            name=f"lure {n}",
            pattern=f"[domain-name:value = 'lure{n}.example']",
            pattern_type="stix",
            valid_from=STAMP,
        ),
        obj(
            "relationship",
            n,
            tlp,
            relationship_type="indicates",
            source_ref=sid("indicator", n),
            target_ref=technique,
        ),
    ]


@dataclass
class Analysts:
    live: LiveServer
    cookies: dict[str, str]
    bearer: dict[str, str]
    case: str

    def get(self, who: str, path: str) -> httpx.Response:
        with httpx.Client(base_url=self.live.url, timeout=10) as client:
            client.cookies.set(SESSION_COOKIE, self.cookies[who])
            return client.get(path)

    def api(self, who: str, path: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.bearer[who]}"}
        return httpx.get(self.live.url + path, headers=headers, timeout=10)


@pytest.fixture
def analysts(node: Node, live_server: LiveServer) -> Analysts:
    cookies: dict[str, str] = {}
    bearer: dict[str, str] = {}
    objects = attack.read_bundle((DATA / "enterprise-attack-slice.json").read_bytes())
    ids = {attack.attack_id(o): o["id"] for o in objects if o["type"] == "attack-pattern"}
    with node.unit(node.operator()) as ctx:
        attack.import_attack(ctx, objects)
        orgs = {
            name: organisations.add_org(ctx, f"Bank {name.upper()}", "data_custodian").id
            for name in ("a", "b")
        }
        principals = {}
        for who, org in (("x", orgs["a"]), ("y", orgs["b"])):
            user = users.add_user(ctx, f"{who}-analyst", "analyst", org=org)
            principals[who] = users.principal_of(user)
            cookies[who] = websessions.open_session(ctx, user, timedelta(hours=1)).cookie
            bearer[who] = tokens.create_token(ctx, "t", [], username=user.username).value
    with node.unit(principals["x"]) as ctx:
        create_collection(ctx, "region", "Region", None, "green")
        create_collection(ctx, "bank-a", "Bank A", Audience(organisations=(orgs["a"],)), "red")
        writing.add_objects(
            ctx, get_collection(ctx, "region"), linked(1, ids["T1566.001"], Tlp.GREEN)
        )
        writing.add_objects(ctx, get_collection(ctx, "bank-a"), linked(2, ids["T1059"], Tlp.RED))
        case = casework.open_case(ctx, "region", "Lures")
        casework.link_objects(ctx, case.id, [sid("indicator", 1), sid("indicator", 2)])
    return Analysts(live_server, cookies, bearer, case.id)


def hot(page: str) -> set[str]:
    """The techniques whose cell is shaded on a page."""
    return set(re.findall(r'technique-cell heat-[1-9]" title="(T[0-9.]+):', page))


def test_each_analyst_sees_exactly_the_heat_they_may_read(analysts: Analysts) -> None:
    x = analysts.get("x", "/intel/techniques")
    assert x.status_code == 200, x.text
    assert x.text.count('class="tactic-column"') == 14
    assert hot(x.text) == {"T1566", "T1059"}
    y = analysts.get("y", "/intel/techniques?nation=JM")
    assert hot(y.text) == {"T1566"}  # Bank A's RED never reaches Bank B
    assert analysts.get("y", "/intel/techniques?domain=nope").status_code == 422


def test_the_api_gives_the_same_cells_and_an_objects_techniques(analysts: Analysts) -> None:
    def scored(who: str) -> dict[str, tuple[int, int]]:
        found = analysts.api(who, "/api/v1/intel/techniques").json()
        return {
            t["attack_id"]: (t["objects"], t["sightings"])
            for tactic in found["tactics"]
            for t in tactic["techniques"]
        }

    # T1059 sits under Execution; T1566 under Initial Access.
    assert scored("x") == {"T1566": (1, 0), "T1059": (1, 0)}
    assert scored("y") == {"T1566": (1, 0)}
    mine = analysts.api("x", f"/api/v1/intel/objects/{sid('indicator', 2)}/techniques").json()
    assert mine == {
        "techniques": [
            {
                "attack_id": "T1059",
                "name": "Command and Scripting Interpreter",
                "how": ["indicates"],
                "url": "https://attack.mitre.org/techniques/T1059",
            }
        ],
        "tactics": [],
    }
    theirs = analysts.api("y", f"/api/v1/intel/objects/{sid('indicator', 2)}/techniques").json()
    assert theirs == {"techniques": [], "tactics": []}


@pytest.mark.parametrize(
    ("lang", "heading"),
    [
        ("en", "<h1>ATT&CK techniques</h1>"),
        ("fr", "<h1>Techniques ATT&CK</h1>"),
        ("es", "<h1>Técnicas de ATT&CK</h1>"),
        ("nl", "<h1>ATT&CK-technieken</h1>"),
    ],
)
def test_the_page_speaks_four_languages(analysts: Analysts, lang: str, heading: str) -> None:
    page = analysts.get("x", f"/intel/techniques?lang={lang}")
    assert page.status_code == 200
    assert heading in page.text, re.findall(r"<h1>.*?</h1>", page.text, re.S)


def techniques_card(page: str) -> set[str]:
    """The technique ids the page's ATT&CK techniques card lists."""
    found = re.search(r'id="techniques".*?</section>', page, re.S)
    return set(re.findall(r"<code>(T[0-9.]+)</code>", found.group(0))) if found else set()


def test_indicator_and_case_pages_show_the_techniques_each_analyst_may_read(
    analysts: Analysts,
) -> None:
    one = f"/intel/collections/region/objects/{sid('indicator', 1)}"
    two = f"/intel/collections/bank-a/objects/{sid('indicator', 2)}"
    assert techniques_card(analysts.get("x", one).text) == {"T1566.001"}
    assert techniques_card(analysts.get("y", one).text) == {"T1566.001"}
    assert techniques_card(analysts.get("x", two).text) == {"T1059"}
    case = f"/intel/cases/{analysts.case}"
    assert techniques_card(analysts.get("x", case).text) == {"T1059", "T1566.001"}
    assert techniques_card(analysts.get("y", case).text) == {"T1566.001"}
