"""MISP events, feeds and CSV exports as STIX 2.1 objects.

The mapping is written here, close to the one ``misp-stix`` uses (its
``misp:type``/``misp:category``/``misp:to_ids`` labels), so that either tool reads what
the other wrote (docs/internals.md says why it is not ``misp-stix`` itself):

- An event becomes a ``report`` (id from the event uuid) that refers to everything
  made from it, and its creator organisation (``Orgc``) an ``identity`` named in every
  object's ``created_by_ref``.
- An attribute whose type maps to a STIX observable becomes an ``indicator`` with a
  STIX pattern (:mod:`seawall.intel.misp.mapping`). Any other attribute becomes an
  ``x-misp-attribute`` object that keeps it whole.
- A MISP object becomes one ``indicator`` whose pattern joins its mappable attributes
  with AND (a connection object, ``ip-port``, ``network-connection`` or ``netflow``, keeps
  each address with its side's port: :mod:`seawall.intel.misp.connections`); its full
  attribute list is kept in ``x_misp_attributes`` so export gives
  the object back as it was.
- TLP tags and distribution levels become TLP markings on every object
  (:mod:`seawall.intel.misp.markings`).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from seawall.intel.errors import NotAMispEvent, UnknownMarking, UnreadableIntel
from seawall.intel.misp.connections import CONNECTION_OBJECTS, connection_pattern
from seawall.intel.misp.galaxies import galaxies_to_stix
from seawall.intel.misp.ids import epoch as _epoch
from seawall.intel.misp.ids import stix_uuid as _uuid
from seawall.intel.misp.links import event_attributes, links_to_stix, organisation_identity
from seawall.intel.misp.mapping import CATEGORIES, comparisons_for, object_pattern, pattern_for
from seawall.intel.misp.markings import (
    is_tlp_tag,
    marking_of,
    marking_refs,
    parse_distribution,
    tag_names,
)
from seawall.intel.validation import format_timestamp

CSV_COLUMNS = (
    "uuid",
    "event_id",
    "category",
    "type",
    "value",
    "comment",
    "to_ids",
    "date",
    "object_relation",
    "attribute_tag",
    "object_uuid",
    "object_name",
    "object_meta_category",
)


@dataclass(frozen=True)
class Problem:
    """A MISP item that could not become STIX, with the reason in one line."""

    ref: str
    message: str


@dataclass
class Converted:
    """STIX objects made from MISP data, and the items that could not be converted."""

    objects: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def extend(self, other: Converted) -> None:
        """Add another conversion's objects and problems."""
        self.objects.extend(other.objects)
        self.problems.extend(other.problems)


def _labels(attr: Mapping[str, Any], misp_type: str, category: str) -> list[str]:
    labels = [
        f'misp:type="{misp_type}"',
        f'misp:category="{category}"',
        f'misp:to_ids="{_truthy(attr.get("to_ids"))}"',
    ]
    labels += [t for t in tag_names(attr) if not is_tlp_tag(t)]
    return labels


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


@dataclass(frozen=True)
class _EventScope:
    uuid: str
    stamp: datetime
    tags: tuple[str, ...]
    distribution: int | None
    creator: str | None


