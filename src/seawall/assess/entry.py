"""Rounds entered at a regional hub from a file, for nations without a node of their own.

A hub holds each nation's round read-only (:class:`~seawall.db.models.assess.ReceivedRound`).
A nation with a node sends it signed (:mod:`seawall.assess.publication`); for a nation
without one the hub enters it from a file:

- **CSV**, one row per factor, header ``nation,year,framework,factor,stage,source`` and
  optionally ``dissent``, in any order. Several nations and years may share a file. A nation
  is an ISO 3166-1 code or English name; a blank framework is the default one; every row
  says where its figures come from (``source``).
- **JSON**: the document ``seawall assess round export`` writes without ``--signed``, or a
  list of them.

The file is checked whole before anything is stored: the first fault is refused in one line
naming its row and column (a CSV's header is row 1) or its document and field, and nothing
is stored. A round entered at the hub counts in every group the hub holds with its nation as
a member (or only those asked for); it never overwrites a round the nation's own node signed,
and a signed package of the same nation, year and framework replaces it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import select

from seawall.assess.errors import (
    NoSharedGroup,
    RoundEntryInvalid,
    RoundExists,
    SignedRoundHeld,
    StageOutOfRange,
    UnknownFactor,
    UnknownFramework,
    WrongFrameworkKind,
)
from seawall.assess.frameworks import DEFAULT_FRAMEWORK, Framework, available_frameworks
from seawall.assess.publication import PUBLISH, ROUND_PACKAGE, RoundMetadata
from seawall.assess.rounds import MAX_TEXT, MAX_YEAR, MIN_YEAR
from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.core.nations import groups_of, normalise_nation, region_members
from seawall.db.models.assess import ReceivedRound, Round
from seawall.errors import InvalidInput

PACKAGE, JSON, CSV = "package", "json", "csv"
FORMATS = (PACKAGE, JSON, CSV)
COLUMNS = ("nation", "year", "framework", "factor", "stage", "source")
OPTIONAL_COLUMNS = ("dissent",)
_HEADER_HINT = f"({','.join(COLUMNS)}, and optionally {', '.join(OPTIONAL_COLUMNS)})"


@dataclass(frozen=True)
class Entry:
    """One nation's round for one year and framework, as a file gives it, checked."""

    nation: str
    year: int
    framework_id: str
    stages: dict[str, int] = field(hash=False)
    dissent: dict[str, str] = field(hash=False)
    source: str
    # Where the round begins in the file ("row 2, column nation"), for later refusals.
    place: str
    rows: int
    # From a JSON document: the groups its nation consented to, when and by whom it was
    # published, and ratings if the nation included them.
    groups: tuple[str, ...] = ()
    published_at: datetime | None = None
    published_by: str = ""
    ratings: tuple[dict[str, Any], ...] = field(default=(), hash=False)
    # The nation published it without every factor agreed.
    partial: bool = False


@dataclass(frozen=True)
class Entered:
    """A round entered at the hub: stored new, or replacing one entered before."""

    round_id: str
    nation: str
    year: int
    framework_id: str
    rows: int
    outcome: str  # stored, replaced
    groups: tuple[str, ...]


def detect_format(data: bytes) -> str:
    """``package``, ``json`` or ``csv``, told from the content: the package magic line, a
    JSON object or list, or anything else."""
    start = data.removeprefix(b"\xef\xbb\xbf").lstrip()
    if data.startswith(ROUND_PACKAGE.magic):
        return PACKAGE
    return JSON if start[:1] in (b"{", b"[") else CSV


def _where(origin: str, place: str) -> str:
    return f"{origin}: {place}"


def _rateable(frameworks: Mapping[str, Framework], framework_id: str, at: str) -> Framework:
    framework = frameworks.get(framework_id)
    if framework is None:
        known = ", ".join(sorted(k for k, f in frameworks.items() if f.rateable))
        raise UnknownFramework(f"{at}: unknown framework {framework_id!r}: choose one of {known}")
    if not framework.rateable:
        raise WrongFrameworkKind(
            f"{at}: {framework.id} is an index, not rated in stages: "
            "import its figures with `seawall assess index import`"
        )
    return framework


def _factor(framework: Framework, given: str, at: str) -> str:
    known = {f.casefold(): f for f in framework.factors()}
    found = known.get(given.strip().casefold())
    if found is None:
        raise UnknownFactor(
            f"{at}: {given.strip()!r} is not a factor of {framework.id}: "
            f"use an id such as {next(iter(framework.factors()))}"
        )
    return found


