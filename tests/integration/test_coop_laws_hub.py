"""A hub and two nations' nodes on 127.0.0.1: each nation's laws and CIRT entry reach the hub
with their source nation, replace what the hub entered for that nation, fill its matrix and
directory, stay read-only there, and a withdrawal removes them."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from seawall.coop import cirts, laws
from seawall.coop.errors import ReceivedRecordReadOnly
from seawall.coop.records import NotYourNation
from seawall.core import users
from seawall.core.access import Principal, Role
from seawall.core.federation.delivery import deliver
from tests.cli import run_seawall
from tests.conftest import sign_in_by_form
from tests.integration.test_regional_hub import Node4, Region
from tests.integration.test_regional_hub import region as region  # the same hub and links

OFFICER = {n: Principal(f"{n.lower()}-officer", n, Role.ASSESSOR) for n in ("JM", "GD")}
HUB_READER = Principal("tt-coordinator", "TT", Role.VIEWER)
SOURCE = "https://laws.example.org/"
ACT = {"kind": "cybercrime", "title": "Cybercrimes Act 2015", "source": SOURCE + "cc"}


def _outcomes(site: Node4) -> list[tuple[str, str]]:
    [report] = deliver(site.node, "caricom-hub", timeout=10)
    assert report.error == "", report.error
    return sorted((d["outcome"], d["key"].split(":")[0]) for d in report.delivered + report.refused)


def _cirt(name: str) -> dict[str, str]:
    return {"nation": "GD", "name": name, "status": "established", "source": SOURCE + "gd"}


def _hub_edges_show(region: Region, home: Path) -> None:
    """The hub's CLI matrix and its pages show the received records with the entered ones."""
    shown = run_seawall(home, "coop", "law", "matrix", "--group", "CARICOM", "--json")
    assert shown.code == 0, shown.err
    cells = {r["nation"]: r["cells"] for r in shown.json()["rows"]}
    assert (cells["JM"]["cybercrime"]["title"], cells["JM"]["cybercrime"]["received"]) == (
        "Cybercrimes Act 2015",
        True,
    )
    assert cells["BB"]["cybercrime"]["status"] == "unknown"
    with region.hub.node.unit(region.hub.node.operator()) as ctx:
        users.add_user(ctx, "tt-viewer", "viewer", password="a-long-password")
    with httpx.Client(base_url=region.hub.url, timeout=10) as http:
        assert sign_in_by_form(http, "tt-viewer", "a-long-password").status_code == 303
        page = http.get("/coop/laws", params={"group": "CARICOM"})
        assert page.status_code == 200 and "Data Protection Act 2020" in page.text
        page = http.get("/coop/cirts", params={"group": "CARICOM"})
        assert page.status_code == 200 and "GD-CIRT" in page.text
        assert "GD hub-entered CIRT" not in page.text


def test_laws_and_cirt_entries_reach_the_hub_and_replace_what_it_entered(
    region: Region, tmp_path: Path
) -> None:
    hub, jm, gd = region.hub.node, region.nations["JM"], region.nations["GD"]
    # Before their nodes took over, the hub had entered JM's act and GD's CIRT itself.
    with hub.unit(OFFICER["JM"]) as ctx:
        laws.add_instrument(ctx, nation="JM", status="draft", date="2014", **ACT)
        laws.add_instrument(
            ctx, nation="JM", kind="data_protection", title="Data Protection Bill",
            status="in_force", source=SOURCE + "dpb",
        )  # fmt: skip
    with hub.unit(OFFICER["GD"]) as ctx:
        cirts.save_cirt(ctx, **_cirt("GD hub-entered CIRT"))

    with jm.node.unit(OFFICER["JM"]) as ctx:
        act = laws.add_instrument(
            ctx, settings=jm.node.settings, nation="JM", status="in_force", date="2015", **ACT
        )
        dpa = laws.add_instrument(
            ctx, settings=jm.node.settings, nation="JM", kind="data_protection",
            title="Data Protection Act 2020", status="enacted", date="2020",
            source=SOURCE + "dpa",
        )  # fmt: skip
        laws.add_instrument(
            ctx, settings=jm.node.settings, nation="JM", kind="national_strategy",
            title="Sample Strategy", status="in_force", source=SOURCE + "s", sample=True,
        )  # fmt: skip
        act_id, dpa_id = act.id, dpa.id
    with gd.node.unit(OFFICER["GD"]) as ctx:
        entry, _ = cirts.save_cirt(ctx, settings=gd.node.settings, **_cirt("GD-CIRT"))
        cirt_id = entry.id

    # Sample data stays home; the real records travel.
    assert _outcomes(jm) == [("stored", "law"), ("stored", "law")]
    assert _outcomes(gd) == [("stored", "cirt")]

    with hub.unit(HUB_READER) as ctx:
        matrix = laws.harmonisation_matrix(ctx, "CARICOM")
        cyber = matrix.cell("JM", "cybercrime")
        assert (cyber.status, cyber.best and cyber.best.id) == ("in_force", act_id)
        assert [i.title for i in cyber.instruments] == ["Cybercrimes Act 2015"]  # replaced
        # The nation's word outranks the hub's, however advanced the hub's entry.
        data = matrix.cell("JM", "data_protection")
        assert (data.status, data.best and data.best.id) == ("enacted", dpa_id)
        assert [i.received for i in data.instruments] == [True, False]
        assert matrix.cell("JM", "national_strategy").status == "unknown"
        assert laws.get_instrument(ctx, act_id).received_at is not None
        [held] = [e for e in cirts.list_cirts(ctx, "CARICOM") if e.nation == "GD"]
        assert (held.id, held.name, held.entered_by) == (cirt_id, "GD-CIRT", "gd-node")
        assert held.received_at is not None

    _hub_edges_show(region, tmp_path / "hub")

    # The hub edits none of them: not its operator, not a user of that nation there.
    with hub.unit(hub.operator()) as ctx, pytest.raises(NotYourNation):
        laws.update_instrument(ctx, act_id, status="draft")
    with hub.unit(OFFICER["JM"]) as ctx, pytest.raises(ReceivedRecordReadOnly):
        laws.update_instrument(ctx, act_id, status="draft")
    with hub.unit(OFFICER["GD"]) as ctx, pytest.raises(ReceivedRecordReadOnly):
        cirts.save_cirt(ctx, **_cirt("GD renamed at the hub"))

    # A change travels; turning the act into sample data withdraws it from the hub.
    jm.node.clock.advance(hours=1)  # type: ignore[attr-defined]
    with jm.node.unit(OFFICER["JM"]) as ctx:
        laws.update_instrument(ctx, dpa_id, settings=jm.node.settings, status="in_force")
        laws.update_instrument(ctx, act_id, settings=jm.node.settings, sample=True)
    assert _outcomes(jm) == [("replaced", "law"), ("withdrawn", "law")]
    assert _outcomes(jm) == []
    with hub.unit(HUB_READER) as ctx:
        matrix = laws.harmonisation_matrix(ctx, "CARICOM")
        assert matrix.cell("JM", "cybercrime").status == "unknown"
        assert matrix.cell("JM", "data_protection").status == "in_force"
        assert act_id not in {r.id for r in laws.list_instruments(ctx, nation="JM")}
