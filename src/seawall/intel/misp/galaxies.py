"""MISP galaxy clusters as STIX objects with relationships, and back.

A MISP event names clusters in ``Galaxy[].GalaxyCluster[]`` (on the event, on an attribute,
or on an attribute inside an object) and as ``misp-galaxy:<type>="<value>"`` tags; a tag
with no cluster body names a cluster all the same. Each becomes one STIX object:

- ATT&CK technique galaxies (``mitre-attack-pattern`` and the per-domain ones) an
  ``attack-pattern`` whose ``external_references`` give the ATT&CK id (``T1098``);
- ``threat-actor`` and the ATT&CK group galaxies an ``intrusion-set``;
- malware galaxies (``mitre-malware``, ``malpedia``, ``ransomware``, ``banker``, ``rat``,
  ``stealer``, ...) a ``malware`` family, and ``tool``, ``mitre-tool`` and ``exploit-kit``
  a ``tool``; ATT&CK mitigations a ``course-of-action``;
- any other galaxy an ``x-misp-galaxy-cluster``.

The id comes from the cluster's tag name, so the same cluster in many events is one object.
The cluster as MISP gave it is kept in ``x_misp_galaxy`` and ``x_misp_cluster``.

Relationships: a cluster on an attribute links the attribute's STIX object to it
(``indicates`` from an indicator to an attack-pattern, intrusion-set, malware or tool;
``related-to`` otherwise), with the attribute's uuid in ``x_misp_attribute_uuid``. Among
the event's own clusters, an intrusion-set ``uses`` each attack-pattern, malware and tool,
and a malware ``uses`` each attack-pattern. Everything goes in the event's report.

Back to MISP, each cluster in an event's report becomes a ``Galaxy`` entry and its tag: on
the attribute its relationship names, else on the event.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from seawall.intel.misp.links import event_attributes, level_of
from seawall.intel.misp.mapping import NAMESPACE
from seawall.intel.misp.markings import marking_refs
from seawall.intel.tlp import Tlp, marking_id
from seawall.intel.validation import format_timestamp, listed

CLUSTER_VERSION = "2000-01-01T00:00:00.000Z"
_TAG = re.compile(r'^misp-galaxy:([^=]+)="(.*)"$', re.DOTALL)
_ATTACK_ID = re.compile(r"\s+-\s+((?:TA|T|G|S|M|C)\d{4}(?:\.\d{3})?)$")
_MITRE_PATHS = {
    "TA": "tactics",
    "T": "techniques",
    "G": "groups",
    "S": "software",
    "M": "mitigations",
}
_KINDS: dict[str, str] = {
    **dict.fromkeys(
        (
            "mitre-attack-pattern",
            "mitre-enterprise-attack-attack-pattern",
            "mitre-mobile-attack-attack-pattern",
            "mitre-pre-attack-attack-pattern",
            "mitre-ics-techniques",
        ),
        "attack-pattern",
    ),
    **dict.fromkeys(
        (
            "threat-actor",
            "mitre-intrusion-set",
            "mitre-enterprise-attack-intrusion-set",
            "mitre-mobile-attack-intrusion-set",
            "mitre-pre-attack-intrusion-set",
            "microsoft-activity-group",
        ),
        "intrusion-set",
    ),
    **dict.fromkeys(
        (
            "mitre-malware",
            "mitre-enterprise-attack-malware",
            "mitre-mobile-attack-malware",
            "malpedia",
            "ransomware",
            "banker",
            "rat",
            "stealer",
            "android",
            "backdoor",
            "botnet",
        ),
        "malware",
    ),
    **dict.fromkeys(
        (
            "tool",
            "mitre-tool",
            "mitre-enterprise-attack-tool",
            "mitre-mobile-attack-tool",
            "exploit-kit",
        ),
        "tool",
    ),
    **dict.fromkeys(
        (
            "mitre-course-of-action",
            "mitre-enterprise-attack-course-of-action",
            "mitre-mobile-attack-course-of-action",
        ),
        "course-of-action",
    ),
}
CLUSTER_TYPES = frozenset({*_KINDS.values(), "x-misp-galaxy-cluster"})
"""The STIX types galaxy clusters become."""
_INDICATED = frozenset({"attack-pattern", "intrusion-set", "malware", "tool"})
# The galaxy each STIX type goes back to when the object did not come from MISP.
_GALAXY_OF = {
    "attack-pattern": ("mitre-attack-pattern", "Attack Pattern"),
    "intrusion-set": ("mitre-intrusion-set", "Intrusion Set"),
    "malware": ("mitre-malware", "Malware"),
    "tool": ("mitre-tool", "Tool"),
    "course-of-action": ("mitre-course-of-action", "Course of Action"),
}


def tag_of(galaxy_type: str, value: str) -> str:
    """The MISP tag that names a cluster."""
    return f'misp-galaxy:{galaxy_type}="{value}"'


def parse_tag(tag: str) -> tuple[str, str] | None:
    """The (galaxy type, value) a ``misp-galaxy:`` tag names, or None."""
    found = _TAG.match(tag)
    return (found.group(1), found.group(2)) if found else None


def _text_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str | int) and str(v).strip()]
    return []


def _references(attack_id: str | None, refs: list[str]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    if attack_id:
        path = _MITRE_PATHS.get(re.sub(r"\d.*", "", attack_id), "techniques")
        url = f"https://attack.mitre.org/{path}/{attack_id.replace('.', '/')}"
        out.append({"source_name": "mitre-attack", "external_id": attack_id, "url": url})
    out += [{"source_name": "misp-galaxy", "url": r} for r in refs if r.startswith("http")]
    return out


def cluster_to_stix(
    galaxy: Mapping[str, Any], cluster: Mapping[str, Any], level: Tlp | None
) -> dict[str, Any]:
    """One galaxy cluster (``galaxy`` without its cluster list) as a STIX object."""
    galaxy_type = str(cluster.get("type") or galaxy.get("type") or "")
    value = str(cluster.get("value") or "")
    kind = _KINDS.get(galaxy_type, "x-misp-galaxy-cluster")
    raw_meta = cluster.get("meta")
    meta: Mapping[str, Any] = raw_meta if isinstance(raw_meta, Mapping) else {}
    external = _text_list(meta.get("external_id"))
    found = _ATTACK_ID.search(value)
    attack_id = external[0] if external else (found.group(1) if found else None)
    name = value[: found.start()] if found else value
    ident = uuid.uuid5(NAMESPACE, f"galaxy/{tag_of(galaxy_type, value)}")
    obj: dict[str, Any] = {
        "type": kind,
        "spec_version": "2.1",
        "id": f"{kind}--{ident}",
        "created": CLUSTER_VERSION,
        "modified": CLUSTER_VERSION,
        "name": name.strip() or value,
    }
    if cluster.get("description"):
        obj["description"] = str(cluster["description"])
    synonyms = [s for s in _text_list(meta.get("synonyms")) if s != obj["name"]]
    if synonyms and kind in ("intrusion-set", "malware", "tool", "attack-pattern"):
        obj["aliases"] = synonyms
    if kind == "malware":
        obj["is_family"] = True
    if kind == "tool" and galaxy_type == "exploit-kit":
        obj["tool_types"] = ["exploitation"]
    references = _references(attack_id, _text_list(meta.get("refs")))
    if references:
        obj["external_references"] = references
    if level is not None:
        obj["object_marking_refs"] = [marking_id(level)]
    obj["x_misp_galaxy"] = {
        k: str(galaxy[k])
        for k in ("type", "name", "namespace", "description", "uuid")
        if galaxy.get(k) not in (None, "")
    } or {"type": galaxy_type}
    obj["x_misp_cluster"] = {
        k: cluster[k]
        for k in ("type", "value", "tag_name", "description", "uuid", "source", "authors", "meta")
        if cluster.get(k) not in (None, "", [], {})
    }
    return obj


def clusters_in(item: Mapping[str, Any]) -> Iterator[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    """The (galaxy, cluster) pairs an event or attribute names, tags without a body included."""
    seen: set[str] = set()
    for galaxy in item.get("Galaxy") or []:
        if not isinstance(galaxy, Mapping):
            continue
        header = {k: v for k, v in galaxy.items() if k != "GalaxyCluster"}
        for cluster in galaxy.get("GalaxyCluster") or []:
            if isinstance(cluster, Mapping) and cluster.get("value"):
                galaxy_type = str(cluster.get("type") or galaxy.get("type") or "")
                seen.add(tag_of(galaxy_type, str(cluster["value"])))
                yield header, cluster
    for tag in item.get("Tag") or []:
        name = str(tag.get("name") if isinstance(tag, Mapping) else tag or "")
        parsed = parse_tag(name)
        if parsed is not None and name not in seen:
            seen.add(name)
            yield {"type": parsed[0]}, {"type": parsed[0], "value": parsed[1], "tag_name": name}


def _relationship(
    source: Mapping[str, Any],
    kind: str,
    target: Mapping[str, Any],
    stamp: str,
    level: Tlp | None,
    creator: str | None,
    attribute: str | None = None,
) -> dict[str, Any]:
    seed = f"galaxy-relationship/{source['id']}/{kind}/{target['id']}/{attribute or ''}"
    rel: dict[str, Any] = {
        "type": "relationship",
        "spec_version": "2.1",
        "id": f"relationship--{uuid.uuid5(NAMESPACE, seed)}",
        "created": stamp,
        "modified": stamp,
        "relationship_type": kind,
        "source_ref": source["id"],
        "target_ref": target["id"],
        **({"created_by_ref": creator} if creator else {}),
        **marking_refs(level),
    }
    if attribute:
        rel["x_misp_attribute_uuid"] = attribute
    return rel


def _level(*levels: Tlp | None) -> Tlp | None:
    return max((x for x in levels if x is not None), default=None)


def galaxies_to_stix(
    event: Mapping[str, Any],
    made_by_uuid: Mapping[str, Mapping[str, Any]],
    stamp: Any,
    level: Tlp | None,
    creator: str | None,
) -> list[dict[str, Any]]:
    """The STIX objects and relationships for every galaxy cluster an event names.

    ``made_by_uuid`` maps a MISP attribute's (lower-case) uuid to the STIX object made of it.
    """
    when = format_timestamp(stamp)
    clusters: dict[str, dict[str, Any]] = {}
    relationships: dict[str, dict[str, Any]] = {}
    on_event: list[dict[str, Any]] = []
    for galaxy, cluster in clusters_in(event):
        made = clusters.setdefault(
            tag_of(str(cluster.get("type") or galaxy.get("type")), str(cluster["value"])),
            cluster_to_stix(galaxy, cluster, level),
        )
        on_event.append(made)
    for attr, in_object in event_attributes(event):
        source = made_by_uuid.get(str(attr.get("uuid") or "").strip().lower())
        if source is None:
            continue
        for galaxy, cluster in clusters_in(attr):
            own = _level(level, level_of(source))
            target = clusters.setdefault(
                tag_of(str(cluster.get("type") or galaxy.get("type")), str(cluster["value"])),
                cluster_to_stix(galaxy, cluster, own),
            )
            indicates = source.get("type") == "indicator" and target["type"] in _INDICATED
            rel = _relationship(
                source,
                "indicates" if indicates else "related-to",
                target,
                when,
                _level(own, level_of(target)),
                creator,
                str(attr.get("uuid")) if in_object else None,
            )
            relationships.setdefault(rel["id"], rel)
    for user in on_event:
        uses = {"intrusion-set": _INDICATED - {"intrusion-set"}, "malware": {"attack-pattern"}}
        for used in on_event:
            if used["type"] in uses.get(user["type"], set()):
                rel = _relationship(user, "uses", used, when, level, creator)
                relationships.setdefault(rel["id"], rel)
    return [*clusters.values(), *relationships.values()]


def _cluster_of(obj: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The MISP (galaxy header, cluster) a STIX cluster object goes back to."""
    kept = obj.get("x_misp_cluster")
    header = obj.get("x_misp_galaxy")
    if isinstance(kept, Mapping) and isinstance(header, Mapping) and kept.get("value"):
        cluster = dict(kept)
        galaxy = dict(header)
    else:
        galaxy_type, galaxy_name = _GALAXY_OF.get(str(obj.get("type")), ("misp-galaxy", "Galaxy"))
        ids = [
            str(r["external_id"])
            for r in listed(obj, "external_references")
            if isinstance(r, Mapping)
            and r.get("external_id")
            and str(r.get("source_name", "")).startswith("mitre-")
        ]
        value = f"{obj.get('name')} - {ids[0]}" if ids else str(obj.get("name"))
        cluster = {"type": galaxy_type, "value": value}
        if obj.get("description"):
            cluster["description"] = str(obj["description"])
        if ids:
            cluster["meta"] = {"external_id": ids}
        galaxy = {"type": galaxy_type, "name": galaxy_name}
    cluster.setdefault("type", galaxy.get("type"))
    cluster["tag_name"] = tag_of(str(cluster["type"]), str(cluster["value"]))
    return galaxy, cluster


