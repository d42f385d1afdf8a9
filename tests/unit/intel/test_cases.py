"""Cross-border cases on a real node (SQLite and PostgreSQL): timeline, TLP, who may change what."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from stix2validator import ValidationOptions, validate_instance

from seawall.core import organisations
from seawall.core.access import Principal, Role
from seawall.core.clock import FrozenClock
from seawall.core.evidence import list_evidence
from seawall.core.node import Node
from seawall.errors import Forbidden, InvalidInput
from seawall.intel import cases
from seawall.intel.cases import Determination, Status
from seawall.intel.collections import Audience, create_collection, get_collection
from seawall.intel.errors import CaseNotFound, NotCaseOwner, ObjectNotFound
from seawall.intel.identity import identity_id
from seawall.intel.store import reading, writing
from seawall.intel.store.reading import Filters
from seawall.intel.tlp import Tlp, marking_id
from tests import stix

STAMP = "2026-11-01T10:00:00.000Z"
JM = Principal("jm-analyst", "JM", Role.ANALYST, user_id="jm-analyst", org_id="org-jm-cirt")
TT = Principal("tt-analyst", "TT", Role.ANALYST, user_id="tt-analyst", org_id="org-tt-cirt")
TT_VIEWER = Principal("tt-viewer", "TT", Role.VIEWER, user_id="tt-viewer")


def indicator(n: int, value: str, tlp: Tlp) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.UUID(int=n, version=4)}",
        "created": STAMP,
        "modified": STAMP,
        "name": f"lure {value}",
        "pattern": f"[domain-name:value = '{value}']",
        "pattern_type": "stix",
        "valid_from": STAMP,
        "object_marking_refs": [marking_id(tlp)],
    }


GREEN = indicator(1, "lure.example", Tlp.GREEN)
AMBER = indicator(2, "inside.example", Tlp.AMBER)


@pytest.fixture
def regional(any_node: Node) -> Node:
    """A CARICOM collection holding a GREEN and an AMBER indicator from Jamaica."""
    with any_node.unit(JM) as ctx:
        region = Audience(nations=(), groups=("CARICOM",))
        collection = create_collection(ctx, "caricom-cases", "Cases", region, "green")
        writing.add_objects(ctx, collection, [GREEN, AMBER])
    return any_node


def test_a_case_gathers_links_and_notes_from_two_nations_under_tlp(
    regional: Node, clock: FrozenClock
) -> None:
    with regional.unit(JM) as ctx:
        case = cases.open_case(
            ctx, "caricom-cases", "Refund lure", "Mail to ministries", ("phishing",)
        )
    assert (case.status, case.determination, case.tlp) == (
        Status.NEW,
        Determination.SUSPECTED,
        Tlp.GREEN,
    )
    short = case.id.removeprefix("incident--")[:8]
    clock.advance(seconds=60)
    with regional.unit(JM) as ctx:
        cases.link_objects(ctx, short, [GREEN["id"], AMBER["id"]])
        again = cases.link_objects(ctx, short, [GREEN["id"]])  # linked already: no new link
        assert len(again.links) == 2
    clock.advance(seconds=60)
    with regional.unit(JM) as ctx:
        cases.add_note(ctx, short, "Blocked at the national resolver")
    clock.advance(seconds=60)
    with regional.unit(TT) as ctx:
        seen = cases.show_case(ctx, short)
        # Trinidad sees the case and the GREEN link; the AMBER link stays inside Jamaica.
        assert [e.target_id for e in seen.links] == [GREEN["id"]]
        assert [e.text for e in seen.notes] == ["Blocked at the national resolver"]
        cases.add_note(ctx, case.id, "Same lure seen in Port of Spain")
        with pytest.raises(NotCaseOwner, match="only JM may change"):
            cases.set_status(ctx, case.id, Status.CLOSED)
    with regional.unit(JM) as ctx:
        mine = cases.set_status(ctx, short, Status.OPEN, Determination.CONFIRMED)
    assert (mine.status, mine.determination) == (Status.OPEN, Determination.CONFIRMED)
    assert [(e.kind, e.nation) for e in mine.timeline] == [
        ("link", "JM"),
        ("link", "JM"),
        ("note", "JM"),
        ("note", "TT"),
    ]
    amber_link = next(e for e in mine.links if e.target_id == AMBER["id"])
    assert amber_link.tlp is Tlp.AMBER  # a link is never looser than its target
    assert mine.nations == ["JM", "TT"]


def test_a_case_is_stix_an_incident_with_the_incident_core_extension(regional: Node) -> None:
    with regional.unit(JM) as ctx:
        case = cases.open_case(ctx, "caricom-cases", "Ransomware at a utility", tlp="amber")
        cases.set_status(ctx, case.id, Status.CLOSED, Determination.FALSE_POSITIVE)
        page = reading.get_versions(
            ctx, get_collection(ctx, "caricom-cases"), case.id, Filters.parse(versions="all")
        )
        latest = reading.query_objects(
            ctx, get_collection(ctx, "caricom-cases"), Filters(types=("incident",))
        )
    assert len(page.objects) == 2  # opening and the status change are two versions
    with regional.unit(JM) as ctx:
        cases.set_status(ctx, case.id, Status.CLOSED)  # closed already: no second record
        (evidence,) = list_evidence(ctx, supports="cmm:D1.2")
    assert evidence.kind == "intel.case.closed"
    assert evidence.summary == (
        "Case 'Ransomware at a utility' closed (false-positive); nations on it: JM"
    )
    (body,) = [o.as_dict() for o in latest.objects]
    assert body["created_by_ref"] == identity_id("JM")
    assert body["object_marking_refs"] == [marking_id(Tlp.AMBER)]  # stricter than the default
    assert body["extensions"][cases.INCIDENT_CORE] == {
        "extension_type": "property-extension",
        "investigation_status": "closed",
        "determination": "false-positive",
        "criticality": 50,  # medium, the default severity
    }


def test_cases_are_listed_most_recent_first_and_bad_references_say_why(
    regional: Node, clock: FrozenClock
) -> None:
    with regional.unit(JM) as ctx:
        first = cases.open_case(ctx, "caricom-cases", "First")
        clock.advance(seconds=60)
        cases.open_case(ctx, "caricom-cases", "Second")
        clock.advance(seconds=60)
        cases.add_note(ctx, first.id, "Still going")
        assert [c.title for c in cases.find_cases(ctx).items] == ["First", "Second"]
        with pytest.raises(InvalidInput, match="too short"):
            cases.show_case(ctx, "abc")
        with pytest.raises(CaseNotFound, match="no case"):
            cases.show_case(ctx, "ffffffff")
        with pytest.raises(ObjectNotFound, match="indicator--00000000"):
            cases.link_objects(ctx, first.id, [f"indicator--{uuid.UUID(int=99, version=4)}"])
        with pytest.raises(InvalidInput, match="needs a title"):
            cases.open_case(ctx, "caricom-cases", "  ")
        with pytest.raises(InvalidInput, match="needs text"):
            cases.add_note(ctx, first.id, "")
    with regional.unit(TT_VIEWER) as ctx, pytest.raises(Forbidden):
        cases.add_note(ctx, first.id, "viewers read, they do not write")


def test_a_partners_case_with_a_status_this_node_does_not_know_still_reads(
    regional: Node,
) -> None:
    # As another nation's node might send it: a newer vocabulary, or plain garbage.
    theirs = {
        "type": "incident",
        "spec_version": "2.1",
        "id": f"incident--{uuid.UUID(int=5, version=4)}",
        "created": STAMP,
        "modified": STAMP,
        "created_by_ref": identity_id("TT"),
        "name": "Their case",
        "object_marking_refs": [marking_id(Tlp.GREEN)],
        "extensions": {
            cases.INCIDENT_CORE: {
                "extension_type": "property-extension",
                "investigation_status": "escalated",
                "determination": ["not", "a", "string"],
            }
        },
    }
    with regional.unit(TT) as ctx:
        writing.add_objects(ctx, get_collection(ctx, "caricom-cases"), [theirs])
    with regional.unit(JM) as ctx:
        (case,) = cases.find_cases(ctx).items
        titles = cases.open_case_titles(ctx)
    assert (case.nation, case.status, case.determination) == (
        "TT",
        Status.OPEN,
        Determination.SUSPECTED,
    )
    assert titles == [(theirs["id"], "Their case")]
    with pytest.raises(
        InvalidInput, match="unknown status 'shut': choose one of new, open, closed"
    ):
        cases.parse_status("shut")
    with pytest.raises(InvalidInput, match="unknown determination 'maybe'"):
        cases.parse_determination("maybe")
    assert cases.parse_determination(" Confirmed ") is Determination.CONFIRMED


SECRET = {
    **indicator(7, "secret-lure.example", Tlp.RED),
    "name": "Bank-only lure",
    "description": "Seen at one bank only",
}


def two_banks(node: Node) -> tuple[Principal, Principal]:
    """Two organisations of Jamaica, an analyst in each; a collection only the first reads
    ("bank-a", where the first keeps a RED indicator) and a CARICOM one naming both
    ("region", where RED objects reach both as named recipients)."""
    with node.unit(node.operator()) as ctx:
        first = organisations.add_org(ctx, "Bank A", "data_custodian")
        second = organisations.add_org(ctx, "Bank B", "data_custodian")
    x = Principal("x-analyst", "JM", Role.ANALYST, user_id="x-analyst", org_id=first.id)
    y = Principal("y-analyst", "JM", Role.ANALYST, user_id="y-analyst", org_id=second.id)
    with node.unit(x) as ctx:
        only_a = create_collection(ctx, "bank-a", "Bank A", Audience(organisations=(first.id,)))
        writing.add_objects(ctx, only_a, [SECRET])
        both = Audience(groups=("CARICOM",), organisations=(first.id, second.id))
        create_collection(ctx, "region", "Region", both, "green")
    return x, y


def leaks(text: str) -> list[str]:
    """The RED indicator's words found in ``text``."""
    words = ("secret-lure", "Bank-only lure", "Seen at one bank only")
    return [word for word in words if word in text]


