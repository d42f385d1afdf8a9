"""What of a case crosses a border, between two real nodes (uvicorn on 127.0.0.1) that sync:
the severity travels with the incident; each nation's assignee and tasks stay home.

Expected holdings, from the documented rules: the incident (every version, severity in its
``criticality``), its notes and its links reach the partner; no object either node holds
names an assignee or a task, and each node's case shows only its own nation's work.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from seawall.core import users
from seawall.intel import cases
from seawall.intel.cases import Severity
from seawall.intel.collections import get_collection
from seawall.intel.search import latest_objects
from seawall.intel.sync import sync
from seawall.intel.tlp import Tlp
from tests.integration.test_intel_sync import Federation, Site, federation, indicator, one

__all__ = ["federation"]  # the fixture, used by name

JM_WORK = ("ann-jm", "Call the registrar in Kingston")
TT_WORK = ("raj-tt", "Warn the banks in Port of Spain")


def holdings(site: Site) -> list[dict[str, Any]]:
    with site.node.unit(site.node.operator()) as ctx:
        return latest_objects(ctx, get_collection(ctx, "shared"), include_inactive=True)


def work_on(site: Site, case_id: str, username: str, task: str) -> None:
    with site.node.unit(site.node.operator()) as ctx:
        users.add_user(ctx, username, "analyst", display_name=username.upper())
        cases.assign(ctx, case_id, username)
        cases.add_task(ctx, case_id, task, assignee=username)


def test_severity_travels_and_each_nations_assignee_and_tasks_stay_home(
    federation: Federation, tmp_path: Path
) -> None:
    jm, tt = federation.jm_and_tt()
    lure = indicator("jm", 1, Tlp.GREEN)
    jm.add([lure])
    with jm.node.unit(jm.node.operator()) as ctx:
        case = cases.open_case(ctx, "shared", "Refund lure", severity=Severity.HIGH)
        cases.link_objects(ctx, case.id, [lure["id"]])
    work_on(jm, case.id, *JM_WORK)
    assert one(sync(jm.node, "tt-node")).error == ""

    with tt.node.unit(tt.node.operator()) as ctx:
        theirs = cases.show_case(ctx, case.id)
    assert (theirs.severity, theirs.assignee, theirs.tasks) == (Severity.HIGH, None, [])
    work_on(tt, case.id, *TT_WORK)
    tt.node.clock.advance(seconds=60)  # type: ignore[attr-defined]
    with tt.node.unit(tt.node.operator()) as ctx:
        cases.add_note(ctx, case.id, "Same lure here")

    jm.node.clock.advance(seconds=120)  # type: ignore[attr-defined]
    with jm.node.unit(jm.node.operator()) as ctx:
        cases.set_status(ctx, case.id, severity=Severity.CRITICAL)
    assert one(sync(jm.node, "tt-node")).error == ""

    with jm.node.unit(jm.node.operator()) as ctx:
        ours = cases.show_case(ctx, case.id)
    with tt.node.unit(tt.node.operator()) as ctx:
        theirs = cases.show_case(ctx, case.id)
    assert [(t.title, t.assignee and t.assignee.username) for t in ours.tasks] == [
        (JM_WORK[1], JM_WORK[0])
    ]
    assert [(t.title, t.assignee and t.assignee.username) for t in theirs.tasks] == [
        (TT_WORK[1], TT_WORK[0])
    ]
    assert (ours.assignee and ours.assignee.username, ours.severity) == (
        JM_WORK[0],
        Severity.CRITICAL,
    )
    assert (theirs.assignee and theirs.assignee.username, theirs.severity) == (
        TT_WORK[0],
        Severity.CRITICAL,
    )
    assert [(e.nation, e.text) for e in ours.notes] == [("TT", "Same lure here")]
    # JM's link reached TT through JM's sync account there: TT shows the nation, no author.
    assert [(e.nation, e.who) for e in theirs.links] == [("JM", "")]

    case_stix = ["incident", "indicator", "note", "relationship"]  # TT's note, JM's link
    # TT also holds JM's identity, which sync delivers with JM's objects.
    for site, expected in ((jm, case_stix), (tt, ["identity", *case_stix])):
        held = holdings(site)
        assert sorted(o["type"] for o in held) == expected
        text = json.dumps(held)
        assert [w for w in (*JM_WORK, *TT_WORK) if w in text] == []
        (incident,) = [o for o in held if o["type"] == "incident"]
        assert incident["extensions"][cases.INCIDENT_CORE]["criticality"] == 100
