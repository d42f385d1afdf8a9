"""STIX 2.1 objects as MISP events MISP can import: one per report, one for the rest.

Each object's marking becomes a TLP tag and the distribution that carries it no further
than it may go (:func:`seawall.intel.misp.markings.distribution_of`); labels written by
:mod:`seawall.intel.misp.reading` (``misp:type`` and the rest) give the attribute back.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from seawall.intel.errors import InvalidStixObject, UnknownMarking
from seawall.intel.misp.galaxies import galaxies_to_misp
from seawall.intel.misp.links import Links, attach, keep_references, level_of
from seawall.intel.misp.mapping import CATEGORIES, NAMESPACE, attribute_of_pattern
from seawall.intel.misp.markings import distribution_of, is_tlp_tag, widest_distribution
from seawall.intel.tlp import Tlp, parse_tlp
from seawall.intel.validation import listed, parse_timestamp

_LABEL = re.compile(r'^misp:([a-z_-]+)="(.*)"$')


def _level_or(obj: Mapping[str, Any], default: Tlp) -> Tlp:
    # Not `or`: CLEAR is level 0 and falsy.
    found = level_of(obj)
    return default if found is None else found


def _label_map(obj: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    found: dict[str, str] = {}
    others: list[str] = []
    for label in listed(obj, "labels"):
        match = _LABEL.match(str(label))
        if match:
            found[match.group(1)] = match.group(2)
        else:
            others.append(str(label))
    return found, others


def _stamp(obj: Mapping[str, Any], prop: str = "modified") -> str:
    value = obj.get(prop) or obj.get("created")
    try:
        return str(int(parse_timestamp(value).timestamp()))
    except InvalidStixObject:
        return "0"


def _distribution_for(obj: Mapping[str, Any], level: Tlp) -> int:
    original = obj.get("x_misp_distribution")
    # Keep the sender's own level when the marking allows it: "all communities" (3) on a
    # GREEN object stays 3, and a narrower level than the marking's stays narrow.
    if isinstance(original, int) and 0 <= original <= widest_distribution(level):
        return original
    return distribution_of(level)


def _tlp_tag(level: Tlp) -> dict[str, str]:
    return {"name": f"tlp:{level.key}"}


def _attribute_of(obj: Mapping[str, Any], default: Tlp) -> dict[str, Any] | None:
    labels, others = _label_map(obj)
    level = _level_or(obj, default)
    if obj.get("type") == "x-misp-attribute":
        misp_type, value = str(obj.get("x_misp_type")), str(obj.get("x_misp_value"))
        category = str(obj.get("x_misp_category") or CATEGORIES.get(misp_type, "Other"))
        to_ids = bool(obj.get("x_misp_to_ids"))
        comment = str(obj.get("x_misp_comment") or "")
    elif obj.get("type") == "indicator" and isinstance(obj.get("pattern"), str):
        if obj.get("pattern_type", "stix") != "stix":
            misp_type, value = str(obj.get("pattern_type")), str(obj["pattern"])
        else:
            misp_type, value = attribute_of_pattern(obj["pattern"], labels.get("type"))
        # An object's indicator from misp-stix (misp:name) may carry the object's
        # meta-category as misp:category ("network"), which is no attribute category.
        own = labels.get("category") if "name" not in labels else None
        category = own or CATEGORIES.get(misp_type, "Network activity")
        to_ids = labels.get("to_ids", "True") == "True"
        comment = str(obj.get("description") or "")
    else:
        return None
    attr: dict[str, Any] = {
        "uuid": str(obj["id"]).split("--", 1)[1],
        "type": misp_type,
        "category": category,
        "value": value,
        "to_ids": to_ids,
        "comment": comment,
        "timestamp": _stamp(obj),
        "distribution": _distribution_for(obj, level),
        "Tag": [_tlp_tag(level), *({"name": t} for t in others)],
    }
    if obj.get("type") == "indicator":
        # valid_from is the attribute's own time unless MISP said when it was first seen.
        if obj.get("valid_from") and obj.get("valid_from") != obj.get("created"):
            attr["first_seen"] = str(obj.get("valid_from"))
        if obj.get("valid_until"):
            attr["last_seen"] = str(obj["valid_until"])
    return attr


def _narrowed_tags(attr: Mapping[str, Any], level: Tlp) -> dict[str, Any]:
    """An object attribute's tags, a TLP tag looser than its object's marking replaced by
    that marking's: an object re-marked since import says nothing looser on its attributes."""
    if "Tag" not in attr:
        return {}
    tags = attr["Tag"] if isinstance(attr["Tag"], list) else []
    kept: list[Any] = []
    looser = False
    for tag in tags:
        name = str(tag.get("name") or "") if isinstance(tag, Mapping) else ""
        if is_tlp_tag(name):
            try:
                if parse_tlp(name) >= level:
                    kept.append(tag)
                    continue
            except UnknownMarking:
                pass
            looser = True
        elif name:
            kept.append(tag)
    return {"Tag": [_tlp_tag(level), *kept] if looser else kept}