def _stage(framework: Framework, given: object, at: str) -> int:
    scale = f"the {framework.id} scale {framework.stages.lowest}-{framework.stages.highest}"
    text = given.strip() if isinstance(given, str) else given
    if isinstance(text, str) and re.fullmatch(r"[0-9]{1,3}", text):
        text = int(text)
    if isinstance(text, bool) or not isinstance(text, int):
        raise StageOutOfRange(f"{at}: {given!r} is not a whole number on {scale}")
    if not framework.stages.lowest <= text <= framework.stages.highest:
        raise StageOutOfRange(f"{at}: {text} is outside {scale}")
    return text


def _year(given: str, at: str) -> int:
    text = given.strip()
    if not re.fullmatch(r"[0-9]{4}", text) or not MIN_YEAR <= int(text) <= MAX_YEAR:
        raise RoundEntryInvalid(
            f"{at}: {given!r} is not a year: use a whole number from {MIN_YEAR} to {MAX_YEAR}"
        )
    return int(text)


def _nation(given: str, at: str) -> str:
    if not given.strip():
        raise RoundEntryInvalid(f"{at}: missing: name the nation by ISO code or English name")
    try:
        return normalise_nation(given)
    except InvalidInput as exc:
        raise type(exc)(f"{at}: {exc}") from None


def _text(given: str, at: str) -> str:
    text = given.strip()
    if len(text) > MAX_TEXT:
        raise RoundEntryInvalid(f"{at}: {len(text)} characters; keep it under {MAX_TEXT}")
    return text


class _Draft:
    """A round being gathered from a CSV's rows."""

    def __init__(self, place: str) -> None:
        self.place = place
        self.stages: dict[str, int] = {}
        self.rows_of: dict[str, int] = {}
        self.dissent: dict[str, str] = {}
        self.sources: dict[str, None] = {}


def _header(record: list[str], origin: str) -> list[str]:
    names = [cell.strip().casefold() for cell in record]
    allowed = (*COLUMNS, *OPTIONAL_COLUMNS)
    for number, name in enumerate(names, start=1):
        if name not in allowed:
            shown = name or f"{number} (no name)"
            raise RoundEntryInvalid(
                f"{origin}: row 1, column {shown}: not a column of a round entry {_HEADER_HINT}"
            )
        if names.index(name) != number - 1:
            raise RoundEntryInvalid(f"{origin}: row 1, column {name}: named twice")
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        label = "column" if len(missing) == 1 else "columns"
        raise RoundEntryInvalid(
            f"{origin}: row 1, {label} {', '.join(missing)}: missing from the header {_HEADER_HINT}"
        )
    return names


