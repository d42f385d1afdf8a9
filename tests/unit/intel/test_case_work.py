"""Working a case on one node: severity, the assignee, tasks, names on the timeline, the
list's filters and pages, and linking by search. Real SQLite (and PostgreSQL where the new
tables are written)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seawall.core import audit, users
from seawall.core.clock import FrozenClock
from seawall.core.node import Node
from seawall.core.paging import PageRequest
from seawall.errors import BadPageCursor, Forbidden, InvalidInput
from seawall.intel import cases
from seawall.intel.cases import CaseQuery, Severity, Sort, Status, TaskState
from seawall.intel.cases.vocab import severity_of
from seawall.intel.collections import Audience, create_collection, get_collection
from seawall.intel.errors import (
    AmbiguousMatch,
    CaseTaskNotFound,
    NotCaseOwner,
    ObjectNotFound,
    UnknownAssignee,
)
from seawall.intel.identity import identity_id
from seawall.intel.store import writing
from seawall.intel.tlp import Tlp
from tests import stix


def indicator(n: int, value: str, name: str) -> dict[str, Any]:
    return stix.indicator(n << 100, stix.domain(value), name=name)


LURE = indicator(1, "refund-lure.example", "Refund lure domain")
OTHER = indicator(2, "refund-portal.example", "Refund portal domain")


class Team:
    """A Jamaica node with a CARICOM collection and JM's and TT's people on it."""

    def __init__(self, node: Node) -> None:
        self.node = node
        with node.unit(node.operator()) as ctx:
            self.ann = users.principal_of(
                users.add_user(ctx, "ann", "analyst", display_name="Ann Brown")
            )
            self.bob = users.principal_of(users.add_user(ctx, "bob", "analyst"))
            self.vic = users.principal_of(users.add_user(ctx, "vic", "viewer"))
            users.add_user(ctx, "dee", "analyst")
            users.set_disabled(ctx, "dee")
            self.tt = users.principal_of(
                users.add_user(ctx, "tia", "analyst", nation="TT", display_name="Tia T")
            )
        with node.unit(self.ann) as ctx:
            region = Audience(groups=("CARICOM",))
            collection = create_collection(ctx, "region", "Region", region, "green")
            writing.add_objects(ctx, collection, [LURE, OTHER])

    def actions(self, prefix: str) -> list[tuple[str, dict[str, Any]]]:
        with self.node.unit(self.node.operator()) as ctx:
            found = audit.search(ctx.db, audit.AuditFilter(action=prefix))
        return [(e.action, e.detail) for e in reversed(found)]


@pytest.fixture
def team(node: Node) -> Team:
    return Team(node)


@pytest.fixture
def any_team(any_node: Node) -> Team:
    """The team on SQLite and on PostgreSQL."""
    return Team(any_node)


def test_severity_is_the_incident_cores_criticality_set_by_the_opener(team: Team) -> None:
    with team.node.unit(team.ann) as ctx:
        case = cases.open_case(ctx, "region", "Ransomware", severity=Severity.HIGH)
        assert case.severity is Severity.HIGH
        raised = cases.set_status(ctx, case.id, severity=Severity.CRITICAL)
        assert (raised.severity, raised.status) == (Severity.CRITICAL, Status.NEW)
    with team.node.unit(team.tt) as ctx, pytest.raises(NotCaseOwner):
        cases.set_status(ctx, case.id, severity=Severity.LOW)
    opened, updated = (
        d for _a, d in team.actions("intel.case.opened") + team.actions("intel.case.updated")
    )
    assert (opened["severity"], updated["severity"]) == ("high", "critical")
    with pytest.raises(InvalidInput, match="unknown severity 'dire'"):
        cases.parse_severity("dire")


@given(st.integers(min_value=-5, max_value=200))
def test_any_criticality_a_partner_sends_reads_as_the_nearest_severity(value: int) -> None:
    severity = severity_of({"criticality": value})
    # The nearest of 25, 50, 75 and 100 (an integer is never half way), even out of range.
    assert abs(severity.criticality - value) == min(abs(s.criticality - value) for s in Severity)
    assert abs(severity.criticality - value) <= 12 or value < 13 or value > 100
    assert severity_of({"criticality": severity.criticality}) is severity
    assert severity_of({}) is Severity.MEDIUM
    assert severity_of({"criticality": "high"}) is Severity.MEDIUM


def test_a_case_is_assigned_to_a_user_of_the_nation_who_may_work_it(team: Team) -> None:
    with team.node.unit(team.ann) as ctx:
        case = cases.open_case(ctx, "region", "Refund lure")
        assert cases.assign(ctx, case.id, "bob").assignee == cases.Person("bob", "bob")
        for nobody in ("vic", "dee", "tia", "ghost"):  # viewer, disabled, other nation, none
            with pytest.raises(UnknownAssignee, match=f"no user '{nobody}' of JM"):
                cases.assign(ctx, case.id, nobody)
        mine = cases.assign(ctx, case.id, "ann")
        assert mine.assignee == cases.Person("ann", "Ann Brown")
        assert [u.username for u in cases.assignable_users(ctx)] == ["ann", "bob"]
    # The assignee is JM's own: Trinidad's analyst, on the same case, sees none.
    with team.node.unit(team.tt) as ctx:
        assert cases.show_case(ctx, case.id).assignee is None
    with team.node.unit(team.ann) as ctx:
        assert cases.assign(ctx, case.id, None).assignee is None
    assert [d["assignee"] for _a, d in team.actions("intel.case.assigned")] == [
        "bob",
        "ann",
        None,
    ]


def test_tasks_are_added_completed_reopened_moved_and_deleted_in_order(any_team: Team) -> None:
    team = any_team
    with team.node.unit(team.ann) as ctx:
        case = cases.open_case(ctx, "region", "Refund lure")
        cases.add_task(ctx, case.id, "Block the domain at the resolver", assignee="bob")
        cases.add_task(ctx, case.id, "Warn the ministries")
        shown = cases.add_task(ctx, case.id, "  Ask   the registrar  ")
        assert [(t.number, t.title, t.state) for t in shown.tasks] == [
            (1, "Block the domain at the resolver", TaskState.OPEN),
            (2, "Warn the ministries", TaskState.OPEN),
            (3, "Ask the registrar", TaskState.OPEN),
        ]
        assert shown.tasks[0].assignee == cases.Person("bob", "bob")
        done = cases.set_task_state(ctx, case.id, "1", TaskState.DONE)
        assert [t.state for t in done.tasks] == [TaskState.DONE, TaskState.OPEN, TaskState.OPEN]
        assert done.open_tasks == 2
        cases.set_task_state(ctx, case.id, done.tasks[0].id, TaskState.OPEN)
        moved = cases.move_task(ctx, case.id, "3", 1)
        assert [t.title[:4] for t in moved.tasks] == ["Ask ", "Bloc", "Warn"]
        assert [t.title[:4] for t in cases.shift_task(ctx, case.id, "1", 5).tasks] == [
            "Bloc",
            "Warn",
            "Ask ",
        ]
        cases.shift_task(ctx, case.id, "3", -9)  # back to the top
        given_to = cases.assign_task(ctx, case.id, "3", "ann")
        assert given_to.tasks[2].assignee == cases.Person("ann", "Ann Brown")
        left = cases.delete_task(ctx, case.id, "2")
        assert [t.title[:4] for t in left.tasks] == ["Ask ", "Warn"]
        with pytest.raises(CaseTaskNotFound, match="1 to 2"):
            cases.set_task_state(ctx, case.id, "9", TaskState.DONE)
        with pytest.raises(CaseTaskNotFound, match="no task '1111"):
            cases.set_task_state(ctx, case.id, "1" * 5000, TaskState.DONE)  # past int()'s digits
        with pytest.raises(InvalidInput, match="needs a title"):
            cases.add_task(ctx, case.id, "   ")
        with pytest.raises(UnknownAssignee):
            cases.add_task(ctx, case.id, "Call TT", assignee="tia")
        with pytest.raises(InvalidInput, match="place is 1 to 2"):
            cases.move_task(ctx, case.id, "1", 5)
    with team.node.unit(team.tt) as ctx:
        assert cases.show_case(ctx, case.id).tasks == []  # JM's tasks are JM's
    with team.node.unit(team.vic) as ctx, pytest.raises(Forbidden):
        cases.add_task(ctx, case.id, "viewers read, they do not write")
    assert [a for a, _d in team.actions("intel.case.task")] == [
        "intel.case.task.added",
        "intel.case.task.added",
        "intel.case.task.added",
        "intel.case.task.completed",
        "intel.case.task.reopened",
        "intel.case.task.moved",
        "intel.case.task.moved",
        "intel.case.task.moved",
        "intel.case.task.assigned",
        "intel.case.task.deleted",
    ]


def test_the_timeline_names_objects_and_the_readers_own_people(
    team: Team, clock: FrozenClock
) -> None:
    sighting = stix.sighting(8, LURE["id"], created_by_ref=identity_id("JM"), count=3)
    with team.node.unit(team.ann) as ctx:
        writing.add_objects(ctx, get_collection(ctx, "region"), [sighting])
        case = cases.open_case(ctx, "region", "Refund lure")
        cases.link_objects(ctx, case.id, [LURE["id"], sighting["id"]])
        cases.add_note(ctx, case.id, "Blocked")
    clock.advance(seconds=60)
    with team.node.unit(team.tt) as ctx:
        cases.add_note(ctx, case.id, "Seen in Port of Spain")
    with team.node.unit(team.ann) as ctx:
        shown = cases.show_case(ctx, case.id)
        (listed,) = cases.find_cases(ctx).items
    # The list reads every timeline in one pass: the same entries, nations and last activity.
    assert [(e.object_id, e.target_id, e.nation) for e in listed.timeline] == [
        (e.object_id, e.target_id, e.nation) for e in shown.timeline
    ]
    assert (listed.nations, listed.updated) == (["JM", "TT"], shown.updated)
    links = {e.target_type: e.target_name for e in shown.links}
    assert links == {"indicator": "Refund lure domain", "sighting": "Refund lure domain \u00d73"}
    # Ann is a JM user: the timeline says her name; TT's author keeps the name TT wrote.
    assert [(e.nation, e.who) for e in shown.notes] == [("JM", "Ann Brown"), ("TT", "tia")]


def test_the_list_filters_sorts_counts_and_pages_without_repeats(
    team: Team, clock: FrozenClock
) -> None:
    opened = []
    with team.node.unit(team.ann) as ctx:
        for n, severity in enumerate([Severity.LOW, Severity.CRITICAL, Severity.HIGH] * 3):
            opened.append(cases.open_case(ctx, "region", f"Case {n}", severity=severity))
            clock.advance(seconds=60)
        cases.assign(ctx, opened[0].id, "ann")
        cases.assign(ctx, opened[4].id, "bob")
        cases.set_status(ctx, opened[1].id, Status.CLOSED)
        every = cases.find_cases(ctx, request=PageRequest(limit=4))
        assert (every.total, [c.title for c in every.items]) == (
            9,
            ["Case 1", "Case 8", "Case 7", "Case 6"],  # the status change made 1 the newest
        )
        walked, cursor = [], None
        while True:
            page = cases.find_cases(
                ctx, CaseQuery(sort=Sort.SEVERITY), PageRequest(limit=4, cursor=cursor)
            )
            walked += [c.title for c in page.items]
            if page.next is None:
                break
            cursor = page.next
        assert walked == [f"Case {n}" for n in (1, 7, 4, 8, 5, 2, 6, 3, 0)]
        back = cases.find_cases(ctx, CaseQuery(sort=Sort.SEVERITY), PageRequest(4, page.prev))
        assert [c.title for c in back.items] == ["Case 5", "Case 2", "Case 6", "Case 3"]
        crit = cases.find_cases(ctx, CaseQuery(severity=Severity.CRITICAL, status=Status.NEW))
        assert [c.title for c in crit.items] == ["Case 7", "Case 4"]
        mine = cases.find_cases(ctx, CaseQuery(mine=True))
        assert [c.title for c in mine.items] == ["Case 0"]
        bobs = cases.find_cases(ctx, CaseQuery(assignee="bob", sort=Sort.TITLE))
        assert (bobs.total, [c.title for c in bobs.items]) == (1, ["Case 4"])
        early = cases.find_cases(ctx, CaseQuery(opened_until=opened[2].opened, tlp=Tlp.GREEN))
        assert [c.title for c in early.items] == ["Case 1", "Case 0"]
        late = cases.find_cases(ctx, CaseQuery(opened_from=opened[7].opened, nation="JM"))
        assert [c.title for c in late.items] == ["Case 8", "Case 7"]
        assert cases.find_cases(ctx, CaseQuery(nation="TT")).total == 0
        assert cases.find_cases(ctx, CaseQuery(tlp=Tlp.AMBER)).total == 0
        titles = cases.find_cases(ctx, CaseQuery(sort=Sort.TITLE), PageRequest(limit=2))
        assert [c.title for c in titles.items] == ["Case 0", "Case 1"]
        with pytest.raises(BadPageCursor):
            cases.find_cases(ctx, CaseQuery(sort=Sort.TITLE), PageRequest(cursor=every.next))
        with pytest.raises(BadPageCursor):
            cases.find_cases(ctx, request=PageRequest(cursor="!!not a cursor"))


def test_objects_are_linked_by_search_not_by_pasted_ids(team: Team) -> None:
    with team.node.unit(team.ann) as ctx:
        case = cases.open_case(ctx, "region", "Refund lure")
        found = cases.search_linkable(ctx, case.id, "refund")
        assert {c.hit.id for c in found} == {LURE["id"], OTHER["id"]}  # never the case
        with pytest.raises(AmbiguousMatch, match="2 objects match 'refund'"):
            cases.link_by_search(ctx, case.id, "refund")
        one = cases.link_by_search(ctx, case.id, "refund-lure.example")  # by value
        assert [e.target_id for e in one.links] == [LURE["id"]]
        by_prefix = cases.search_linkable(ctx, case.id, OTHER["id"][:20])
        assert [(c.number, c.hit.id, c.linked) for c in by_prefix] == [(1, OTHER["id"], False)]
        picked = cases.link_by_search(
            ctx, case.id, "refund", picks=(found[0].number, found[1].number)
        )
        assert {e.target_id for e in picked.links} == {LURE["id"], OTHER["id"]}
        assert len(picked.links) == 2  # linked once each
        again = cases.search_linkable(ctx, case.id, "Refund lure domain")  # by name
        assert [(c.hit.id, c.linked) for c in again] == [(LURE["id"], True)]
        with pytest.raises(InvalidInput, match="from 1 to 2, not 3"):
            cases.link_by_search(ctx, case.id, "refund", picks=(3,))
        with pytest.raises(ObjectNotFound, match="nothing you may read matches"):
            cases.link_by_search(ctx, case.id, "nothing-like-it")
        with pytest.raises(InvalidInput, match="at least 3"):
            cases.search_linkable(ctx, case.id, "re")


def test_cases_with_long_titles_in_any_script_page_by_title(team: Team) -> None:
    # A cursor names its edge case's title: a long Cyrillic or Chinese one (a partner's
    # incident name has no length limit) must still give a cursor the next page accepts.
    titles = ["Фишинг " * 60, "勒索软件事件" * 80, "Brute force " * 40]
    with team.node.unit(team.ann) as ctx:
        opened = {cases.open_case(ctx, "region", title).id for title in titles}
        seen: list[str] = []
        cursor = None
        for _ in range(len(titles) + 1):
            page = cases.find_cases(ctx, CaseQuery(sort=Sort.TITLE), PageRequest(1, cursor))
            seen += [c.id for c in page.items]
            cursor = page.next
            if cursor is None:
                break
    assert sorted(seen) == sorted(opened)


def test_the_list_reads_its_filters_from_words_and_refuses_unknown_ones() -> None:
    query = CaseQuery.parse(
        status="open",
        severity="high",
        assignee=" ann ",
        tlp="amber",
        nation="jam",
        opened_from="2026-11-01",
        opened_until="2026-11-30",
        sort="title",
    )
    assert (query.status, query.severity, query.assignee) == (Status.OPEN, Severity.HIGH, "ann")
    assert (query.tlp, query.nation, query.sort) == (Tlp.AMBER, "JM", Sort.TITLE)
    assert query.opened_until is not None and query.opened_until.isoformat()[:10] == "2026-12-01"
    assert CaseQuery.parse() == CaseQuery()
    for bad in (
        {"status": "sleeping"},
        {"severity": "dire"},
        {"tlp": "purple"},
        {"nation": "ZZZ"},
        {"opened_from": "yesterday"},
        {"sort": "sideways"},
    ):
        with pytest.raises(InvalidInput):
            CaseQuery.parse(**bad)
