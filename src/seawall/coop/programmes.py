"""Programmes: who funds and implements what, for which nations, addressing which factors.

**Nation boundaries.** Each nation keeps its own programmes: a user reads and writes those of
their own nation (``coop.read``, ``coop.write``). A hub also holds the programmes nations
shared with it (:mod:`seawall.coop.sharing`); every holder of ``coop.read`` on the hub reads
them, with their source nation, and nobody there changes them. Anything else is answered as
if it did not exist.

A programme that is recorded as completed leaves an evidence record (core) for its nation,
supporting the framework items it addressed, as the embassy's restore drills do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import ColumnElement, or_, select

from seawall.coop.errors import ProgrammeExists, ProgrammeNotFound, ReceivedRecordReadOnly
from seawall.coop.fields import (
    Catalogue,
    ProgrammeDraft,
    ProgrammeStatus,
    apply_programme,
    check_programme,
)
from seawall.coop.organisations import visible as organisation_visible
from seawall.coop.sharing import new_record, queue_record
from seawall.core.access import Perm, Principal, require
from seawall.core.context import Ctx
from seawall.core.evidence import record_evidence
from seawall.core.nations import normalise_nation
from seawall.core.refs import by_prefix
from seawall.db.models.coop import CoopOrganisation, Programme
from seawall.settings import Settings


def visible(who: Principal) -> ColumnElement[bool]:
    """The SQL condition for the programmes ``who`` may read: their nation's own, and those
    shared with this hub that are not withdrawn."""
    own = (Programme.nation == who.nation) & Programme.received_at.is_(None)
    received = Programme.received_at.is_not(None) & Programme.withdrawn_at.is_(None)
    return or_(own, received)


def _holds(who: Principal, row: Programme) -> bool:
    if row.received_at is not None:
        return row.withdrawn_at is None
    return row.nation == who.nation


def get_programme(ctx: Ctx, ref: str) -> Programme:
    """A programme by id, or by its reference among the caller's nation's (then shared)."""
    require(ctx.who, Perm.COOP_READ)
    row = by_prefix(
        ctx.db, select(Programme).where(visible(ctx.who)), Programme.id, ref, "programme"
    )
    if row is None:
        stmt = select(Programme).where(Programme.ref == ref.strip(), visible(ctx.who))
        found = sorted(ctx.db.scalars(stmt), key=lambda r: (r.nation != ctx.who.nation, r.nation))
        row = found[0] if found else None
    if row is None or not _holds(ctx.who, row):
        raise ProgrammeNotFound(
            f"no programme {ref!r} visible to {ctx.who.username}",
            cli="list them with `seawall coop programme list`",
            web="the Programmes page (/coop/programmes) lists them",
        )
    return row


def _own(ctx: Ctx, ref: str) -> Programme:
    require(ctx.who, Perm.COOP_WRITE)
    row = get_programme(ctx, ref)
    if row.received_at is not None:
        raise ReceivedRecordReadOnly(
            f"programme {row.ref} is {row.nation}'s, shared with this hub: "
            f"only {row.nation}'s node changes it"
        )
    return row


def save_programme(
    ctx: Ctx,
    settings: Settings,
    draft: ProgrammeDraft,
    catalogue: Catalogue | None = None,
    *,
    replace_existing: bool = False,
) -> tuple[Programme, str]:
    """Add a programme of the caller's nation, or (``replace_existing``) replace the one with
    the same reference; the row and ``added``, ``updated`` or ``unchanged``."""
    require(ctx.who, Perm.COOP_WRITE)
    nation = ctx.who.nation
    checked = check_programme(draft, nation, catalogue)
    held = ctx.db.scalar(
        select(Programme).where(
            Programme.nation == nation,
            Programme.ref == checked.ref,
            Programme.received_at.is_(None),
        )
    )
    if held is not None and not replace_existing:
        raise ProgrammeExists(
            f"{nation} already has a programme {checked.ref!r}: choose another reference, "
            "or import a file to update it"
        )
    if held is not None:
        before = _snapshot(held)
        was_shared, was_status = held.shareable, held.status
        apply_programme(held, checked)
        if _snapshot(held) == before:
            return held, "unchanged"
        held.updated_at, held.updated_by = ctx.now(), ctx.who.username
        ctx.db.flush()
        ctx.record("coop.programme.updated", held.id, nation=nation, ref=held.ref)
        _completed(ctx, held, was_status)
        queue_record(ctx, settings, held, was_shared)
        return held, "updated"
    row = new_record(ctx, Programme, nation)
    apply_programme(row, checked)
    ctx.db.add(row)
    ctx.db.flush()
    ctx.record(
        "coop.programme.added",
        row.id,
        nation=nation,
        ref=row.ref,
        addresses=row.addresses,
        shareable=row.shareable,
    )
    _completed(ctx, row, None)
    queue_record(ctx, settings, row, False)
    return row, "added"


def update_programme(
    ctx: Ctx,
    settings: Settings,
    ref: str,
    draft: ProgrammeDraft,
    catalogue: Catalogue | None = None,
) -> tuple[Programme, str]:
    """Change a programme of the caller's nation (its reference stays: imports match on it);
    the row and ``updated`` or ``unchanged``. The roadmap items it funds are kept."""
    row = _own(ctx, ref)
    return save_programme(
        ctx, settings, replace(draft, ref=row.ref), catalogue, replace_existing=True
    )


def _snapshot(row: Programme) -> tuple[object, ...]:
    return (
        row.name, row.description, list(row.funders), list(row.implementers),
        list(row.beneficiaries), list(row.addresses), row.start, row.end, row.budget,
        row.currency, row.status, row.outputs, list(row.sources), row.note, row.shareable,
    )  # fmt: skip


def _completed(ctx: Ctx, row: Programme, was_status: str | None) -> None:
    """Leave an evidence record when a programme is first recorded as completed."""
    if row.status != ProgrammeStatus.COMPLETED or was_status == ProgrammeStatus.COMPLETED:
        return
    funders = ", ".join(row.funders) or "unnamed funders"
    summary = f"Programme {row.ref} completed: {row.name} ({funders})"
    record_evidence(
        ctx,
        "coop",
        "coop.programme.completed",
        summary[:500],
        list(row.addresses),
        detail={
            "programme": row.id,
            "ref": row.ref,
            "name": row.name,
            "funders": list(row.funders),
            "outputs": row.outputs[:2000],
        },
        occurred_at=ctx.now(),
    )


def set_shareable(ctx: Ctx, settings: Settings, ref: str, shareable: bool) -> Programme:
    """Share a programme with the hubs of the nation's groups, or withdraw it from them."""
    row = _own(ctx, ref)
    if row.shareable == shareable:
        return row
    row.shareable = shareable
    row.updated_at, row.updated_by = ctx.now(), ctx.who.username
    ctx.db.flush()
    hubs = queue_record(ctx, settings, row, not shareable)
    ctx.record(
        "coop.programme.shared" if shareable else "coop.programme.unshared",
        row.id,
        ref=row.ref,
        hubs=hubs,
    )
    return row


