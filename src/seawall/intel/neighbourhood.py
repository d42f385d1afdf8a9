"""An object's neighbourhood: what refers to it, what it refers to, and what shares a value.

Everything here is read through the store's policy (:func:`seawall.intel.search.holding`
and :func:`seawall.intel.correlation.correlated`), so a reader is shown only the objects
they may see. A reference to an object the reader may not see keeps its type and nothing
else: no name, no collection, no link.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.core.paging import Page, PageRequest, Sort, page_of
from seawall.db.models.intel import IntelObject
from seawall.intel.collections import can_read, list_collections, reader_of
from seawall.intel.correlation import Correlation, correlated
from seawall.intel.search import Version, holding, holding_any, summary_of
from seawall.intel.store.visibility import allows, visible

_NAMED_LIMIT = 500
# How many related objects the graph's outer ring looks behind.
SECOND_HOP_PARENTS = 6


@dataclass(frozen=True)
class Ref:
    """One object as the reader may know it: its name and type, and where it is if seen."""

    id: str
    type: str
    name: str
    collection: str | None = None

    @property
    def href(self) -> str | None:
        """Its page, or None when the reader may not see it."""
        if self.collection is None:
            return None
        return f"/intel/collections/{self.collection}/objects/{self.id}"


@dataclass(frozen=True)
class Link:
    """A relationship with both ends named."""

    relationship: Ref
    kind: str
    source: Ref
    target: Ref


@dataclass
class Neighbourhood:
    """Everything a page shows around one object."""

    center: Ref
    relationships: list[Link] = field(default_factory=list)
    reports: list[Ref] = field(default_factory=list)
    cases: list[Ref] = field(default_factory=list)
    sightings: list[tuple[str, Version]] = field(default_factory=list)
    correlation: Correlation = field(default_factory=lambda: Correlation((), [], False))
    # Two steps away through relationships: (the neighbour it hangs from, kind, object).
    second: list[tuple[str, str, Ref]] = field(default_factory=list)

    def neighbours(self) -> list[tuple[str, Ref]]:
        """Every other object one step away, once, with the edge's label."""
        seen: dict[str, tuple[str, Ref]] = {}
        for link in self.relationships:
            other = link.target if link.source.id == self.center.id else link.source
            seen.setdefault(other.id, (link.kind, other))
        for report in self.reports:
            seen.setdefault(report.id, ("refers to", report))
        for case in self.cases:
            seen.setdefault(case.id, ("case", case))
        for alias, sighting in self.sightings:
            ref = Ref(sighting.id, sighting.type, _name(sighting.body), alias)
            seen.setdefault(sighting.id, ("sighting of", ref))
        for hit in self.correlation.objects:
            ref = Ref(hit.id, hit.type, hit.name, hit.collection)
            seen.setdefault(hit.id, ("shares a value", ref))
        seen.pop(self.center.id, None)
        return list(seen.values())


def _name(body: dict[str, Any]) -> str:
    if body.get("type") == "sighting":
        return f"sighting ({body['count']})" if "count" in body else "sighting"
    return summary_of(body)


def named(ctx: Ctx, ids: Iterable[str]) -> dict[str, Ref]:
    """The newest visible version of each id, as a Ref; unseen ids get their type only."""
    wanted = sorted(set(ids))
    found: dict[str, tuple[Any, Ref]] = {}
    for collection in list_collections(ctx):
        if not wanted or not can_read(ctx, collection):
            continue
        reader = reader_of(ctx, collection)
        # Every id asked for gets a Ref (callers index by it), a bounded IN list at a time.
        rows = (
            row
            for start in range(0, len(wanted), _NAMED_LIMIT)
            for row in ctx.db.scalars(
                select(IntelObject).where(
                    IntelObject.collection_id == collection.id,
                    IntelObject.stix_id.in_(wanted[start : start + _NAMED_LIMIT]),
                    visible(reader),
                )
            )
        )
        for row in rows:
            if not allows(reader, row):
                continue
            held = found.get(row.stix_id)
            if held is None or row.version > held[0]:
                body = json.loads(row.body)
                ref = Ref(row.stix_id, row.type, _name(body), collection.alias)
                found[row.stix_id] = (row.version, ref)
    refs = {i: ref for i, (_, ref) in found.items()}
    for i in wanted:
        refs.setdefault(i, Ref(i, i.partition("--")[0], ""))
    return refs