def test_a_red_target_linked_into_a_wider_case_lends_the_link_none_of_its_words(
    any_node: Node,
) -> None:
    x, y = two_banks(any_node)
    with any_node.unit(x) as ctx:
        case = cases.open_case(ctx, "region", "Lure at the banks")
        mine = cases.link_objects(ctx, case.id, [SECRET["id"]])
        cases.link_objects(ctx, case.id, [SECRET["id"]], why="both banks were phished")
    (seen_by_x,) = mine.links
    # A reader who may read the target sees what it is, read with their own rights.
    assert (seen_by_x.target_id, seen_by_x.target_type, seen_by_x.target_name) == (
        SECRET["id"],
        "indicator",
        "Bank-only lure",
    )
    assert seen_by_x.tlp is Tlp.RED  # never looser than its target
    with any_node.unit(y) as ctx:
        theirs = cases.show_case(ctx, case.id)
        region = get_collection(ctx, "region")
        stored = [o.as_dict() for o in reading.query_objects(ctx, region, Filters()).objects]
    # Bank B is named in the region, so it sees the RED link, but not what it links to.
    (link,) = theirs.links
    assert (link.target_id, link.target_type, link.target_name) == (
        SECRET["id"],
        "indicator",
        "",
    )
    assert link.text == ""  # no reason given, and none made up from the target
    assert leaks(json.dumps(theirs.as_json())) == []
    assert [o["type"] for o in stored] == ["incident", "relationship"]
    assert leaks(json.dumps(stored)) == []
    assert "description" not in stored[1]