def fund_items(ctx: Ctx, ref: str, item_ids: Sequence[str]) -> Programme:
    """Name the roadmap items (by id) the programme funds; the edge has checked that they
    are roadmap items of the programme's nation."""
    row = _own(ctx, ref)
    added = [
        i for i in dict.fromkeys(i.strip() for i in item_ids) if i and i not in row.funds_items
    ]
    if added:
        row.funds_items = [*row.funds_items, *added]
        row.updated_at, row.updated_by = ctx.now(), ctx.who.username
        ctx.db.flush()
        ctx.record("coop.programme.funds", row.id, ref=row.ref, roadmap_items=added)
    return row


def funding_of(ctx: Ctx, item_ids: Sequence[str]) -> dict[str, list[Programme]]:
    """The caller's nation's programmes that fund each of ``item_ids``."""
    require(ctx.who, Perm.COOP_READ)
    wanted = set(item_ids)
    found: dict[str, list[Programme]] = {}
    stmt = select(Programme).where(
        Programme.nation == ctx.who.nation, Programme.received_at.is_(None)
    )
    for row in ctx.db.scalars(stmt.order_by(Programme.ref)):
        for item in wanted.intersection(row.funds_items):
            found.setdefault(item, []).append(row)
    return found


def list_programmes(
    ctx: Ctx,
    *,
    nation: str | None = None,
    partner: str | None = None,
    factor: str | None = None,
    status: str | None = None,
) -> list[Programme]:
    """The programmes the caller may read, filtered by a beneficiary nation, a partner (a
    funder or implementer, by name, any case), a framework item (``cmm-2021:D1.2``, or a
    bare ``D1.2`` for any framework) and a status; by nation and reference."""
    require(ctx.who, Perm.COOP_READ)
    stmt = select(Programme).where(visible(ctx.who))
    rows = list(ctx.db.scalars(stmt.order_by(Programme.nation, Programme.ref)))
    if nation:
        iso2 = normalise_nation(nation)
        rows = [r for r in rows if iso2 in r.beneficiaries]
    if partner:
        rows = [r for r in rows if _names_partner(r, _partner_names(ctx, partner))]
    if factor:
        want = factor.strip()
        rows = [
            r
            for r in rows
            if want in r.addresses or any(a.partition(":")[2] == want for a in r.addresses)
        ]
    if status:
        rows = [r for r in rows if r.status == status.strip().lower()]
    return rows