def _attribute_to_stix(attr: Mapping[str, Any], scope: _EventScope) -> dict[str, Any]:
    misp_type = str(attr.get("type") or "").strip()
    value = str(attr.get("value") if attr.get("value") is not None else "").strip()
    if not misp_type or not value:
        raise UnreadableIntel("attribute has no type or no value")
    stamp = _epoch(attr.get("timestamp"), scope.stamp)
    distribution = parse_distribution(attr.get("distribution"), scope.distribution)
    # The event's TLP tag covers its attributes, whatever their distribution.
    own = marking_of([*tag_names(attr), *scope.tags], distribution)
    inherited = marking_of(scope.tags, scope.distribution)
    level = max((x for x in (own, inherited) if x is not None), default=None)
    category = str(attr.get("category") or CATEGORIES.get(misp_type, "Network activity"))
    common: dict[str, Any] = {
        "spec_version": "2.1",
        "created": format_timestamp(stamp),
        "modified": format_timestamp(stamp),
        **({"created_by_ref": scope.creator} if scope.creator else {}),
        **marking_refs(level),
    }
    ident = _uuid(attr.get("uuid"), scope.uuid, misp_type, value)
    pattern = pattern_for(misp_type, value)
    if pattern is None:
        return {
            "type": "x-misp-attribute",
            "id": f"x-misp-attribute--{ident}",
            **common,
            "labels": _labels(attr, misp_type, category),
            "x_misp_type": misp_type,
            "x_misp_value": value,
            "x_misp_category": category,
            "x_misp_comment": str(attr.get("comment") or ""),
            "x_misp_to_ids": _truthy(attr.get("to_ids")),
            **({"x_misp_distribution": distribution} if distribution is not None else {}),
        }
    valid_from = _epoch(attr.get("first_seen"), stamp)
    indicator: dict[str, Any] = {
        "type": "indicator",
        "id": f"indicator--{ident}",
        **common,
        "name": value if len(value) <= 200 else value[:200],
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": format_timestamp(valid_from),
        "indicator_types": ["malicious-activity"],
        "labels": _labels(attr, misp_type, category),
    }
    last_seen = _epoch(attr.get("last_seen"), valid_from)
    if last_seen > valid_from:
        indicator["valid_until"] = format_timestamp(last_seen)
    if attr.get("comment"):
        indicator["description"] = str(attr["comment"])
    if distribution is not None:
        indicator["x_misp_distribution"] = distribution
    return indicator


def _object_to_stix(obj: Mapping[str, Any], scope: _EventScope) -> dict[str, Any]:
    attrs = [a for a in obj.get("Attribute") or [] if isinstance(a, Mapping)]
    name = str(obj.get("name") or "object")
    stamp = _epoch(obj.get("timestamp"), scope.stamp)
    distribution = parse_distribution(obj.get("distribution"), scope.distribution)
    levels = [marking_of(scope.tags, scope.distribution), marking_of(scope.tags, distribution)]
    kept: list[dict[str, Any]] = []
    comparisons: list[str] = []
    for attr in attrs:
        misp_type = str(attr.get("type") or "")
        value = str(attr.get("value") if attr.get("value") is not None else "")
        levels.append(
            marking_of(tag_names(attr), parse_distribution(attr.get("distribution"), None))
        )
        kept.append(
            {
                "type": misp_type,
                "object_relation": str(attr.get("object_relation") or misp_type),
                "value": value,
                "category": str(attr.get("category") or CATEGORIES.get(misp_type, "Other")),
                "to_ids": _truthy(attr.get("to_ids")),
                "comment": str(attr.get("comment") or ""),
                "uuid": _uuid(attr.get("uuid"), scope.uuid, name, misp_type, value),
                **{k: str(attr[k]) for k in ("first_seen", "last_seen") if attr.get(k)},
                **({"Tag": [{"name": t} for t in tag_names(attr)]} if tag_names(attr) else {}),
            }
        )
        comparisons += comparisons_for(misp_type, value) or []
    level = max((x for x in levels if x is not None), default=None)
    ident = _uuid(obj.get("uuid"), scope.uuid, name, json.dumps(kept, sort_keys=True))
    meta = str(obj.get("meta-category") or name)
    common: dict[str, Any] = {
        "spec_version": "2.1",
        "created": format_timestamp(stamp),
        "modified": format_timestamp(stamp),
        **({"created_by_ref": scope.creator} if scope.creator else {}),
        **marking_refs(level),
        "labels": [
            f'misp:name="{name}"',
            f'misp:meta-category="{meta}"',
            f'misp:to_ids="{any(a["to_ids"] for a in kept)}"',
        ],
        "x_misp_attributes": kept,
        **{f"x_misp_{k}": str(obj[k]) for k in ("template_uuid", "template_version") if obj.get(k)},
    }
    if obj.get("comment"):
        common["description"] = str(obj["comment"])
    if distribution is not None:
        common["x_misp_distribution"] = distribution
    pattern = connection_pattern(name, kept) or (
        object_pattern(comparisons) if comparisons else None
    )
    if pattern is None:
        return {"type": "x-misp-object", "id": f"x-misp-object--{ident}", **common}
    return {
        "type": "indicator",
        "id": f"indicator--{ident}",
        **common,
        "name": f"MISP {name} object",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": format_timestamp(_epoch(obj.get("first_seen"), stamp)),
        "indicator_types": ["malicious-activity"],
        **(
            {"valid_until": format_timestamp(_epoch(obj["last_seen"], stamp))}
            if obj.get("last_seen") and _epoch(obj["last_seen"], stamp) > stamp
            else {}
        ),
    }