def parse_csv(
    text: str,
    origin: str,
    frameworks: Mapping[str, Framework],
    default_framework: str = DEFAULT_FRAMEWORK,
) -> list[Entry]:
    """The rounds in a CSV of agreed stages, one row per factor, checked; the first fault
    raises, naming its row (the header is row 1, blank lines count) and column."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    drafts: dict[tuple[str, int, str], _Draft] = {}
    header: list[str] = []
    number = 0
    try:
        for number, record in enumerate(reader, start=1):
            if number == 1:
                header = _header(record, origin)
            elif any(cell.strip() for cell in record):
                _read_row(record, number, header, origin, frameworks, default_framework, drafts)
    except csv.Error as exc:
        raise RoundEntryInvalid(f"{origin}: row {number + 1}: not CSV ({exc})") from None
    if number == 0:
        _header([], origin)
    if not drafts:
        raise RoundEntryInvalid(f"{origin}: row 1, column nation: no rows after the header")
    return [
        Entry(
            nation=nation,
            year=year,
            framework_id=framework_id,
            stages=draft.stages,
            dissent=draft.dissent,
            source="; ".join(draft.sources),
            place=draft.place,
            rows=len(draft.stages),
        )
        for (nation, year, framework_id), draft in drafts.items()
    ]


def _read_row(
    record: list[str],
    number: int,
    header: list[str],
    origin: str,
    frameworks: Mapping[str, Framework],
    default_framework: str,
    drafts: dict[tuple[str, int, str], _Draft],
) -> None:
    if len(record) > len(header):
        raise RoundEntryInvalid(
            f"{origin}: row {number}, column {len(header) + 1}: more cells than the header names"
        )
    cells = dict(zip(header, [*record, *[""] * (len(header) - len(record))], strict=True))

    def at(column: str) -> str:
        return f"{origin}: row {number}, column {column}"

    nation = _nation(cells["nation"], at("nation"))
    year = _year(cells["year"], at("year"))
    framework = _rateable(
        frameworks, cells["framework"].strip() or default_framework, at("framework")
    )
    factor = _factor(framework, cells["factor"], at("factor"))
    stage = _stage(framework, cells["stage"], at("stage"))
    source = _text(cells["source"], at("source"))
    if not source:
        raise RoundEntryInvalid(f"{at('source')}: missing: say where the figures come from")
    dissent = _text(cells.get("dissent", ""), at("dissent"))
    key = (nation, year, framework.id)
    draft = drafts.setdefault(key, _Draft(f"row {number}, column nation"))
    if factor in draft.stages:
        raise RoundEntryInvalid(
            f"{at('factor')}: {factor} of {nation} {year} ({framework.id}) is given already "
            f"in row {draft.rows_of[factor]}"
        )
    draft.stages[factor] = stage
    draft.rows_of[factor] = number
    draft.sources[source] = None
    if dissent:
        draft.dissent[factor] = dissent


class _Document(BaseModel):
    """What ``seawall assess round export`` writes, and optionally where it came from."""

    model_config = ConfigDict(extra="forbid", strict=True)

    action: str
    round: RoundMetadata
    groups: dict[str, str] = {}
    stages: dict[str, int] = {}
    dissent: dict[str, str] = {}
    ratings: list[dict[str, Any]] = []
    source: str = ""


def parse_json(text: str, origin: str, frameworks: Mapping[str, Framework]) -> list[Entry]:
    """The rounds in a round document, or a list of them, checked; the first fault raises,
    naming its document (counted from 1) and field."""
    try:
        loaded = json.loads(text.removeprefix("\ufeff"))
    except json.JSONDecodeError as exc:
        raise RoundEntryInvalid(
            f"{origin}: line {exc.lineno}, column {exc.colno}: not JSON ({exc.msg})"
        ) from None
    documents = loaded if isinstance(loaded, list) else [loaded]
    if not documents:
        raise RoundEntryInvalid(f"{origin}: an empty list: no round document")
    entries: list[Entry] = []
    first: dict[tuple[str, int, str], int] = {}
    for number, raw in enumerate(documents, start=1):
        entry = _read_document(raw, number, origin, frameworks)
        key = (entry.nation, entry.year, entry.framework_id)
        if key in first:
            raise RoundEntryInvalid(
                f"{origin}: document {number}, field round: {entry.nation} {entry.year} "
                f"({entry.framework_id}) is given already in document {first[key]}"
            )
        first[key] = number
        entries.append(entry)
    return entries


def _read_document(
    raw: object, number: int, origin: str, frameworks: Mapping[str, Framework]
) -> Entry:
    def at(path: str) -> str:
        return f"{origin}: document {number}, field {path}"

    if not isinstance(raw, dict):
        raise RoundEntryInvalid(f"{origin}: document {number}: not a round document (an object)")
    try:
        doc = _Document.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        path = ".".join(str(p) for p in error["loc"]) or "(top)"
        raise RoundEntryInvalid(f"{at(path)}: not a round document ({error['msg']})") from None
    if doc.action != PUBLISH:
        raise RoundEntryInvalid(
            f'{at("action")}: {doc.action!r}: only a published round ("publish") is entered'
        )
    nation = _nation(doc.round.nation, at("round.nation"))
    year = _year(str(doc.round.year), at("round.year"))
    framework = _rateable(frameworks, doc.round.framework_id, at("round.framework_id"))
    try:
        published_at = datetime.fromisoformat(doc.round.published_at)
    except ValueError:
        raise RoundEntryInvalid(
            f"{at('round.published_at')}: {doc.round.published_at!r} is not an ISO 8601 time"
        ) from None
    if published_at.tzinfo is None:
        raise RoundEntryInvalid(f"{at('round.published_at')}: no time zone")
    if not doc.stages:
        raise RoundEntryInvalid(f"{at('stages')}: no agreed stage")
    stages = {
        _factor(framework, f, at(f"stages.{f}")): _stage(framework, s, at(f"stages.{f}"))
        for f, s in doc.stages.items()
    }
    dissent = {
        _factor(framework, f, at(f"dissent.{f}")): _text(t, at(f"dissent.{f}"))
        for f, t in doc.dissent.items()
    }
    source = _text(doc.source, at("source")) or (
        f"round {doc.round.id} of {nation} exported unsigned by its node ({origin})"
    )
    return Entry(
        nation=nation,
        year=year,
        framework_id=framework.id,
        stages=stages,
        dissent={f: t for f, t in dissent.items() if t},
        source=source,
        place=f"document {number}, field round.nation",
        rows=len(stages),
        groups=tuple(sorted({g.strip().upper() for g in doc.groups})),
        published_at=published_at,
        published_by=doc.round.published_by,
        ratings=tuple(doc.ratings),
        partial=doc.round.partial,
    )


def _decode(data: bytes, origin: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RoundEntryInvalid(
            f"{origin}: byte {exc.start + 1}: not UTF-8 text; save the file as UTF-8"
        ) from None


@dataclass(frozen=True)
class _Plan:
    entry: Entry
    groups: tuple[str, ...]
    replacing: list[ReceivedRound]


def _plan(ctx: Ctx, entry: Entry, origin: str, wanted: set[str]) -> _Plan:
    """Where an entry goes, or the one-line reason it cannot go anywhere."""
    at = _where(origin, entry.place)
    named = f"{entry.nation} {entry.year} ({entry.framework_id})"
    candidates = set(groups_of(ctx.db, entry.nation))
    if entry.groups:
        candidates &= set(entry.groups)
    if wanted:
        candidates &= wanted
    if not candidates:
        asked = sorted(wanted or set(entry.groups))
        raise NoSharedGroup(
            f"{at}: {entry.nation} is not a member of {', '.join(asked)} at this hub"
            if asked
            else f"{at}: {entry.nation} is a member of no group this hub holds"
        )
    local = ctx.db.scalar(
        select(Round).where(
            Round.nation == entry.nation,
            Round.year == entry.year,
            Round.framework_id == entry.framework_id,
        )
    )
    if local is not None:
        raise RoundExists(
            f"{at}: {named} is assessed on this node (round {local.id}); agree its factors there"
        )
    held = list(
        ctx.db.scalars(
            select(ReceivedRound)
            .where(
                ReceivedRound.nation == entry.nation,
                ReceivedRound.year == entry.year,
                ReceivedRound.framework_id == entry.framework_id,
            )
            .order_by(ReceivedRound.received_at)
        )
    )
    if any(not h.entered for h in held):
        raise SignedRoundHeld(
            f"{at}: {named} is held here as signed by {entry.nation}'s own node; its word "
            "stands, so nothing was entered"
        )
    return _Plan(entry, tuple(sorted(candidates)), held)


def enter_rounds(
    ctx: Ctx,
    data: bytes,
    origin: str,
    fmt: str | None = None,
    groups: Sequence[str] = (),
) -> list[Entered]:
    """Enter at this hub the rounds of a CSV or JSON file (``fmt``, else told from the
    content), for every group the hub holds with their nation as a member or only
    ``groups``; all of them, or none when any row is at fault."""
    require(ctx.who, Perm.ASSESS_PUBLISH)
    kind = fmt or detect_format(data)
    if kind not in (CSV, JSON):
        raise InvalidInput(
            f"{origin} is a {kind}: enter rounds from {CSV} or {JSON}, "
            "or import a signed package as one"
        )
    text = _decode(data, origin)
    frameworks = available_frameworks(ctx.db)
    entries = (parse_csv if kind == CSV else parse_json)(text, origin, frameworks)
    wanted = {g.strip().upper() for g in groups}
    for group in sorted(wanted):
        region_members(ctx.db, group)  # an unknown group is refused, naming the known ones
    plans = [_plan(ctx, entry, origin, wanted) for entry in entries]
    digest = hashlib.sha256(data).hexdigest()
    return [_store(ctx, plan, digest, origin) for plan in plans]


def _store(ctx: Ctx, plan: _Plan, digest: str, origin: str) -> Entered:
    entry, now, who = plan.entry, ctx.now(), ctx.who.username
    row = plan.replacing[0] if plan.replacing else None
    for extra in plan.replacing[1:]:
        ctx.db.delete(extra)
    if row is None:
        row = ReceivedRound(round_id=ctx.ids(), nation=entry.nation)
        ctx.db.add(row)
    row.framework_id = entry.framework_id
    row.year = entry.year
    row.published_at = entry.published_at or now
    row.published_by = entry.published_by or who
    row.groups = dict.fromkeys(plan.groups, who)
    row.withdrawn = {}
    row.stages = dict(entry.stages)
    row.dissent = dict(entry.dissent)
    row.ratings = list(entry.ratings)
    row.sender_key_id = ""
    row.package_sha256 = digest
    row.signed_at = now
    row.received_at = now
    row.source = entry.source
    row.entered_by = who
    row.partial = entry.partial
    ctx.db.flush()
    outcome = "replaced" if plan.replacing else "stored"
    ctx.record(
        "assess.round.entered",
        row.round_id,
        nation=entry.nation,
        year=entry.year,
        framework=entry.framework_id,
        rows=entry.rows,
        source=entry.source,
        by=who,
        groups=list(plan.groups),
        outcome=outcome,
        origin=origin,
    )
    return Entered(
        row.round_id,
        entry.nation,
        entry.year,
        entry.framework_id,
        entry.rows,
        outcome,
        plan.groups,
    )