def neighbourhood(ctx: Ctx, alias: str, obj: Version) -> Neighbourhood:
    """The objects around ``obj`` (the newest version the caller sees, in ``alias``)."""
    require(ctx.who, Perm.INTEL_READ)
    center = Ref(obj.id, obj.type, _name(obj.body), alias)
    around = Neighbourhood(center)
    referrers = [(a, v) for a, v in _referrers(ctx, obj.id) if v.id != obj.id]
    ends = {
        str(v.body.get(end))
        for _, v in referrers
        if v.type == "relationship"
        for end in ("source_ref", "target_ref")
    }
    # Only notes' case refs are named: a report's object_refs (a MISP event's hundreds of
    # attributes) are not shown here.
    refs = [
        str(r)
        for _, v in referrers
        if v.type == "note"
        for r in v.body.get("object_refs") or []
        if str(r).startswith("incident--")
    ]
    names = named(ctx, (ends | set(refs)) - {obj.id})
    names[obj.id] = center
    cases: dict[str, Ref] = {}
    for where, version in referrers:
        body = version.body
        if version.type == "relationship" and obj.id in (
            body.get("source_ref"),
            body.get("target_ref"),
        ):
            source, target = names[str(body["source_ref"])], names[str(body["target_ref"])]
            rel = Ref(version.id, version.type, str(body.get("relationship_type", "")), where)
            around.relationships.append(
                Link(rel, str(body.get("relationship_type", "related-to")), source, target)
            )
            other = target if source.id == obj.id else source
            if other.type == "incident":
                cases[other.id] = other
        elif version.type == "report" and obj.id in (body.get("object_refs") or []):
            around.reports.append(Ref(version.id, version.type, _name(body), where))
        elif version.type == "sighting" and body.get("sighting_of_ref") == obj.id:
            around.sightings.append((where, version))
        elif version.type == "note" and obj.id in (body.get("object_refs") or []):
            for ref in body.get("object_refs") or []:
                if str(ref).startswith("incident--"):
                    cases[str(ref)] = names[str(ref)]
    around.cases = sorted(cases.values(), key=lambda r: r.name)
    around.correlation = correlated(ctx, obj)
    around.second = _second_hop(ctx, around)
    return around


def _naming(props: tuple[str, ...], ids: list[str]) -> list[str]:
    # Bodies are stored as compact JSON (store.writing), so a property naming an id reads
    # exactly so: an identity's page is not a read of everything it created.
    return [f'"{prop}":"{i}"' for i in ids for prop in props]


def _relationships_of(ctx: Ctx, ids: list[str]) -> list[tuple[str, Version]]:
    """The relationships from or to any of ``ids``, in one scan of the bodies."""
    return holding_any(ctx, _naming(("source_ref", "target_ref"), ids), ("relationship",))


def _referrers(ctx: Ctx, object_id: str) -> list[tuple[str, Version]]:
    """The relationships, sightings, reports and notes that may refer to the object, oldest
    first: relationships and sightings by the property that names it, reports and notes
    by any mention (their ``object_refs`` is a list)."""
    named = holding_any(
        ctx,
        _naming(("source_ref", "target_ref", "sighting_of_ref"), [object_id]),
        ("relationship", "sighting"),
    )
    listing = holding(ctx, object_id, ("report", "note"))
    return sorted(named + listing, key=lambda pair: pair[1].date_added)


# The sightings an object's page lists at once, newest first.
SIGHTINGS_PAGE = 50
NEWEST_SIGHTINGS = Sort("newest", (datetime, str, str), descending=True)


def sightings_page(around: Neighbourhood, request: PageRequest) -> Page[tuple[str, Version]]:
    """One page of the sightings of the object, newest first, and how many the reader sees."""
    ordered = sorted(around.sightings, key=_sighting_key, reverse=True)
    return page_of(ordered, _sighting_key, NEWEST_SIGHTINGS, request)


def _sighting_key(held: tuple[str, Version]) -> tuple[datetime, str, str]:
    alias, version = held
    return (version.date_added, alias, version.id)


def _second_hop(ctx: Ctx, around: Neighbourhood) -> list[tuple[str, str, Ref]]:
    """The relationships of the first few related objects the reader may see, to objects
    not already one step away."""
    near = {around.center.id, *(ref.id for _, ref in around.neighbours())}
    found: list[tuple[str, str, str]] = []
    parents = [
        ref
        for link in around.relationships
        for ref in (link.source, link.target)
        if ref.id != around.center.id and ref.collection is not None
    ][:SECOND_HOP_PARENTS]
    # One scan of the relationships for every parent, not one per parent.
    theirs = [v.body for _, v in _relationships_of(ctx, [p.id for p in parents])]
    for parent in parents:
        for body in theirs:
            ends = (str(body.get("source_ref")), str(body.get("target_ref")))
            if parent.id not in ends:
                continue
            other = ends[1] if ends[0] == parent.id else ends[0]
            if other not in near:
                near.add(other)
                found.append((parent.id, str(body.get("relationship_type", "related-to")), other))
    names = named(ctx, [other for _, _, other in found])
    return [(parent, kind, names[other]) for parent, kind, other in found]


__all__ = ["Link", "Neighbourhood", "Ref", "named", "neighbourhood"]
