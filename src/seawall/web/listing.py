"""A list page's query string: the filters, order and cursor, read and written back.

The pages pass what was asked for back to the form (:func:`object_values`) and keep the
non-empty values in the pager's links (:func:`kept`); the core parses and checks them.
"""

from __future__ import annotations

from starlette.requests import Request

from seawall.intel.store.listing import ObjectQuery
from seawall.intel.tlp import Tlp

OBJECT_FIELDS = ("type", "tlp", "state", "added_from", "added_to", "creator", "sort", "limit")
# The STIX types a filter offers; a type asked for by URL is offered too.
TYPES = (
    "indicator",
    "report",
    "identity",
    "sighting",
    "relationship",
    "malware",
    "attack-pattern",
    "intrusion-set",
    "threat-actor",
    "campaign",
    "vulnerability",
    "observed-data",
    "note",
)
LEVELS = tuple(sorted(Tlp))


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


__all__ = ["LEVELS", "OBJECT_FIELDS", "TYPES", "kept", "object_query", "object_values"]
