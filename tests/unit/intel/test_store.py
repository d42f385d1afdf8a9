"""The STIX store on SQLite and PostgreSQL: versions, duplicates, filters, paging and TLP."""

from __future__ import annotations

import itertools
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from seawall.core.access import Principal, Role
from seawall.core.clock import FrozenClock
from seawall.core.node import Node
from seawall.db.models import AuditEntry, Organisation
from seawall.db.models.intel import IntelCollection, IntelObject
from seawall.errors import Forbidden, InvalidInput
from seawall.intel import validation
from seawall.intel.collections import (
    Audience,
    Reader,
    create_collection,
    get_collection,
    list_collections,
)
from seawall.intel.errors import BadCursor, CollectionNotFound, ObjectNotFound
from seawall.intel.policy import Recipient
from seawall.intel.store import reading, visibility, writing
from seawall.intel.store.reading import Filters
from seawall.intel.tlp import Tlp, marking_definition, marking_id

STAMP = "2026-11-01T10:00:00.000Z"


def person(name: str, nation: str, org: str | None = None, role: Role = Role.ANALYST) -> Principal:
    return Principal(name, nation, role, user_id=name, org_id=org)


JM = person("jm-analyst", "JM", "org-jm-cirt")
JM_BANK = person("jm-bank", "JM", "org-jm-bank", Role.VIEWER)
TT = person("tt-viewer", "TT", None, Role.VIEWER)


def indicator(
    n: int, tlp: Tlp | None = None, modified: str = STAMP, **extra: Any
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.UUID(int=n, version=4)}",
        "created": STAMP,
        "modified": modified,
        "pattern": f"[ipv4-addr:value = '192.0.2.{n % 250}']",
        "pattern_type": "stix",
        "valid_from": STAMP,
        **extra,
    }
    if tlp is not None:
        obj["object_marking_refs"] = [marking_id(tlp)]
    return obj


def new_collection(node: Node, audience: Audience | None = None, tlp: str = "green") -> str:
    with node.unit(node.operator()) as ctx:
        return create_collection(ctx, "shared", "Shared", audience, tlp).id


def add(node: Node, who: Principal, cid: str, objects: list[Any]) -> writing.AddResult:
    with node.unit(who) as ctx:
        return writing.add_objects(ctx, get_collection(ctx, cid), objects)


def read(node: Node, who: Principal, cid: str, **filters: Any) -> reading.Page:
    with node.unit(who) as ctx:
        return reading.query_objects(ctx, get_collection(ctx, cid), Filters.parse(**filters))


def ids(page: reading.Page) -> list[str]:
    return [o.id for o in page.objects]


def test_versions_are_kept_and_duplicates_reported(any_node: Node) -> None:
    cid = new_collection(any_node)
    first = add(any_node, JM, cid, [indicator(1), indicator(1, modified="2026-11-02T00:00:00Z")])
    assert len(first.added) == 2
    again = add(any_node, JM, cid, [indicator(1), indicator(1)])
    assert again.added == [] and len(again.duplicates) == 2
    assert "not added again" in again.duplicates[0].message
    with any_node.unit(JM) as ctx:
        rows = ctx.db.scalar(select(func.count()).select_from(IntelObject))
        audits = ctx.db.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "intel.objects.added")
        )
        versions = reading.get_versions(
            ctx, get_collection(ctx, cid), indicator(1)["id"], Filters.parse(versions="all")
        )
    assert rows == 2 and audits == 2
    assert [v.version.day for v in versions.objects] == [1, 2]
    assert [json.loads(o.body)["modified"] for o in read(any_node, JM, cid).objects] == [
        "2026-11-02T00:00:00Z"
    ]


def test_bodies_are_stored_exactly_with_unicode_and_wide_integers(any_node: Node) -> None:
    cid = new_collection(any_node)
    body = indicator(7, name="Kingston \u2013 Ñandú ☂", x_seawall_count=10**30)
    assert len(add(any_node, JM, cid, [body]).added) == 1
    (stored,) = read(any_node, JM, cid).objects
    assert json.loads(stored.body) == body


