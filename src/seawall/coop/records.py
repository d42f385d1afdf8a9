"""What legal instruments and CIRT entries share: who may write a nation's record, the
checks of their fields, the import file reader, and their errors.

::

    InvalidInput
    └── CoopRecordInvalid      a law or CIRT entry (or a row of an import file) with a bad field
    NotFound
    ├── InstrumentNotFound
    └── CirtNotFound
    Forbidden
    └── NotYourNation          changing another nation's law or CIRT entry

**Nation boundaries.** Laws and CIRT directories are public facts, so every holder of
``coop.read`` reads every nation's records. A record is written (``coop.write``) by a user of
its nation, or by the operator of this node (a hub) for a nation **without a node of its
own**: one no partner record names. Once a nation has a node, its word stands and the hub
no longer edits its records.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from importlib import resources
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import select

from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.core.nations import normalise_nation
from seawall.db.models import Partner
from seawall.errors import Forbidden, InvalidInput, NotFound, UnknownNation

SAMPLE_NOTE = "SAMPLE DATA: fictional, for demonstration only"
MAX_TEXT = 4000
# What an export adds to a record, and an import of that export passes over.
EXPORTED_ONLY = frozenset({"id", "entered_by", "updated_at"})
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


class CoopRecordInvalid(InvalidInput):
    """A legal instrument or CIRT entry, or a row of a file importing them, with a field that is
    missing or not acceptable (an unknown kind or status, a date that is no date, a source
    that is no http(s) URL)."""

    code = "coop_record_invalid"
    remedy = "Correct the row and column the message names; nothing was imported."


class InstrumentNotFound(NotFound):
    """No legal instrument with that id."""

    code = "instrument_not_found"
    remedy = "List them with ``seawall coop law list``."


class CirtNotFound(NotFound):
    """No CIRT entry for that nation (or id) in the directory."""

    code = "cirt_not_found"
    remedy = "List them with ``seawall coop cirt list``."


class NotYourNation(Forbidden):
    """A change to another nation's law or CIRT entry: a nation edits only its own, and a hub's
    operator only those of nations without a node of their own."""

    code = "coop_not_your_nation"
    remedy = "Ask that nation's node (or its users) to change it."


def has_own_node(ctx: Ctx, nation: str) -> bool:
    """Whether ``nation`` has a node of its own: this node's, or one a partner record names."""
    if nation == ctx.who.nation and ctx.who.node_operator:
        return True
    return ctx.db.scalar(select(Partner.id).where(Partner.nation == nation).limit(1)) is not None


def require_writer(ctx: Ctx, nation: str, what: str, at: str = "") -> None:
    """Refuse unless the caller may write ``nation``'s records (see the module's rules);
    ``at`` places a refusal (``f.csv: row 3, column``)."""
    require(ctx.who, Perm.COOP_WRITE)
    if nation == ctx.who.nation:
        return
    if ctx.who.node_operator and not has_own_node(ctx, nation):
        return
    where = f"{field_at(at, 'nation')}: " if at else ""
    if ctx.who.node_operator:
        raise NotYourNation(
            f"{where}{nation} has a node of its own: its {what} are changed there, not by this hub"
        )
    raise NotYourNation(
        f"{where}{ctx.who.username} ({ctx.who.nation}) may not change {nation}'s {what}: "
        "a nation edits only its own records"
    )


def may_write(ctx: Ctx, nation: str) -> bool:
    """Whether the caller may write ``nation``'s records."""
    try:
        require_writer(ctx, nation, "records")
    except Forbidden:
        return False
    return True