def _add(holder: dict[str, Any], galaxy: dict[str, Any], cluster: dict[str, Any]) -> None:
    tags = holder.setdefault("Tag", [])
    if all(t.get("name") != cluster["tag_name"] for t in tags):
        tags.append({"name": cluster["tag_name"]})
    galaxies = holder.setdefault("Galaxy", [])
    entry = next((g for g in galaxies if g.get("type") == galaxy.get("type")), None)
    if entry is None:
        entry = {**galaxy, "GalaxyCluster": []}
        galaxies.append(entry)
    if all(c.get("tag_name") != cluster["tag_name"] for c in entry["GalaxyCluster"]):
        entry["GalaxyCluster"].append(cluster)


def galaxies_to_misp(event: dict[str, Any], members: Sequence[Mapping[str, Any]]) -> None:
    """Put the galaxy clusters among an exported event's members back on the event: each on
    the attributes its relationships name, and on the event when no attribute does."""
    clusters = {str(m["id"]): m for m in members if m.get("type") in CLUSTER_TYPES}
    if not clusters:
        return
    holders: dict[str, dict[str, Any]] = {}
    for attr in event.get("Attribute") or []:
        holders[str(attr.get("uuid"))] = attr
    for obj in event.get("Object") or []:
        for attr in obj.get("Attribute") or []:
            holders[str(attr.get("uuid"))] = attr
        holders.setdefault(str(obj.get("uuid")), obj)
    placed: set[str] = set()
    for rel in members:
        target = clusters.get(str(rel.get("target_ref")))
        if rel.get("type") != "relationship" or target is None:
            continue
        source = str(rel.get("source_ref", "")).split("--", 1)[-1]
        holder = holders.get(str(rel.get("x_misp_attribute_uuid") or source))
        if holder is not None:
            _add(holder, *_cluster_of(target))
            placed.add(str(target["id"]))
    event_tags = {str(t.get("name")) for t in event.get("Tag") or []}
    for ident, obj in clusters.items():
        galaxy, cluster = _cluster_of(obj)
        if ident not in placed or cluster["tag_name"] in event_tags:
            _add(event, galaxy, cluster)


__all__ = [
    "CLUSTER_TYPES",
    "CLUSTER_VERSION",
    "cluster_to_stix",
    "clusters_in",
    "galaxies_to_misp",
    "galaxies_to_stix",
    "parse_tag",
    "tag_of",
]
