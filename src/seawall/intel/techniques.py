"""ATT&CK techniques an object is linked to, as the caller may see them.

An object is linked to a technique (an ``attack-pattern`` with an ATT&CK id, from the ATT&CK
import or a MISP galaxy) by:

- a relationship between the two, either way (``indicates``, ``uses``, ...);
- a report that holds both (a MISP event tagged with an ATT&CK galaxy cluster);
- and to a tactic by its own ``kill_chain_phases`` in an ATT&CK kill chain.

Everything is read through the store's policy (:func:`seawall.intel.store.visibility.visible`,
then :func:`~seawall.intel.store.visibility.allows` on each row), newest version per object
across the collections the caller may read. Relationships and reports MITRE made are ATT&CK's
own knowledge (a group uses a technique), not a nation's observation: they are left out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, cast, func, not_, or_, select
from sqlalchemy.dialects.postgresql import JSONB

from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.db.models.intel import IntelObject
from seawall.intel.attack import KILL_CHAINS, MITRE_IDENTITY, attack_id
from seawall.intel.collections import can_read, list_collections, reader_of
from seawall.intel.store.visibility import allows, visible
from seawall.intel.validation import listed


@dataclass(frozen=True)
class Held:
    """The newest visible version of one object: its body and who holds it."""

    id: str
    type: str
    body: dict[str, Any]
    owner_nation: str
    tlp: int


@dataclass(frozen=True)
class LinkedTechnique:
    """A technique an object is linked to, and how (a relationship type, or ``report``)."""

    attack_id: str
    name: str
    how: tuple[str, ...]
    tactics: tuple[str, ...]

    @property
    def url(self) -> str:
        """The technique's page on attack.mitre.org."""
        return technique_url(self.attack_id)


@dataclass(frozen=True)
class Techniques:
    """The techniques and tactics an object (or a case's objects) is linked to."""

    techniques: list[LinkedTechnique] = field(default_factory=list)
    tactics: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.techniques or self.tactics)

    def as_json(self) -> dict[str, Any]:
        """The techniques for ``--json`` and the API."""
        return {
            "techniques": [
                {"attack_id": t.attack_id, "name": t.name, "how": list(t.how), "url": t.url}
                for t in self.techniques
            ],
            "tactics": self.tactics,
        }


def technique_url(ident: str) -> str:
    """attack.mitre.org's page of a technique id (``T1566.001`` -> ``.../T1566/001``)."""
    return f"https://attack.mitre.org/techniques/{ident.replace('.', '/')}"


def phases_of(body: Mapping[str, Any], chains: Iterable[str] = KILL_CHAINS) -> list[str]:
    """The ATT&CK tactic short names (``initial-access``) of an object's kill chain phases
    (in one of ``chains``: by default every ATT&CK domain's)."""
    wanted = set(chains)
    return [
        str(p.get("phase_name"))
        for p in listed(body, "kill_chain_phases")
        if isinstance(p, Mapping) and p.get("kill_chain_name") in wanted
    ]


def tactic_name(shortname: str, names: Mapping[str, str] | None = None) -> str:
    """A tactic's name from its short name: ATT&CK's own when known, else ``Initial Access``."""
    if names and shortname in names:
        return names[shortname]
    return " ".join(w if w == "and" else w.capitalize() for w in shortname.split("-"))


