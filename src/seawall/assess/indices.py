"""Outside indices (ITU GCI): shipped figures, tiers, editions imported from CSV, comparability.

Every number carries its source. Where two publishers give different figures for the same
edition (Guyana in GCI 2024), both rows are kept, each with its source; the first listed source
is the primary one. Editions a framework pack lists under ``not_strictly_comparable_with`` are
flagged whenever they are compared.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources

import pycountry
from sqlalchemy import select
from sqlalchemy.orm import Session

from seawall.assess.errors import (
    EditionExists,
    IndexCsvInvalid,
    IndexEditionNotFound,
    WrongFrameworkKind,
)
from seawall.assess.frameworks import (
    ID_PATTERN,
    Framework,
    RangeScale,
    get_framework,
    shipped_frameworks,
)
from seawall.assess.rounds import MAX_YEAR, MIN_YEAR
from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.core.nations import normalise_nation, region_members
from seawall.db.models.assess import IndexEdition, IndexScore
from seawall.errors import InvalidInput

OVERALL = "overall"
GCI_2024 = "gci-2024"
GCI_2020 = "gci-2020"
_GCI_2020_NOTE = (
    "GCI 2020 (4th edition) used another questionnaire and weights: "
    "not strictly comparable with GCI 2024"
)


@dataclass(frozen=True)
class IndexRow:
    """One nation's figures in one index edition, from one source."""

    edition: str
    framework_id: str
    nation: str
    iso3: str
    overall: float
    pillars: dict[str, float] = field(hash=False)
    source: str
    note: str = ""
    primary: bool = True
    tier_id: str | None = None
    tier_name: str | None = None


@dataclass(frozen=True)
class EditionInfo:
    """An index edition: which framework, which year, where its numbers come from."""

    id: str
    framework_id: str
    year: int
    source: str
    shipped: bool
    comparability: str = ""


def with_tier(row: IndexRow, framework: Framework) -> IndexRow:
    """The row with its tier computed from the framework's thresholds."""
    if not framework.tiers:
        return row
    tier = framework.tier_for(row.overall)
    return replace(row, tier_id=tier.id, tier_name=tier.name)


def _read_data(name: str) -> list[dict[str, str]]:
    text = resources.files("seawall.assess").joinpath(f"data/{name}").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _shipped_2024_row(raw: dict[str, str], primary: bool) -> IndexRow:
    framework = shipped_frameworks()[GCI_2024]
    pillars = {d.id: float(raw[f"gci2024_{d.id}"]) for d in framework.dimensions}
    row = IndexRow(
        edition=GCI_2024,
        framework_id=GCI_2024,
        nation=normalise_nation(raw["iso3"]),
        iso3=raw["iso3"],
        overall=float(raw["gci2024_overall"]),
        pillars=pillars,
        source=raw["source_scores"],
        note=raw["notes"],
        primary=primary,
    )
    return with_tier(row, framework)


@cache
def shipped_rows() -> dict[str, tuple[IndexRow, ...]]:
    """The shipped figures by edition: GCI 2024 (16 Caribbean states) and GCI 2020 overall."""
    main = _read_data("gci2024_caribbean.csv")
    rows_2024 = [_shipped_2024_row(r, primary=True) for r in main]
    rows_2024 += [_shipped_2024_row(r, primary=False) for r in _read_data("gci2024_alternates.csv")]
    rows_2020 = [
        IndexRow(
            edition=GCI_2020,
            framework_id=GCI_2020,
            nation=normalise_nation(r["iso3"]),
            iso3=r["iso3"],
            overall=float(r["gci2020_overall"]),
            pillars={},
            source=f"{r['source_scores']} (2020 overall score)",
            note=_GCI_2020_NOTE,
        )
        for r in main
    ]
    return {GCI_2024: tuple(rows_2024), GCI_2020: tuple(rows_2020)}


def shipped_editions() -> list[EditionInfo]:
    """The editions shipped with the package."""
    source = shipped_rows()[GCI_2024][0].source
    return [
        EditionInfo(GCI_2024, GCI_2024, 2024, source, shipped=True),
        EditionInfo(GCI_2020, GCI_2020, 2020, source, shipped=True, comparability=_GCI_2020_NOTE),
    ]


