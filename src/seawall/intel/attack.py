"""MITRE ATT&CK as reference intelligence: its STIX bundles, imported into one collection.

ATT&CK is published as STIX 2.1 bundles (github.com/mitre-attack/attack-stix-data:
``enterprise-attack.json``, ``ics-attack.json``) and as STIX 2.0 (github.com/mitre/cti).
Either is read from a file. The objects land unchanged, custom ``x_mitre_*`` properties and
``x-mitre-*`` types included, in a reference collection the node owns (TLP:CLEAR, open to
every user of the node), created on first import. A 2.0 object is read as 2.1: it gains
``"spec_version": "2.1"``, and ATT&CK's malware, which are families, ``"is_family": true``.

Re-importing is idempotent: a version is an object's ``modified``, so an object already
held at that version is skipped before validation (no write), and a newer release adds
only the objects MITRE changed, as new versions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import select

from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.db.models.intel import IntelCollection, IntelObject
from seawall.errors import Forbidden
from seawall.intel.collections import can_write, create_collection, get_collection
from seawall.intel.errors import (
    CollectionNotFound,
    InvalidStixObject,
    NotAnAttackBundle,
    UnreadableIntel,
)
from seawall.intel.store import writing
from seawall.intel.store.writing import ObjectRef
from seawall.intel.validation import listed, parse_timestamp

DEFAULT_ALIAS = "mitre-attack"
"""The reference collection ATT&CK goes to unless ``--collection`` names another."""
MITRE_IDENTITY = "identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5"
"""The identity MITRE signs every ATT&CK object with (``created_by_ref``)."""
KILL_CHAINS = ("mitre-attack", "mitre-ics-attack", "mitre-mobile-attack")
"""The ``kill_chain_name`` of ATT&CK's tactics, per domain."""
BATCH = 2000
MAX_BUNDLE_BYTES = 256 * 2**20
"""The largest bundle read: Enterprise ATT&CK is about 50 MB, and parsed JSON takes several
times its size in memory, so a larger file is refused before it is read."""


