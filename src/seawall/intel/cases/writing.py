"""Working a case in STIX: opening it, notes, links, and the opener's status and severity."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.core.evidence import record_evidence
from seawall.db.models.intel import IntelCollection
from seawall.errors import InvalidInput
from seawall.intel.cases.reading import Case, Found, build_case, find_case
from seawall.intel.cases.vocab import (
    INCIDENT_CORE,
    LINKED,
    NOT_RELATABLE,
    SUPPORTS,
    Determination,
    Severity,
    Status,
    core_of,
)
from seawall.intel.collections import default_marking, get_collection
from seawall.intel.errors import NotCaseOwner, ObjectNotFound
from seawall.intel.identity import identity_id
from seawall.intel.search import readable_collections
from seawall.intel.store import writing
from seawall.intel.store.reading import Filters, StoredObject, query_objects
from seawall.intel.tlp import Tlp, marking_id, parse_tlp
from seawall.intel.validation import format_timestamp, parse_timestamp


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
    severity: Severity = Severity.MEDIUM,
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
                "criticality": severity.criticality,
                **({"incident_types": list(types)} if types else {}),
            }
        },
    }
    if description.strip():
        incident["description"] = description.strip()
    _store(ctx, collection, incident)
    ctx.record(
        "intel.case.opened",
        incident["id"],
        collection=collection.alias,
        title=name,
        severity=severity.value,
    )
    return build_case(ctx, Found(collection, incident, level, ctx.who.nation))


def _evidence(ctx: Ctx, case: Case) -> None:
    # A case worked to its end, across borders or not, is incident-response capacity.
    record_evidence(
        ctx,
        "intel",
        "intel.case.closed",
        f"Case {case.title!r} closed ({case.determination.value}); nations on it: "
        f"{', '.join(case.nations)}",
        SUPPORTS,
        detail={
            "case": case.id,
            "title": case.title,
            "determination": case.determination.value,
            "nations": case.nations,
            "entries": len(case.timeline),
        },
    )


def add_note(ctx: Ctx, ref: str, text: str, tlp: str | None = None) -> Case:
    """Add a note to a case's timeline, marked as the case or stricter."""
    require(ctx.who, Perm.INTEL_WRITE)
    content = text.strip()
    if not content:
        raise InvalidInput("a note needs text: say what was found or done")
    found = find_case(ctx, ref)
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
        "object_refs": [found.id],
        "object_marking_refs": [marking_id(level)],
    }
    _store(ctx, found.collection, note)
    ctx.record("intel.case.noted", found.id, note=note["id"])
    return build_case(ctx, found)


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
    found = find_case(ctx, ref)
    case_id = found.id
    linked = {e.target_id for e in build_case(ctx, found).links if e.nation == ctx.who.nation}
    for object_id in dict.fromkeys(o.strip() for o in object_ids if o.strip()):
        if object_id == case_id:
            raise InvalidInput("a case is not linked to itself")
        targets = _readable(ctx, object_id)
        if not targets:
            raise ObjectNotFound(
                f"no object {object_id!r} that you may read",
                cli="`seawall intel search` finds them",
                web="the Search page (/intel/search) finds them",
            )
        if object_id in linked:
            continue
        level = max(found.tlp, *(t.tlp for t in targets))
        _store(ctx, found.collection, _link(ctx, case_id, object_id, why.strip(), level))
        ctx.record("intel.case.linked", case_id, linked=object_id)
    return build_case(ctx, found)


def set_status(
    ctx: Ctx,
    ref: str,
    status: Status | None = None,
    determination: Determination | None = None,
    severity: Severity | None = None,
) -> Case:
    """A new version of the incident with its status, determination or severity changed
    (opener only: STIX 2.1 §3.6, only the creator versions an object)."""
    require(ctx.who, Perm.INTEL_WRITE)
    found = find_case(ctx, ref)
    if found.body.get("created_by_ref") != identity_id(ctx.who.nation):
        raise NotCaseOwner(
            f"only {found.nation} may change this case's status; add a note to it instead"
        )
    if status is None and determination is None and severity is None:
        raise InvalidInput(
            "say what changes: --status new|open|closed, --determination ... or --severity ..."
        )
    body = copy.deepcopy(found.body)
    core = core_of(body)
    if status is not None:
        core["investigation_status"] = status.value
    if determination is not None:
        core["determination"] = determination.value
    if severity is not None:
        core["criticality"] = severity.criticality
    body.setdefault("extensions", {})[INCIDENT_CORE] = core
    previous = parse_timestamp(body["modified"], found.id, "modified")
    body["modified"] = format_timestamp(max(ctx.now(), previous + timedelta(milliseconds=1)))
    _store(ctx, found.collection, body)
    changed = build_case(ctx, Found(found.collection, body, found.tlp, found.nation))
    ctx.record(
        "intel.case.updated",
        found.id,
        status=core.get("investigation_status"),
        determination=core.get("determination"),
        severity=changed.severity.value,
    )
    if status is Status.CLOSED and core_of(found.body).get("investigation_status") != "closed":
        _evidence(ctx, changed)
    return changed
