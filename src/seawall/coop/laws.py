"""Legal instruments: a nation's laws, bills, strategies and treaty acts, by kind and status.

Each operation authorises, runs and records (audit, and evidence when the nation's row of
the harmonisation matrix changes): the CLI, the web pages and the demo loader call the same
functions. Who may write which nation's records is :mod:`seawall.coop.records`' rule.

**Evidence for the CMM.** When a nation's cell changes (its most advanced instrument of a
kind, or that instrument's status, date or source), a core evidence record is written for
that nation (``coop.law.cell_changed``), supporting the CMM 2021 factors in :data:`SUPPORTS`:
the legal and regulatory dimension D4 (and D1.1 for a national strategy). ``assess`` offers
it to assessors beside those factors; neither pillar imports the other.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from seawall.coop.errors import ReceivedRecordReadOnly
from seawall.coop.matrix import (
    KIND_NAMES,
    KINDS,
    STATUS_NAMES,
    STATUSES,
    Instrument,
    Matrix,
    build_matrix,
    changed_cells,
)
from seawall.coop.records import (
    CoopRecordInvalid,
    InstrumentNotFound,
    choice_field,
    date_field,
    field_at,
    nation_field,
    read_rows,
    require_writer,
    standing_fields,
    starter_rows,
    text_field,
    url_field,
)
from seawall.coop.sharing import queue_public
from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.core.evidence import record_evidence
from seawall.core.nations import region_members
from seawall.core.refs import by_prefix
from seawall.db.models.coop_laws import LegalInstrument
from seawall.errors import Conflict, InvalidInput
from seawall.settings import Settings

# CMM 2021 factors each kind is evidence for (framework kind "cmm", so any CMM pack matches).
SUPPORTS: dict[str, list[str]] = {
    "data_protection": ["cmm:D4.1", "cmm:D4.2"],
    "cybercrime": ["cmm:D4.1", "cmm:D4.4"],
    "electronic_transactions": ["cmm:D4.2"],
    "cirt_mandate": ["cmm:D4.1", "cmm:D1.2"],
    "critical_infrastructure": ["cmm:D4.1", "cmm:D1.3"],
    "national_strategy": ["cmm:D1.1"],
    "budapest_convention": ["cmm:D4.4"],
}
COLUMNS = ("nation", "kind", "title", "status", "date", "source", "note", "sample")
REQUIRED = ("nation", "kind", "title", "status", "source")
FORMATS = ("csv", "json")


@dataclass(frozen=True)
class Fields:
    """An instrument's fields, checked."""

    nation: str
    kind: str
    title: str
    status: str
    date: str
    source: str
    note: str
    sample: bool


@dataclass(frozen=True)
class Imported:
    """What an import did: instruments added, changed and left as they were."""

    added: int
    updated: int
    unchanged: int
    evidence: int


def check_fields(values: dict[str, Any], at: str = "") -> Fields:
    """The fields of one instrument; ``at`` prefixes each fault (``f.csv: row 3, column``)."""
    nation, note, sample = standing_fields(values, at)
    return Fields(
        nation=nation,
        kind=choice_field(values.get("kind"), KINDS, field_at(at, "kind")),
        title=text_field(values.get("title"), field_at(at, "title"), required=True, limit=300),
        status=choice_field(values.get("status"), STATUSES, field_at(at, "status")),
        date=date_field(values.get("date", ""), field_at(at, "date")),
        source=url_field(values.get("source"), field_at(at, "source"), required=True),
        note=note,
        sample=sample,
    )


def as_instrument(row: LegalInstrument) -> Instrument:
    """The matrix's view of a stored instrument."""
    return Instrument(
        row.nation,
        row.kind,
        row.title,
        row.status,
        row.date,
        row.source,
        row.sample,
        row.id,
        received=row.received_at is not None,
    )


# A withdrawn instrument (a tombstone at a hub) is in no list and no matrix.
_HELD = LegalInstrument.withdrawn_at.is_(None)


def _nation_rows(ctx: Ctx, nation: str) -> list[LegalInstrument]:
    stmt = select(LegalInstrument).where(LegalInstrument.nation == nation, _HELD)
    return list(ctx.db.scalars(stmt))


def _nation_matrix(ctx: Ctx, nation: str) -> Matrix:
    return build_matrix([nation], [as_instrument(r) for r in _nation_rows(ctx, nation)])


def _record_changes(ctx: Ctx, before: Matrix, after: Matrix) -> int:
    """Evidence for each cell whose standing changed; returns how many were written."""
    written = 0
    for old, new in changed_cells(before, after):
        best = new.best
        kind = KIND_NAMES[new.kind]
        summary = (
            f"{new.nation} {kind}: {STATUS_NAMES[old.status]} -> {STATUS_NAMES[new.status]}"
            + (f" ({best.title}, {best.date or 'no date'})" if best else "")
        )
        record_evidence(
            ctx,
            "coop",
            "coop.law.cell_changed",
            summary,
            SUPPORTS[new.kind],
            detail={
                "nation": new.nation,
                "kind": new.kind,
                "before": old.status,
                "after": new.status,
                "title": best.title if best else "",
                "date": best.date if best else "",
                "source": best.source if best else "",
                "sample": bool(best and best.sample),
            },
            nation=new.nation,
        )
        written += 1
    return written