def events_of(document: Any) -> list[Mapping[str, Any]]:
    """The MISP events in a decoded JSON document, or NotAMispEvent."""
    if isinstance(document, Mapping) and document.get("type") == "bundle":
        raise NotAMispEvent("this is a STIX bundle, not a MISP event: import it with --format stix")
    if isinstance(document, Mapping) and isinstance(document.get("objects"), list):
        raise NotAMispEvent(
            "this is a TAXII envelope, not a MISP event: import it with --format stix"
        )
    items: list[Any]
    if isinstance(document, Mapping) and isinstance(document.get("response"), list):
        items = list(document["response"])
    elif isinstance(document, list):
        items = list(document)
    else:
        items = [document]
    events: list[Mapping[str, Any]] = []
    for item in items:
        event = item.get("Event", item) if isinstance(item, Mapping) else None
        if not isinstance(event, Mapping) or not ({"info", "Attribute", "Object"} & set(event)):
            raise NotAMispEvent(
                'this is not a MISP event: expected {"Event": {"info": ..., "Attribute": [...]}}'
            )
        events.append(event)
    return events


# The lists MISP writes at each level of an event. Anything else in their place refuses the
# event: a TLP tag in a malformed tag list would be lost, and its item shared wider than it
# was marked; elsewhere it would end the import in a traceback.
_EVENT_LISTS = ("Attribute", "Object", "Tag", "EventTag", "Galaxy")
_ATTRIBUTE_LISTS = ("Tag", "Sighting", "Galaxy")
_OBJECT_LISTS = ("Attribute", "ObjectReference")


def _malformed(item: Mapping[str, Any], keys: tuple[str, ...], where: str) -> str | None:
    """What is wrong with the lists of one event, attribute or object, or None."""
    for key in keys:
        if item.get(key) is not None and not isinstance(item[key], list):
            return f"the {where}'s '{key}' must be a list"
    lists = {key: item.get(key) or [] for key in keys}
    tags = list(lists.get("Tag", []))
    for entry in lists.get("EventTag", []):
        tags.append(entry.get("Tag", {}) if isinstance(entry, Mapping) else entry)
    for tag in tags:
        if not isinstance(tag, Mapping) or not isinstance(tag.get("name") or "", str):
            return f'the {where} has a tag that is not {{"name": "..."}}: {str(tag)[:60]!r}'
    for galaxy in lists.get("Galaxy", []):
        clusters = galaxy.get("GalaxyCluster") if isinstance(galaxy, Mapping) else None
        if clusters is not None and not isinstance(clusters, list):
            return f"the {where}'s galaxy 'GalaxyCluster' must be a list"
    return None


def shape_problem(event: Mapping[str, Any]) -> str | None:
    """Why an event's lists are not the lists MISP writes (one line), or None."""
    found = _malformed(event, _EVENT_LISTS, "event")
    if found is not None:
        return found
    for obj in event.get("Object") or []:
        if isinstance(obj, Mapping) and (found := _malformed(obj, _OBJECT_LISTS, "object")):
            return found
    for attr, _ in event_attributes(event):
        if (found := _malformed(attr, _ATTRIBUTE_LISTS, "attribute")) is not None:
            return found
    return None