def newest_visible(
    ctx: Ctx, types: Iterable[str], *where: ColumnElement[bool], ids: Sequence[str] | None = None
) -> dict[str, Held]:
    """The newest version the caller may see of each object of ``types`` matching ``where``
    (and among ``ids``, when given), across every collection the caller may read."""
    wanted = list(types)
    if ids is None:
        narrowings: list[tuple[ColumnElement[bool], ...]] = [()]
    else:
        narrowings = [
            (IntelObject.stix_id.in_(ids[start : start + _IDS_PER_READ]),)
            for start in range(0, len(ids), _IDS_PER_READ)
        ]
    newest: dict[str, tuple[tuple[Any, int], IntelObject]] = {}
    for collection in list_collections(ctx) if narrowings else []:
        if not can_read(ctx, collection):
            continue
        reader = reader_of(ctx, collection)
        rows = (
            row
            for narrowing in narrowings
            for row in ctx.db.scalars(
                select(IntelObject).where(
                    IntelObject.collection_id == collection.id,
                    IntelObject.type.in_(wanted),
                    visible(reader),
                    *where,
                    *narrowing,
                )
            )
        )
        for row in rows:
            if not allows(reader, row):
                continue
            key = (row.version, row.seq)
            held = newest.get(row.stix_id)
            if held is None or key > held[0]:
                newest[row.stix_id] = (key, row)
    out: dict[str, Held] = {}
    for stix_id, (_, row) in newest.items():
        body = json.loads(row.body)
        if not body.get("revoked") and not body.get("x_mitre_deprecated"):
            out[stix_id] = Held(stix_id, row.type, body, row.owner_nation, row.tlp)
    return out


def not_mitre() -> ColumnElement[bool]:
    """SQL: the row was not made by MITRE (ATT&CK's own relationships are not observations).

    A few ATT&CK relationships name MITRE only in ``x_mitre_modified_by_ref``; bodies are
    stored as compact JSON, so the property reads as below.
    """
    made = _not_made_by_mitre(IntelObject)
    modified = IntelObject.body.contains(
        f'"x_mitre_modified_by_ref":"{MITRE_IDENTITY}"', autoescape=True
    )
    return and_(made, not_(modified))


def _not_made_by_mitre(rows: Any) -> ColumnElement[bool]:
    made_by: Any = rows.created_by_ref
    return or_(made_by.is_(None), made_by != MITRE_IDENTITY)


def tactic_names(ctx: Ctx) -> dict[str, str]:
    """ATT&CK's tactic names by short name, from the tactics the caller may see."""
    return {
        str(h.body.get("x_mitre_shortname")): str(h.body.get("name"))
        for h in newest_visible(ctx, ["x-mitre-tactic"]).values()
        if h.body.get("x_mitre_shortname")
    }


LINKING = ("relationship", "report")
"""The types that link an object to a technique."""
# Ids bound into one IN list, and needles into one chain of LIKEs (SQLite parses a chain of
# ORs no deeper than 1000).
_IDS_PER_READ = 1000
_NEEDLES_PER_READ = 200


def some_version_names(ctx: Ctx, kinds: Iterable[str], needles: Sequence[str]) -> list[str]:
    """The ids of the objects (of ``kinds``) some version of which holds one of ``needles`` in
    its body: one scan of the bodies, whoever may read them (pass them to
    :func:`newest_visible`, which reads as the caller).

    Every version of such an object is then read, so its newest visible version decides: an
    older version naming a technique the newer one dropped links nothing. Versions MITRE
    made are not searched (ATT&CK's tens of thousands of relationships): the callers read
    none of them (:func:`not_mitre`), so such a version can decide nothing.
    """
    found: set[str] = set()
    for start in range(0, len(needles), _NEEDLES_PER_READ):
        chunk = needles[start : start + _NEEDLES_PER_READ]
        found.update(
            ctx.db.scalars(
                select(IntelObject.stix_id)
                .where(
                    IntelObject.type.in_(list(kinds)),
                    _not_made_by_mitre(IntelObject),
                    # Escaped: an id asked for by a caller ("%", "_") is text, not a wildcard.
                    or_(*(IntelObject.body.contains(n, autoescape=True) for n in chunk)),
                )
                .distinct()
            )
        )
    return sorted(found)


