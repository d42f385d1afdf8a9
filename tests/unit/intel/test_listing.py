"""Object lists for people: newest first past 10,000 objects, exact totals under TLP, filters,
sorts and keyset cursors, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from seawall.core.clock import FrozenClock
from seawall.core.node import Node
from seawall.core.paging import Page, PageRequest
from seawall.errors import BadPageCursor, InvalidInput
from seawall.intel import search
from seawall.intel.collections import get_collection
from seawall.intel.store.listing import ObjectQuery
from seawall.intel.tlp import Tlp
from tests.unit.intel.test_store import JM, JM_BANK, TT, add, indicator, new_collection

MANY = 12_001


def _page(node: Node, who: object, cid: str, **values: str) -> Page[search.Found]:
    with node.unit(who) as ctx:  # type: ignore[arg-type]
        return search.collection_page(ctx, get_collection(ctx, cid), ObjectQuery.parse(**values))


def test_the_newest_of_12001_objects_is_listed_first_and_all_are_counted(
    any_node: Node, clock: FrozenClock
) -> None:
    cid = new_collection(any_node)
    for start in range(1, MANY + 1, 4000):
        add(any_node, JM, cid, [indicator(n) for n in range(start, min(start + 4000, MANY + 1))])
        clock.advance(seconds=1)
    newest = indicator(MANY)["id"]
    with any_node.unit(JM) as ctx:
        collection = get_collection(ctx, cid)
        recent = search.collection_page(ctx, collection, ObjectQuery(page=PageRequest(200))).items
        first = search.collection_page(ctx, collection, ObjectQuery.parse(limit="50"))
        found = search.search_page(ctx, ObjectQuery(text=newest))
        matching = search.search_page(ctx, ObjectQuery(text="192.0.2.", page=PageRequest(10)))
        oldest = search.collection_page(ctx, collection, ObjectQuery.parse(sort="oldest"))
    assert recent[0].id == newest and len(recent) == 200
    assert first.total == MANY and first.items[0].id == newest and first.next is not None
    assert [f.id for f in found.items] == [newest] and found.total == 1
    assert matching.total == MANY and matching.items[0].id == newest
    assert oldest.items[0].id == indicator(1)["id"]


def test_a_readers_total_counts_only_what_it_may_read(any_node: Node) -> None:
    cid = new_collection(any_node)
    objects = [indicator(n, tlp) for n, tlp in enumerate(Tlp, start=1)]
    add(any_node, JM, cid, objects)
    by_level = {obj["id"]: tlp for obj, tlp in zip(objects, Tlp, strict=True)}

    def seen(who: object) -> tuple[set[Tlp], int]:
        page = _page(any_node, who, cid, limit="2")
        levels, cursor = set(), page.next
        levels |= {by_level[f.id] for f in page.items}
        while cursor:
            more = _page(any_node, who, cid, limit="2", cursor=cursor)
            levels |= {by_level[f.id] for f in more.items}
            cursor = more.next
        return levels, page.total

    assert seen(JM) == (set(Tlp), len(Tlp))
    assert seen(JM_BANK) == ({Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER}, 3)
    assert seen(TT) == ({Tlp.CLEAR, Tlp.GREEN}, 2)
    with any_node.unit(TT) as ctx:
        hits = search.search_page(ctx, ObjectQuery(text="192.0.2."))
    assert {by_level[f.id] for f in hits.items} == {Tlp.CLEAR, Tlp.GREEN} and hits.total == 2


def test_filters_by_type_marking_state_date_and_creator(any_node: Node, clock: FrozenClock) -> None:
    cid = new_collection(any_node)
    identity = {
        "type": "identity",
        "spec_version": "2.1",
        "id": "identity--5b1e7a25-6d2a-4a3c-9d38-6f1e4b5c0d11",
        "created": "2026-11-01T10:00:00Z",
        "modified": "2026-11-01T10:00:00Z",
        "name": "JM CIRT",
    }
    add(any_node, JM, cid, [identity, indicator(1, Tlp.AMBER)])
    day_one = clock.now()
    clock.advance(days=2)
    add(
        any_node,
        JM,
        cid,
        [
            indicator(2, revoked=True),
            indicator(3, valid_until="2026-11-20T00:00:00Z"),
            indicator(4, valid_from="2027-01-01T00:00:00Z", created_by_ref=identity["id"]),
        ],
    )

    def ids(**values: str) -> list[str]:
        page = _page(any_node, JM, cid, **values)
        assert page.total == len(page.items) or "limit" in values
        return [f.id for f in page.items]

    def ind(*numbers: int) -> list[str]:
        return [indicator(n)["id"] for n in numbers]

    assert ids(type="identity") == [identity["id"]]
    assert ids(tlp="amber") == ind(1)
    assert ids(state="revoked") == ind(2)
    assert ids(state="expired") == ind(3)
    assert ids(state="pending") == ind(4)
    assert ids(state="active", type="indicator") == ind(1)
    assert ids(creator=identity["id"]) == ind(4)
    assert set(ids(creator="jm-analyst")) == {identity["id"], *ind(1, 2, 3, 4)}
    later = day_one.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(added_to=later) == []
    assert ids(added_to=(day_one - timedelta(days=1)).date().isoformat()) == []
    assert set(ids(added_from=day_one.date().isoformat(), added_to="2026-11-24")) == {
        identity["id"],
        *ind(1),
    }
    assert ids(type="indicator", sort="type", limit="2") == ind(1, 2)
    assert ids(type="indicator", sort="oldest")[0] == ind(1)[0]


@pytest.mark.parametrize(
    "values",
    [
        {"sort": "sideways"},
        {"state": "dormant"},
        {"tlp": "purple"},
        {"added_from": "yesterday"},
        {"limit": "-3"},
    ],
)
def test_a_bad_filter_is_refused_with_the_choices(node: Node, values: dict[str, str]) -> None:
    with pytest.raises(InvalidInput):
        ObjectQuery.parse(**values)


def test_a_cursor_from_another_order_or_tampered_is_refused(node: Node) -> None:
    cid = new_collection(node)
    add(node, JM, cid, [indicator(n) for n in range(1, 4)])
    cursor = _page(node, JM, cid, limit="1").next
    assert cursor is not None
    second = _page(node, JM, cid, limit="1", cursor=cursor)
    assert second.prev is not None and second.next is not None
    back = _page(node, JM, cid, limit="1", cursor=second.prev)
    assert [f.id for f in back.items] == [indicator(3)["id"]] and back.prev is None
    with pytest.raises(BadPageCursor):
        _page(node, JM, cid, limit="1", cursor=cursor, sort="oldest")
    with pytest.raises(BadPageCursor):
        _page(node, JM, cid, cursor=cursor[:-3] + "xyz")


def test_dates_are_taken_as_utc_days(node: Node) -> None:
    query = ObjectQuery.parse(added_from="2026-11-01", added_to="2026-11-02T12:00:00Z")
    assert query.added_from == datetime.fromisoformat("2026-11-01T00:00:00+00:00")
    assert query.added_to == datetime.fromisoformat("2026-11-02T12:00:00+00:00")
    # A day given as "until" is included: the list runs to the next day's start.
    whole_day = ObjectQuery.parse(added_to="2026-11-02")
    assert whole_day.added_to == datetime.fromisoformat("2026-11-03T00:00:00+00:00")


def test_the_last_day_of_the_calendar_is_invalid_input_as_an_end_date() -> None:
    # The day after 9999-12-31 does not exist: one typed line, not a server error.
    with pytest.raises(InvalidInput, match="is not a date"):
        ObjectQuery.parse(added_to="9999-12-31")