@dataclass
class AttackImport:
    """What one ATT&CK import did."""

    collection: str
    domains: list[str] = field(default_factory=list)
    total: int = 0
    added: list[ObjectRef] = field(default_factory=list)
    unchanged: int = 0
    rejected: list[ObjectRef] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The result for ``--json``."""
        return {
            "collection": self.collection,
            "domains": self.domains,
            "total": self.total,
            "added": len(self.added),
            "unchanged": self.unchanged,
            "rejected": [
                {"id": r.id, "version": r.version, "message": r.message} for r in self.rejected
            ],
        }


def attack_id(obj: Mapping[str, Any]) -> str | None:
    """The ATT&CK id (``T1566.001``, ``TA0001``, ``G0007``, ``S0002``) of an object, if any."""
    for ref in listed(obj, "external_references"):
        if (
            isinstance(ref, Mapping)
            and str(ref.get("source_name", "")).startswith("mitre-")
            and ref.get("source_name") != "mitre-capec"
            and isinstance(ref.get("external_id"), str)
        ):
            return str(ref["external_id"])
    return None


def check_size(size: int, name: str = "input") -> None:
    """UnreadableIntel when a bundle of ``size`` bytes is past :data:`MAX_BUNDLE_BYTES`."""
    if size > MAX_BUNDLE_BYTES:
        raise UnreadableIntel(
            f"{name} is {size / 2**20:.0f} MiB: an ATT&CK bundle is at most "
            f"{MAX_BUNDLE_BYTES / 2**20:.0f} MiB; nothing was imported"
        )


def read_bundle(data: bytes, name: str = "input") -> list[dict[str, Any]]:
    """The objects of an ATT&CK bundle (STIX 2.1, or 2.0 read as 2.1), or NotAnAttackBundle."""
    check_size(len(data), name)
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise UnreadableIntel(f"{name} is not valid JSON ({exc}); nothing was imported") from None
    if not isinstance(document, dict) or document.get("type") != "bundle":
        raise NotAnAttackBundle(f"{name} is not a STIX bundle: ATT&CK comes as one")
    entries = document.get("objects") or []
    if not isinstance(entries, list):
        raise NotAnAttackBundle(f"{name} is not a STIX bundle: its objects are not a list")
    # Refused whole rather than skipped: a stray value would otherwise vanish unreported.
    for place, obj in enumerate(entries, 1):
        if not isinstance(obj, dict):
            raise NotAnAttackBundle(
                f"{name}: object {place} is not a JSON object; nothing was imported"
            )
    objects: list[dict[str, Any]] = entries
    if not any(_is_attack(o) for o in objects):
        raise NotAnAttackBundle(
            f"{name} is a STIX bundle but not MITRE ATT&CK: it has no matrix, tactic or "
            "object made by MITRE"
        )
    if document.get("spec_version") == "2.0":
        for obj in objects:
            _upgrade(obj)
    return objects


def _is_attack(obj: Mapping[str, Any]) -> bool:
    return obj.get("type") in ("x-mitre-matrix", "x-mitre-tactic", "x-mitre-collection") or (
        obj.get("created_by_ref") == MITRE_IDENTITY
    )


def _upgrade(obj: dict[str, Any]) -> None:
    """A STIX 2.0 ATT&CK object as 2.1 (STIX 2.1 §3.1: every object names its version)."""
    obj.setdefault("spec_version", "2.1")
    if obj.get("type") == "malware":
        obj.setdefault("is_family", True)


def domains_of(objects: Iterable[Mapping[str, Any]]) -> list[str]:
    """The names of the matrices (domains) a bundle holds, e.g. ``Enterprise ATT&CK``."""
    return sorted(str(o.get("name")) for o in objects if o.get("type") == "x-mitre-matrix")


def reference_collection(ctx: Ctx, alias: str = DEFAULT_ALIAS) -> IntelCollection:
    """The collection ATT&CK goes to: ``alias`` if it exists, else created (TLP:CLEAR, open)."""
    try:
        return get_collection(ctx, alias)
    except CollectionNotFound:
        return create_collection(
            ctx,
            alias,
            "MITRE ATT&CK",
            default_tlp="clear",
            description="MITRE ATT&CK reference data: techniques, tactics, groups and software.",
        )


def _version_key(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _held(ctx: Ctx, collection: IntelCollection) -> set[tuple[str, datetime]]:
    rows = ctx.db.execute(
        select(IntelObject.stix_id, IntelObject.version).where(
            IntelObject.collection_id == collection.id
        )
    )
    return {(stix_id, _version_key(version)) for stix_id, version in rows}


def _version_of(obj: Mapping[str, Any]) -> datetime | None:
    raw = obj.get("modified") or obj.get("created")
    try:
        return _version_key(parse_timestamp(raw))
    except InvalidStixObject:
        return None


def import_attack(
    ctx: Ctx,
    objects: list[dict[str, Any]],
    alias: str = DEFAULT_ALIAS,
    batch: int = BATCH,
) -> AttackImport:
    """Store an ATT&CK bundle's objects in the reference collection, skipping held versions."""
    require(ctx.who, Perm.INTEL_WRITE)
    collection = reference_collection(ctx, alias)
    # Checked here, not only by the store: a re-import that adds nothing never reaches it.
    if not can_write(ctx, collection):
        raise Forbidden(f"{ctx.who.username} may not add objects to {collection.alias!r}")
    report = AttackImport(collection=collection.alias, domains=domains_of(objects))
    report.total = len(objects)
    held = _held(ctx, collection)
    fresh: list[dict[str, Any]] = []
    # Marking definitions first: an object is admitted only under a marking the collection
    # holds or its own batch brings.
    for obj in sorted(objects, key=lambda o: o.get("type") != "marking-definition"):
        version = _version_of(obj)
        if version is not None and (str(obj.get("id")), version) in held:
            report.unchanged += 1
        else:
            fresh.append(obj)
    for start in range(0, len(fresh), batch):
        result = writing.add_objects(
            ctx, collection, fresh[start : start + batch], request_id="import:attack"
        )
        report.added.extend(result.added)
        report.unchanged += len(result.duplicates)
        report.rejected.extend(result.refused)
    ctx.record(
        "intel.attack.imported",
        collection.id,
        collection=collection.alias,
        domains=report.domains,
        total=report.total,
        added=len(report.added),
        unchanged=report.unchanged,
        rejected=len(report.rejected),
    )
    return report


__all__ = [
    "DEFAULT_ALIAS",
    "KILL_CHAINS",
    "MAX_BUNDLE_BYTES",
    "MITRE_IDENTITY",
    "AttackImport",
    "attack_id",
    "check_size",
    "domains_of",
    "import_attack",
    "read_bundle",
    "reference_collection",
]
