"""Trust across borders, node to node: caps, disabling, audiences and relays on real nodes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from seawall.core import organisations, partners, tokens, users
from seawall.intel.collections import Audience, create_collection, get_collection
from seawall.intel.sync import sync
from seawall.intel.taxii import MEDIA_TYPE
from seawall.intel.tlp import Tlp
from tests.integration.test_intel_sync import Federation, Site, indicator, one


@pytest.fixture
def fed(tmp_path: Path) -> Iterator[Federation]:
    made = Federation(tmp_path)
    yield made
    made.close()


def ids(site: Site) -> set[str]:
    return set(site.held())


def test_a_partner_pulls_nothing_above_its_max_tlp_and_nothing_once_disabled(
    fed: Federation,
) -> None:
    jm = fed.site("jm", "JM", ["bb-node"])
    bb = fed.site("bb", "BB", ["jm-node"])
    fed.pair(bb, jm, max_tlp="red")  # BB itself would take up to RED from JM ...
    with jm.node.unit(jm.node.operator()) as ctx:
        partners.get_partner(ctx, "bb-node").max_tlp = "clear"  # ... but JM caps BB at CLEAR
    clear, green = indicator("jm", 1, Tlp.CLEAR), indicator("jm", 2, Tlp.GREEN)
    jm.add([clear, green])
    report = one(sync(bb.node, "jm-node"))
    assert report.error == "", report.error
    assert clear["id"] in ids(bb) and green["id"] not in ids(bb)

    later = indicator("jm", 3, Tlp.CLEAR)
    jm.add([later])
    with jm.node.unit(jm.node.operator()) as ctx:
        partners.set_partner_disabled(ctx, "bb-node", True)
    refused = one(sync(bb.node, "jm-node"))
    assert refused.error_code == "partner_refused" and "disabled" in refused.error
    assert later["id"] not in ids(bb)


def test_a_node_never_relays_what_a_partner_shared_with_it(fed: Federation) -> None:
    jm = fed.site("jm", "JM", ["tt-node"])
    tt = fed.site("tt", "TT", ["jm-node", "bb-node"])
    bb = fed.site("bb", "BB", ["tt-node"])
    fed.pair(jm, tt, max_tlp="green")  # JM pushes into TT's "shared", which BB reads too
    fed.pair(tt, jm, max_tlp="green")  # TT pulls JM's collections
    fed.pair(bb, tt, max_tlp="green")
    pushed = indicator("jm", 6, Tlp.GREEN)
    jm.add([pushed])
    with jm.node.unit(jm.node.operator()) as ctx:
        only_tt = Audience.of(nations=["JM"], partners=["tt-node"])
        create_collection(ctx, "jm-to-tt", "For TT", only_tt, "green")
    pulled = indicator("jm", 7, Tlp.GREEN)
    jm.add([pulled], collection="jm-to-tt")
    assert one(sync(jm.node, "tt-node")).sent == 1
    assert one(sync(tt.node, "jm-node")).error == ""
    mine = indicator("tt", 1, Tlp.GREEN)
    tt.add([mine])
    assert one(sync(bb.node, "tt-node")).error == ""
    held = ids(bb)
    assert mine["id"] in held
    assert pushed["id"] not in held and pulled["id"] not in held
    assert {pushed["id"], pulled["id"]} <= ids(tt)
    with tt.node.unit(tt.node.operator()) as ctx:
        received = get_collection(ctx, "jm-to-tt")
        # Made for what JM shared: TT's nation and JM's node, not everyone on TT's node.
        assert Audience.from_json(received.audience) == Audience.of(
            nations=["TT"], partners=["jm-node"]
        )


def test_an_open_audience_collection_stays_on_its_node(fed: Federation) -> None:
    jm = fed.site("jm", "JM", ["tt-node"])
    tt = fed.site("tt", "TT", ["jm-node"])
    fed.pair(tt, jm, max_tlp="green")
    with jm.node.unit(jm.node.operator()) as ctx:
        create_collection(ctx, "everyone-here", "Open", Audience(), "clear")
    local = indicator("jm", 9, Tlp.CLEAR)
    jm.add([local], collection="everyone-here")
    report = one(sync(tt.node, "jm-node"))
    assert report.error == "" and report.collections == 1  # "shared" only
    assert local["id"] not in ids(tt)


def test_a_partner_push_is_held_to_the_inbound_cap(fed: Federation) -> None:
    jm = fed.site("jm", "JM", ["bb-node"])
    bb = fed.site("bb", "BB", ["jm-node"])
    fed.pair(bb, jm, max_tlp="clear")  # JM takes nothing above CLEAR from BB
    account = "push-bb"
    with jm.node.unit(jm.node.operator()) as ctx:
        users.add_user(ctx, account, "analyst", partner="bb-node")
        token = tokens.create_token(ctx, "push", [], username=account).value
        shared = get_collection(ctx, "shared").id
    green, clear = indicator("bb", 1, Tlp.GREEN), indicator("bb", 2, Tlp.CLEAR)
    answer = httpx.post(
        f"{jm.url}/taxii2/api/collections/{shared}/objects/",
        json={"objects": [green, clear]},
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": MEDIA_TYPE,
            "Content-Type": MEDIA_TYPE,
        },
        timeout=10,
    )
    assert answer.status_code == 202, answer.text
    status = answer.json()
    assert [s["id"] for s in status["successes"]] == [clear["id"]]
    assert [f["id"] for f in status["failures"]] == [green["id"]]
    assert "may not come from bb-node" in status["failures"][0]["message"]
    held = jm.held()
    assert clear["id"] in held and green["id"] not in held


def test_a_partners_objects_land_only_in_a_collection_shared_with_it(fed: Federation) -> None:
    jm = fed.site("jm", "JM", ["tt-node"])
    tt = fed.site("tt", "TT", ["jm-node"])
    with jm.node.unit(jm.node.operator()) as ctx:
        cirt = organisations.add_org(ctx, "JaCIRT", "cirt")
        # JM's own SOC feed (one organisation) names no partner: TT's objects stay out of it.
        create_collection(ctx, "soc-blocklist", "SOC", Audience.of(organisations=[cirt.id]))
    with tt.node.unit(tt.node.operator()) as ctx:
        create_collection(
            ctx, "soc-blocklist", "SOC", Audience.of(nations=["TT"], partners=["jm-node"])
        )
    fed.pair(jm, tt, max_tlp="green")
    planted = indicator("tt-planted", 1, Tlp.GREEN)
    tt.add([planted], collection="soc-blocklist")
    report = one(sync(jm.node, "tt-node"))
    assert report.error_code == "collection_not_shared", report.error
    assert "add partner:tt-node to that audience" in report.error
    assert planted["id"] not in ids(jm)
    with jm.node.unit(jm.node.operator()) as ctx:
        soc = get_collection(ctx, "soc-blocklist")
        soc.audience = Audience.of(organisations=[cirt.id], partners=["tt-node"]).to_json()
    assert one(sync(jm.node, "tt-node")).error == ""
    assert planted["id"] in ids(jm)
