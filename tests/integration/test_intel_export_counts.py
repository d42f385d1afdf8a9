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


def _sensors(node: Node, patterns: dict[int, str]) -> None:
    """A collection "sensors" holding indicator ``n`` of each pattern, in force until UNTIL."""
    with node.unit(node.operator()) as ctx:
        create_collection(ctx, "sensors", "Sensors", None, "green")
        writing.add_objects(
            ctx,
            get_collection(ctx, "sensors"),
            [indicator(n, valid_until=UNTIL, pattern=p) for n, p in patterns.items()],
        )


def test_an_rpz_counts_only_the_indicators_its_zone_holds(node: Node) -> None:
    assert 240 < len(LONG) <= 253
    _sensors(node, {1: "[ipv4-addr:value = '91.219.236.18']", 2: f"[domain-name:value = '{LONG}']"})
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


ENDPOINT = "[network-traffic:dst_ref.value = '45.77.1.9' AND network-traffic:dst_port = 443]"


def test_an_indicator_counts_as_exported_only_where_its_format_holds_one_of_its_values(
    node: Node,
) -> None:
    patterns = {
        1: ENDPOINT,  # Suricata only: Zeek and an RPZ have no port
        2: "[email-addr:value = 'boss@evil.example']",  # Zeek only
        3: "[domain-name:value = 'straße.de']",  # all three, as xn--strae-oqa.de
        4: "[domain-name:value = '*.evil.example']",  # no DNS name: none
        5: "[domain-name:value = '\u2603.example']",  # IDNA 2008 refuses it: none
    }
    _sensors(node, patterns)
    with node.unit(node.operator()) as ctx:
        sensors = [get_collection(ctx, "sensors")]
        made = {
            fmt: export_sensor(ctx, fmt, sensors, "-") for fmt in ("suricata", "zeek-intel", "rpz")
        }
        fed = feed_file(ctx, "suricata-rules", "sensors")
        records = audit.search(ctx.db, audit.AuditFilter(action="intel", limit=10))
    assert {fmt: (m.indicators, m.left_out) for fmt, m in made.items()} == {
        "suricata": (2, 3),
        "zeek-intel": (2, 3),
        "rpz": (1, 4),
    }
    rules = made["suricata"].files["seawall.rules"]
    assert "alert tcp 45.77.1.9 443 <> any any " in rules and rules == fed.text
    assert "alert udp 45.77.1.9 443 <> any any " in rules
    assert 'content:".xn--strae-oqa.de"' in rules and "evil.example" not in rules
    zeek = made["zeek-intel"].files["seawall.intel"]
    assert [line.split("\t")[:2] for line in zeek.splitlines()[1:]] == [
        ["boss@evil.example", "Intel::EMAIL"],
        ["xn--strae-oqa.de", "Intel::DOMAIN"],
    ]
    zone = made["rpz"].files["seawall.rpz"]
    assert "45.77.1.9" not in zeek and "9.1.77.45" not in zone
    assert zone.splitlines()[4:] == ["*.xn--strae-oqa.de CNAME .", "xn--strae-oqa.de CNAME ."]
    counts = {
        (e.action, e.target): (e.detail["count"], e.detail["left_out"])
        for e in records
        if e.action in ("intel.exported", "intel.feed.fetched")
    }
    assert counts[("intel.exported", "suricata")] == (2, 3)
    assert counts[("intel.feed.fetched", "suricata-rules")] == (2, 3)
    assert counts[("intel.exported", "zeek-intel")] == (2, 3)
