"""MISP sightings and object references as STIX sightings and relationships, and back.

- A MISP sighting on an attribute becomes a STIX ``sighting`` of the attribute's
  indicator (of the object's indicator, for an attribute inside an object, with the
  attribute's uuid in ``x_misp_attribute_uuid``). Its MISP type (0 sighting, 1 false
  positive, 2 expiration) is kept in ``x_misp_sighting_type`` and its source in
  ``x_misp_source``; the organisation that made it becomes an ``identity`` named in
  ``where_sighted_refs``.
- A MISP object reference becomes a STIX ``relationship`` from the object's STIX object
  to the referenced one, with the MISP relationship type (``analysed-with``).

Back to MISP, sightings go on the attribute they name and relationships from a MISP
object go in its ``ObjectReference`` list. Neither is attached to an item marked looser
than itself: a RED sighting never rides on a GREEN attribute.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from seawall.intel.errors import InvalidStixObject
from seawall.intel.misp.ids import epoch, stix_uuid
from seawall.intel.misp.markings import marking_refs
from seawall.intel.tlp import MARKING_IDS, Tlp
from seawall.intel.validation import format_timestamp, listed, parse_timestamp

IDENTITY_VERSION = "2000-01-01T00:00:00.000Z"
SIGHTING_TYPES = {"0": "sighting", "1": "false positive", "2": "expiration"}
_RELATIONSHIP = re.compile(r"[^a-z0-9-]+")


@dataclass
class Linked:
    """The STIX objects made from an event's sightings and references, and what failed."""

    objects: list[dict[str, Any]] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)


def level_of(obj: Mapping[str, Any]) -> Tlp | None:
    """The strictest TLP marking an object carries, granular markings included (as the store
    counts them), or None."""
    refs = list(obj.get("object_marking_refs") or [])
    refs += [
        g.get("marking_ref") for g in obj.get("granular_markings") or [] if isinstance(g, Mapping)
    ]
    return max(
        (MARKING_IDS[r] for r in refs if isinstance(r, str) and r in MARKING_IDS), default=None
    )


def _markings(*objects: Mapping[str, Any]) -> dict[str, Any]:
    level = max((x for x in (level_of(o) for o in objects) if x is not None), default=None)
    return marking_refs(level)


def _key(value: Any) -> str:
    return str(value or "").strip().lower()


def event_attributes(
    event: Mapping[str, Any],
) -> Iterator[tuple[Mapping[str, Any], bool]]:
    """Each attribute of an event, its own and its objects', with whether it sits in an object."""
    for attr in event.get("Attribute") or []:
        if isinstance(attr, Mapping):
            yield attr, False
    for obj in event.get("Object") or []:
        if isinstance(obj, Mapping):
            for attr in obj.get("Attribute") or []:
                if isinstance(attr, Mapping):
                    yield attr, True


def organisation_identity(org: Any, level: Tlp | None) -> dict[str, Any] | None:
    """A MISP organisation (``Orgc``, a sighting's ``Organisation``) as a STIX ``identity``
    marked ``level``, its id from the organisation's uuid or name; None without a name."""
    if not isinstance(org, Mapping) or not org.get("name"):
        return None
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": f"identity--{stix_uuid(org.get('uuid'), 'org', str(org['name']))}",
        "created": IDENTITY_VERSION,
        "modified": IDENTITY_VERSION,
        "name": str(org["name"]),
        "identity_class": "organization",
        **marking_refs(level),
    }


def _organisation(
    sighting: Mapping[str, Any], made: Mapping[str, Any], out: Linked, seen: set[str]
) -> str | None:
    identity = organisation_identity(sighting.get("Organisation"), level_of(made))
    if identity is None:
        return None
    if identity["id"] not in seen:
        seen.add(identity["id"])
        out.objects.append(identity)
    return str(identity["id"])


