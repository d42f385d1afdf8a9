"""A node's collection "feeds", which every user of the node reads, stocked for log matching."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from seawall.core.access import Principal, Role
from seawall.core.node import Node
from seawall.intel.collections import Audience, create_collection
from seawall.intel.store import writing

JM = Principal("jm-analyst", "JM", Role.ANALYST, user_id="jm-analyst", org_id="org-jm-cirt")


def stock_feeds(node: Node, objects: Iterable[Mapping[str, Any]], who: Principal = JM) -> str:
    """A new TLP:GREEN collection "feeds" for any audience, holding ``objects``; its id."""
    with node.unit(who) as ctx:
        collection = create_collection(ctx, "feeds", "Feeds", Audience(), "green")
        added = writing.add_objects(ctx, collection, list(objects))
        assert added.rejected == [], added.rejected
        return collection.id
