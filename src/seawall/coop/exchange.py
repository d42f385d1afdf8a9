"""Programmes and partner organisations in and out as CSV or JSON (docs/coop.md, "Files").

A CSV file has a header row; a cell holding several values separated them with ``;``. The
columns are named as in the JSON documents, and a programme's also by the names the GFCE's
Cybil portal gives its project fields (``title``, ``funder``, ``beneficiary countries``, ...).
A JSON file is what the export writes (``{"format": ..., "programmes": [...]}``) or a bare
list of the same objects. An import is whole or nothing: the first bad row stops it with one
line naming the row and the column, and nothing of the file is kept. A row whose reference
(programmes) or name (organisations) the nation already holds replaces that record.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from seawall.coop.errors import ImportRowInvalid
from seawall.coop.fields import (
    Catalogue,
    OrganisationDraft,
    ProgrammeDraft,
    check_organisation,
    check_programme,
    organisation_doc,
    programme_doc,
    programme_from_doc,
)
from seawall.coop.organisations import save_organisation
from seawall.coop.programmes import save_programme
from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.db.models.coop import CoopOrganisation, Programme
from seawall.errors import InvalidInput
from seawall.settings import Settings

PROGRAMMES_FORMAT = "seawall-coop-programmes/1"
ORGANISATIONS_FORMAT = "seawall-coop-organisations/1"
MAX_ROWS = 10_000
SEPARATOR = ";"

PROGRAMME_COLUMNS = (
    "ref", "name", "description", "funders", "implementers", "beneficiaries", "addresses",
    "start", "end", "budget", "currency", "status", "outputs", "sources", "note", "shareable",
)  # fmt: skip
ORGANISATION_COLUMNS = (
    "name", "acronym", "kind", "country", "website", "contact", "note", "shareable",
)  # fmt: skip
# Cybil's names for a project's fields, and other common spellings, as our columns.
PROGRAMME_ALIASES = {
    "title": "name",
    "project": "name",
    "funder": "funders",
    "donor": "funders",
    "donors": "funders",
    "implementer": "implementers",
    "implementing organisation": "implementers",
    "beneficiary": "beneficiaries",
    "beneficiary countries": "beneficiaries",
    "beneficiary country": "beneficiaries",
    "factors": "addresses",
    "start date": "start",
    "end date": "end",
    "budget currency": "currency",
    "budget's currency": "currency",
    "objectives": "outputs",
    "links": "sources",
    "link": "sources",
    "source": "sources",
}
# Cybil columns read and set aside: Seawall keeps factors, not Cybil's topics.
PROGRAMME_IGNORED = frozenset(
    {"topics", "region", "beneficiary region", "partners", "id", "nation"}
)
ORGANISATION_IGNORED = frozenset({"id", "nation", "received"})
_LISTS = frozenset({"funders", "implementers", "beneficiaries", "addresses", "sources"})
_TRUE = frozenset({"yes", "true", "1", "y", "shared", "shareable"})
_FALSE = frozenset({"no", "false", "0", "n", "", "private"})


@dataclass
class Imported:
    """What an import did: the references or names added, updated and unchanged."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        """The report for ``--json``."""
        return {"added": self.added, "updated": self.updated, "unchanged": self.unchanged}


def _flag(value: str, where: str) -> bool:
    key = value.strip().lower()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ImportRowInvalid(f"{where}: {value!r} is not yes or no")


def _rows(
    data: bytes,
    fmt: str,
    columns: Sequence[str],
    aliases: Mapping[str, str],
    ignored: frozenset[str],
) -> Iterator[tuple[str, dict[str, Any], Callable[[str], str]]]:
    """(where, values, column-of-field) for each row: values are strings (CSV) or JSON."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRowInvalid("the file is not UTF-8 text") from None
    if fmt == "json":
        yield from _json_rows(text, columns, ignored)
    elif fmt == "csv":
        yield from _csv_rows(text, columns, aliases, ignored)
    else:
        raise InvalidInput(f"unknown format {fmt!r}: choose csv or json")