def starter_rows(ctx: Ctx, name: str) -> tuple[bytes, list[str]]:
    """A shipped starter file (``data/NAME``) as a JSON list of the rows the caller may write,
    and the nations left out (those with a node of their own enter their records there)."""
    text = resources.files("seawall.coop").joinpath(f"data/{name}").read_text("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    kept = [r for r in rows if may_write(ctx, r["nation"])]
    skipped = sorted({r["nation"] for r in rows} - {r["nation"] for r in kept})
    return json.dumps(kept).encode(), skipped


def field_at(at: str, name: str) -> str:
    """Where a field's fault is: ``at`` (``f.csv: row 3, column``) and the field's name."""
    return f"{at} {name}" if at else name


def standing_fields(values: Mapping[str, Any], at: str) -> tuple[str, str, bool]:
    """The nation, note and sample flag every law and CIRT entry has, checked; sample data's
    note says so."""
    sample = bool_field(values.get("sample", False), field_at(at, "sample"))
    note = text_field(values.get("note", ""), field_at(at, "note"))
    if sample and SAMPLE_NOTE not in note:
        note = f"{SAMPLE_NOTE}. {note}".strip()
    where = field_at(at, "nation")
    nation = nation_field(text_field(values.get("nation"), where, required=True), where)
    return nation, note, sample


def nation_field(value: str, at: str) -> str:
    """A nation code or English name, as alpha-2."""
    try:
        return normalise_nation(value)
    except UnknownNation as exc:
        raise CoopRecordInvalid(f"{at}: {exc.message}") from None


def text_field(value: object, at: str, required: bool = False, limit: int = MAX_TEXT) -> str:
    """Trimmed text, refused when empty (if required) or too long."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise CoopRecordInvalid(f"{at}: give text, not {type(value).__name__}")
    text = value.strip()
    if required and not text:
        raise CoopRecordInvalid(f"{at}: missing")
    if len(text) > limit:
        raise CoopRecordInvalid(f"{at}: longer than {limit} characters")
    return text


def choice_field(value: object, choices: Sequence[str], at: str) -> str:
    """One of ``choices`` (case, spaces and hyphens do not matter: ``in force``)."""
    text = text_field(value, at, required=True).casefold().replace(" ", "_").replace("-", "_")
    if text not in choices:
        raise CoopRecordInvalid(f"{at}: {value!r} is not one of {', '.join(choices)}")
    return text


def date_field(value: object, at: str) -> str:
    """A date as precise as its source: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``, or none."""
    text = text_field(value, at)
    if not text:
        return ""
    if not _DATE.match(text):
        raise CoopRecordInvalid(f"{at}: {text!r} is not a date: give YYYY, YYYY-MM or YYYY-MM-DD")
    full = text + "-01" * (2 - text.count("-"))
    try:
        date.fromisoformat(full)
    except ValueError:
        raise CoopRecordInvalid(f"{at}: {text!r} is no day of the calendar") from None
    return text


def url_field(value: object, at: str, required: bool = False) -> str:
    """An http(s) URL, with no credentials in it."""
    text = text_field(value, at, required=required, limit=1000)
    if not text:
        return ""
    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise CoopRecordInvalid(f"{at}: {text!r} is not an http(s) URL")
    if parsed.username is not None or parsed.password is not None:
        raise CoopRecordInvalid(f"{at}: a URL must not carry a user or password")
    return text


def bool_field(value: object, at: str) -> bool:
    """true/false, yes/no, 1/0 (blank is false)."""
    if isinstance(value, bool):
        return value
    text = text_field(value, at).casefold()
    if text in ("", "false", "no", "0"):
        return False
    if text in ("true", "yes", "1"):
        return True
    raise CoopRecordInvalid(f"{at}: {value!r} is not true or false")


def read_rows(
    data: bytes, origin: str, columns: Sequence[str], required: Sequence[str]
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The records of a CSV (header row 1) or a JSON list of objects, each with the place
    (``row 3`` or ``item 2``) a fault in it is reported at; a bad header or document raises."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CoopRecordInvalid(
            f"{origin}: byte {exc.start + 1}: not UTF-8 text; save the file as UTF-8"
        ) from None
    if text.lstrip()[:1] in ("[", "{"):
        yield from _json_rows(text, origin, columns, required)
    else:
        yield from _csv_rows(text, origin, columns, required)


def _json_rows(
    text: str, origin: str, columns: Sequence[str], required: Sequence[str]
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CoopRecordInvalid(f"{origin}: line {exc.lineno}: not JSON ({exc.msg})") from None
    if isinstance(document, dict):
        document = document.get("records", document.get("instruments", document.get("cirts")))
    if not isinstance(document, list):
        raise CoopRecordInvalid(f"{origin}: give a JSON list of records")
    for number, item in enumerate(document, start=1):
        place = f"{origin}: item {number}"
        if not isinstance(item, dict):
            raise CoopRecordInvalid(f"{place}: not an object")
        for key in item:
            if key not in columns and key not in EXPORTED_ONLY:
                raise CoopRecordInvalid(f"{place}, field {key}: not a field of this record")
        for key in required:
            if key not in item:
                raise CoopRecordInvalid(f"{place}, field {key}: missing")
        yield f"{place}, field", {k: v for k, v in item.items() if k not in EXPORTED_ONLY}


def _csv_rows(
    text: str, origin: str, columns: Sequence[str], required: Sequence[str]
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] = []
    number = 0
    try:
        for number, record in enumerate(reader, start=1):
            if number == 1:
                header = [cell.strip().casefold() for cell in record]
                _check_header(header, origin, columns, required)
                continue
            if not any(cell.strip() for cell in record):
                continue
            if len(record) > len(header):
                raise CoopRecordInvalid(
                    f"{origin}: row {number}, column {len(header) + 1}: "
                    "more cells than the header names"
                )
            padded = [*record, *[""] * (len(header) - len(record))]
            yield f"{origin}: row {number}, column", dict(zip(header, padded, strict=True))
    except csv.Error as exc:
        raise CoopRecordInvalid(f"{origin}: row {number + 1}: not CSV ({exc})") from None
    if number == 0:
        _check_header([], origin, columns, required)


def _check_header(
    header: list[str], origin: str, columns: Sequence[str], required: Sequence[str]
) -> None:
    for number, name in enumerate(header, start=1):
        if name not in columns:
            shown = name or f"{number} (no name)"
            raise CoopRecordInvalid(
                f"{origin}: row 1, column {shown}: not a column ({', '.join(columns)})"
            )
        if header.index(name) != number - 1:
            raise CoopRecordInvalid(f"{origin}: row 1, column {name}: named twice")
    missing = [c for c in required if c not in header]
    if missing:
        raise CoopRecordInvalid(
            f"{origin}: row 1, column {missing[0]}: missing from the header "
            f"(needs {', '.join(required)})"
        )
