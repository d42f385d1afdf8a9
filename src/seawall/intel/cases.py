"""Cross-border incident cases, kept as STIX 2.1 in the store so they travel like any intel.

A case is an ``incident`` with the OASIS Incident Core Extension (``investigation_status``
new, open or closed; ``determination`` suspected, confirmed or false-positive). What is
known about it hangs off it as ordinary objects, each made by the nation that knows it:

- a link to an object the linking user may read: a ``relationship`` (``related-to``) from
  the incident to an SDO or SCO (an indicator, a malware, a report), or, for a sighting or
  another object a relationship may not name (STIX 2.1 §5.2), a ``note`` whose
  ``object_refs`` name the incident and that object;
- a ``note`` (``object_refs`` naming the incident alone) for each entry of the timeline.

Because these are STIX objects in a collection, TLP, audiences, TAXII, sync between nations,
exports and offline bundles apply to a case exactly as to everything else. A partner that
has the incident adds its own notes and links in its own collections, and they come back
by sync. Only the nation that opened a case may version the incident (its status), as STIX
says only the creator may (§3.6); everyone the case reaches may add to it.

A link is marked with the stricter of the case's marking and its target's, and a note with
the case's marking or a stricter one, so adding to a case never widens what it refers to.
A link holds the target's id and the linking user's reason, never words of the target (its
name, pattern, value or description): the case's collection may reach people the target's
does not, named recipients of RED included. Each reader sees a target's name only if they
may read the target themselves (:func:`show_case` reads it with their rights).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.core.evidence import record_evidence
from seawall.db.models.intel import IntelCollection
from seawall.errors import InvalidInput, parse_choice
from seawall.intel.collections import default_marking, get_collection
from seawall.intel.errors import CaseNotFound, NotCaseOwner, ObjectNotFound
from seawall.intel.identity import identity_id, nation_of_identity
from seawall.intel.search import Version, holding, readable_collections, summary_of
from seawall.intel.store import writing
from seawall.intel.store.reading import MAX_LIMIT, Filters, StoredObject, each_object, query_objects
from seawall.intel.tlp import Tlp, marking_id, parse_tlp
from seawall.intel.validation import format_timestamp, parse_timestamp

INCIDENT_CORE = "extension-definition--ef765651-680c-498d-9894-99799f2fa126"
# STIX 2.1 §5.2: a relationship joins SDOs and SCOs only, never an SRO (a relationship, a
# sighting) or a meta object; a case links to these with a note naming both.
NOT_RELATABLE = frozenset(
    {"relationship", "sighting", "marking-definition", "language-content", "extension-definition"}
)
LINKED = "Linked to the case."  # a link note's content when the user gave no reason
SUPPORTS = ["cmm:D1.2"]  # CMM 2021: Incident Response and Crisis Management
MIN_REF = 6  # characters of a case id's UUID that name it on the command line


class Status(StrEnum):
    """Where the investigation stands (Incident Core ``investigation_status``)."""

    NEW = "new"
    OPEN = "open"
    CLOSED = "closed"


class Determination(StrEnum):
    """What the incident turned out to be (Incident Core ``determination``)."""

    SUSPECTED = "suspected"
    CONFIRMED = "confirmed"
    FALSE_POSITIVE = "false-positive"


Choice = TypeVar("Choice", Status, Determination)


def parse_status(value: str) -> Status:
    """A status as a user typed it, or InvalidInput naming the ones there are."""
    return parse_choice(Status, "status", value)


def parse_determination(value: str) -> Determination:
    """A determination as a user typed it, or InvalidInput naming the ones there are."""
    return parse_choice(Determination, "determination", value)


@dataclass(frozen=True)
class Entry:
    """One line of a case's timeline: a note or a link, by whom and when."""

    at: datetime
    kind: str  # "note" or "link"
    nation: str
    author: str
    text: str
    tlp: Tlp
    object_id: str
    target_id: str = ""
    target_name: str = ""  # only when the reader may read the target

    @property
    def target_type(self) -> str:
        """The linked object's STIX type, read from its id."""
        return self.target_id.partition("--")[0]


