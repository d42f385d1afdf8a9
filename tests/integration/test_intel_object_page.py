"""The indicator page through a real uvicorn: its value, validity, related and correlated
objects and graph as each analyst may see them, the holder's actions, and the CLI's."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from seawall.core.access import Principal, Role
from seawall.core.node import Node
from seawall.intel import cases as casework
from seawall.intel.collections import Audience, create_collection, get_collection
from seawall.intel.search import history
from seawall.intel.store import writing
from seawall.intel.tlp import Tlp
from seawall.web.deps import SESSION_COOKIE
from tests.banks import two_banks
from tests.cli import run_seawall
from tests.conftest import LiveServer
from tests.html import section
from tests.integration.test_intel_bad_input import csrf_of
from tests.stix import STAMP, domain, relationship, stix
from tests.stix import indicator as stix_indicator

DOMAIN = "lure.example"


def indicator(n: int, name: str, tlp: Tlp = Tlp.GREEN, **extra: Any) -> dict[str, Any]:
    return stix_indicator(
        n,
        domain(DOMAIN.upper()),
        tlp,
        name=name,
        valid_until="2026-12-01T00:00:00.000Z",
        **extra,
    )


LURE = indicator(1, "Lure domain")
BANK_ONLY = indicator(2, "Bank A lure", Tlp.RED)
AMBER = indicator(3, "National lure", Tlp.AMBER)
RAT = stix("malware", 4, name="BadRAT", is_family=True)
REL = relationship(5, LURE["id"], "indicates", RAT["id"])
CREW = stix("intrusion-set", 8, name="Lure Crew")
USES = relationship(9, CREW["id"], "uses", RAT["id"])
REPORT = stix(
    "report",
    6,
    name="Lure campaign report",
    published=STAMP,
    object_refs=[LURE["id"], RAT["id"]],
)


@dataclass
class Analysts:
    node: Node
    live: LiveServer
    x: Principal
    cookies: dict[str, str]
    bearer: dict[str, str]

    def client(self, who: str) -> httpx.Client:
        client = httpx.Client(base_url=self.live.url, timeout=10, follow_redirects=True)
        client.cookies.set(SESSION_COOKIE, self.cookies[who])
        return client


@pytest.fixture
def analysts(node: Node, live_server: LiveServer) -> Analysts:
    with node.unit(node.operator()) as ctx:
        banks = two_banks(ctx)
    with node.unit(banks.principals["x"]) as ctx:
        create_collection(ctx, "region", "Region", None, "green")
        bank_a = Audience(organisations=(banks.orgs["a"],))
        create_collection(ctx, "bank-a", "Bank A", bank_a, "red")
        writing.add_objects(
            ctx, get_collection(ctx, "region"), [LURE, AMBER, RAT, REL, REPORT, CREW, USES]
        )
        writing.add_objects(ctx, get_collection(ctx, "bank-a"), [BANK_ONLY])
    return Analysts(node, live_server, banks.principals["x"], banks.cookies, banks.bearer)


def correlated_names(page: str) -> set[str]:
    names = {"Bank A lure", "National lure", "Lure domain"}
    return {n for n in names if n in section(page, "correlated")}


def test_each_analyst_sees_the_value_neighbourhood_and_correlations_they_may_read(
    analysts: Analysts,
) -> None:
    path = f"/intel/collections/region/objects/{LURE['id']}"
    with analysts.client("x") as x, analysts.client("y") as y:
        mine, theirs = x.get(path).text, y.get(path).text
    # The value, readably: the normalised observable as kind and value.
    assert re.search(r"<td>domain</td><td class=\"mono\"><a [^>]*>lure\.example</a>", mine)
    validity = section(mine, "validity")
    # The decay score out of 100, and when the indicator stops being in force.
    assert re.search(
        r'id="decay-score">.*<meter [^>]*></meter>\s*<span class="decay-score">\d+/100<',
        validity,
        re.S,
    )
    # This lure has its own valid_until: it ends then, whatever its score.
    assert re.search(r"valid for \d+ more days?<", validity) and 'id="in-force"' in validity
    for page in (mine, theirs):
        related = section(page, "related")
        assert "BadRAT" in related and "indicates" in related and "malware" in related
        assert "Lure campaign report" in related
    # Bank A's RED copy correlates only for Bank A's analyst; the AMBER for both.
    assert correlated_names(mine) == {"Bank A lure", "National lure"}
    assert correlated_names(theirs) == {"National lure"}
    assert "Bank A lure" not in theirs
    # The graph: inline, names and types, no raw ids outside the links, fits by its viewBox.
    svg = re.search(r"<svg class=\"intel-graph\".*?</svg>", theirs, re.S)
    assert svg is not None
    drawn = re.sub(r'href="[^"]*"', "", svg.group(0))
    assert "BadRAT" in drawn and "Lure campaign report" in drawn
    assert "Lure Crew" in drawn and "intrusion-set" in drawn  # two steps away, via BadRAT
    assert "Lure Crew" not in section(theirs, "related")  # the tables list one step only
    assert not re.search(r"[a-z-]+--[0-9a-f-]{36}", drawn)
    assert 'viewBox="0 0 360 360"' in drawn and 'width="100%"' in drawn
    assert f'href="/intel/collections/region/objects/{RAT["id"]}"' in svg.group(0)


def test_only_the_holder_acts_and_a_remarking_never_widens(analysts: Analysts) -> None:
    # Held by another nation (Trinidad and Tobago's analyst stored it): JM may not version it.
    tt = Principal("tt-analyst", "TT", Role.ANALYST, user_id="tt-analyst")
    foreign = indicator(7, "Foreign lure")
    with analysts.node.unit(tt) as ctx:
        assert writing.add_objects(ctx, get_collection(ctx, "region"), [foreign]).added
    theirs = f"/intel/collections/region/objects/{foreign['id']}"
    path = f"/intel/collections/region/objects/{LURE['id']}"
    with analysts.client("x") as x, analysts.client("y") as y:
        page = y.get(theirs)
        assert 'id="revoke-form"' not in page.text and 'id="remark-form"' not in page.text
        refused = y.post(theirs, data={"csrf_token": csrf_of(page), "action": "revoke"})
        assert refused.status_code == 403 and "only its holder" in refused.text
        page = x.get(path)
        assert 'id="revoke-form"' in page.text
        token = csrf_of(page)
        wider = x.post(path, data={"csrf_token": token, "action": "remark", "tlp": "clear"})
        assert wider.status_code == 422 and "would widen" in wider.text
        done = x.post(path, data={"csrf_token": token, "action": "remark", "tlp": "amber"})
        assert done.status_code == 200 and "Re-marked." in done.text
        extended = x.post(
            path, data={"csrf_token": token, "action": "extend", "valid_until": "2027-02-01T00:00"}
        )
        assert extended.status_code == 200 and "Validity extended." in extended.text
        revoked = x.post(path, data={"csrf_token": token, "action": "revoke"})
        assert revoked.status_code == 200 and 'id="revoke-form"' not in revoked.text
    with analysts.node.unit(analysts.x) as ctx:
        versions = history(ctx, get_collection(ctx, "region"), LURE["id"])
    assert [v.tlp for v in versions] == [Tlp.AMBER, Tlp.AMBER, Tlp.AMBER, Tlp.GREEN]
    assert versions[0].body["revoked"] is True
    assert versions[0].body["valid_until"] == "2027-02-01T00:00:00.000Z"


def test_add_to_case_links_it_and_the_page_lists_the_case(analysts: Analysts) -> None:
    with analysts.node.unit(analysts.x) as ctx:
        opened = casework.open_case(ctx, "region", "Lure wave")
    path = f"/intel/collections/region/objects/{LURE['id']}"
    with analysts.client("y") as y:
        page = y.get(path)
        assert "Lure wave" in section(page.text, "actions")
        form = {"csrf_token": csrf_of(page), "action": "case", "case": opened.id, "why": "seen"}
        done = y.post(path, data=form)
    assert done.status_code == 200 and "Added to the case." in done.text
    assert re.search(rf'href="/intel/cases/{opened.id}">Lure wave<', section(done.text, "related"))


def test_the_api_correlates_under_tlp_and_revises_as_the_holder(analysts: Analysts) -> None:
    base = f"{analysts.live.url}/api/v1/intel/collections/region/objects/{LURE['id']}"

    def call(who: str, method: str, path: str, **body: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {analysts.bearer[who]}"}
        return httpx.request(method, base + path, headers=headers, json=body or None, timeout=10)

    names = {
        who: {o["name"] for o in call(who, "GET", "/correlations").json()["objects"]}
        for who in ("x", "y")
    }
    assert names == {"x": {"Bank A lure", "National lure"}, "y": {"National lure"}}
    assert call("x", "GET", "/correlations").json()["observables"] == [
        {"kind": "domain", "value": DOMAIN}
    ]
    wider = call("x", "POST", "/remark", tlp="clear")
    assert wider.status_code == 422 and wider.json()["error"] == "marking_would_widen"
    assert call("x", "POST", "/remark", tlp="amber").json()["tlp"] == "TLP:AMBER"
    extended = call("x", "POST", "/extend", valid_until="2027-03-01T00:00:00Z")
    assert extended.json()["object"]["valid_until"] == "2027-03-01T00:00:00.000Z"
    assert call("x", "POST", "/revoke").json()["object"]["revoked"] is True
    again = call("x", "POST", "/revoke")
    assert again.status_code == 409 and again.json()["error"] == "object_revoked"


def test_the_cli_revokes_remarks_extends_and_correlates_as_the_operator(node: Node) -> None:
    with node.unit(node.operator()) as ctx:
        create_collection(ctx, "region", "Region", None, "green")
        writing.add_objects(ctx, get_collection(ctx, "region"), [LURE, AMBER])
    home, one = node.settings.home, LURE["id"]
    found = run_seawall(home, "intel", "correlate", one, "--collection", "region", "--json")
    assert found.code == 0, found.output
    assert [c["name"] for c in found.json()] == ["National lure"]
    wider = run_seawall(home, "intel", "remark", one, "clear", "--collection", "region")
    assert wider.code == 65 and "would widen" in wider.output
    for args in (
        ("remark", one, "amber"),
        ("extend", one, "2027-01-01T00:00:00Z"),
        ("revoke", one),
    ):
        done = run_seawall(home, "intel", *args, "--collection", "region", "--json")
        assert done.code == 0, done.output
    body = done.json()
    assert body["revoked"] is True and body["valid_until"] == "2027-01-01T00:00:00.000Z"
    again = run_seawall(home, "intel", "revoke", one, "--collection", "region")
    assert again.code == 73 and "revoked" in again.output


CSIRT = stix("identity", 20, name="Lure Watch CSIRT", identity_class="organization")
BANK_DESK = stix("identity", 21, Tlp.RED, name="Bank A fraud desk", identity_class="organization")
NOWHERE = "identity--0b5e6a51-7d0c-4f44-9d1e-2f4b1c7a9e00"  # stored in no collection


def provenance_creator(page: str) -> str:
    found = re.search(r"<dt>[^<]*</dt><dd>(.*?)</dd>", section(page, "provenance"), re.S)
    assert found
    return found.group(1)


def test_a_creator_is_named_from_any_identity_the_reader_sees_else_in_words(
    analysts: Analysts,
) -> None:
    by_csirt = indicator(21, "Named creator", created_by_ref=CSIRT["id"])
    by_desk = indicator(22, "Bank desk creator", created_by_ref=BANK_DESK["id"])
    by_nobody = indicator(23, "Unstored creator", created_by_ref=NOWHERE)
    with analysts.node.unit(analysts.x) as ctx:
        create_collection(ctx, "orgs", "Organisations", None, "green")
        writing.add_objects(ctx, get_collection(ctx, "orgs"), [CSIRT])
        writing.add_objects(ctx, get_collection(ctx, "bank-a"), [BANK_DESK])
        writing.add_objects(ctx, get_collection(ctx, "region"), [by_csirt, by_desk, by_nobody])
    pages: dict[tuple[str, str, str], str] = {}
    with analysts.client("x") as x, analysts.client("y") as y:
        for who, client in (("x", x), ("y", y)):
            for obj in (by_csirt, by_desk, by_nobody):
                for lang in ("en", "es"):
                    path = f"/intel/collections/region/objects/{obj['id']}?lang={lang}"
                    pages[(who, obj["name"], lang)] = client.get(path).text
    creators = {key: provenance_creator(page) for key, page in pages.items()}
    # The identity lives in another collection: named from there, for everyone who reads it.
    assert "Lure Watch CSIRT" in creators[("y", "Named creator", "en")]
    # Bank A's RED identity names its objects for Bank A alone.
    assert "Bank A fraud desk" in creators[("x", "Bank desk creator", "en")]
    assert "Bank A fraud desk" not in pages[("y", "Bank desk creator", "en")]
    assert "unknown organisation" in creators[("y", "Bank desk creator", "en")]
    assert "unknown organisation" in creators[("x", "Unstored creator", "en")]
    assert "organización desconocida" in creators[("x", "Unstored creator", "es")]
    for (_, name, _), page in pages.items():
        # The raw id is never the name shown (a tooltip and the STIX document carry it).
        ref = {"Named creator": CSIRT["id"], "Bank desk creator": BANK_DESK["id"]}.get(
            name, NOWHERE
        )
        versions = re.search(r'<table class="table" id="versions">.*?</table>', page, re.S)
        assert versions
        for shown in (section(page, "provenance"), versions.group(0)):
            assert ref not in re.sub(r'(title|href)="[^"]*"', "", shown)


def test_observable_kinds_and_types_read_in_the_pages_language(analysts: Analysts) -> None:
    sco = stix("domain-name", 30, value="lure.example")
    with analysts.node.unit(analysts.x) as ctx:
        writing.add_objects(ctx, get_collection(ctx, "region"), [sco])
    path = f"/intel/collections/region/objects/{LURE['id']}"
    with analysts.client("y") as y:
        spanish = y.get(f"{path}?lang=es").text
        french = y.get(f"{path}?lang=fr").text
        dutch = y.get(f"{path}?lang=nl").text
        listed = y.get("/intel/collections/region?lang=es").text
        sco_page = y.get(f"/intel/collections/region/objects/{sco['id']}?lang=es").text
    # The kind in words; the value itself as written.
    kinds = {
        lang: re.findall(r"<tr><td>([^<]*)</td><td class=\"mono\"><a [^>]*>lure\.example<", page)
        for lang, page in (("es", spanish), ("fr", french), ("nl", dutch))
    }
    assert kinds == {"es": ["dominio"], "fr": ["domaine"], "nl": ["domein"]}
    assert "<td>nombre de dominio</td>" in listed and "<td>domain-name</td>" not in listed
    assert "nombre de dominio" in sco_page and "lure.example" in sco_page