def event_to_stix(event: Mapping[str, Any]) -> Converted:
    """One MISP event as STIX objects: its report, creator identity, indicators and others."""
    out = Converted()
    event_uuid = _uuid(event.get("uuid"), "event", str(event.get("info", "")))
    malformed = shape_problem(event)
    if malformed is not None:
        out.problems.append(Problem(f"event {event_uuid}", f"{malformed}; event not imported"))
        return out
    try:
        tags = tuple(tag_names(event))
        distribution = parse_distribution(event.get("distribution"), None)
        level = marking_of(tags, distribution)
    except UnknownMarking as exc:
        out.problems.append(Problem(f"event {event_uuid}", f"{exc.message}; event not imported"))
        return out
    stamp = _epoch(
        event.get("timestamp"), _epoch(event.get("date"), datetime(2000, 1, 1, tzinfo=UTC))
    )
    creator = None
    identity = organisation_identity(event.get("Orgc"), level)
    if identity is not None:
        creator = str(identity["id"])
        out.objects.append(identity)
    scope = _EventScope(event_uuid, stamp, tags, distribution, creator)
    refs: list[str] = []
    made_by_uuid: dict[str, dict[str, Any]] = {}
    items: list[tuple[str, Mapping[str, Any], bool]] = [
        ("attribute", a, False) for a in event.get("Attribute") or [] if isinstance(a, Mapping)
    ]
    items += [("object", o, True) for o in event.get("Object") or [] if isinstance(o, Mapping)]
    for kind, item, is_object in items:
        try:
            made = _object_to_stix(item, scope) if is_object else _attribute_to_stix(item, scope)
        except (UnknownMarking, UnreadableIntel) as exc:
            ref = f"event {event_uuid} {kind} {item.get('uuid') or item.get('value') or '?'}"
            out.problems.append(Problem(ref, exc.message))
            continue
        out.objects.append(made)
        refs.append(made["id"])
        made_by_uuid[str(item.get("uuid") or "").strip().lower()] = made
        for attr in item.get("Attribute") or [] if is_object else []:
            if isinstance(attr, Mapping) and attr.get("uuid"):
                made_by_uuid.setdefault(str(attr["uuid"]).strip().lower(), made)
    made_by_uuid.pop("", None)
    linked = links_to_stix(event, made_by_uuid, stamp, creator)
    out.objects += linked.objects
    refs += [o["id"] for o in linked.objects if o["type"] != "identity"]
    out.problems += [Problem(f"event {event_uuid} {ref}", why) for ref, why in linked.problems]
    clusters = galaxies_to_stix(event, made_by_uuid, stamp, level, creator)
    out.objects += clusters
    refs += [o["id"] for o in clusters]
    date = str(event.get("date") or format_timestamp(stamp)[:10])
    published = (
        _epoch(event.get("publish_timestamp"), stamp) if _truthy(event.get("published")) else stamp
    )
    report: dict[str, Any] = {
        "type": "report",
        "spec_version": "2.1",
        "id": f"report--{event_uuid}",
        "created": format_timestamp(stamp),
        "modified": format_timestamp(stamp),
        "name": str(event.get("info") or "MISP event"),
        "published": format_timestamp(published),
        "report_types": ["threat-report"],
        "object_refs": refs or ([creator] if creator else [f"report--{event_uuid}"]),
        "labels": [t for t in tags if not is_tlp_tag(t)],
        "x_misp_date": date,
        "x_misp_threat_level_id": str(event.get("threat_level_id") or "4"),
        "x_misp_analysis": str(event.get("analysis") or "0"),
        "x_misp_published": _truthy(event.get("published")),
        **({"x_misp_distribution": distribution} if distribution is not None else {}),
        **(
            {"x_misp_extends_uuid": str(event["extends_uuid"])} if event.get("extends_uuid") else {}
        ),
        **({"created_by_ref": creator} if creator else {}),
        **marking_refs(level),
    }
    if not report["labels"]:
        del report["labels"]
    out.objects.append(report)
    return out


def read_events(text: str, name: str = "input") -> Converted:
    """MISP event JSON (one event, a list, or a ``response`` array) as STIX objects."""
    out = Converted()
    for event in events_of(load_json(text, name)):
        out.extend(event_to_stix(event))
    return out