def _sighting(
    sighting: Mapping[str, Any],
    attr: Mapping[str, Any],
    made: Mapping[str, Any],
    in_object: bool,
    where: str | None,
    creator: str | None,
) -> dict[str, Any]:
    when = format_timestamp(epoch(sighting.get("date_sighting"), datetime(2000, 1, 1, tzinfo=UTC)))
    kind = str(sighting.get("type") or "0")
    seed = (str(attr.get("uuid")), str(sighting.get("date_sighting")), kind)
    out: dict[str, Any] = {
        "type": "sighting",
        "spec_version": "2.1",
        "id": f"sighting--{stix_uuid(sighting.get('uuid'), 'sighting', *seed)}",
        "created": when,
        "modified": when,
        "first_seen": when,
        "last_seen": when,
        "count": 1,
        "sighting_of_ref": made["id"],
        "description": f"MISP {SIGHTING_TYPES.get(kind, 'sighting')}",
        "x_misp_sighting_type": kind,
        **({"where_sighted_refs": [where]} if where else {}),
        **({"created_by_ref": where or creator} if where or creator else {}),
        **_markings(made),
    }
    if sighting.get("source"):
        out["x_misp_source"] = str(sighting["source"])
    if in_object:
        out["x_misp_attribute_uuid"] = str(attr.get("uuid"))
    return out


def _relationship(
    ref: Mapping[str, Any],
    source: Mapping[str, Any],
    target: Mapping[str, Any],
    stamp: datetime,
    creator: str | None,
) -> dict[str, Any]:
    kind = str(ref.get("relationship_type") or "related-to")
    clean = _RELATIONSHIP.sub("-", kind.lower()).strip("-") or "related-to"
    when = format_timestamp(epoch(ref.get("timestamp"), stamp))
    referenced = _key(ref.get("referenced_uuid"))
    seed = (str(source["id"]), referenced, kind)
    out: dict[str, Any] = {
        "type": "relationship",
        "spec_version": "2.1",
        "id": f"relationship--{stix_uuid(ref.get('uuid'), 'reference', *seed)}",
        "created": when,
        "modified": when,
        "relationship_type": clean,
        "source_ref": source["id"],
        "target_ref": target["id"],
        **({"created_by_ref": creator} if creator else {}),
        **_markings(source, target),
    }
    if clean != kind:
        out["x_misp_relationship_type"] = kind
    if str(target["id"]).split("--", 1)[1] != referenced:
        # It names an attribute inside a MISP object: the relationship targets the object.
        out["x_misp_referenced_uuid"] = referenced
    if ref.get("comment"):
        out["description"] = str(ref["comment"])
    return out


def links_to_stix(
    event: Mapping[str, Any],
    made: Mapping[str, Mapping[str, Any]],
    stamp: datetime,
    creator: str | None,
) -> Linked:
    """An event's sightings and object references as STIX objects.

    ``made`` maps each MISP uuid (lower-case) of the event's attributes, objects and object
    attributes to the STIX object made from it (an object's attributes map to the object's).
    """
    out = Linked()
    seen: set[str] = set() if creator is None else {creator}
    for attr, in_object in event_attributes(event):
        target = made.get(_key(attr.get("uuid")))
        for sighting in attr.get("Sighting") or []:
            if not isinstance(sighting, Mapping):
                continue
            if target is None:
                out.problems.append(
                    (f"sighting {sighting.get('uuid')}", "its attribute was not imported")
                )
                continue
            where = _organisation(sighting, target, out, seen)
            out.objects.append(_sighting(sighting, attr, target, in_object, where, creator))
    for obj in event.get("Object") or []:
        if not isinstance(obj, Mapping):
            continue
        source = made.get(_key(obj.get("uuid")))
        for ref in obj.get("ObjectReference") or []:
            if not isinstance(ref, Mapping) or source is None:
                continue
            target = made.get(_key(ref.get("referenced_uuid")))
            if target is None:
                out.problems.append(
                    (
                        f"object reference {ref.get('uuid')}",
                        f"it points to {ref.get('referenced_uuid')}, which is not in this "
                        "event; not imported",
                    )
                )
                continue
            out.objects.append(_relationship(ref, source, target, stamp, creator))
    return out


def _epoch_text(value: Any) -> str:
    try:
        return str(int(parse_timestamp(value).timestamp()))
    except InvalidStixObject:
        return "0"