def test_paging_visits_every_object_once_in_date_added_order(
    any_node: Node, clock: FrozenClock
) -> None:
    cid = new_collection(any_node)
    for batch in range(3):
        add(any_node, JM, cid, [indicator(batch * 10 + n) for n in range(7)])
        clock.advance(seconds=1)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = read(any_node, JM, cid, limit="5", next=cursor)
        seen += ids(page)
        pages += 1
        if not page.more:
            break
        cursor = page.next
    assert pages == 5
    assert seen == [indicator(b * 10 + n)["id"] for b in range(3) for n in range(7)]


def test_a_clock_stepped_back_never_hides_a_row_from_an_added_after_poller(
    any_node: Node, clock: FrozenClock
) -> None:
    cid = new_collection(any_node)
    add(any_node, JM, cid, [indicator(1)])
    seen = read(any_node, JM, cid)
    polled = validation.format_timestamp(seen.date_added_last) if seen.date_added_last else None
    clock.advance(hours=-1)  # an NTP correction steps the clock back
    add(any_node, JM, cid, [indicator(2)])
    later = read(any_node, JM, cid, added_after=polled)
    assert ids(later) == [indicator(2)["id"]]


def test_filters_narrow_and_default_to_the_last_version(any_node: Node, clock: FrozenClock) -> None:
    cid = new_collection(any_node)
    ip = {"type": "ipv4-addr", "id": f"ipv4-addr--{uuid.uuid4()}", "value": "203.0.113.7"}
    add(any_node, JM, cid, [indicator(1), ip])
    clock.advance(minutes=1)
    add(any_node, JM, cid, [indicator(1, modified="2026-11-03T00:00:00Z"), indicator(2)])
    assert len(read(any_node, JM, cid).objects) == 3
    assert len(read(any_node, JM, cid, versions="all").objects) == 4
    assert len(read(any_node, JM, cid, versions="first,last").objects) == 4
    assert ids(read(any_node, JM, cid, types="ipv4-addr")) == [ip["id"]]
    assert ids(read(any_node, JM, cid, ids=f"{ip['id']},{indicator(2)['id']}")) == [
        ip["id"],
        indicator(2)["id"],
    ]
    after = read(any_node, JM, cid, added_after="2026-11-23T09:00:30Z")
    assert ids(after) == [indicator(1)["id"], indicator(2)["id"]]
    exact = read(any_node, JM, cid, versions="2026-11-01T10:00:00Z")
    assert ids(exact) == [indicator(1)["id"], indicator(2)["id"]]
    assert read(any_node, JM, cid, spec_versions="2.0").objects == []


def test_unknown_markings_are_refused_unless_defined(any_node: Node) -> None:
    cid = new_collection(any_node)
    statement = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": f"marking-definition--{uuid.uuid4()}",
        "created": STAMP,
        "definition_type": "statement",
        "definition": {"statement": "Copyright CIRT-JM"},
    }
    stranger = indicator(1, object_marking_refs=[f"marking-definition--{uuid.uuid4()}"])
    first = add(any_node, JM, cid, [stranger, indicator(2, object_marking_refs=[statement["id"]])])
    assert [r.id for r in first.rejected] == [stranger["id"], indicator(2)["id"]]
    assert "unknown marking" in first.rejected[0].message
    add(any_node, JM, cid, [statement])
    later = add(any_node, JM, cid, [indicator(2, object_marking_refs=[statement["id"]])])
    assert len(later.added) == 1
    custom_red = {
        **marking_definition(Tlp.RED),
        "id": f"marking-definition--{uuid.uuid4()}",
        "extensions": marking_definition(Tlp.RED)["extensions"],
    }
    marked = indicator(3, object_marking_refs=[custom_red["id"]])
    add(any_node, JM, cid, [custom_red, marked])
    assert indicator(3)["id"] not in ids(read(any_node, JM_BANK, cid))