def test_every_object_a_case_produces_is_valid_stix_2_1(regional: Node, clock: FrozenClock) -> None:
    sighting = stix.sighting(
        8,
        GREEN["id"],
        created_by_ref=identity_id("JM"),
        count=3,
        where_sighted_refs=[identity_id("JM")],
    )
    with regional.unit(JM) as ctx:
        writing.add_objects(ctx, get_collection(ctx, "caricom-cases"), [sighting])
        case = cases.open_case(ctx, "caricom-cases", "Refund lure", "Mail", ("phishing",))
        clock.advance(seconds=60)
        cases.link_objects(ctx, case.id, [GREEN["id"]], why="the lure's domain")
        clock.advance(seconds=60)
        cases.link_objects(ctx, case.id, [sighting["id"]])
        clock.advance(seconds=60)
        cases.add_note(ctx, case.id, "Blocked at the national resolver")
        clock.advance(seconds=60)
        shown = cases.set_status(ctx, case.id, Status.CLOSED, Determination.CONFIRMED)
        page = reading.query_objects(
            ctx, get_collection(ctx, "caricom-cases"), Filters.parse(versions="all")
        )
    made = [o.as_dict() for o in page.objects if o.id not in (GREEN["id"], AMBER["id"])]
    made = [o for o in made if o["id"] != sighting["id"]]
    assert sorted(o["type"] for o in made) == [
        "incident",
        "incident",
        "note",
        "note",
        "relationship",
    ]
    options = ValidationOptions(version="2.1")
    errors = {o["id"]: [str(e) for e in validate_instance(o, options).errors] for o in made}
    assert errors == {o["id"]: [] for o in made}
    # The link to the sighting (an SRO, which a relationship may not name) is still a link.
    assert [(e.kind, e.target_id) for e in shown.timeline] == [
        ("link", GREEN["id"]),
        ("link", sighting["id"]),
        ("note", ""),
    ]
    assert [e.text for e in shown.timeline] == [
        "the lure's domain",
        "",
        "Blocked at the national resolver",
    ]