@dataclass
class Case:
    """A case as the caller may see it."""

    id: str
    collection: str
    title: str
    description: str
    status: Status
    determination: Determination
    types: list[str]
    tlp: Tlp
    nation: str
    opened: datetime
    updated: datetime
    timeline: list[Entry] = field(default_factory=list)

    @property
    def links(self) -> list[Entry]:
        """The objects linked to the case."""
        return [e for e in self.timeline if e.kind == "link"]

    @property
    def notes(self) -> list[Entry]:
        """The notes on the case."""
        return [e for e in self.timeline if e.kind == "note"]

    @property
    def nations(self) -> list[str]:
        """Every nation that opened or added to the case, the opener first."""
        return list(dict.fromkeys([self.nation, *(e.nation for e in self.timeline)]))

    def as_json(self) -> dict[str, Any]:
        """The case for scripts."""
        return {
            "id": self.id,
            "collection": self.collection,
            "title": self.title,
            "description": self.description,
            "status": self.status.value,
            "determination": self.determination.value,
            "types": self.types,
            "tlp": self.tlp.label,
            "nation": self.nation,
            "nations": self.nations,
            "opened": format_timestamp(self.opened),
            "updated": format_timestamp(self.updated),
            "timeline": [
                {
                    "at": format_timestamp(e.at),
                    "kind": e.kind,
                    "nation": e.nation,
                    "author": e.author,
                    "text": e.text,
                    "tlp": e.tlp.label,
                    "id": e.object_id,
                    **(
                        {"target": e.target_id, "target_type": e.target_type} if e.target_id else {}
                    ),
                    **({"target_name": e.target_name} if e.target_name else {}),
                }
                for e in self.timeline
            ],
        }


def _core(body: dict[str, Any]) -> dict[str, Any]:
    extensions = body.get("extensions")
    core = extensions.get(INCIDENT_CORE) if isinstance(extensions, dict) else None
    return core if isinstance(core, dict) else {}


def _store(ctx: Ctx, collection: IntelCollection, obj: dict[str, Any]) -> None:
    result = writing.add_objects(ctx, collection, [obj], request_id="case")
    if result.rejected:
        raise InvalidInput(result.rejected[0].message)


def open_case(
    ctx: Ctx,
    collection_ref: str,
    title: str,
    description: str = "",
    types: tuple[str, ...] = (),
    tlp: str | None = None,
) -> Case:
    """Open a case in a collection: a new incident, status new, determination suspected."""
    require(ctx.who, Perm.INTEL_WRITE)
    name = title.strip()
    if not name:
        raise InvalidInput("a case needs a title: say in a few words what happened")
    collection = get_collection(ctx, collection_ref)
    level = max(default_marking(collection), parse_tlp(tlp)) if tlp else default_marking(collection)
    now = format_timestamp(ctx.now())
    incident: dict[str, Any] = {
        "type": "incident",
        "spec_version": "2.1",
        "id": f"incident--{ctx.ids()}",
        "created": now,
        "modified": now,
        "created_by_ref": identity_id(ctx.who.nation),
        "name": name,
        "object_marking_refs": [marking_id(level)],
        "extensions": {
            INCIDENT_CORE: {
                "extension_type": "property-extension",
                "investigation_status": Status.NEW.value,
                "determination": Determination.SUSPECTED.value,
                **({"incident_types": list(types)} if types else {}),
            }
        },
    }
    if description.strip():
        incident["description"] = description.strip()
    _store(ctx, collection, incident)
    ctx.record("intel.case.opened", incident["id"], collection=collection.alias, title=name)
    return _case(ctx, _Found(collection, incident, level, ctx.who.nation))


def _evidence(ctx: Ctx, case: Case) -> None:
    # A case worked to its end, across borders or not, is incident-response capacity.
    record_evidence(
        ctx,
        "intel",
        "intel.case.closed",
        f"Case {case.title!r} closed ({case.determination.value}); nations on it: "
        f"{', '.join(case.nations)}",
        SUPPORTS,
        detail={"case": case.id, "nations": case.nations, "entries": len(case.timeline)},
    )


@dataclass(frozen=True)
class _Found:
    collection: IntelCollection
    body: dict[str, Any]
    tlp: Tlp
    nation: str


def _cases(ctx: Ctx) -> list[_Found]:
    found: dict[str, _Found] = {}
    for collection in readable_collections(ctx):
        for stored in each_object(ctx, collection, Filters(types=("incident",), limit=MAX_LIMIT)):
            nation = nation_of_identity(stored.created_by_ref) or ctx.who.nation
            found.setdefault(stored.id, _Found(collection, stored.as_dict(), stored.tlp, nation))
    return list(found.values())


def _find(ctx: Ctx, ref: str) -> _Found:
    wanted = ref.strip().lower().removeprefix("incident--")
    if len(wanted) < MIN_REF:
        raise InvalidInput(
            f"case {ref!r} is too short: give its id or the first {MIN_REF} characters of it"
        )
    matches = [
        c for c in _cases(ctx) if str(c.body["id"]).removeprefix("incident--").startswith(wanted)
    ]
    if not matches:
        raise CaseNotFound(
            f"no case {ref!r} that you may see: `seawall intel case list` shows them"
        )
    if len(matches) > 1:
        raise InvalidInput(f"{ref!r} names {len(matches)} cases: give more of the id")
    return matches[0]