def test_tlp_is_enforced_for_every_reader(any_node: Node) -> None:
    cid = new_collection(any_node)
    objects = [indicator(n, tlp) for n, tlp in enumerate(Tlp, start=1)]
    add(any_node, JM, cid, objects)
    by_level = {obj["id"]: tlp for obj, tlp in zip(objects, Tlp, strict=True)}

    def levels(who: Principal) -> set[Tlp]:
        return {by_level[i] for i in ids(read(any_node, who, cid))}

    assert levels(JM) == set(Tlp)  # the submitter is named for their own objects
    assert levels(JM_BANK) == {Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER}
    assert levels(TT) == {Tlp.CLEAR, Tlp.GREEN}
    with any_node.unit(TT) as ctx:
        collection = get_collection(ctx, cid)
        with pytest.raises(ObjectNotFound):
            reading.get_object(ctx, collection, objects[2]["id"], Filters.parse())


def test_last_version_is_the_last_one_the_reader_may_see(any_node: Node) -> None:
    cid = new_collection(any_node)
    green = indicator(1, Tlp.GREEN)
    amber = indicator(1, Tlp.AMBER, modified="2026-11-05T00:00:00Z")
    add(any_node, JM, cid, [green, amber])
    [seen] = read(any_node, TT, cid).objects
    assert seen.as_dict() == green
    [own] = read(any_node, JM, cid).objects
    assert own.as_dict() == amber


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 0, 1), (1, 2, 0)])
def test_the_latest_version_wins_whatever_order_versions_arrive_in(
    any_node: Node, order: tuple[int, int, int]
) -> None:
    cid = new_collection(any_node)
    stamps = ["2026-11-02T00:00:00Z", "2026-11-03T00:00:00Z", "2026-11-04T00:00:00Z"]
    versions = [indicator(1, modified=stamps[i]) for i in order]
    add(any_node, JM, cid, versions[:2])  # two in one envelope
    add(any_node, JM, cid, versions[2:])
    [latest] = read(any_node, JM, cid).objects
    assert latest.as_dict()["modified"] == stamps[2]
    # Deleting the newest makes the one before it the latest again.
    with any_node.unit(JM) as ctx:
        writing.delete_object(
            ctx, get_collection(ctx, cid), indicator(1)["id"], Filters(versions=("last",))
        )
    [latest] = read(any_node, JM, cid).objects
    assert latest.as_dict()["modified"] == stamps[1]
    assert len(read(any_node, JM, cid, versions="all").objects) == 2


def test_audience_hides_collections_and_names_red_recipients(any_node: Node) -> None:
    with any_node.unit(any_node.operator()) as ctx:
        ctx.db.add(Organisation(id="org-jm-bank", nation="JM", name="JM Bank", kind="ministry",
                                created_at=ctx.now()))  # fmt: skip
    cid = new_collection(any_node, Audience.of(nations=["JM"], organisations=["org-jm-bank"]))
    add(any_node, JM, cid, [indicator(1, Tlp.RED)])
    assert ids(read(any_node, JM_BANK, cid)) == [indicator(1)["id"]]
    with any_node.unit(TT) as ctx:
        assert list_collections(ctx) == []
        with pytest.raises(CollectionNotFound):
            get_collection(ctx, cid)


def test_readers_cannot_write_and_cursors_are_checked(any_node: Node) -> None:
    cid = new_collection(any_node)
    with pytest.raises(Forbidden):
        add(any_node, TT, cid, [indicator(1)])
    with pytest.raises(BadCursor):
        read(any_node, JM, cid, next="bm90LWEtY3Vyc29y")
    when = datetime(2026, 1, 1, 12, 30, 0, 123456, tzinfo=UTC)
    assert reading.decode_cursor(reading.encode_cursor(when, 7)) == (when, 7)


