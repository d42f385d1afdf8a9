"""MISP events, feeds and CSV to STIX 2.1, and STIX 2.1 back to MISP event JSON.

``misp-stix`` is not a dependency of this node, so the mapping is written here, close
to the one ``misp-stix`` uses (its ``misp:type``/``misp:category``/``misp:to_ids``
labels), so that either tool reads what the other wrote:

- An event becomes a ``report`` (id from the event uuid) that refers to everything
  made from it, and its creator organisation (``Orgc``) an ``identity`` named in every
  object's ``created_by_ref``.
- An attribute whose type maps to a STIX observable becomes an ``indicator`` with a
  STIX pattern (``ip-dst`` becomes ``[ipv4-addr:value = '...']``). Any other attribute
  becomes an ``x-misp-attribute`` object that keeps it whole.
- A MISP object becomes one ``indicator`` whose pattern joins its mappable attributes
  with AND; its full attribute list is kept in ``x_misp_attributes`` so export gives
  the object back as it was.
- TLP tags and distribution levels become TLP markings; see :func:`distribution_limit`.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from seawall.intel.errors import (
    InvalidStixObject,
    NotAMispEvent,
    UnknownMarking,
    UnreadableIntel,
)
from seawall.intel.tlp import MARKING_IDS, Tlp, marking_id, parse_tlp
from seawall.intel.validation import format_timestamp, parse_timestamp

# A fixed namespace, so a MISP item without a usable uuid gets the same STIX id each time.
NAMESPACE = uuid.UUID("5e2d1d0a-7c1b-4b7e-9d8e-3f6a2f0e6c51")
IDENTITY_VERSION = "2000-01-01T00:00:00.000Z"
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

DISTRIBUTIONS = {
    0: "Your organisation only",
    1: "This community only",
    2: "Connected communities",
    3: "All communities",
    4: "Sharing group",
    5: "Inherit event",
}
# The widest marking each distribution level allows. "This community" is the users of
# one instance, which is what GREEN means on a Seawall node (every authenticated user);
# "connected communities" are the federation. A sharing group is a list of named
# recipients: RED. "All communities" sets no limit of its own.
_LIMITS = {0: Tlp.AMBER_STRICT, 1: Tlp.GREEN, 2: Tlp.GREEN, 3: Tlp.CLEAR, 4: Tlp.RED}
# On export: the distribution that carries each marking no further than it may go. An
# AMBER event stays on the receiving instance (1) with its tlp:amber tag, and RED goes
# out as "Your organisation only" with its tlp:red tag, since a sharing group needs an
# id that only the receiving MISP knows.
_DISTRIBUTION_OF = {
    Tlp.CLEAR: 3,
    Tlp.GREEN: 2,
    Tlp.AMBER: 1,
    Tlp.AMBER_STRICT: 0,
    Tlp.RED: 0,
}

_IP_TYPES = ("ip-src", "ip-dst")
_PATHS: dict[str, tuple[str, ...]] = {
    "ip-src": ("ipv4-addr:value",),
    "ip-dst": ("ipv4-addr:value",),
    "domain": ("domain-name:value",),
    "hostname": ("domain-name:value",),
    "url": ("url:value",),
    "email": ("email-addr:value",),
    "email-src": ("email-addr:value",),
    "email-dst": ("email-addr:value",),
    "email-subject": ("email-message:subject",),
    "md5": ("file:hashes.MD5",),
    "sha1": ("file:hashes.'SHA-1'",),
    "sha256": ("file:hashes.'SHA-256'",),
    "sha512": ("file:hashes.'SHA-512'",),
    "filename": ("file:name",),
    "mutex": ("mutex:name",),
    "mac-address": ("mac-addr:value",),
    "AS": ("autonomous-system:number",),
    "regkey": ("windows-registry-key:key",),
    "user-agent": ("network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'",),
    "domain|ip": ("domain-name:value", "domain-name:resolves_to_refs[*].value"),
    "filename|md5": ("file:name", "file:hashes.MD5"),
    "filename|sha1": ("file:name", "file:hashes.'SHA-1'"),
    "filename|sha256": ("file:name", "file:hashes.'SHA-256'"),
    "ip-dst|port": ("network-traffic:dst_ref.value", "network-traffic:dst_port"),
    "ip-src|port": ("network-traffic:src_ref.value", "network-traffic:src_port"),
}
OBSERVABLE_TYPES: dict[str, int] = {t: len(paths) for t, paths in _PATHS.items()}
"""The MISP attribute types that become STIX patterns, with how many values each joins."""
# When a pattern came from elsewhere, the MISP type each observable path reads as.
_TYPE_OF_PATHS: dict[tuple[str, ...], str] = {}
for _type, _paths in _PATHS.items():
    _TYPE_OF_PATHS.setdefault(_paths, _type)
_TYPE_OF_PATHS[("ipv6-addr:value",)] = "ip-dst"
_INTEGER_PATHS = frozenset(
    {"autonomous-system:number", "network-traffic:dst_port", "network-traffic:src_port"}
)
_CATEGORIES = {
    "md5": "Payload delivery",
    "sha1": "Payload delivery",
    "sha256": "Payload delivery",
    "sha512": "Payload delivery",
    "filename": "Payload delivery",
    "filename|md5": "Payload delivery",
    "filename|sha1": "Payload delivery",
    "filename|sha256": "Payload delivery",
    "email": "Payload delivery",
    "email-src": "Payload delivery",
    "email-dst": "Payload delivery",
    "email-subject": "Payload delivery",
    "mutex": "Artifacts dropped",
    "regkey": "Persistence mechanism",
    "text": "Other",
    "comment": "Other",
    "other": "Other",
    "link": "External analysis",
}
_COMPARISON = re.compile(r"([a-z0-9-]+:[A-Za-z0-9_.'\-\[\]*]+)\s*=\s*('(?:[^'\\]|\\.)*'|\d+)")
_SIMPLE = re.compile(
    r"^\[\s*(?:[a-z0-9-]+:[A-Za-z0-9_.'\-\[\]*]+\s*=\s*(?:'(?:[^'\\]|\\.)*'|\d+)"
    r"(?:\s+AND\s+|\s*\]$))+"
)
_LABEL = re.compile(r'^misp:([a-z_-]+)="(.*)"$')


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


def distribution_limit(level: int) -> Tlp:
    """The widest TLP marking a MISP distribution level (0-4) allows."""
    if level not in _LIMITS:
        raise UnknownMarking(
            f"MISP distribution {level!r} is not a level this node knows: use 0-5 "
            "(5, inherit, takes the event's level)"
        )
    return _LIMITS[level]


def distribution_of(level: Tlp) -> int:
    """The MISP distribution level an object marked ``level`` is exported with."""
    return _DISTRIBUTION_OF[level]


def _tag_names(item: Mapping[str, Any]) -> list[str]:
    tags = item.get("Tag") or []
    if isinstance(item.get("EventTag"), list):
        tags = [*tags, *(t.get("Tag", {}) for t in item["EventTag"] if isinstance(t, Mapping))]
    return [str(t["name"]) for t in tags if isinstance(t, Mapping) and t.get("name")]


def _is_tlp_tag(name: str) -> bool:
    return name.strip().lower().startswith("tlp:") and not name.lower().startswith("tlp:ex:")


def tlp_of_tags(names: Iterable[str]) -> Tlp | None:
    """The strictest TLP level among MISP tags (``tlp:amber``), or UnknownMarking."""
    levels: list[Tlp] = []
    for name in names:
        if _is_tlp_tag(name):
            try:
                levels.append(parse_tlp(name))
            except UnknownMarking:
                raise UnknownMarking(
                    f"tag {name!r} is not a TLP level: use tlp:clear, tlp:white, tlp:green, "
                    "tlp:amber, tlp:amber+strict or tlp:red"
                ) from None
    return max(levels, default=None)


def _distribution(value: Any, inherited: int | None) -> int | None:
    if value is None or value == "":
        return inherited
    try:
        level = int(value)
    except (TypeError, ValueError):
        raise UnknownMarking(f"MISP distribution {value!r} is not a number 0-5") from None
    if level == 5:
        return inherited
    distribution_limit(level)
    return level


def marking_of(tags: Iterable[str], distribution: int | None) -> Tlp | None:
    """The marking for a MISP item: the strictest of its TLP tag and its distribution's limit.

    Without a TLP tag the distribution decides, but never looser than GREEN: an
    untagged event is not made public because it may travel to all communities.
    Without either, None: the collection's default marking applies.
    """
    tagged = tlp_of_tags(tags)
    limit = distribution_limit(distribution) if distribution is not None else None
    if tagged is None:
        return None if limit is None else max(limit, Tlp.GREEN)
    return tagged if limit is None else max(tagged, limit)


def _epoch(value: Any, fallback: datetime) -> datetime:
    if value in (None, ""):
        return fallback
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        pass
    try:
        return parse_timestamp(str(value).replace("+00:00", "Z"))
    except InvalidStixObject:
        text = str(value)
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return fallback
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _uuid(value: Any, *seed: str) -> str:
    try:
        parsed = uuid.UUID(str(value))
        if parsed.version in (1, 2, 3, 4, 5) and str(parsed)[19] in "89ab":
            return str(parsed)
    except ValueError:
        pass
    return str(uuid.uuid5(NAMESPACE, "/".join(seed)))


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _paths_for(misp_type: str, value: str) -> tuple[str, ...] | None:
    paths = _PATHS.get(misp_type)
    if paths is None:
        return None
    if misp_type in _IP_TYPES and ":" in value:
        return ("ipv6-addr:value",)
    return paths


def _comparisons(misp_type: str, value: str) -> list[str] | None:
    paths = _paths_for(misp_type, value)
    if paths is None:
        return None
    parts = value.split("|", len(paths) - 1) if len(paths) > 1 else [value]
    if len(parts) != len(paths) or not all(p.strip() for p in parts):
        return None
    out: list[str] = []
    for path, part in zip(paths, parts, strict=True):
        part = part.strip()
        if path in _INTEGER_PATHS:
            digits = part.upper().removeprefix("AS")
            if not digits.isdigit():
                return None
            out.append(f"{path} = {int(digits)}")
        else:
            out.append(f"{path} = {_quote(part)}")
    return out


def pattern_for(misp_type: str, value: str) -> str | None:
    """The STIX pattern for a MISP attribute, or None when its type has no observable."""
    found = _comparisons(misp_type, value)
    return None if found is None else "[" + " AND ".join(found) + "]"


def attribute_of_pattern(pattern: str, hint: str | None = None) -> tuple[str, str]:
    """The MISP (type, value) a STIX pattern stands for; ``stix2-pattern`` when none fits."""
    if _SIMPLE.match(pattern.strip()):
        found = _COMPARISON.findall(pattern)
        paths = tuple(path for path, _ in found)
        values = [
            raw[1:-1].replace("\\'", "'").replace("\\\\", "\\") if raw.startswith("'") else raw
            for _, raw in found
        ]
        fits = hint is not None and (
            _PATHS.get(hint) == paths or (hint in _IP_TYPES and paths == ("ipv6-addr:value",))
        )
        misp_type = hint if fits else _TYPE_OF_PATHS.get(paths)
        if misp_type is not None:
            return misp_type, "|".join(values)
    return "stix2-pattern", pattern


def _labels(attr: Mapping[str, Any], misp_type: str, category: str) -> list[str]:
    labels = [
        f'misp:type="{misp_type}"',
        f'misp:category="{category}"',
        f'misp:to_ids="{_truthy(attr.get("to_ids"))}"',
    ]
    labels += [t for t in _tag_names(attr) if not _is_tlp_tag(t)]
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


def _marking_refs(level: Tlp | None) -> dict[str, Any]:
    return {"object_marking_refs": [marking_id(level)]} if level is not None else {}


def _attribute_to_stix(attr: Mapping[str, Any], scope: _EventScope) -> dict[str, Any]:
    misp_type = str(attr.get("type") or "").strip()
    value = str(attr.get("value") if attr.get("value") is not None else "").strip()
    if not misp_type or not value:
        raise UnreadableIntel("attribute has no type or no value")
    stamp = _epoch(attr.get("timestamp"), scope.stamp)
    distribution = _distribution(attr.get("distribution"), scope.distribution)
    own = marking_of(_tag_names(attr), distribution)
    inherited = marking_of(scope.tags, scope.distribution)
    level = max((x for x in (own, inherited) if x is not None), default=None)
    category = str(attr.get("category") or _CATEGORIES.get(misp_type, "Network activity"))
    common: dict[str, Any] = {
        "spec_version": "2.1",
        "created": format_timestamp(stamp),
        "modified": format_timestamp(stamp),
        **({"created_by_ref": scope.creator} if scope.creator else {}),
        **_marking_refs(level),
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
    distribution = _distribution(obj.get("distribution"), scope.distribution)
    levels = [marking_of(scope.tags, scope.distribution), marking_of([], distribution)]
    kept: list[dict[str, Any]] = []
    comparisons: list[str] = []
    for attr in attrs:
        misp_type = str(attr.get("type") or "")
        value = str(attr.get("value") if attr.get("value") is not None else "")
        levels.append(marking_of(_tag_names(attr), _distribution(attr.get("distribution"), None)))
        kept.append(
            {
                "type": misp_type,
                "object_relation": str(attr.get("object_relation") or misp_type),
                "value": value,
                "category": str(attr.get("category") or _CATEGORIES.get(misp_type, "Other")),
                "to_ids": _truthy(attr.get("to_ids")),
                "comment": str(attr.get("comment") or ""),
                "uuid": _uuid(attr.get("uuid"), scope.uuid, name, misp_type, value),
            }
        )
        comparisons += _comparisons(misp_type, value) or []
    level = max((x for x in levels if x is not None), default=None)
    ident = _uuid(obj.get("uuid"), scope.uuid, name, json.dumps(kept, sort_keys=True))
    meta = str(obj.get("meta-category") or name)
    common: dict[str, Any] = {
        "spec_version": "2.1",
        "created": format_timestamp(stamp),
        "modified": format_timestamp(stamp),
        **({"created_by_ref": scope.creator} if scope.creator else {}),
        **_marking_refs(level),
        "labels": [
            f'misp:name="{name}"',
            f'misp:meta-category="{meta}"',
            f'misp:to_ids="{any(a["to_ids"] for a in kept)}"',
        ],
        "x_misp_attributes": kept,
    }
    if obj.get("comment"):
        common["description"] = str(obj["comment"])
    if not comparisons:
        return {"type": "x-misp-object", "id": f"x-misp-object--{ident}", **common}
    return {
        "type": "indicator",
        "id": f"indicator--{ident}",
        **common,
        "name": f"MISP {name} object",
        "pattern": "[" + " AND ".join(comparisons) + "]",
        "pattern_type": "stix",
        "valid_from": format_timestamp(stamp),
        "indicator_types": ["malicious-activity"],
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


def event_to_stix(event: Mapping[str, Any]) -> Converted:
    """One MISP event as STIX objects: its report, creator identity, indicators and others."""
    out = Converted()
    event_uuid = _uuid(event.get("uuid"), "event", str(event.get("info", "")))
    for key in ("Attribute", "Object"):
        if event.get(key) is not None and not isinstance(event[key], list):
            out.problems.append(
                Problem(f"event {event_uuid}", f"'{key}' must be a list; event not imported")
            )
            return out
    try:
        tags = tuple(_tag_names(event))
        distribution = _distribution(event.get("distribution"), None)
        level = marking_of(tags, distribution)
    except UnknownMarking as exc:
        out.problems.append(Problem(f"event {event_uuid}", f"{exc.message}; event not imported"))
        return out
    stamp = _epoch(
        event.get("timestamp"), _epoch(event.get("date"), datetime(2000, 1, 1, tzinfo=UTC))
    )
    creator = None
    orgc = event.get("Orgc")
    if isinstance(orgc, Mapping) and orgc.get("name"):
        creator = f"identity--{_uuid(orgc.get('uuid'), 'org', str(orgc['name']))}"
        out.objects.append(
            {
                "type": "identity",
                "spec_version": "2.1",
                "id": creator,
                "created": IDENTITY_VERSION,
                "modified": IDENTITY_VERSION,
                "name": str(orgc["name"]),
                "identity_class": "organization",
                **_marking_refs(level),
            }
        )
    scope = _EventScope(event_uuid, stamp, tags, distribution, creator)
    refs: list[str] = []
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
        "labels": [t for t in tags if not _is_tlp_tag(t)],
        "x_misp_date": date,
        "x_misp_threat_level_id": str(event.get("threat_level_id") or "4"),
        "x_misp_analysis": str(event.get("analysis") or "0"),
        "x_misp_published": _truthy(event.get("published")),
        **({"x_misp_distribution": distribution} if distribution is not None else {}),
        **({"created_by_ref": creator} if creator else {}),
        **_marking_refs(level),
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
    """A MISP CSV export (the standard columns) as STIX objects, one per row."""
    reader = csv.DictReader(io.StringIO(text))
    columns = set(reader.fieldnames or ())
    if not {"type", "value"} <= columns:
        raise UnreadableIntel(
            f"{name} is not a MISP CSV export: it needs a header row with at least "
            f"'type' and 'value' (MISP writes {','.join(CSV_COLUMNS)})"
        )
    out = Converted()
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
    return out


# --- STIX to MISP -------------------------------------------------------------------


def _level_of(obj: Mapping[str, Any]) -> Tlp | None:
    refs = list(obj.get("object_marking_refs") or [])
    refs += [
        g.get("marking_ref") for g in obj.get("granular_markings") or [] if isinstance(g, Mapping)
    ]
    levels = [MARKING_IDS[r] for r in refs if isinstance(r, str) and r in MARKING_IDS]
    return max(levels, default=None)


def _level_or(obj: Mapping[str, Any], default: Tlp) -> Tlp:
    # Not `or`: CLEAR is level 0 and falsy.
    found = _level_of(obj)
    return default if found is None else found


def _label_map(obj: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    found: dict[str, str] = {}
    others: list[str] = []
    for label in obj.get("labels") or []:
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
    derived = distribution_of(level)
    original = obj.get("x_misp_distribution")
    # Keep the sender's own level when it is at least as narrow as the marking's.
    if isinstance(original, int) and 0 <= original <= 3 and original <= derived:
        return original
    return derived


def _tlp_tag(level: Tlp) -> dict[str, str]:
    return {"name": f"tlp:{level.key}"}


def _attribute_of(obj: Mapping[str, Any], default: Tlp) -> dict[str, Any] | None:
    labels, others = _label_map(obj)
    level = _level_or(obj, default)
    if obj.get("type") == "x-misp-attribute":
        misp_type, value = str(obj.get("x_misp_type")), str(obj.get("x_misp_value"))
        category = str(obj.get("x_misp_category") or _CATEGORIES.get(misp_type, "Other"))
        to_ids = bool(obj.get("x_misp_to_ids"))
        comment = str(obj.get("x_misp_comment") or "")
    elif obj.get("type") == "indicator" and isinstance(obj.get("pattern"), str):
        if obj.get("pattern_type", "stix") != "stix":
            misp_type, value = str(obj.get("pattern_type")), str(obj["pattern"])
        else:
            misp_type, value = attribute_of_pattern(obj["pattern"], labels.get("type"))
        category = labels.get("category") or _CATEGORIES.get(misp_type, "Network activity")
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
        attr["first_seen"] = str(obj.get("valid_from"))
        if obj.get("valid_until"):
            attr["last_seen"] = str(obj["valid_until"])
    return attr


def _object_of(obj: Mapping[str, Any], default: Tlp) -> dict[str, Any]:
    labels, _ = _label_map(obj)
    level = _level_or(obj, default)
    distribution = _distribution_for(obj, level)
    return {
        "uuid": str(obj["id"]).split("--", 1)[1],
        "name": labels.get("name", "object"),
        "meta-category": labels.get("meta-category", labels.get("name", "misc")),
        "comment": str(obj.get("description") or ""),
        "timestamp": _stamp(obj),
        "distribution": distribution,
        "Attribute": [
            {**a, "distribution": 5, "timestamp": _stamp(obj)}
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
) -> dict[str, Any]:
    attributes: list[dict[str, Any]] = []
    objects: list[dict[str, Any]] = []
    levels: list[Tlp] = []
    for obj in members:
        level = _level_or(obj, default)
        if isinstance(obj.get("x_misp_attributes"), list):
            objects.append(_object_of(obj, default))
            levels.append(level)
        elif (attr := _attribute_of(obj, default)) is not None:
            attributes.append(attr)
            levels.append(level)
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
    identities = {i: o for i, o in by_id.items() if o.get("type") == "identity"}
    used: set[str] = set()
    events: list[dict[str, Any]] = []

    def org_of(obj: Mapping[str, Any]) -> dict[str, str]:
        ref = obj.get("created_by_ref")
        if isinstance(ref, str) and ref in identities:
            return {"name": str(identities[ref].get("name")), "uuid": ref.split("--", 1)[1]}
        return {"name": org_name, "uuid": str(uuid.uuid5(NAMESPACE, f"org/{org_name}"))}

    for report in [o for o in objects if o.get("type") == "report"]:
        members = [by_id[r] for r in report.get("object_refs") or [] if r in by_id]
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
            )
        )
    return events
