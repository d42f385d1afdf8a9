"""An object's neighbourhood names every relationship end, however many ids its referrers hold."""

from __future__ import annotations

from sqlalchemy import event

from seawall.core.access import Principal, Role
from seawall.core.node import Node
from seawall.intel.collections import create_collection, get_collection
from seawall.intel.neighbourhood import neighbourhood
from seawall.intel.search import history
from seawall.intel.store import writing
from tests import stix
from tests.stix import STAMP, sid

JM = Principal("jm-analyst", "JM", Role.ANALYST, user_id="jm-analyst", org_id=None)
INDICATOR = sid("indicator", 1)
MALWARE = "malware--ffffffff-ffff-4fff-bfff-ffffffffffff"  # sorts after every other id
C2 = stix.indicator(1, "[ipv4-addr:value = '198.51.100.7']", name="C2 address")
BADRAT = stix.stix("malware", 0, id=MALWARE, name="BadRAT", is_family=True)


def test_a_report_of_many_objects_leaves_every_relationship_end_named(node: Node) -> None:
    # A MISP event becomes one report referring to every attribute: hundreds of ids.
    many = [sid("indicator", n) for n in range(2, 700)]
    bundle = [
        C2,
        BADRAT,
        stix.relationship(1, INDICATOR, "indicates", MALWARE),
        stix.stix("report", 1, name="Big event", published=STAMP, object_refs=[INDICATOR, *many]),
    ]
    with node.unit(node.operator()) as ctx:
        create_collection(ctx, "shared", "Shared", None, "green")
    with node.unit(JM) as ctx:
        collection = get_collection(ctx, "shared")
        assert len(writing.add_objects(ctx, collection, bundle).added) == 4
        around = neighbourhood(ctx, "shared", history(ctx, collection, INDICATOR)[0])
    assert [(link.kind, link.target.name) for link in around.relationships] == [
        ("indicates", "BadRAT")
    ]
    assert [report.name for report in around.reports] == ["Big event"]


def test_the_outer_ring_holds_each_related_objects_own_relationships_once(node: Node) -> None:
    # indicator -> BadRAT and indicator -> Lure campaign; BadRAT and the campaign both
    # relate to Crew (named once, under the first), and BadRAT to a tool; a relationship
    # back to the indicator or between the two neighbours adds nothing.
    campaign, crew, tool = sid("campaign", 3), sid("intrusion-set", 4), sid("tool", 5)
    bundle = [
        C2,
        BADRAT,
        stix.stix("campaign", 3, name="Lure campaign"),
        stix.stix("intrusion-set", 4, name="Crew"),
        stix.stix("tool", 5, name="Loader"),
        stix.relationship(1, INDICATOR, "indicates", MALWARE),
        stix.relationship(2, INDICATOR, "indicates", campaign),
        stix.relationship(3, crew, "uses", MALWARE),
        stix.relationship(4, campaign, "attributed-to", crew),
        stix.relationship(5, MALWARE, "drops", tool),
        stix.relationship(6, campaign, "uses", MALWARE),
        stix.relationship(7, MALWARE, "related-to", INDICATOR),
    ]
    with node.unit(node.operator()) as ctx:
        create_collection(ctx, "shared", "Shared", None, "green")
    with node.unit(JM) as ctx:
        collection = get_collection(ctx, "shared")
        assert len(writing.add_objects(ctx, collection, bundle).added) == len(bundle)
        newest = history(ctx, collection, INDICATOR)[0]
        scans: list[str] = []

        def seen(_conn: object, _cursor: object, sql: str, *_: object) -> None:
            if " LIKE " in sql:
                scans.append(sql)

        engine = ctx.db.get_bind()
        event.listen(engine, "before_cursor_execute", seen)
        try:
            around = neighbourhood(ctx, "shared", newest)
        finally:
            event.remove(engine, "before_cursor_execute", seen)
    # Three scans of the bodies: the relationships and sightings naming the object, the
    # reports and notes mentioning it, then every neighbour's relationships at once.
    assert len(scans) == 3
    second = {(parent, kind, ref.name, ref.collection) for parent, kind, ref in around.second}
    assert len(around.second) == 2 and (MALWARE, "drops", "Loader", "shared") in second
    # Crew hangs from whichever neighbour the ring reached it through first.
    assert second & {
        (MALWARE, "uses", "Crew", "shared"),
        (campaign, "attributed-to", "Crew", "shared"),
    }