def test_delete_takes_only_the_callers_nations_objects(any_node: Node) -> None:
    cid = new_collection(any_node)
    add(any_node, JM, cid, [indicator(1), indicator(1, modified="2026-11-02T00:00:00Z")])
    tt_writer = person("tt-analyst", "TT", None)
    with any_node.unit(tt_writer) as ctx, pytest.raises(ObjectNotFound):
        writing.delete_object(
            ctx, get_collection(ctx, cid), indicator(1)["id"], Filters(versions=("all",))
        )
    with any_node.unit(JM) as ctx:
        removed = writing.delete_object(
            ctx, get_collection(ctx, cid), indicator(1)["id"], Filters(versions=("first",))
        )
    assert removed == 1
    assert len(read(any_node, JM, cid, versions="all").objects) == 1


def test_sql_filter_agrees_with_the_policy_in_every_case(any_node: Node) -> None:
    """The SQL visibility filter is the policy: checked over every row and reader shape."""
    cid = new_collection(any_node)
    with any_node.unit(any_node.operator()) as ctx:
        collection = ctx.db.get(IntelCollection, cid)
        assert collection is not None
        submitters = ("alice", "bob", "partner:tt-node")
        shapes = itertools.product(Tlp, ("JM", "TT"), (None, "org-a", "org-b"), submitters)
        for n, (tlp, nation, org, submitter) in enumerate(shapes):
            obj = indicator(n, tlp)
            ctx.db.add(
                IntelObject(
                    collection_id=cid,
                    stix_id=obj["id"],
                    type="indicator",
                    spec_version="2.1",
                    created=None,
                    modified=None,
                    version=ctx.now(),
                    date_added=ctx.now(),
                    created_by_ref=None,
                    markings=[],
                    tlp=int(tlp),
                    owner_nation=nation,
                    owner_org=org,
                    submitted_by=submitter,
                    body=json.dumps(obj),
                )
            )
        ctx.db.flush()
        rows = list(ctx.db.scalars(select(IntelObject)))
        readers = itertools.product(
            ("JM", "TT"),
            (None, "org-a", "org-b"),
            ("alice", "carol"),
            (False, True),
            (False, True),
            (False, True),
        )
        # A partner node reads its host's own rows only, within its cap.
        limits = ((None, None), ("JM", Tlp.GREEN), ("JM", Tlp.AMBER), ("TT", Tlp.RED))
        checked = 0
        for (nation, org, username, named, partner, community), (origin, cap) in itertools.product(
            readers, limits
        ):
            reader = Reader(
                username=username,
                recipient=Recipient(nation, org, is_partner_node=partner, in_community=community),
                named_by_collection=named,
                origin=origin,
                cap=cap,
            )
            by_sql = set(
                ctx.db.scalars(
                    select(IntelObject.seq).where(
                        IntelObject.collection_id == collection.id, visibility.visible(reader)
                    )
                )
            )
            by_policy = {row.seq for row in rows if visibility.allows(reader, row)}
            assert by_sql == by_policy, (nation, org, username, named, partner, origin, cap)
            checked += 1
    assert checked == 96 * 4 and len(rows) == 90


def test_an_audience_names_only_groups_and_organisations_that_exist(any_node: Node) -> None:
    for audience, complaint in (
        (Audience.of(groups=["MARTIANS"]), "'MARTIANS' is not a region group: use one of"),
        (Audience.of(organisations=["no-such-org"]), "org:no-such-org is not an organisation"),
    ):
        with pytest.raises(InvalidInput, match=complaint):
            new_collection(any_node, audience)
    with any_node.unit(any_node.operator()) as ctx:
        assert list_collections(ctx) == []
    assert new_collection(any_node, Audience.of(groups=["CARICOM"], partners=["bb-node"]))