def _csv_rows(
    text: str, columns: Sequence[str], aliases: Mapping[str, str], ignored: frozenset[str]
) -> Iterator[tuple[str, dict[str, Any], Callable[[str], str]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header:
        raise ImportRowInvalid("row 1: the file has no header row")
    names: list[str | None] = []
    original: dict[str, str] = {}
    for cell in header:
        # Cybil writes a plural as "Funder(s)": read it as "funders".
        key = " ".join(cell.strip().lower().replace("_", " ").replace("(s)", "s").split())
        column = aliases.get(key, key.replace(" ", "_"))
        if key in ignored or column in ignored:
            names.append(None)
            continue
        if column not in columns:
            raise ImportRowInvalid(
                f"row 1, column {cell.strip()!r}: not a column of this file; use "
                f"{', '.join(columns)}"
            )
        if column in original:
            raise ImportRowInvalid(f"row 1, column {cell.strip()!r}: given twice")
        original[column] = cell.strip()
        names.append(column)
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if number > MAX_ROWS + 1:
            raise ImportRowInvalid(f"row {number}: at most {MAX_ROWS} rows in one file")
        if len(cells) > len(names):
            raise ImportRowInvalid(f"row {number}: {len(cells)} cells for {len(names)} columns")
        values: dict[str, Any] = {}
        for name, cell in zip(names, cells, strict=False):
            if name is None:
                continue
            if name in _LISTS:
                values[name] = [v.strip() for v in cell.split(SEPARATOR) if v.strip()]
            else:
                values[name] = cell
        yield f"row {number}", values, lambda c: original.get(c, c)


def _json_rows(
    text: str, columns: Sequence[str], ignored: frozenset[str]
) -> Iterator[tuple[str, dict[str, Any], Callable[[str], str]]]:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ImportRowInvalid(f"the file is not JSON: {exc}") from None
    records = doc.get("programmes", doc.get("organisations")) if isinstance(doc, dict) else doc
    if not isinstance(records, list):
        raise ImportRowInvalid("the file is neither a list of records nor an export of them")
    if len(records) > MAX_ROWS:
        raise ImportRowInvalid(f"at most {MAX_ROWS} records in one file")
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise ImportRowInvalid(f"record {number}: not an object")
        unknown = sorted(set(record) - set(columns) - ignored - {"received"})
        if unknown:
            raise ImportRowInvalid(
                f"record {number}, field {unknown[0]!r}: not a field of this file; use "
                f"{', '.join(columns)}"
            )
        yield f"record {number}", dict(record), lambda c: c


def _row_error(where: str, column: Callable[[str], str], message: str) -> ImportRowInvalid:
    """One line naming the row and the column; a field's error says its field first."""
    field_name, _, rest = message.partition(":")
    return ImportRowInvalid(f"{where}, column {column(field_name.strip())}: {rest.strip()}")


def _programme(values: dict[str, Any], where: str) -> ProgrammeDraft:
    def fail(message: str) -> ImportRowInvalid:
        return _row_error(where, lambda c: c, message)

    if isinstance(values.get("shareable"), str):
        values["shareable"] = _flag(values["shareable"], f"{where}, column shareable")
    for name in ("start", "end"):
        if isinstance(values.get(name), str):
            values[name] = values[name].strip() or None
    for name in _LISTS:
        if isinstance(values.get(name), str):
            values[name] = [v.strip() for v in values[name].split(SEPARATOR) if v.strip()]
    if isinstance(values.get("budget"), str):
        values["budget"] = values["budget"].strip() or None
    for name in ("ref", "name"):
        if not str(values.get(name) or "").strip():
            raise ImportRowInvalid(f"{where}, column {name}: required")
    return programme_from_doc(values, fail)


def import_programmes(
    ctx: Ctx, settings: Settings, data: bytes, fmt: str, catalogue: Catalogue | None = None
) -> Imported:
    """Add or replace the caller's nation's programmes from a CSV or JSON file."""
    require(ctx.who, Perm.COOP_WRITE)
    drafts: list[ProgrammeDraft] = []
    seen: dict[str, str] = {}
    rows = _rows(data, fmt, PROGRAMME_COLUMNS, PROGRAMME_ALIASES, PROGRAMME_IGNORED)
    for where, values, column in rows:
        try:
            draft = check_programme(_programme(values, where), ctx.who.nation, catalogue)
        except ImportRowInvalid:
            raise
        except InvalidInput as exc:
            raise _row_error(where, column, exc.message) from None
        if draft.ref in seen:
            raise ImportRowInvalid(
                f"{where}, column {column('ref')}: {draft.ref!r} is already {seen[draft.ref]}"
            )
        seen[draft.ref] = where
        drafts.append(draft)
    done = Imported()
    for draft in drafts:
        row, outcome = save_programme(ctx, settings, draft, catalogue, replace_existing=True)
        getattr(done, outcome).append(row.ref)
    ctx.record("coop.programme.imported", ctx.who.nation, format=fmt, **done.as_dict())
    return done


def import_organisations(ctx: Ctx, settings: Settings, data: bytes, fmt: str) -> Imported:
    """Add or replace the caller's nation's partner organisations from a CSV or JSON file."""
    require(ctx.who, Perm.COOP_WRITE)
    drafts: list[OrganisationDraft] = []
    seen: dict[str, str] = {}
    rows = _rows(data, fmt, ORGANISATION_COLUMNS, {}, ORGANISATION_IGNORED)
    for where, values, column in rows:
        try:
            shareable = values.get("shareable", False)
            if isinstance(shareable, str):
                shareable = _flag(shareable, f"{where}, column {column('shareable')}")
            draft = check_organisation(
                OrganisationDraft(
                    **{
                        k: str(values.get(k) or "")
                        for k in ORGANISATION_COLUMNS
                        if k != "shareable"
                    },
                    shareable=bool(shareable),
                )
            )
        except ImportRowInvalid:
            raise
        except InvalidInput as exc:
            raise _row_error(where, column, exc.message) from None
        key = draft.name.casefold()
        if key in seen:
            raise ImportRowInvalid(
                f"{where}, column {column('name')}: {draft.name!r} is already {seen[key]}"
            )
        seen[key] = where
        drafts.append(draft)
    done = Imported()
    for draft in drafts:
        row, outcome = save_organisation(ctx, settings, draft, replace_existing=True)
        getattr(done, outcome).append(row.name)
    ctx.record("coop.organisation.imported", ctx.who.nation, format=fmt, **done.as_dict())
    return done


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return f"{SEPARATOR} ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def _write(fmt: str, key: str, tag: str, columns: Sequence[str], docs: list[dict[str, Any]]) -> str:
    if fmt == "json":
        body = {"format": tag, key: [{c: d[c] for c in ("nation", *columns)} for d in docs]}
        return json.dumps(body, indent=2, ensure_ascii=False) + "\n"
    if fmt != "csv":
        raise InvalidInput(f"unknown format {fmt!r}: choose csv or json")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for doc in docs:
        writer.writerow([_cell(doc[c]) for c in columns])
    return out.getvalue()


def export_programmes(rows: Sequence[Programme], fmt: str) -> str:
    """Programmes as CSV or JSON, in the format the import reads."""
    return _write(fmt, "programmes", PROGRAMMES_FORMAT, PROGRAMME_COLUMNS,
                  [programme_doc(r) for r in rows])  # fmt: skip


def export_organisations(rows: Sequence[CoopOrganisation], fmt: str) -> str:
    """Partner organisations as CSV or JSON, in the format the import reads."""
    return _write(fmt, "organisations", ORGANISATIONS_FORMAT, ORGANISATION_COLUMNS,
                  [organisation_doc(r) for r in rows])  # fmt: skip