def _partner_names(ctx: Ctx, partner: str) -> frozenset[str] | str:
    """What a partner filter matches: the name and acronym of the organisation it names (by
    name or acronym, any case), matched whole; else the text, matched within a name."""
    key = partner.strip().casefold()
    for org in ctx.db.scalars(select(CoopOrganisation).where(organisation_visible(ctx.who))):
        names = {org.name.casefold(), org.acronym.casefold()} - {""}
        if key in names:
            return frozenset(names)
    return key


def _names_partner(row: Programme, names: frozenset[str] | str) -> bool:
    partners = [p.casefold() for p in (*row.funders, *row.implementers)]
    if isinstance(names, str):
        return any(names in p for p in partners)
    return any(p in names for p in partners)


def of_partner(ctx: Ctx, names: Sequence[str]) -> tuple[list[Programme], list[Programme]]:
    """The programmes the caller may read that a partner, known by any of ``names`` (its
    name, its acronym; any case), funds, and those it implements."""
    keys = {n.strip().casefold() for n in names if n.strip()}
    rows = list_programmes(ctx)
    funds = [r for r in rows if keys.intersection(f.casefold() for f in r.funders)]
    implements = [r for r in rows if keys.intersection(i.casefold() for i in r.implementers)]
    return funds, implements


def partners_named(rows: Sequence[Programme]) -> list[str]:
    """Every funder and implementer the programmes name, sorted."""
    return sorted({p for r in rows for p in (*r.funders, *r.implementers)}, key=str.casefold)


def draft_of(row: Programme) -> ProgrammeDraft:
    """A row as a draft, to change some fields and save it again."""
    return replace(
        ProgrammeDraft(ref=row.ref, name=row.name),
        description=row.description,
        funders=tuple(row.funders),
        implementers=tuple(row.implementers),
        beneficiaries=tuple(row.beneficiaries),
        addresses=tuple(row.addresses),
        start=row.start,
        end=row.end,
        budget=row.budget,
        currency=row.currency,
        status=row.status,
        outputs=row.outputs,
        sources=tuple(row.sources),
        note=row.note,
        shareable=row.shareable,
    )