def _known(kind: type[Choice], value: Any, otherwise: Choice) -> Choice:
    # A partner's node may send a value this one does not know (a newer vocabulary).
    return kind(value) if isinstance(value, str) and value in set(kind) else otherwise


def _status_of(core: dict[str, Any]) -> Status:
    # An unknown status is still being worked: open.
    return _known(Status, core.get("investigation_status", Status.NEW.value), Status.OPEN)


def _determination_of(core: dict[str, Any]) -> Determination:
    value = core.get("determination", Determination.SUSPECTED.value)
    return _known(Determination, value, Determination.SUSPECTED)


def _entries(version: Version, case_id: str) -> list[Entry]:
    """The timeline entries one note or relationship makes for a case (none if unrelated)."""
    obj = version.body
    at = parse_timestamp(obj["created"], version.id, "created")
    nation = nation_of_identity(version.created_by_ref) or version.owner_nation
    if version.type == "relationship":
        if obj.get("source_ref") != case_id:
            return []
        target = str(obj.get("target_ref", ""))
        text = str(obj.get("description", ""))
        return [
            Entry(at, "link", nation, version.submitted_by, text, version.tlp, version.id, target)
        ]
    refs = [str(r) for r in obj.get("object_refs") or []]
    if case_id not in refs:
        return []
    author = ", ".join(obj.get("authors") or [version.submitted_by])
    content = str(obj.get("content", ""))
    others = [r for r in refs if r != case_id]
    if not others:
        return [Entry(at, "note", nation, author, content, version.tlp, version.id)]
    # A note naming the incident and other objects links them to the case (a relationship
    # may not name a sighting); its content is the reason.
    reason = "" if content == LINKED else content
    return [
        Entry(at, "link", nation, author, reason, version.tlp, version.id, target)
        for target in others
    ]


def _names(ctx: Ctx, object_ids: list[str]) -> dict[str, str]:
    """A short name of each object the caller may read, read through the store with the
    caller's rights (by id index); an object they may not read gets none."""
    names: dict[str, str] = {}
    wanted = list(dict.fromkeys(object_ids))
    for collection in readable_collections(ctx):
        unnamed = [i for i in wanted if i not in names]
        for start in range(0, len(unnamed), 200):
            filters = Filters(ids=tuple(unnamed[start : start + 200]), limit=MAX_LIMIT)
            for stored in query_objects(ctx, collection, filters).objects:
                name = summary_of(stored.as_dict())
                if name != stored.id:
                    names[stored.id] = name
    return names


def _case(ctx: Ctx, found: _Found) -> Case:
    body, core = found.body, _core(found.body)
    case_id = str(body["id"])
    timeline: list[Entry] = []
    # MAX_LIMIT, not search's 200: a long incident's timeline is not cut short.
    for _alias, version in holding(ctx, case_id, ("note", "relationship"), limit=MAX_LIMIT):
        timeline += _entries(version, case_id)
    names = _names(ctx, [e.target_id for e in timeline if e.target_id])
    timeline = [replace(e, target_name=names.get(e.target_id, "")) for e in timeline]
    timeline.sort(key=lambda e: (e.at, e.object_id, e.target_id))
    types = core.get("incident_types")
    return Case(
        id=case_id,
        collection=found.collection.alias,
        title=str(body.get("name", "")),
        description=str(body.get("description", "")),
        status=_status_of(core),
        determination=_determination_of(core),
        types=[str(t) for t in types] if isinstance(types, list) else [],
        tlp=found.tlp,
        nation=found.nation,
        opened=parse_timestamp(body["created"], case_id, "created"),
        updated=max(
            [parse_timestamp(body["modified"], case_id, "modified"), *(e.at for e in timeline)]
        ),
        timeline=timeline,
    )


def open_case_titles(ctx: Ctx) -> list[tuple[str, str]]:
    """(id, title) of every case the caller may see that is not closed, for a picker;
    no timelines are read."""
    require(ctx.who, Perm.INTEL_READ)
    found = [c for c in _cases(ctx) if _status_of(_core(c.body)) is not Status.CLOSED]
    return sorted((str(c.body["id"]), str(c.body.get("name", ""))) for c in found)


def show_case(ctx: Ctx, ref: str) -> Case:
    """One case with its timeline of notes and links, as the caller may see it."""
    require(ctx.who, Perm.INTEL_READ)
    return _case(ctx, _find(ctx, ref))


def list_cases(ctx: Ctx) -> list[Case]:
    """Every case the caller may see, the most recently active first."""
    require(ctx.who, Perm.INTEL_READ)
    cases = [_case(ctx, found) for found in _cases(ctx)]
    return sorted(cases, key=lambda c: c.updated, reverse=True)


