"""The technique heat map page and API through a real uvicorn: each analyst sees exactly the
techniques they may read, in every language."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from seawall.core.node import Node
from seawall.intel import attack
from seawall.intel import cases as casework
from seawall.intel.collections import Audience, create_collection, get_collection
from seawall.intel.store import writing
from seawall.intel.tlp import Tlp
from seawall.web.deps import SESSION_COOKIE
from tests.banks import two_banks
from tests.conftest import LiveServer
from tests.html import section
from tests.stix import domain, indicator, relationship, sid

DATA = Path(__file__).parents[1] / "data" / "attack"


def linked(n: int, technique: str, tlp: Tlp) -> list[dict[str, Any]]:
    """An indicator and its ``indicates`` relationship to ``technique``, both at ``tlp``."""
    return [
        indicator(n, domain(f"lure{n}.example"), tlp, name=f"lure {n}"),
        relationship(n, sid("indicator", n), "indicates", technique, tlp),
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
    objects = attack.read_bundle((DATA / "enterprise-attack-slice.json").read_bytes())
    ids = {attack.attack_id(o): o["id"] for o in objects if o["type"] == "attack-pattern"}
    with node.unit(node.operator()) as ctx:
        attack.import_attack(ctx, objects)
        banks = two_banks(ctx)
    with node.unit(banks.principals["x"]) as ctx:
        create_collection(ctx, "region", "Region", None, "green")
        bank_a = Audience(organisations=(banks.orgs["a"],))
        create_collection(ctx, "bank-a", "Bank A", bank_a, "red")
        writing.add_objects(
            ctx, get_collection(ctx, "region"), linked(1, ids["T1566.001"], Tlp.GREEN)
        )
        writing.add_objects(ctx, get_collection(ctx, "bank-a"), linked(2, ids["T1059"], Tlp.RED))
        case = casework.open_case(ctx, "region", "Lures")
        casework.link_objects(ctx, case.id, [sid("indicator", 1), sid("indicator", 2)])
    return Analysts(live_server, banks.cookies, banks.bearer, case.id)


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
    return set(re.findall(r"<code>(T[0-9.]+)</code>", section(page, "techniques")))


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
