"""The export and feed audit records count the indicators a sensor file actually holds."""

from __future__ import annotations

from seawall.core import audit
from seawall.core.node import Node
from seawall.intel.collections import create_collection, get_collection
from seawall.intel.exports.feeds import export_sensor, feed_file
from seawall.intel.store import writing
from tests.unit.intel.test_store import indicator

UNTIL = "2027-06-01T00:00:00.000Z"
# A DNS name (253 octets at most) too long to hold '*.' and the zone's origin after it.
LONG = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 50, "example"])


def test_an_rpz_counts_only_the_indicators_its_zone_holds(node: Node) -> None:
    assert 240 < len(LONG) <= 253
    with node.unit(node.operator()) as ctx:
        create_collection(ctx, "sensors", "Sensors", None, "green")
        writing.add_objects(
            ctx,
            get_collection(ctx, "sensors"),
            [
                indicator(1, valid_until=UNTIL, pattern="[ipv4-addr:value = '91.219.236.18']"),
                indicator(2, valid_until=UNTIL, pattern=f"[domain-name:value = '{LONG}']"),
            ],
        )
    with node.unit(node.operator()) as ctx:
        zone = export_sensor(ctx, "rpz", [get_collection(ctx, "sensors")], "-")
        fed = feed_file(ctx, "rpz", "sensors")
        zeek = export_sensor(ctx, "zeek-intel", [get_collection(ctx, "sensors")], "-")
        records = audit.search(ctx.db, audit.AuditFilter(action="intel", limit=10))
    assert LONG not in zone.files["seawall.rpz"] and "32.18.236.219.91.rpz-ip" in fed.text
    assert (zone.indicators, zone.left_out) == (1, 1)
    assert (zeek.indicators, zeek.left_out) == (2, 0)
    counts = {
        (e.action, e.target): (e.detail["count"], e.detail["left_out"])
        for e in records
        if e.action in ("intel.exported", "intel.feed.fetched")
    }
    assert counts[("intel.exported", "rpz")] == (1, 1)
    assert counts[("intel.feed.fetched", "rpz")] == (1, 1)