def _store(ctx: Ctx, fields: Fields, row: LegalInstrument | None) -> tuple[LegalInstrument, bool]:
    """Write ``fields`` to ``row`` (or a new row); returns it and whether anything changed."""
    now = ctx.now()
    if row is not None and row.received_at is not None:
        raise ReceivedRecordReadOnly(
            f"{row.title!r} was shared by {row.nation}'s node: it is changed there, not here"
        )
    if row is None:
        row = LegalInstrument(id=ctx.ids(), created_at=now, nation=fields.nation)
        ctx.db.add(row)
        changed = True
    else:
        changed = any(getattr(row, k) != getattr(fields, k) for k in Fields.__dataclass_fields__)
    if not changed:
        return row, False
    for key in Fields.__dataclass_fields__:
        setattr(row, key, getattr(fields, key))
    row.entered_by = ctx.who.username
    row.entered_as = ctx.who.nation
    row.updated_at = now
    ctx.db.flush()
    return row, True


def _same(ctx: Ctx, fields: Fields) -> LegalInstrument | None:
    return ctx.db.scalar(
        select(LegalInstrument).where(
            LegalInstrument.nation == fields.nation,
            LegalInstrument.kind == fields.kind,
            LegalInstrument.title == fields.title,
        )
    )


def _share(ctx: Ctx, settings: Settings | None, row: LegalInstrument, was_shared: bool) -> None:
    """Queue a change to one of this nation's own instruments for its hubs (not sample data;
    see :mod:`seawall.coop.public_records`)."""
    doc = {"id": row.id, **{k: getattr(row, k) for k in COLUMNS}}
    queue_public(ctx, settings, "law", row, doc, was_shared)


def add_instrument(ctx: Ctx, settings: Settings | None = None, **values: Any) -> LegalInstrument:
    """Record a new instrument (fields as in :data:`COLUMNS`); with this node's ``settings``,
    queue it for the hubs of its nation's groups."""
    fields = check_fields(values, "")
    require_writer(ctx, fields.nation, "laws")
    if _same(ctx, fields) is not None:
        raise Conflict(
            f"{fields.nation} already has the {fields.kind} instrument {fields.title!r}: "
            "update it instead"
        )
    before = _nation_matrix(ctx, fields.nation)
    row, _ = _store(ctx, fields, None)
    ctx.record("coop.law.added", row.id, **_audit(fields))
    _share(ctx, settings, row, False)
    _record_changes(ctx, before, _nation_matrix(ctx, fields.nation))
    return row


def update_instrument(
    ctx: Ctx, instrument_id: str, *, settings: Settings | None = None, **changes: Any
) -> LegalInstrument:
    """Change an instrument's fields (its nation never changes); queued as in
    :func:`add_instrument`."""
    row = get_instrument(ctx, instrument_id)
    require_writer(ctx, row.nation, "laws")
    if "nation" in changes and changes["nation"] not in (None, row.nation):
        raise CoopRecordInvalid("nation: an instrument's nation never changes; add a new one")
    current = {k: getattr(row, k) for k in COLUMNS}
    current.update({k: v for k, v in changes.items() if v is not None})
    fields = check_fields(current, "")
    clash = _same(ctx, fields)
    if clash is not None and clash.id != row.id:
        raise Conflict(f"{row.nation} already has the {fields.kind} instrument {fields.title!r}")
    before = _nation_matrix(ctx, row.nation)
    was_shared = not row.sample
    row, changed = _store(ctx, fields, row)
    if changed:
        ctx.record("coop.law.updated", row.id, **_audit(fields))
        _share(ctx, settings, row, was_shared)
        _record_changes(ctx, before, _nation_matrix(ctx, row.nation))
    return row


def _audit(fields: Fields) -> dict[str, Any]:
    return {
        "nation": fields.nation,
        "kind": fields.kind,
        "title": fields.title,
        "status": fields.status,
        "date": fields.date,
        "source": fields.source,
        "sample": fields.sample,
    }


def get_instrument(ctx: Ctx, instrument_id: str) -> LegalInstrument:
    """One instrument by id."""
    require(ctx.who, Perm.COOP_READ)
    stmt = select(LegalInstrument).where(LegalInstrument.withdrawn_at.is_(None))
    row = by_prefix(ctx.db, stmt, LegalInstrument.id, instrument_id, "legal instrument")
    if row is None or row.withdrawn_at is not None:
        raise InstrumentNotFound(
            f"no legal instrument {instrument_id!r}",
            cli="list them with `seawall coop law list`",
            web="the Laws page (/coop/laws) lists them",
        )
    return row


