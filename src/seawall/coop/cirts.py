"""The CIRT directory: each nation's national CIRT, and the region's figures.

An entry says who the CIRT is (name, status, when established), what it is for (mandate,
constituency, services), how to reach it (contacts, PGP key fingerprint), and where its
standing can be checked (a FIRST membership or Trusted Introducer listing, each with its
link, and the entry's source). Who may write which nation's entry is
:mod:`seawall.coop.records`' rule.

**Signals from the other pillars.** The directory also shows each CIRT's latest SIM3
self-assessment (``assess``) and whether its nation shares intelligence with partners
(``intel``). This pillar imports neither: the edge that shows the directory (CLI, web)
reads both and hands them in as plain values (:class:`Signals`), and
:func:`regional_figures` counts them (pure).
"""

from __future__ import annotations

import csv
import io
import json
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from seawall.coop.errors import ReceivedRecordReadOnly
from seawall.coop.records import (
    CirtNotFound,
    CoopRecordInvalid,
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
from seawall.core.nations import region_members
from seawall.core.refs import by_prefix
from seawall.db.models.coop_laws import NationalCirt
from seawall.errors import InvalidInput
from seawall.settings import Settings

STATUSES = ("planned", "establishing", "established")
TI_STATUSES = ("listed", "accredited", "certified")
SIM3_CATEGORIES = ("O", "H", "T", "P")
# The import's columns, in order: an entry's plain columns before and after its services and
# contacts (JSON and the exports show an entry in this order too).
_ABOUT = ("nation", "name", "status", "established", "mandate", "constituency")
_CONTACTS = ("email", "phone", "website")
_STANDING = ("pgp_fingerprint", "first_url", "ti_url", "ti_status", "source", "note", "sample")
COLUMNS = (*_ABOUT, "services", *_CONTACTS, *_STANDING)
REQUIRED = ("nation", "name", "status", "source")
FORMATS = ("csv", "json")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_FINGERPRINT = re.compile(r"^([0-9A-F]{40}|[0-9A-F]{64})$")


@dataclass(frozen=True)
class Signals:
    """What the other pillars say of each nation, gathered at the edge: the latest SIM3
    self-assessment's category levels (0-4) and year, and the nations sharing intelligence."""

    sim3: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    sim3_year: Mapping[str, int] = field(default_factory=dict)
    sharing: frozenset[str] = frozenset()
    # Why a signal is missing (the caller may not read that pillar), shown instead.
    unavailable: tuple[str, ...] = ()


@dataclass(frozen=True)
class RegionalFigures:
    """A region group's figures: established CIRTs, nations sharing, SIM3 medians."""

    group: str
    members: tuple[str, ...]
    established: tuple[str, ...]
    sharing: tuple[str, ...]
    sim3_nations: tuple[str, ...]
    # Median level per SIM3 category over the members' latest self-assessments.
    sim3_median: dict[str, float] = field(hash=False)

    def as_dict(self) -> dict[str, Any]:
        """The figures for ``--json`` and the API."""
        return {
            "group": self.group,
            "members": len(self.members),
            "established_cirts": len(self.established),
            "established": list(self.established),
            "sharing_intel": len(self.sharing),
            "sharing": list(self.sharing),
            "sim3_assessed": len(self.sim3_nations),
            "sim3_median": self.sim3_median,
        }


def regional_figures(
    group: str, members: Sequence[str], statuses: Mapping[str, str], signals: Signals
) -> RegionalFigures:
    """Count a group's established CIRTs and sharing nations; the median SIM3 level of each
    category over the members that have a self-assessment (pure)."""
    inside = tuple(sorted(set(members)))
    assessed = tuple(n for n in inside if signals.sim3.get(n))
    medians: dict[str, float] = {}
    for category in SIM3_CATEGORIES:
        levels = [signals.sim3[n][category] for n in assessed if category in signals.sim3[n]]
        if levels:
            medians[category] = round(statistics.median(levels), 2)
    return RegionalFigures(
        group=group,
        members=inside,
        established=tuple(n for n in inside if statuses.get(n) == "established"),
        sharing=tuple(n for n in inside if n in signals.sharing),
        sim3_nations=assessed,
        sim3_median=medians,
    )


def _services(value: object, at: str) -> list[str]:
    if isinstance(value, list):
        items = [text_field(v, at, limit=200) for v in value]
    else:
        items = [part.strip() for part in text_field(value, at).split(";")]
    return [i for i in dict.fromkeys(items) if i]


def _fingerprint(value: object, at: str) -> str:
    text = re.sub(r"\s+", "", text_field(value, at)).upper().removeprefix("0X")
    if text and not _FINGERPRINT.match(text):
        raise CoopRecordInvalid(
            f"{at}: not an OpenPGP key fingerprint (40 or 64 hexadecimal digits)"
        )
    return text


def check_fields(values: Mapping[str, Any], at: str = "") -> dict[str, Any]:
    """An entry's fields, checked; ``at`` prefixes each fault (``f.csv: row 3, column``)."""
    email = text_field(values.get("email", ""), field_at(at, "email"), limit=254)
    if email and not _EMAIL.match(email):
        raise CoopRecordInvalid(f"{field_at(at, 'email')}: {email!r} is not an e-mail address")
    ti_status = text_field(values.get("ti_status", ""), field_at(at, "ti_status"))
    ti_url = url_field(values.get("ti_url", ""), field_at(at, "ti_url"))
    if ti_status:
        ti_status = choice_field(ti_status, TI_STATUSES, field_at(at, "ti_status"))
        if not ti_url:
            raise CoopRecordInvalid(f"{field_at(at, 'ti_url')}: give the listing's link")
    elif ti_url:
        ti_status = "listed"
    nation, note, sample = standing_fields(values, at)
    return {
        "nation": nation,
        "name": text_field(values.get("name"), field_at(at, "name"), required=True, limit=200),
        "status": choice_field(values.get("status"), STATUSES, field_at(at, "status")),
        "established": date_field(values.get("established", ""), field_at(at, "established")),
        "mandate": text_field(values.get("mandate", ""), field_at(at, "mandate")),
        "constituency": text_field(values.get("constituency", ""), field_at(at, "constituency")),
        "services": _services(values.get("services", ""), field_at(at, "services")),
        "contacts": {
            k: v
            for k, v in {
                "email": email,
                "phone": text_field(values.get("phone", ""), field_at(at, "phone"), limit=60),
                "website": url_field(values.get("website", ""), field_at(at, "website")),
            }.items()
            if v
        },
        "pgp_fingerprint": _fingerprint(
            values.get("pgp_fingerprint", ""), field_at(at, "pgp_fingerprint")
        ),
        "first_url": url_field(values.get("first_url", ""), field_at(at, "first_url")),
        "ti_url": ti_url,
        "ti_status": ti_status,
        "source": url_field(values.get("source"), field_at(at, "source"), required=True),
        "note": note,
        "sample": sample,
    }


def _store(ctx: Ctx, fields: dict[str, Any], settings: Settings | None) -> tuple[NationalCirt, str]:
    """Write an entry; returns it and ``added``, ``updated`` or ``unchanged``."""
    row = ctx.db.scalar(select(NationalCirt).where(NationalCirt.nation == fields["nation"]))
    now = ctx.now()
    if row is not None and row.received_at is not None and row.withdrawn_at is None:
        raise ReceivedRecordReadOnly(
            f"{row.nation}'s CIRT entry was shared by its node: it is changed there, not here"
        )
    was_shared = row is not None and not row.sample and row.withdrawn_at is None
    if row is not None and row.withdrawn_at is not None:
        # A tombstone of a withdrawn entry makes way for the one entered here.
        ctx.db.delete(row)
        ctx.db.flush()
        row, was_shared = None, False
    if row is None:
        row = NationalCirt(id=ctx.ids(), created_at=now)
        ctx.db.add(row)
        outcome = "added"
    elif all(getattr(row, k) == v for k, v in fields.items()):
        return row, "unchanged"
    else:
        outcome = "updated"
    for key, value in fields.items():
        setattr(row, key, value)
    row.entered_by = ctx.who.username
    row.entered_as = ctx.who.nation
    row.updated_at = now
    ctx.db.flush()
    ctx.record(f"coop.cirt.{outcome}", row.id, **_audit(row))
    _share(ctx, settings, row, was_shared)
    return row, outcome


def _share(ctx: Ctx, settings: Settings | None, row: NationalCirt, was_shared: bool) -> None:
    """Queue a change to this nation's own entry for its hubs (not sample data; see
    :mod:`seawall.coop.public_records`)."""
    queue_public(ctx, settings, "cirt", row, {"id": row.id, **flat_record(row)}, was_shared)


def _audit(row: NationalCirt) -> dict[str, Any]:
    return {
        "nation": row.nation,
        "name": row.name,
        "status": row.status,
        "source": row.source,
        "sample": row.sample,
    }


def save_cirt(
    ctx: Ctx, *, settings: Settings | None = None, **values: Any
) -> tuple[NationalCirt, str]:
    """Add a nation's CIRT entry, or replace the one it has (fields as in :data:`COLUMNS`);
    with this node's ``settings``, queue it for the hubs of its nation's groups."""
    fields = check_fields(values)
    require_writer(ctx, fields["nation"], "CIRT entry")
    return _store(ctx, fields, settings)


def get_cirt(ctx: Ctx, ref: str) -> NationalCirt:
    """A nation's entry, by nation (code or name) or by id."""
    require(ctx.who, Perm.COOP_READ)
    live = select(NationalCirt).where(NationalCirt.withdrawn_at.is_(None))
    row = by_prefix(ctx.db, live, NationalCirt.id, ref, "CIRT entry")
    if row is None:
        try:
            nation = nation_field(ref, "nation")
        except CoopRecordInvalid:
            nation = ""
        row = ctx.db.scalar(select(NationalCirt).where(NationalCirt.nation == nation))
    if row is None or row.withdrawn_at is not None:
        raise CirtNotFound(
            f"no CIRT entry for {ref!r} in the directory",
            cli="list them with `seawall coop cirt list`",
            web="the CIRTs page (/coop/cirts) lists them",
        )
    return row


def list_cirts(ctx: Ctx, group: str | None = None) -> list[NationalCirt]:
    """The directory's entries by nation, optionally of one region group."""
    require(ctx.who, Perm.COOP_READ)
    stmt = select(NationalCirt).where(NationalCirt.withdrawn_at.is_(None))
    stmt = stmt.order_by(NationalCirt.nation)
    if group:
        stmt = stmt.where(NationalCirt.nation.in_(region_members(ctx.db, group)))
    return list(ctx.db.scalars(stmt))


def import_cirts(
    ctx: Ctx, data: bytes, origin: str, settings: Settings | None = None
) -> dict[str, int]:
    """Add or replace the entries of a CSV or JSON file: all, or none when any row is at
    fault (the first fault raises, naming its row and column)."""
    require(ctx.who, Perm.COOP_WRITE)
    places = [(at, check_fields(v, at)) for at, v in read_rows(data, origin, COLUMNS, REQUIRED)]
    if not places:
        raise CoopRecordInvalid(f"{origin}: no records after the header")
    seen: set[str] = set()
    for at, fields in places:
        if fields["nation"] in seen:
            raise CoopRecordInvalid(
                f"{field_at(at, 'nation')}: {fields['nation']} is given twice (one CIRT per nation)"
            )
        seen.add(fields["nation"])
        require_writer(ctx, fields["nation"], "CIRT entry", at)
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    for _, fields in places:
        counts[_store(ctx, fields, settings)[1]] += 1
    return counts


STARTER = "cirts_starter.csv"


def import_starter(ctx: Ctx, settings: Settings | None = None) -> tuple[dict[str, int], list[str]]:
    """The shipped starter entries (every row sourced, see ``data/SOURCES.md``), for the
    nations the caller may write; returns the counts and the nations left out."""
    require(ctx.who, Perm.COOP_WRITE)
    data, skipped = starter_rows(ctx, STARTER)
    return import_cirts(ctx, data, STARTER, settings), skipped


def _values(row: NationalCirt, columns: Sequence[str]) -> dict[str, Any]:
    return {column: getattr(row, column) for column in columns}


def cirt_record(row: NationalCirt, signals: Signals | None = None) -> dict[str, Any]:
    """An entry as JSON shows it, with the other pillars' signals when given."""
    record: dict[str, Any] = {
        "id": row.id,
        **_values(row, _ABOUT),
        "services": list(row.services),
        "contacts": dict(row.contacts),
        **_values(row, _STANDING),
        "entered_by": row.entered_by,
        "updated_at": row.updated_at.isoformat(),
    }
    if signals is not None:
        record["sim3"] = dict(signals.sim3.get(row.nation, {})) or None
        record["sim3_year"] = signals.sim3_year.get(row.nation)
        record["shares_intel"] = row.nation in signals.sharing
    return record


def export_cirts(ctx: Ctx, fmt: str = "csv", group: str | None = None) -> bytes:
    """The directory as CSV or JSON, in the import's columns (an export imports again)."""
    if fmt not in FORMATS:
        raise InvalidInput(f"format {fmt!r}: choose one of {', '.join(FORMATS)}")
    rows = list_cirts(ctx, group)
    if fmt == "json":
        return (json.dumps({"cirts": [flat_record(r) for r in rows]}, indent=2) + "\n").encode()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        flat = flat_record(r)
        writer.writerow(
            [
                "true" if flat[c] is True else "false" if flat[c] is False else flat[c]
                for c in COLUMNS
            ]
        )
    return out.getvalue().encode()


def flat_record(row: NationalCirt) -> dict[str, Any]:
    """An entry in its import's columns (as export and a shared package hold it)."""
    return {
        **_values(row, _ABOUT),
        "services": "; ".join(row.services),
        **{key: row.contacts.get(key, "") for key in _CONTACTS},
        **_values(row, _STANDING),
    }


def directory_figures(ctx: Ctx, group: str, signals: Signals) -> RegionalFigures:
    """The figures of a region group from the directory and the signals handed in."""
    members = region_members(ctx.db, group)
    statuses = {r.nation: r.status for r in list_cirts(ctx, group)}
    return regional_figures(group.strip().upper(), members, statuses, signals)