def _object_of(obj: Mapping[str, Any], default: Tlp) -> dict[str, Any]:
    labels, _ = _label_map(obj)
    level = _level_or(obj, default)
    distribution = _distribution_for(obj, level)
    seen = {"first_seen": obj.get("valid_from"), "last_seen": obj.get("valid_until")}
    if seen["first_seen"] == obj.get("created"):
        del seen["first_seen"]  # the object's own time, not a first sighting
    return {
        **{k: str(v) for k, v in seen.items() if v},
        **{
            k: str(obj[f"x_misp_{k}"])
            for k in ("template_uuid", "template_version")
            if obj.get(f"x_misp_{k}")
        },
        "uuid": str(obj["id"]).split("--", 1)[1],
        "name": labels.get("name", "object"),
        "meta-category": labels.get("meta-category", labels.get("name", "misc")),
        "comment": str(obj.get("description") or ""),
        "timestamp": _stamp(obj),
        "distribution": distribution,
        "Attribute": [
            {**a, "distribution": 5, "timestamp": _stamp(obj), **_narrowed_tags(a, level)}
            for a in obj.get("x_misp_attributes") or []
            if isinstance(a, Mapping)
        ],
    }


def _event(
    info: str,
    event_uuid: str,
    members: Sequence[Mapping[str, Any]],
    org: Mapping[str, str],
    default: Tlp,
    report: Mapping[str, Any] | None = None,
    links: Links | None = None,
) -> dict[str, Any]:
    attributes: list[dict[str, Any]] = []
    objects: list[dict[str, Any]] = []
    levels: list[Tlp] = []
    for obj in members:
        level = _level_or(obj, default)
        is_object = isinstance(obj.get("x_misp_attributes"), list)
        made = _object_of(obj, default) if is_object else _attribute_of(obj, default)
        if made is None:
            continue
        (objects if is_object else attributes).append(made)
        levels.append(level)
        if links is not None:
            attach(links, made, obj, level)
    keep_references(objects, attributes)
    # A member's own tag and distribution can only narrow the event's, so the event
    # carries its report's marking, or the loosest of its members when there is none.
    level = (_level_or(report, default)) if report else min(levels, default=default)
    stamps = [int(a["timestamp"]) for a in [*attributes, *objects]] or [0]
    event: dict[str, Any] = {
        "uuid": event_uuid,
        "info": info,
        "date": (report or {}).get("x_misp_date")
        or datetime.fromtimestamp(max(stamps), tz=UTC).strftime("%Y-%m-%d"),
        "timestamp": _stamp(report) if report else str(max(stamps)),
        "threat_level_id": str((report or {}).get("x_misp_threat_level_id") or "4"),
        "analysis": str((report or {}).get("x_misp_analysis") or "2"),
        "distribution": _distribution_for(report or {}, level),
        "published": bool((report or {}).get("x_misp_published", False)),
        "Orgc": dict(org),
        "Tag": [_tlp_tag(level), *({"name": t} for t in _label_map(report or {})[1])],
        "Attribute": attributes,
        "Object": objects,
    }
    if report and report.get("x_misp_published"):
        event["publish_timestamp"] = _stamp(report, "published")
    if report and report.get("x_misp_extends_uuid"):
        event["extends_uuid"] = str(report["x_misp_extends_uuid"])
    galaxies_to_misp(event, members)
    return {"Event": event}


def stix_to_events(
    objects: Sequence[Mapping[str, Any]],
    org_name: str,
    default: Tlp = Tlp.GREEN,
    fallback_info: str = "Seawall export",
) -> list[dict[str, Any]]:
    """STIX objects as MISP events MISP can import: one per report, one for the rest.

    ``default`` is the marking of objects that carry none (the collection's default).
    """
    by_id = {str(o["id"]): o for o in objects if isinstance(o.get("id"), str)}
    links = Links.of(objects)
    identities = {i: o for i, o in by_id.items() if o.get("type") == "identity"}
    used: set[str] = set()
    events: list[dict[str, Any]] = []

    def org_of(obj: Mapping[str, Any]) -> dict[str, str]:
        ref = obj.get("created_by_ref")
        if isinstance(ref, str) and ref in identities:
            return {"name": str(identities[ref].get("name")), "uuid": ref.split("--", 1)[1]}
        return {"name": org_name, "uuid": str(uuid.uuid5(NAMESPACE, f"org/{org_name}"))}

    for report in [o for o in objects if o.get("type") == "report"]:
        members = [
            by_id[r] for r in listed(report, "object_refs") if isinstance(r, str) and r in by_id
        ]
        used.update(str(m["id"]) for m in members)
        used.add(str(report["id"]))
        events.append(
            _event(
                str(report.get("name") or fallback_info),
                str(report["id"]).split("--", 1)[1],
                members,
                org_of(report),
                default,
                report,
                links,
            )
        )
    rest = [o for i, o in by_id.items() if i not in used and o.get("type") != "report"]
    rest = [o for o in rest if o.get("type") in ("indicator", "x-misp-attribute", "x-misp-object")]
    if rest:
        seed = ",".join(sorted(str(o["id"]) for o in rest))
        events.append(
            _event(
                fallback_info,
                str(uuid.uuid5(NAMESPACE, f"export/{seed}")),
                rest,
                org_of(rest[0]),
                default,
                links=links,
            )
        )
    return events