@dataclass
class Links:
    """The sightings and relationships among STIX objects being exported, by the object they
    hang on, with the identities that name their organisations."""

    sightings: dict[str, list[Mapping[str, Any]]] = field(default_factory=dict)
    relationships: dict[str, list[Mapping[str, Any]]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, objects: Sequence[Mapping[str, Any]]) -> Links:
        """Index the sightings and relationships of ``objects``."""
        links = cls()
        for obj in objects:
            kind = obj.get("type")
            if kind == "sighting" and isinstance(obj.get("sighting_of_ref"), str):
                links.sightings.setdefault(obj["sighting_of_ref"], []).append(obj)
            elif kind == "relationship" and isinstance(obj.get("source_ref"), str):
                links.relationships.setdefault(obj["source_ref"], []).append(obj)
            elif kind == "identity" and isinstance(obj.get("id"), str):
                links.names[obj["id"]] = str(obj.get("name") or "")
        return links

    def sightings_on(
        self, stix: Mapping[str, Any], level: Tlp, attribute: str | None = None
    ) -> list[dict[str, Any]]:
        """MISP sightings of ``stix`` no stricter than ``level``; for a MISP object's attribute,
        those naming it, and those naming no attribute on the object's first attribute."""
        out: list[dict[str, Any]] = []
        # A custom property: whatever a peer sent, only a list of attributes names a first.
        attributes = stix.get("x_misp_attributes")
        head = attributes[0] if isinstance(attributes, list) and attributes else None
        first = str(head.get("uuid")) if isinstance(head, Mapping) else None
        for sighting in self.sightings.get(str(stix.get("id")), []):
            own = level_of(sighting)
            if own is not None and own > level:
                continue
            named = sighting.get("x_misp_attribute_uuid")
            if attribute is not None and (named or first) != attribute:
                continue
            out.append(self._misp_sighting(sighting))
        return out

    def _misp_sighting(self, sighting: Mapping[str, Any]) -> dict[str, Any]:
        when = sighting.get("last_seen") or sighting.get("first_seen") or sighting.get("created")
        found: dict[str, Any] = {
            "uuid": str(sighting["id"]).split("--", 1)[1],
            "date_sighting": _epoch_text(when),
            "type": str(sighting.get("x_misp_sighting_type") or "0"),
            "source": str(sighting.get("x_misp_source") or ""),
        }
        where = (listed(sighting, "where_sighted_refs") or [sighting.get("created_by_ref")])[0]
        if isinstance(where, str) and self.names.get(where):
            found["Organisation"] = {"uuid": where.split("--", 1)[1], "name": self.names[where]}
        return found

    def references_from(self, stix: Mapping[str, Any], level: Tlp) -> list[dict[str, Any]]:
        """MISP object references for the relationships from ``stix``, no stricter than
        ``level``; :func:`keep_references` later drops those naming nothing in the event."""
        source = str(stix.get("id")).split("--", 1)[1]
        out: list[dict[str, Any]] = []
        for rel in self.relationships.get(str(stix.get("id")), []):
            own = level_of(rel)
            if (own is not None and own > level) or not isinstance(rel.get("target_ref"), str):
                continue
            referenced = rel.get("x_misp_referenced_uuid") or rel["target_ref"].split("--", 1)[1]
            out.append(
                {
                    "uuid": str(rel["id"]).split("--", 1)[1],
                    "object_uuid": source,
                    "source_uuid": source,
                    "referenced_uuid": str(referenced),
                    "relationship_type": str(
                        rel.get("x_misp_relationship_type") or rel.get("relationship_type")
                    ),
                    "comment": str(rel.get("description") or ""),
                    "timestamp": _epoch_text(rel.get("modified") or rel.get("created")),
                }
            )
        return out


def keep_references(objects: list[dict[str, Any]], attributes: list[dict[str, Any]]) -> None:
    """Drop the object references of an exported event that name nothing in it."""
    held = {_key(a.get("uuid")) for a in attributes}
    for obj in objects:
        held.add(_key(obj.get("uuid")))
        held.update(_key(a.get("uuid")) for a in obj.get("Attribute") or [])
    for obj in objects:
        refs = [r for r in obj.get("ObjectReference") or [] if _key(r["referenced_uuid"]) in held]
        if refs:
            obj["ObjectReference"] = refs
        else:
            obj.pop("ObjectReference", None)


def attach(links: Links, made: dict[str, Any], stix: Mapping[str, Any], level: Tlp) -> None:
    """Put the sightings and references of ``stix`` on the MISP attribute or object made of it."""
    if "Attribute" not in made:
        if found := links.sightings_on(stix, level):
            made["Sighting"] = found
        return
    for attr in made["Attribute"]:
        if found := links.sightings_on(stix, level, str(attr.get("uuid"))):
            attr["Sighting"] = found
    if refs := links.references_from(stix, level):
        made["ObjectReference"] = refs
