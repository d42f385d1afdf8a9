"""A sensor feed's ETag moves with what its caller may read, and with nothing else."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import event

from seawall.core import audit
from seawall.core.access import Perm, Principal, Role
from seawall.core.clock import FrozenClock
from seawall.core.node import Node
from seawall.core.organisations import add_org
from seawall.errors import Forbidden
from seawall.intel import ingest
from seawall.intel.collections import Audience, create_collection
from seawall.intel.exports import feeds
from seawall.intel.ingest import Format, Parsed
from seawall.intel.tlp import Tlp
from tests import stix

STAMP = "2026-11-22T09:00:00.000Z"  # a day before the test clock: nothing has decayed


def ind(n: int, domain: str, tlp: Tlp) -> dict[str, Any]:
    return stix.indicator(n, stix.domain(domain), tlp, stamp=STAMP, name=domain)


def test_the_etag_moves_with_what_the_reader_may_read_and_nothing_else(node: Node) -> None:
    with node.unit(node.operator()) as ctx:
        cirt = add_org(ctx, "JaCIRT", "cirt").id
        ministry = add_org(ctx, "Ministry", "ministry").id
        # Named by the audience, the CIRT's users may read even RED objects of the collection.
        held = create_collection(ctx, "cirt-only", audience=Audience.of(organisations=[cirt]))
        ingest.import_objects(ctx, held, Parsed(Format.STIX, [ind(1, "phish-kit.net", Tlp.GREEN)]))
    sensor = Principal(
        "sensor-1",
        "JM",
        Role.VIEWER,
        user_id="u-s",
        org_id=cirt,
        scopes=frozenset({Perm.INTEL_FEED}),
    )

    def fetch(who: Principal, known: set[str]) -> feeds.FeedFile:
        with node.unit(who) as ctx:
            return feeds.feed_file(ctx, "rpz", known=known)

    first = fetch(sensor, set())
    assert first.changed
    assert [r for r in first.text.splitlines() if "CNAME ." in r] == [
        "*.phish-kit.net CNAME .",
        "phish-kit.net CNAME .",
    ]
    # A RED indicator the user may read, above the sensor ceiling: the feed and its ETag
    # stay as they were, so polling tells nothing of it.
    with node.unit(node.operator()) as ctx:
        ingest.import_objects(ctx, held, Parsed(Format.STIX, [ind(2, "eyes-only.net", Tlp.RED)]))
    same = fetch(sensor, {first.etag})
    assert (same.changed, same.etag, same.text) == (False, first.etag, "")
    with node.unit(sensor) as ctx:
        asked = feeds.feed_file(ctx, "rpz", max_tlp=Tlp.RED)
    assert "eyes-only.net CNAME ." in asked.text.splitlines()  # asked for by name, it goes in
    # A GREEN one moves it.
    with node.unit(node.operator()) as ctx:
        ingest.import_objects(ctx, held, Parsed(Format.STIX, [ind(3, "new-gate.net", Tlp.GREEN)]))
    second = fetch(sensor, {first.etag})
    assert second.changed and second.etag != first.etag
    assert "new-gate.net CNAME ." in second.text.splitlines()
    # The user moves to an organisation the audience does not name: the ETag moves, and
    # the feed holds nothing of the collection any more.
    moved = fetch(replace(sensor, org_id=ministry), {second.etag})
    assert moved.changed and moved.etag not in (first.etag, second.etag)
    assert [r for r in moved.text.splitlines() if "CNAME ." in r] == []
    # A token without the feed scope fetches nothing, not even an unchanged answer.
    with pytest.raises(Forbidden):
        fetch(replace(sensor, scopes=frozenset({Perm.INTEL_READ})), {second.etag})


def test_an_unchanged_feed_is_known_without_reading_a_body_until_time_changes_it(
    node: Node, clock: FrozenClock
) -> None:
    soon = "2026-11-25T09:00:00.000Z"  # two days after the test clock
    with node.unit(node.operator()) as ctx:
        held = create_collection(ctx, "feed")
        pending = stix.indicator(2, stix.domain("late-gate.net"), stamp=STAMP, valid_from=soon)
        ingest.import_objects(
            ctx, held, Parsed(Format.STIX, [ind(1, "phish-kit.net", Tlp.GREEN), pending])
        )
    bodies: list[str] = []

    def reads(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "intel_objects.body" in statement:
            bodies.append(statement)

    def fetch(known: set[str]) -> feeds.FeedFile:
        with node.unit(node.operator()) as ctx:
            return feeds.feed_file(ctx, "zeek-intel", known=known)

    first = fetch(set())
    event.listen(node.engine, "before_cursor_execute", reads)
    try:
        same = fetch({first.etag})
        assert (same.changed, same.etag, bodies) == (False, first.etag, [])
        again = fetch({"another"})  # a sensor that holds an older file gets this one
        assert again.changed and again.text == first.text and bodies
    finally:
        event.remove(node.engine, "before_cursor_execute", reads)
    # Nothing is written, yet the feed moves: one indicator comes into force, later the
    # other decays (a domain name, unsighted: 126 days).
    clock.advance(days=2)
    later = fetch({first.etag})
    assert later.changed and "late-gate.net\tIntel::DOMAIN" in later.text
    clock.advance(days=125)
    gone = fetch({later.etag})
    assert gone.changed and "phish-kit.net" not in gone.text and "late-gate.net" in gone.text
    with node.unit(node.operator()) as ctx:
        fetched = audit.search(ctx.db, audit.AuditFilter(action="intel.feed.fetched", limit=10))
    assert [(e.detail["count"], e.detail["changed"]) for e in reversed(fetched)] == [
        (1, True),
        (1, False),
        (1, True),
        (2, True),
        (1, True),
    ]