def load_json(text: str, name: str) -> Any:
    """A file's JSON, or UnreadableIntel saying where it breaks; nothing is imported then."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnreadableIntel(
            f"{name} is not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg}); "
            "nothing was imported"
        ) from None
    except RecursionError:
        # json's decoder recurses once per level: no STIX or MISP file nests this deep.
        raise UnreadableIntel(
            f"{name} is nested too deeply to be STIX or MISP JSON; nothing was imported"
        ) from None


def read_feed(directory: Path) -> Converted:
    """A MISP feed directory: ``manifest.json`` and one ``<uuid>.json`` per event."""
    root = directory if directory.is_dir() else directory.parent
    manifest_path = root / "manifest.json"
    if not manifest_path.is_file():
        raise UnreadableIntel(
            f"{root} has no manifest.json: a MISP feed is a folder with manifest.json "
            "and one <uuid>.json per event"
        )
    manifest = load_json(manifest_path.read_text(encoding="utf-8"), str(manifest_path))
    if not isinstance(manifest, Mapping):
        raise NotAMispEvent(f"{manifest_path} must map event uuids to event summaries")
    out = Converted()
    for event_uuid in manifest:
        path = root / f"{event_uuid}.json"
        if not re.fullmatch(r"[0-9a-fA-F-]{36}", str(event_uuid)) or not path.is_file():
            out.problems.append(
                Problem(f"event {event_uuid}", f"the feed lists it but {path.name} is missing")
            )
            continue
        try:
            out.extend(read_events(path.read_text(encoding="utf-8"), path.name))
        except UnreadableIntel as exc:
            out.problems.append(Problem(f"event {event_uuid}", exc.message))
    return out


def read_csv(text: str, name: str = "input") -> Converted:
    """A MISP CSV export (the standard columns) as STIX objects: one per row, and one per
    connection object (``ip-port``, ``network-connection``, ``netflow``) for its rows."""
    reader = csv.DictReader(io.StringIO(text))
    columns = set(reader.fieldnames or ())
    if not {"type", "value"} <= columns:
        raise UnreadableIntel(
            f"{name} is not a MISP CSV export: it needs a header row with at least "
            f"'type' and 'value' (MISP writes {','.join(CSV_COLUMNS)})"
        )
    out = Converted()
    # A connection object's rows are read together, as the object, so that its address
    # keeps its port (one row alone is an address on any port).
    held: dict[str, tuple[int, dict[str, Any], _EventScope]] = {}
    for line, row in enumerate(reader, start=2):
        tags = [t.strip() for t in (row.get("attribute_tag") or "").split(",") if t.strip()]
        attr = {
            "uuid": row.get("uuid"),
            "type": row.get("type"),
            "category": row.get("category"),
            "value": row.get("value"),
            "comment": row.get("comment"),
            "to_ids": row.get("to_ids"),
            "timestamp": row.get("date"),
            "Tag": [{"name": t} for t in tags],
        }
        scope = _EventScope(
            uuid=str(row.get("event_id") or "csv"),
            stamp=_epoch(row.get("date"), datetime(2000, 1, 1, tzinfo=UTC)),
            tags=(),
            distribution=None,
            creator=None,
        )
        object_uuid = str(row.get("object_uuid") or "").strip()
        if row.get("object_name") in CONNECTION_OBJECTS and object_uuid:
            _, obj, _ = held.setdefault(
                object_uuid,
                (
                    line,
                    {
                        "uuid": object_uuid,
                        "name": row["object_name"],
                        "meta-category": row.get("object_meta_category"),
                        "Attribute": [],
                    },
                    scope,
                ),
            )
            obj["Attribute"].append({**attr, "object_relation": row.get("object_relation")})
            stamp = int(scope.stamp.timestamp())
            obj["timestamp"] = str(max(int(obj.get("timestamp") or stamp), stamp))
            continue
        try:
            made = _attribute_to_stix(attr, scope)
        except (UnknownMarking, UnreadableIntel) as exc:
            out.problems.append(Problem(f"{name} line {line}", exc.message))
            continue
        if row.get("object_name"):
            made["labels"].append(f'misp:name="{row["object_name"]}"')
            if row.get("object_relation"):
                made["labels"].append(f'misp:object-relation="{row["object_relation"]}"')
        out.objects.append(made)
    for line, obj, scope in held.values():
        try:
            out.objects.append(_object_to_stix(obj, scope))
        except (UnknownMarking, UnreadableIntel) as exc:
            out.problems.append(Problem(f"{name} line {line}", exc.message))
    return out