def add_note(ctx: Ctx, ref: str, text: str, tlp: str | None = None) -> Case:
    """Add a note to a case's timeline, marked as the case or stricter."""
    require(ctx.who, Perm.INTEL_WRITE)
    content = text.strip()
    if not content:
        raise InvalidInput("a note needs text: say what was found or done")
    found = _find(ctx, ref)
    level = max(found.tlp, parse_tlp(tlp)) if tlp else found.tlp
    now = format_timestamp(ctx.now())
    note = {
        "type": "note",
        "spec_version": "2.1",
        "id": f"note--{ctx.ids()}",
        "created": now,
        "modified": now,
        "created_by_ref": identity_id(ctx.who.nation),
        "authors": [ctx.who.username],
        "content": content,
        "object_refs": [found.body["id"]],
        "object_marking_refs": [marking_id(level)],
    }
    _store(ctx, found.collection, note)
    ctx.record("intel.case.noted", str(found.body["id"]), note=note["id"])
    return _case(ctx, found)


def _readable(ctx: Ctx, object_id: str) -> list[StoredObject]:
    """The newest version of an object in each collection the caller may read (by id index)."""
    found: list[StoredObject] = []
    for collection in readable_collections(ctx):
        found += query_objects(ctx, collection, Filters(ids=(object_id,))).objects
    return found


def _link(ctx: Ctx, case_id: str, object_id: str, why: str, level: Tlp) -> dict[str, Any]:
    """The STIX object linking a case to one object: the target's id and the user's reason,
    never words of the target (its collection may reach fewer people than the case's)."""
    now = format_timestamp(ctx.now())
    common = {
        "spec_version": "2.1",
        "created": now,
        "modified": now,
        "created_by_ref": identity_id(ctx.who.nation),
        "object_marking_refs": [marking_id(level)],
    }
    if object_id.partition("--")[0] in NOT_RELATABLE:
        return {
            "type": "note",
            "id": f"note--{ctx.ids()}",
            **common,
            "authors": [ctx.who.username],
            "content": why or LINKED,
            "object_refs": [case_id, object_id],
        }
    return {
        "type": "relationship",
        "id": f"relationship--{ctx.ids()}",
        **common,
        "relationship_type": "related-to",
        "source_ref": case_id,
        "target_ref": object_id,
        **({"description": why} if why else {}),
    }


def link_objects(ctx: Ctx, ref: str, object_ids: list[str], why: str = "") -> Case:
    """Link objects the caller may read to a case; each link is marked no looser than its target.

    An object the caller's nation has linked to the case already is not linked again.
    """
    require(ctx.who, Perm.INTEL_WRITE)
    found = _find(ctx, ref)
    case_id = str(found.body["id"])
    linked = {e.target_id for e in _case(ctx, found).links if e.nation == ctx.who.nation}
    for object_id in dict.fromkeys(o.strip() for o in object_ids if o.strip()):
        targets = _readable(ctx, object_id)
        if not targets:
            raise ObjectNotFound(
                f"no object {object_id!r} that you may read: `seawall intel search` finds them"
            )
        if object_id in linked:
            continue
        level = max(found.tlp, *(t.tlp for t in targets))
        _store(ctx, found.collection, _link(ctx, case_id, object_id, why.strip(), level))
        ctx.record("intel.case.linked", case_id, linked=object_id)
    return _case(ctx, found)


def set_status(
    ctx: Ctx,
    ref: str,
    status: Status | None = None,
    determination: Determination | None = None,
) -> Case:
    """A new version of the incident with its status or determination changed (opener only)."""
    require(ctx.who, Perm.INTEL_WRITE)
    found = _find(ctx, ref)
    if found.body.get("created_by_ref") != identity_id(ctx.who.nation):
        raise NotCaseOwner(
            f"only {found.nation} may change this case's status; add a note to it instead"
        )
    if status is None and determination is None:
        raise InvalidInput("say what changes: --status new|open|closed or --determination ...")
    body = copy.deepcopy(found.body)
    core = _core(body)
    if status is not None:
        core["investigation_status"] = status.value
    if determination is not None:
        core["determination"] = determination.value
    body.setdefault("extensions", {})[INCIDENT_CORE] = core
    previous = parse_timestamp(body["modified"], str(body["id"]), "modified")
    body["modified"] = format_timestamp(max(ctx.now(), previous + timedelta(milliseconds=1)))
    _store(ctx, found.collection, body)
    ctx.record(
        "intel.case.updated",
        str(body["id"]),
        status=core.get("investigation_status"),
        determination=core.get("determination"),
    )
    changed = _case(ctx, replace(found, body=body))
    if status is Status.CLOSED and _core(found.body).get("investigation_status") != "closed":
        _evidence(ctx, changed)
    return changed