def list_instruments(
    ctx: Ctx, nation: str | None = None, kind: str | None = None, group: str | None = None
) -> list[LegalInstrument]:
    """Instruments by nation, kind and title, optionally of one nation, kind or region group."""
    require(ctx.who, Perm.COOP_READ)
    stmt = (
        select(LegalInstrument)
        .where(_HELD)
        .order_by(LegalInstrument.nation, LegalInstrument.kind, LegalInstrument.title)
    )
    if nation:
        stmt = stmt.where(LegalInstrument.nation == nation_field(nation, "nation"))
    if kind:
        stmt = stmt.where(LegalInstrument.kind == choice_field(kind, KINDS, "kind"))
    if group:
        stmt = stmt.where(LegalInstrument.nation.in_(region_members(ctx.db, group)))
    return list(ctx.db.scalars(stmt))


def import_instruments(
    ctx: Ctx, data: bytes, origin: str, settings: Settings | None = None
) -> Imported:
    """Add or update the instruments of a CSV or JSON file: all of them, or none when any row
    is at fault (the first fault raises, naming its row and column); queued as in
    :func:`add_instrument`."""
    require(ctx.who, Perm.COOP_WRITE)
    places = [
        (at, check_fields(dict(values), at))
        for at, values in read_rows(data, origin, COLUMNS, REQUIRED)
    ]
    if not places:
        raise CoopRecordInvalid(f"{origin}: no records after the header")
    seen: dict[tuple[str, str, str], str] = {}
    for at, fields in places:
        key = (fields.nation, fields.kind, fields.title)
        if key in seen:
            raise CoopRecordInvalid(
                f"{field_at(at, 'title')}: {fields.title!r} of {fields.nation} ({fields.kind}) "
                f"is given already ({seen[key]})"
            )
        seen[key] = at.removeprefix(f"{origin}: ").removesuffix(", column").removesuffix(", field")
        require_writer(ctx, fields.nation, "laws", at)
    checked = [fields for _, fields in places]
    nations = sorted({f.nation for f in checked})
    before = {n: _nation_matrix(ctx, n) for n in nations}
    added = updated = unchanged = 0
    for fields in checked:
        existing = _same(ctx, fields)
        was_shared = existing is not None and not existing.sample
        row, changed = _store(ctx, fields, existing)
        if not changed:
            unchanged += 1
            continue
        _share(ctx, settings, row, was_shared)
        if existing is None:
            added += 1
        else:
            updated += 1
        ctx.record("coop.law.imported", row.id, origin=origin, **_audit(fields))
    evidence = sum(_record_changes(ctx, before[n], _nation_matrix(ctx, n)) for n in nations)
    return Imported(added, updated, unchanged, evidence)


def instrument_record(row: LegalInstrument) -> dict[str, Any]:
    """An instrument as JSON and CSV export it."""
    return {
        "id": row.id,
        "nation": row.nation,
        "kind": row.kind,
        "title": row.title,
        "status": row.status,
        "date": row.date,
        "source": row.source,
        "note": row.note,
        "sample": row.sample,
        "entered_by": row.entered_by,
        "updated_at": row.updated_at.isoformat(),
    }


def export_instruments(ctx: Ctx, fmt: str = "csv", group: str | None = None) -> bytes:
    """The instruments as CSV or JSON, in the import's columns (so an export imports again)."""
    if fmt not in FORMATS:
        raise InvalidInput(f"format {fmt!r}: choose one of {', '.join(FORMATS)}")
    rows = list_instruments(ctx, group=group)
    if fmt == "json":
        records = [instrument_record(r) for r in rows]
        return (json.dumps({"instruments": records}, indent=2) + "\n").encode()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        sample = "true" if r.sample else "false"
        writer.writerow([r.nation, r.kind, r.title, r.status, r.date, r.source, r.note, sample])
    return out.getvalue().encode()


def matrix_nations(ctx: Ctx, group: str | None) -> list[str]:
    """The matrix's rows: a region group's members, or every nation with an instrument."""
    if group:
        return region_members(ctx.db, group)
    return sorted(set(ctx.db.scalars(select(LegalInstrument.nation).where(_HELD))))


def harmonisation_matrix(
    ctx: Ctx, group: str | None = None, nations: Sequence[str] | None = None
) -> Matrix:
    """Nations (a group's members, those given, or all with records) against kinds."""
    require(ctx.who, Perm.COOP_READ)
    rows = list(nations) if nations is not None else matrix_nations(ctx, group)
    stmt = select(LegalInstrument).where(LegalInstrument.nation.in_(rows), _HELD)
    return build_matrix(rows, (as_instrument(r) for r in ctx.db.scalars(stmt)))


STARTER = "laws_starter.csv"


def import_starter(ctx: Ctx, settings: Settings | None = None) -> tuple[Imported, list[str]]:
    """The shipped starter dataset (every row sourced, see ``data/SOURCES.md``), for the
    nations the caller may write; returns what was done and the nations left out."""
    require(ctx.who, Perm.COOP_WRITE)
    data, skipped = starter_rows(ctx, STARTER)
    return import_instruments(ctx, data, STARTER, settings), skipped


def load_instruments(ctx: Ctx, records: Iterable[dict[str, Any]], origin: str) -> Imported:
    """Import records already in memory (the starter dataset, the demo)."""
    payload = json.dumps(list(records)).encode()
    return import_instruments(ctx, payload, origin)