def some_version_refers(ctx: Ctx, kind: str, prop: str, ids: Sequence[str]) -> list[str]:
    """The ids of the objects (of type ``kind``) some version of which has one of ``ids`` as
    its top-level ``prop`` (a sighting's ``sighting_of_ref``), read by the database from the
    stored JSON; as in :func:`some_version_names`, pass them to :func:`newest_visible`."""
    value: ColumnElement[Any] = (
        cast(IntelObject.body, JSONB)[prop].astext
        if ctx.db.get_bind().dialect.name == "postgresql"
        else func.json_extract(IntelObject.body, f"$.{prop}")
    )
    found: set[str] = set()
    for start in range(0, len(ids), _IDS_PER_READ):
        chunk = list(ids[start : start + _IDS_PER_READ])
        found.update(
            ctx.db.scalars(
                select(IntelObject.stix_id)
                .where(IntelObject.type == kind, value.in_(chunk))
                .distinct()
            )
        )
    return sorted(found)


def techniques_for(ctx: Ctx, object_ids: Iterable[str]) -> Techniques:
    """The techniques and tactics the objects ``object_ids`` are linked to, as the caller
    sees them (for a case: the objects linked to it)."""
    require(ctx.who, Perm.INTEL_READ)
    ids = sorted(set(object_ids))
    if not ids:
        return Techniques()
    wanted = set(ids)
    own = newest_visible(ctx, ["attack-pattern", *_linkable_types()], ids=ids)
    # A JSON body names an id as "<id>"; the quotes keep one id from matching a longer one.
    naming = some_version_names(ctx, LINKING, [f'"{i}"' for i in ids])
    how: dict[str, set[str]] = {}
    for held in newest_visible(ctx, LINKING, not_mitre(), ids=naming).values():
        if held.type == "relationship":
            ends = (held.body.get("source_ref"), held.body.get("target_ref"))
            if ends[0] in wanted or ends[1] in wanted:
                other = ends[1] if ends[0] in wanted else ends[0]
                how.setdefault(str(other), set()).add(str(held.body.get("relationship_type")))
            continue
        refs = [str(r) for r in listed(held.body, "object_refs")]
        if wanted & set(refs):
            for ref in refs:
                if ref.startswith("attack-pattern--"):
                    how.setdefault(ref, set()).add("report")
    patterns = newest_visible(ctx, ["attack-pattern"], ids=sorted(how))
    # Tactic names are read only when there is a tactic to name.
    phased = bool(patterns) or any(phases_of(held.body) for held in own.values())
    names = tactic_names(ctx) if phased else {}
    found: dict[str, LinkedTechnique] = {}
    for stix_id, held in patterns.items():
        ident = attack_id(held.body)
        if ident is None:
            continue
        earlier = found.get(ident)
        ways = set(how[stix_id]) | set(earlier.how if earlier else ())
        found[ident] = LinkedTechnique(
            ident,
            str(held.body.get("name") or ident),
            tuple(sorted(ways)),
            tuple(tactic_name(p, names) for p in phases_of(held.body)),
        )
    tactics: list[str] = []
    for held in own.values():
        for phase in phases_of(held.body):
            name = tactic_name(phase, names)
            if name not in tactics:
                tactics.append(name)
    return Techniques(sorted(found.values(), key=lambda t: t.attack_id), tactics)


def _linkable_types() -> list[str]:
    return [
        "indicator",
        "malware",
        "tool",
        "intrusion-set",
        "campaign",
        "observed-data",
        "infrastructure",
        "x-misp-object",
        "x-misp-attribute",
    ]


def techniques_of(ctx: Ctx, object_id: str) -> Techniques:
    """The techniques and tactics one object is linked to, as the caller sees them."""
    return techniques_for(ctx, [object_id])


def case_techniques(ctx: Ctx, linked_ids: Iterable[str]) -> Techniques:
    """The techniques of a case: those of every object linked to it (pass the link targets the
    caller may read, e.g. ``[e.target_id for e in case.timeline if e.target_name]``)."""
    return techniques_for(ctx, linked_ids)


__all__ = [
    "LINKING",
    "Held",
    "LinkedTechnique",
    "Techniques",
    "case_techniques",
    "newest_visible",
    "not_mitre",
    "phases_of",
    "some_version_names",
    "some_version_refers",
    "tactic_name",
    "tactic_names",
    "technique_url",
    "techniques_for",
    "techniques_of",
]