def comparability_note(db: Session, edition_a: str, edition_b: str) -> str:
    """Why two editions are not strictly comparable, or "" when nothing is declared."""
    infos = {e.id: e for e in list_editions(db)}
    for one, other in ((edition_a, edition_b), (edition_b, edition_a)):
        info = infos.get(one)
        if info is None:
            raise IndexEditionNotFound(f"unknown index edition {one!r}")
        try:
            framework = get_framework(db, info.framework_id)
        except InvalidInput:
            continue
        other_info = infos.get(other)
        names = {other, other_info.framework_id if other_info else other}
        for entry in framework.not_strictly_comparable_with:
            if entry.edition in names:
                return entry.note
    return ""


def list_editions(db: Session) -> list[EditionInfo]:
    """Shipped editions, then imported ones by year."""
    imported = db.scalars(select(IndexEdition).order_by(IndexEdition.year, IndexEdition.id))
    return shipped_editions() + [
        EditionInfo(e.id, e.framework_id, e.year, e.source, shipped=False) for e in imported
    ]


def edition_rows(db: Session, edition: str, group: str | None = None) -> list[IndexRow]:
    """An edition's rows, best overall score first, optionally only a region group's members."""
    shipped = shipped_rows()
    rows = list(shipped[edition]) if edition in shipped else _imported_rows(db, edition)
    if group is not None:
        members = set(region_members(db, group))
        rows = [r for r in rows if r.nation in members]
    return sorted(rows, key=lambda r: (-r.overall, r.nation, not r.primary))


def _imported_rows(db: Session, edition_id: str) -> list[IndexRow]:
    edition = db.get(IndexEdition, edition_id)
    if edition is None:
        known = ", ".join(e.id for e in list_editions(db))
        raise IndexEditionNotFound(f"unknown index edition {edition_id!r}: choose one of {known}")
    framework = get_framework(db, edition.framework_id)
    scores = db.scalars(
        select(IndexScore).where(IndexScore.edition_id == edition_id).order_by(IndexScore.id)
    )
    grouped: dict[tuple[str, str], dict[str, IndexScore]] = {}
    for score in scores:
        grouped.setdefault((score.nation, score.source), {})[score.component] = score
    rows: list[IndexRow] = []
    seen_nations: set[str] = set()
    for (nation, source), parts in grouped.items():
        overall = parts[OVERALL]
        row = IndexRow(
            edition=edition_id,
            framework_id=framework.id,
            nation=nation,
            iso3=_iso3(nation),
            overall=overall.value,
            pillars={k: v.value for k, v in parts.items() if k != OVERALL},
            source=source,
            note=overall.note,
            primary=nation not in seen_nations,
        )
        seen_nations.add(nation)
        rows.append(with_tier(row, framework))
    return rows


def _iso3(iso2: str) -> str:
    country = pycountry.countries.get(alpha_2=iso2)
    return str(country.alpha_3) if country else iso2


@dataclass(frozen=True)
class ParsedRow:
    """One CSV row of an index edition, checked and ready to store."""

    line: int
    nation: str
    overall: float
    pillars: dict[str, float] = field(hash=False)
    source: str
    note: str


