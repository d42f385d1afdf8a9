"""Reading cases: finding one by id prefix, and building its timeline as a reader sees it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.core.refs import pick_one
from seawall.db.models.intel import IntelCollection
from seawall.errors import InvalidInput
from seawall.intel.cases.local import Person, Task, Work, load_work, local_names
from seawall.intel.cases.vocab import (
    LINKED,
    MIN_REF,
    Determination,
    Severity,
    Status,
    core_of,
    determination_of,
    severity_of,
    status_of,
)
from seawall.intel.errors import CaseNotFound
from seawall.intel.identity import nation_of_identity
from seawall.intel.search import Version, holding, holding_any, readable_collections, summary_of
from seawall.intel.sharing import PARTNER_PREFIX
from seawall.intel.store.reading import MAX_LIMIT, Filters, each_object, query_objects
from seawall.intel.tlp import Tlp
from seawall.intel.validation import format_timestamp, parse_timestamp


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
    author_name: str = ""  # the display name, when the author is a user of the reader's nation

    @property
    def target_type(self) -> str:
        """The linked object's STIX type, read from its id."""
        return self.target_id.partition("--")[0]

    @property
    def who(self) -> str:
        """The author as the reader knows them."""
        return self.author_name or self.author


@dataclass
class Case:
    """A case as the caller may see it, with the caller's nation's own work on it."""

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
    severity: Severity = Severity.MEDIUM
    assignee: Person | None = None
    tasks: list[Task] = field(default_factory=list)

    @property
    def short(self) -> str:
        """The first 8 characters of the UUID, which name the case on the command line."""
        return self.id.removeprefix("incident--")[:8]

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

    @property
    def open_tasks(self) -> int:
        """How many of the caller's nation's tasks are still open."""
        return Work(tasks=self.tasks).open_tasks

    def as_json(self) -> dict[str, Any]:
        """The case for scripts."""
        return {
            "id": self.id,
            "collection": self.collection,
            "title": self.title,
            "description": self.description,
            "status": self.status.value,
            "determination": self.determination.value,
            "severity": self.severity.value,
            "assignee": self.assignee.username if self.assignee else None,
            "types": self.types,
            "tlp": self.tlp.label,
            "nation": self.nation,
            "nations": self.nations,
            "opened": format_timestamp(self.opened),
            "updated": format_timestamp(self.updated),
            "tasks": [t.as_json() for t in self.tasks],
            "timeline": [
                {
                    "at": format_timestamp(e.at),
                    "kind": e.kind,
                    "nation": e.nation,
                    "author": e.author,
                    **({"author_name": e.author_name} if e.author_name else {}),
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


@dataclass(frozen=True)
class Found:
    """An incident as stored: where, its body, its marking and the nation that opened it."""

    collection: IntelCollection
    body: dict[str, Any]
    tlp: Tlp
    nation: str

    @property
    def id(self) -> str:
        """The incident's id."""
        return str(self.body["id"])


def all_cases(ctx: Ctx) -> list[Found]:
    """Every incident the caller may see, once each."""
    found: dict[str, Found] = {}
    for collection in readable_collections(ctx):
        for stored in each_object(ctx, collection, Filters(types=("incident",), limit=MAX_LIMIT)):
            nation = nation_of_identity(stored.created_by_ref) or ctx.who.nation
            found.setdefault(stored.id, Found(collection, stored.as_dict(), stored.tlp, nation))
    return list(found.values())


def find_case(ctx: Ctx, ref: str) -> Found:
    """The case the caller may see whose id is, or starts with, ``ref``."""
    wanted = ref.strip().lower().removeprefix("incident--")
    if len(wanted) < MIN_REF:
        raise InvalidInput(
            f"case {ref!r} is too short: give its id or the first {MIN_REF} characters of it"
        )
    matches = [c for c in all_cases(ctx) if c.id.removeprefix("incident--").startswith(wanted)]
    if not matches:
        raise CaseNotFound(
            f"no case {ref!r} that you may see",
            cli="`seawall intel case list` shows them",
            web="the Cases page (/intel/cases) lists them",
        )
    found = pick_one(ref, "case", matches, lambda c: c.id)  # AmbiguousId names them
    assert found is not None  # matches is not empty
    return found


@dataclass(frozen=True)
class _Made:
    """What a timeline entry needs of a stored note or relationship."""

    id: str
    type: str
    body: dict[str, Any]
    tlp: Tlp
    nation: str  # the nation that made it
    stored_by: str  # who stored it here (a relationship names no author)

    @classmethod
    def of(cls, version: Version) -> _Made:
        nation = nation_of_identity(version.created_by_ref) or version.owner_nation
        return cls(
            version.id, version.type, version.body, version.tlp, nation, version.submitted_by
        )


def _entries(made: _Made, case_id: str) -> list[Entry]:
    """The timeline entries one note or relationship makes for a case (none if unrelated)."""
    obj = made.body
    at = parse_timestamp(obj["created"], made.id, "created")
    if made.type == "relationship":
        if obj.get("source_ref") != case_id:
            return []
        target = str(obj.get("target_ref", ""))
        text = str(obj.get("description", ""))
        return [Entry(at, "link", made.nation, made.stored_by, text, made.tlp, made.id, target)]
    refs = [str(r) for r in obj.get("object_refs") or []]
    if case_id not in refs:
        return []
    author = ", ".join(obj.get("authors") or [made.stored_by])
    content = str(obj.get("content", ""))
    others = [r for r in refs if r != case_id]
    if not others:
        return [Entry(at, "note", made.nation, author, content, made.tlp, made.id)]
    # A note naming the incident and other objects links them to the case (a relationship
    # may not name a sighting); its content is the reason.
    reason = "" if content == LINKED else content
    return [
        Entry(at, "link", made.nation, author, reason, made.tlp, made.id, target)
        for target in others
    ]


def timelines(ctx: Ctx, case_ids: list[str]) -> dict[str, list[Entry]]:
    """The timeline of each case, in one pass over the notes and relationships the caller
    may read that name an incident, without names: for lists, where one search per case
    would read every body once per case."""
    wanted = set(case_ids)
    found: dict[str, dict[tuple[str, str], Entry]] = defaultdict(dict)
    if not wanted:
        return {}
    owners = {c.alias: c.owner_nation for c in readable_collections(ctx)}
    # The body scan keeps the rest (an ATT&CK import's 20,000 relationships) in the database.
    for alias, version in holding_any(ctx, ["incident--"], ("note", "relationship")):
        body = version.body
        refs = [body.get("source_ref")] if version.type == "relationship" else []
        refs += body.get("object_refs") or [] if version.type == "note" else []
        hits = [r for r in refs if isinstance(r, str) and r in wanted]
        if not hits:
            continue
        nation = nation_of_identity(version.created_by_ref) or owners[alias]
        made = _Made(version.id, version.type, body, version.tlp, nation, "")
        for case_id in hits:
            for entry in _entries(made, case_id):
                found[case_id].setdefault((entry.object_id, entry.target_id), entry)
    return {
        case_id: sorted(entries.values(), key=lambda e: (e.at, e.object_id, e.target_id))
        for case_id, entries in found.items()
    }


def _bodies(ctx: Ctx, object_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The newest body of each object the caller may read, read through the store with the
    caller's rights (by id index); an object they may not read is left out."""
    bodies: dict[str, dict[str, Any]] = {}
    wanted = list(dict.fromkeys(object_ids))
    for collection in readable_collections(ctx):
        unnamed = [i for i in wanted if i not in bodies]
        for start in range(0, len(unnamed), 200):
            filters = Filters(ids=tuple(unnamed[start : start + 200]), limit=MAX_LIMIT)
            for stored in query_objects(ctx, collection, filters).objects:
                bodies[stored.id] = stored.as_dict()
    return bodies


def object_names(ctx: Ctx, object_ids: list[str]) -> dict[str, str]:
    """A short name of each object the caller may read; one they may not read gets none.

    A sighting, which has no name, is named for what it sighted, when the caller may read
    that too, with how often it was seen (``lure.example`` times 3).
    """
    bodies = _bodies(ctx, object_ids)
    sighted = [
        str(b.get("sighting_of_ref", "")) for b in bodies.values() if b["type"] == "sighting"
    ]
    bodies |= _bodies(ctx, [s for s in sighted if s and s not in bodies])
    names: dict[str, str] = {}
    for object_id in object_ids:
        body = bodies.get(object_id)
        if body is None:
            continue
        name = summary_of(body)
        if body["type"] == "sighting":
            of = bodies.get(str(body.get("sighting_of_ref", "")))
            what = summary_of(of) if of else str(body.get("sighting_of_ref", ""))
            name = f"{what} \N{MULTIPLICATION SIGN}{body.get('count', 1)}"
        if name != object_id:
            names[object_id] = name
    return names


def build_case(ctx: Ctx, found: Found, work: Work | None = None) -> Case:
    """A case with its timeline, names resolved with the caller's rights, and the caller's
    nation's work on it."""
    case_id = found.id
    timeline: list[Entry] = []
    # MAX_LIMIT, not search's 200: a long incident's timeline is not cut short.
    for _alias, version in holding(ctx, case_id, ("note", "relationship"), limit=MAX_LIMIT):
        timeline += _entries(_Made.of(version), case_id)
    names = object_names(ctx, [e.target_id for e in timeline if e.target_id])
    # Only the reader's own nation's authors are looked up here: another nation's "analyst"
    # is not this node's "analyst".
    people = local_names(ctx, [e.author for e in timeline if e.nation == ctx.who.nation])
    timeline = [
        replace(
            e,
            # A relationship names no author: the one shown is who stored it here, which
            # for a partner's link is the partner (``partner:<name>``), no person: the
            # nation says who made it.
            author="" if e.author.startswith(PARTNER_PREFIX) else e.author,
            target_name=names.get(e.target_id, ""),
            author_name=people.get(e.author, "") if e.nation == ctx.who.nation else "",
        )
        for e in timeline
    ]
    timeline.sort(key=lambda e: (e.at, e.object_id, e.target_id))
    work = work if work is not None else load_work(ctx, [case_id])[case_id]
    return assemble(found, timeline, work)


def assemble(found: Found, timeline: list[Entry], work: Work) -> Case:
    """A case from its incident, its timeline (in order) and the nation's work on it."""
    body, core = found.body, core_of(found.body)
    case_id = found.id
    types = core.get("incident_types")
    return Case(
        id=case_id,
        collection=found.collection.alias,
        title=str(body.get("name", "")),
        description=str(body.get("description", "")),
        status=status_of(core),
        determination=determination_of(core),
        types=[str(t) for t in types] if isinstance(types, list) else [],
        tlp=found.tlp,
        nation=found.nation,
        opened=parse_timestamp(body["created"], case_id, "created"),
        updated=max(
            [parse_timestamp(body["modified"], case_id, "modified"), *(e.at for e in timeline)]
        ),
        timeline=timeline,
        severity=severity_of(core),
        assignee=work.assignee,
        tasks=work.tasks,
    )


def open_case_titles(ctx: Ctx) -> list[tuple[str, str]]:
    """(id, title) of every case the caller may see that is not closed, for a picker;
    no timelines are read."""
    require(ctx.who, Perm.INTEL_READ)
    found = [c for c in all_cases(ctx) if status_of(core_of(c.body)) is not Status.CLOSED]
    return sorted((c.id, str(c.body.get("name", ""))) for c in found)


def show_case(ctx: Ctx, ref: str) -> Case:
    """One case with its timeline of notes and links, as the caller may see it."""
    require(ctx.who, Perm.INTEL_READ)
    return build_case(ctx, find_case(ctx, ref))
