"""What a case's links and sightings let a reader learn of what they point at, through every
edge: the case page, TAXII and the CLI, on a real uvicorn on 127.0.0.1.

Jamaica has two banks. Bank A keeps indicators in a collection only it reads ("bank-a");
both banks are named in a CARICOM collection ("region"). Bank A's analyst links Bank A's
indicator into a case in the region, and records a sighting of it there. Bank B's analyst
reads the region: the link and the sighting, marked as strictly as the indicator (Bank B is
a named recipient of the region's RED objects), but never the indicator's pattern or name.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from seawall.core.access import Principal
from seawall.core.node import Node
from seawall.intel import cases
from seawall.intel.collections import Audience, create_collection, get_collection
from seawall.intel.identity import identity_id
from seawall.intel.matching.sightings import link_to_case, match_logs, record
from seawall.intel.store import writing
from seawall.intel.sync import sync
from seawall.intel.tlp import Tlp, marking_id
from seawall.web.deps import SESSION_COOKIE
from tests import stix
from tests.banks import two_banks
from tests.cli import run_seawall
from tests.conftest import LiveServer
from tests.integration.test_intel_sync import Federation, one
from tests.integration.test_intel_sync import indicator as sync_indicator

MEDIA = "application/taxii+json;version=2.1"
STAMP = "2026-11-01T10:00:00.000Z"
WORDS = ("secret-lure", "Bank-only lure", "Seen at one bank only")


def indicator(n: int, tlp: Tlp) -> dict[str, Any]:
    return stix.indicator(
        n,
        stix.domain(f"secret-lure{n}.example"),
        tlp,
        name="Bank-only lure",
        description="Seen at one bank only",
    )


def leaks(text: str) -> list[str]:
    return [word for word in WORDS if word in text]


@dataclass
class Banks:
    """The node, Bank A's and Bank B's analysts, and how each signs in."""

    node: Node
    live: LiveServer
    x: Principal
    y: Principal
    cookies: dict[str, str]
    bearer: dict[str, str]
    region: str

    def page(self, who: str, path: str) -> str:
        with httpx.Client(base_url=self.live.url, timeout=10) as client:
            client.cookies.set(SESSION_COOKIE, self.cookies[who])
            answer = client.get(path)
        assert answer.status_code == 200, answer.text
        return answer.text

    def taxii(self, who: str) -> list[dict[str, Any]]:
        url = f"{self.live.url}/taxii2/api/collections/{self.region}/objects/"
        headers = {"Authorization": f"Bearer {self.bearer[who]}", "Accept": MEDIA}
        answer = httpx.get(url, headers=headers, timeout=10)
        assert answer.status_code == 200, answer.text
        objects: list[dict[str, Any]] = answer.json()["objects"]
        return objects


@pytest.fixture
def banks(node: Node, live_server: LiveServer) -> Banks:
    with node.unit(node.operator()) as ctx:
        two = two_banks(ctx)
    x = two.principals["x"]
    with node.unit(x) as ctx:
        create_collection(ctx, "bank-a", "Bank A", Audience(organisations=(two.orgs["a"],)))
        both = Audience(groups=("CARICOM",), organisations=(two.orgs["a"], two.orgs["b"]))
        region = create_collection(ctx, "region", "Region", both, "green").id
    return Banks(node, live_server, x, two.principals["y"], two.cookies, two.bearer, region)


@pytest.mark.parametrize("tlp", [Tlp.RED, Tlp.AMBER_STRICT], ids=["red", "amber-strict"])
def test_a_reader_of_the_case_sees_the_links_but_not_what_only_bank_a_may_read(
    banks: Banks, tmp_path: Path, tlp: Tlp
) -> None:
    secret = indicator(1, tlp)
    log = tmp_path / "squid.log"
    log.write_text(
        "1796302933.120    134 10.0.0.7 TCP_MISS/200 1520 GET http://secret-lure1.example/ "
        "- HIER_DIRECT/198.51.100.7 text/html\n"
    )
    with banks.node.unit(banks.x) as ctx:
        writing.add_objects(ctx, get_collection(ctx, "bank-a"), [secret])
        case = cases.open_case(ctx, "region", "Lure at the banks")
        cases.link_objects(ctx, case.id, [secret["id"]])
        report = record(ctx, match_logs(ctx, [log]), get_collection(ctx, "region"))
        link_to_case(ctx, report, case.id)
    (sighting,) = [r.id for r in report.recorded]
    path = f"/intel/cases/{case.id}"

    theirs = banks.page("y", path)
    assert secret["id"] in theirs and sighting in theirs  # Bank B sees both links ...
    assert leaks(theirs) == []  # ... and nothing of what they point at
    objects = banks.taxii("y")
    assert sorted(o["type"] for o in objects) == ["incident", "note", "relationship", "sighting"]
    derived = [o for o in objects if o["type"] != "incident"]
    assert all(o["object_marking_refs"] == [marking_id(tlp)] for o in derived)
    assert leaks(json.dumps(objects)) == []
    sighting_page = banks.page("y", f"/intel/collections/region/objects/{sighting}")
    assert leaks(sighting_page) == []
    assert leaks(banks.page("y", "/intel/sightings")) == []

    # Bank A's analyst may read the indicator: the same timeline names it.
    mine = banks.page("x", path)
    assert "Bank-only lure" in mine


def test_the_cli_shows_a_link_but_names_only_targets_the_operator_may_read(
    banks: Banks,
) -> None:
    # Trinidad shares an AMBER indicator with Bank A alone; Bank A links it, and its own
    # RED one, into the region's case. The operator of Jamaica's node reads AMBER links
    # made in Jamaica, but neither Trinidad's AMBER indicator nor Bank A's RED objects.
    node = banks.node
    tt = Principal("tt-analyst", "TT", banks.x.role, user_id="tt-analyst")
    theirs, red = indicator(2, Tlp.AMBER), indicator(3, Tlp.RED)
    mine = {**indicator(4, Tlp.GREEN), "name": "Public lure"}
    with node.unit(node.operator()) as ctx:
        org_a = str(banks.x.org_id)
        audience = Audience(nations=("TT",), organisations=(org_a,))
        create_collection(ctx, "tt-to-bank-a", "TT to Bank A", audience, "amber")
    with node.unit(tt) as ctx:
        writing.add_objects(ctx, get_collection(ctx, "tt-to-bank-a"), [theirs])
    with node.unit(banks.x) as ctx:
        writing.add_objects(ctx, get_collection(ctx, "bank-a"), [red])
        writing.add_objects(ctx, get_collection(ctx, "region"), [mine])
        case = cases.open_case(ctx, "region", "Lure at the banks")
        cases.link_objects(ctx, case.id, [theirs["id"], red["id"], mine["id"]])
    home = node.settings.home
    as_json = run_seawall(home, "intel", "case", "show", case.id, "--json")
    out = as_json.output
    assert as_json.code == 0, out
    shown = json.loads(out)
    assert sorted((e["target"], e.get("target_name")) for e in shown["timeline"]) == sorted(
        [(theirs["id"], None), (mine["id"], "Public lure")]
    )
    assert leaks(out) == []
    as_table = run_seawall(home, "intel", "case", "show", case.id)
    table = as_table.output
    assert as_table.code == 0 and "Public lure" in table and leaks(table) == []


def test_a_partner_rebuilds_the_links_to_an_indicator_and_a_sighting_as_they_were_made(
    tmp_path: Path,
) -> None:
    federation = Federation(tmp_path)
    try:
        jm = federation.site("jm", "JM", ["tt-node"])
        tt = federation.site("tt", "TT", ["jm-node"])
        federation.pair(jm, tt)
        lure = {**sync_indicator("jm", 1, Tlp.GREEN), "name": "Refund lure domain"}
        seen = {
            "type": "sighting",
            "spec_version": "2.1",
            "id": f"sighting--{uuid.uuid5(uuid.NAMESPACE_URL, 'jm/sighting')}",
            "created": STAMP,
            "modified": STAMP,
            "created_by_ref": identity_id("JM"),
            "sighting_of_ref": lure["id"],
            "count": 14,
            "where_sighted_refs": [identity_id("JM")],
            "object_marking_refs": [marking_id(Tlp.GREEN)],
        }
        jm.add([lure, seen])
        with jm.node.unit(jm.node.operator()) as ctx:
            case = cases.open_case(ctx, "shared", "Refund lure")
            cases.link_objects(ctx, case.id, [lure["id"]])
            jm.node.clock.advance(seconds=1)  # type: ignore[attr-defined]
            made = cases.link_objects(ctx, case.id, [seen["id"]], why="the ministries' proxy")
        assert one(sync(jm.node, "tt-node")).error == ""
        with tt.node.unit(tt.node.operator()) as ctx:
            theirs = cases.show_case(ctx, case.id)
        # The sighting's link is a note naming the incident and the sighting (a relationship
        # may not name a sighting); the partner reads it back as the same link. A
        # relationship names no author, so each node shows who stored it.
        assert [replace(e, author="") for e in theirs.links] == [
            replace(e, author="") for e in made.links
        ]
        assert [(e.target_name, e.text) for e in theirs.links] == [
            ("Refund lure domain", ""),
            (
                "Refund lure domain \u00d714",
                "the ministries' proxy",
            ),  # a sighting: what and how often
        ]
    finally:
        federation.close()