def parse_index_csv(
    text: str, framework: Framework, origin: str, default_source: str | None = None
) -> list[ParsedRow]:
    """Check an index CSV: a nation, an overall and every pillar per row, all numeric, sourced.

    Columns: ``nation`` (or ``iso3``/``iso2``), ``overall``, one column per pillar id of the
    framework, optional ``source`` and ``note``. Rows are numbered as lines of the file, the
    header being line 1. A row without a ``source`` takes ``default_source``; with neither the
    import is refused, since every number must say where it comes from.
    """
    if framework.kind != "index" or framework.total is None:
        raise WrongFrameworkKind(f"framework {framework.id} is not an index; choose an index")
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    nation_col = next((c for c in ("nation", "iso3", "iso2") if c in header), None)
    pillars = [d.id for d in framework.dimensions]
    missing = [c for c in [OVERALL, *pillars] if c not in header]
    if nation_col is None:
        missing.insert(0, "nation")
    if missing:
        raise IndexCsvInvalid(f"{origin}: missing column(s) {', '.join(missing)} in the header")
    if "source" not in header and not default_source:
        raise IndexCsvInvalid(
            f"{origin}: no source column and no default source: every number needs a source; "
            "add a source column or pass --source"
        )
    rows: list[ParsedRow] = []
    seen: set[tuple[str, str]] = set()
    for line, raw in enumerate(reader, start=2):
        if None in raw:  # csv.DictReader files cells past the header under None
            raise IndexCsvInvalid(
                f"{origin}: row {line} has more cells than the header has columns; "
                "fix the row or name the extra column"
            )
        code = (raw.get(nation_col) or "").strip()
        try:
            nation = normalise_nation(code)
        except InvalidInput:
            raise IndexCsvInvalid(
                f"{origin}: row {line} column {nation_col}: unknown nation {code!r}"
            ) from None
        source = (raw.get("source") or "").strip() or (default_source or "")
        if not source:
            raise IndexCsvInvalid(f"{origin}: row {line} column source: missing source")
        if (nation, source) in seen:
            raise IndexCsvInvalid(
                f"{origin}: row {line}: {nation} appears twice with the same source"
            )
        seen.add((nation, source))
        overall = _number(raw, OVERALL, line, origin, framework.total)
        values = {p: _number(raw, p, line, origin, framework.scale) for p in pillars}
        note = (raw.get("note") or "").strip()
        rows.append(ParsedRow(line, nation, overall, values, source, note))
    if not rows:
        raise IndexCsvInvalid(f"{origin}: no data rows")
    return rows


def _number(
    raw: dict[str, str | None], column: str, line: int, origin: str, scale: object
) -> float:
    text = (raw.get(column) or "").strip()
    where = f"{origin}: row {line} column {column}"
    if not text:
        raise IndexCsvInvalid(f"{where}: missing score; fill it in or drop the row")
    try:
        value = float(text)
    except ValueError:
        raise IndexCsvInvalid(f"{where}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise IndexCsvInvalid(f"{where}: {text!r} is not a finite number")
    if isinstance(scale, RangeScale) and not scale.min <= value <= scale.max:
        raise IndexCsvInvalid(f"{where}: {value} is outside {scale.min:g}-{scale.max:g}")
    return value


def import_edition(
    ctx: Ctx,
    text: str,
    origin: str,
    framework_id: str,
    edition_id: str,
    year: int,
    default_source: str | None = None,
) -> list[IndexRow]:
    """Store an index edition from CSV after checking every row; nothing is stored on error."""
    require(ctx.who, Perm.ASSESS_PUBLISH)
    if not re.fullmatch(ID_PATTERN, edition_id):
        raise InvalidInput(
            f"edition id {edition_id!r} is not usable: use lower-case letters, digits, '.' and '-'"
        )
    if isinstance(year, bool) or not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidInput(f"year {year!r} is not plausible: use {MIN_YEAR}-{MAX_YEAR}")
    framework = get_framework(ctx.db, framework_id)
    known = {e.id for e in list_editions(ctx.db)}
    if edition_id in known:
        raise EditionExists(f"index edition {edition_id!r} exists; choose another edition id")
    parsed = parse_index_csv(text, framework, origin, default_source)
    sources = sorted({r.source for r in parsed})
    ctx.db.add(
        IndexEdition(
            id=edition_id,
            framework_id=framework.id,
            year=year,
            source="; ".join(sources),
            imported_at=ctx.now(),
            imported_by=ctx.who.username,
        )
    )
    ctx.db.flush()
    for row in parsed:
        components: Sequence[tuple[str, float]] = [(OVERALL, row.overall), *row.pillars.items()]
        for component, value in components:
            ctx.db.add(
                IndexScore(
                    edition_id=edition_id,
                    nation=row.nation,
                    component=component,
                    value=value,
                    source=row.source,
                    note=row.note,
                )
            )
    ctx.db.flush()
    ctx.record(
        "assess.index.imported",
        edition_id,
        framework=framework.id,
        year=year,
        rows=len(parsed),
        origin=origin,
    )
    return _imported_rows(ctx.db, edition_id)
