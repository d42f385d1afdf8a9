"""A list page's query string: the filters, order and cursor, read and written back.

The pages pass what was asked for back to the form (:func:`object_values`) and keep the
non-empty values in the pager's links (:func:`kept`); the core parses and checks them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from starlette.requests import Request

from seawall.catalogs import N_
from seawall.core.context import Ctx
from seawall.intel import decay
from seawall.intel.neighbourhood import named
from seawall.intel.quality import Status
from seawall.intel.search import Found, Version, ends_of, kind_of
from seawall.intel.store.listing import ObjectQuery
from seawall.intel.tlp import Tlp

OBJECT_FIELDS = ("type", "tlp", "state", "added_from", "added_to", "creator", "sort", "limit")
# The STIX types a filter offers; a type asked for by URL is offered too.
TYPES = (
    N_("indicator"),
    N_("report"),
    N_("identity"),
    N_("sighting"),
    N_("relationship"),
    N_("malware"),
    N_("attack-pattern"),
    N_("intrusion-set"),
    N_("threat-actor"),
    N_("campaign"),
    N_("vulnerability"),
    N_("observed-data"),
    N_("note"),
    N_("incident"),
)
# The STIX cyber-observable types (STIX 2.1 §6) a list or an object page names in the reader's
# language; their values always show as written.
OBSERVABLE_TYPES = (
    N_("artifact"),
    N_("autonomous-system"),
    N_("directory"),
    N_("domain-name"),
    N_("email-addr"),
    N_("email-message"),
    N_("file"),
    N_("ipv4-addr"),
    N_("ipv6-addr"),
    N_("mac-addr"),
    N_("mutex"),
    N_("network-traffic"),
    N_("process"),
    N_("software"),
    N_("url"),
    N_("user-account"),
    N_("windows-registry-key"),
    N_("x509-certificate"),
)
# What sort of value an observable is (seawall.intel.matching.observables.Kind), in words.
OBSERVABLE_KINDS = (
    N_("ip"),
    N_("domain"),
    N_("hash"),
    N_("email"),
    N_("file-name"),
    N_("endpoint"),
)
LEVELS = tuple(sorted(Tlp))
# The relationship types a page names in the reader's language (STIX 2.1 §4.13, and the
# common SROs of §5-6); any other shows as STIX spells it, with spaces.
RELATIONS = (
    N_("indicates"),
    N_("uses"),
    N_("targets"),
    N_("related-to"),
    N_("attributed-to"),
    N_("mitigates"),
    N_("variant-of"),
    N_("derived-from"),
    N_("duplicate-of"),
    N_("based-on"),
    N_("delivers"),
    N_("exploits"),
    N_("located-at"),
    N_("communicates-with"),
    # and how the neighbourhood graph labels an edge that is no relationship
    N_("refers to"),
    N_("case"),
    N_("sighting of"),
    N_("shares a value"),
)


@dataclass(frozen=True)
class Label:
    """How a page names a relationship or a sighting: by the objects it is about, with their
    pages when the reader may see them."""

    kind: Literal["relationship", "sighting"]
    source: str
    target: str
    relation: str = ""
    count: int | None = None
    source_href: str | None = None
    target_href: str | None = None


def labels(ctx: Ctx, items: Iterable[Found | Version]) -> dict[str, Label]:
    """A name for each relationship and sighting among ``items``, read from its ends as the
    caller may see them (an end they may not see is named by its type, with no link)."""
    items = list(items)
    about = [
        (item.id, item.type, ends_of(item.body)) for item in items if isinstance(item, Version)
    ]
    about += [(item.id, item.type, item.ends) for item in items if isinstance(item, Found)]
    kinds = {i.id: (i.kind if isinstance(i, Found) else kind_of(i.body)) for i in items}
    refs = named(ctx, [end for _, _, ends in about for end in ends])
    found: dict[str, Label] = {}
    for item_id, kind, ends in about:
        ends_named = [(refs[e].name or refs[e].type, refs[e].href) for e in ends]
        if kind == "relationship" and len(ends_named) == 2:
            (source, source_href), (target, target_href) = ends_named
            found[item_id] = Label(
                "relationship", source, target, kinds[item_id], None, source_href, target_href
            )
        elif kind == "sighting" and len(ends_named) == 1:
            (target, target_href), count = ends_named[0], kinds[item_id]
            found[item_id] = Label(
                "sighting",
                "",
                target,
                "",
                int(count) if count.isdigit() else None,
                None,
                target_href,
            )
    return found


@dataclass(frozen=True)
class Decay:
    """An indicator's decay score as a page shows it: out of 100, and when it crosses the
    threshold below which it is no longer matched or exported."""

    score: int
    threshold: int
    days_left: int | None
    """Whole days until it falls below the threshold (or reaches its own end); None when it
    never does; 0 when it already has."""
    own_end: bool
    """Whether it ends at its own ``valid_until`` rather than by decaying."""
    active: bool
    """Whether it is in its validity window and not revoked (else no days are told)."""

    @classmethod
    def of(
        cls, score: float, until: datetime | None, now: datetime, *, own_end: bool, active: bool
    ) -> Decay:
        """The view of ``score`` at ``now`` for an indicator in force until ``until``."""
        days = None if until is None else max(0, math.ceil((until - now).total_seconds() / 86400))
        return cls(round(score), round(decay.THRESHOLD), days, own_end, active)


def decays(items: list[Found], now: datetime) -> dict[str, Decay]:
    """Each indicator's decay of a page of hits (age only, as their score)."""
    return {
        item.id: Decay.of(
            item.score,
            item.live_until,
            now,
            own_end=False,
            active=item.status is Status.ACTIVE,
        )
        for item in items
        if item.score is not None
    }


def object_values(request: Request) -> dict[str, str]:
    """The object-list fields of the query string, trimmed (a missing one is empty)."""
    return {k: request.query_params.get(k, "").strip()[:300] for k in OBJECT_FIELDS}


def object_query(values: dict[str, str], request: Request, text: str = "") -> ObjectQuery:
    """The query the values and the request's ``cursor`` ask for, or InvalidInput."""
    fields = {k: v for k, v in values.items() if k != "limit"}
    return ObjectQuery.parse(
        text=text,
        limit=values.get("limit") or None,
        cursor=request.query_params.get("cursor") or None,
        **fields,
    )


def kept(values: dict[str, str]) -> dict[str, str]:
    """The values a pager's links carry on: the non-empty ones."""
    return {k: v for k, v in values.items() if v}


def types_offered(values: dict[str, str]) -> tuple[str, ...]:
    """The types a filter offers, with the one asked for."""
    asked = values.get("type", "")
    return TYPES if not asked or asked in TYPES else (*TYPES, asked)


__all__ = [
    "LEVELS",
    "OBJECT_FIELDS",
    "RELATIONS",
    "TYPES",
    "Decay",
    "Label",
    "decays",
    "kept",
    "labels",
    "object_query",
    "object_values",
]
