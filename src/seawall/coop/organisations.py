"""Partner organisations: the development partners, regional bodies, training providers and
CIRTs a nation works with.

These are the nation's records of its partners (the CTO, the ITU, the IDB), not the
organisations its own users belong to (:mod:`seawall.core.organisations`). Nation boundaries
are those of programmes (:mod:`seawall.coop.programmes`).
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import ColumnElement, func, or_, select

from seawall.coop.errors import (
    OrganisationExists,
    OrganisationNotFound,
    ReceivedRecordReadOnly,
)
from seawall.coop.fields import (
    OrganisationDraft,
    apply_organisation,
    check_organisation,
    parse_kind,
)
from seawall.coop.sharing import new_record, queue_record
from seawall.core.access import Perm, Principal, require
from seawall.core.context import Ctx
from seawall.core.refs import by_prefix
from seawall.db.models.coop import CoopOrganisation
from seawall.settings import Settings


def visible(who: Principal) -> ColumnElement[bool]:
    """The organisations ``who`` may read: their nation's own, and those shared with this hub."""
    own = (CoopOrganisation.nation == who.nation) & CoopOrganisation.received_at.is_(None)
    received = CoopOrganisation.received_at.is_not(None) & CoopOrganisation.withdrawn_at.is_(None)
    return or_(own, received)


def get_organisation(ctx: Ctx, ref: str) -> CoopOrganisation:
    """An organisation by id, or by name or acronym (any case), the caller's nation's first."""
    require(ctx.who, Perm.COOP_READ)
    stmt = select(CoopOrganisation).where(visible(ctx.who))
    row = by_prefix(ctx.db, stmt, CoopOrganisation.id, ref, "partner organisation")
    if row is None:
        key = ref.strip().casefold()
        stmt = select(CoopOrganisation).where(visible(ctx.who))
        found = [
            r for r in ctx.db.scalars(stmt) if key in (r.name.casefold(), r.acronym.casefold())
        ]
        found.sort(key=lambda r: (r.nation != ctx.who.nation, r.nation))
        row = found[0] if found else None
    if row is None:
        raise OrganisationNotFound(
            f"no partner organisation {ref!r} visible to {ctx.who.username}",
            cli="list them with `seawall coop org list`",
            web="the Organisations page (/coop/organisations) lists them",
        )
    return row


def save_organisation(
    ctx: Ctx, settings: Settings, draft: OrganisationDraft, *, replace_existing: bool = False
) -> tuple[CoopOrganisation, str]:
    """Add a partner organisation of the caller's nation, or (``replace_existing``) replace the
    one with the same name; the row and ``added``, ``updated`` or ``unchanged``."""
    require(ctx.who, Perm.COOP_WRITE)
    nation = ctx.who.nation
    checked = check_organisation(draft)
    held = ctx.db.scalar(
        select(CoopOrganisation).where(
            CoopOrganisation.nation == nation,
            func.lower(CoopOrganisation.name) == checked.name.lower(),
            CoopOrganisation.received_at.is_(None),
        )
    )
    if held is not None and not replace_existing:
        raise OrganisationExists(
            f"{nation} already has a partner organisation {held.name!r}: import a file to update it"
        )
    if held is not None:
        before, was_shared = _snapshot(held), held.shareable
        apply_organisation(held, checked)
        if _snapshot(held) == before:
            return held, "unchanged"
        held.updated_at, held.updated_by = ctx.now(), ctx.who.username
        ctx.db.flush()
        ctx.record("coop.organisation.updated", held.id, nation=nation, name=held.name)
        queue_record(ctx, settings, held, was_shared)
        return held, "updated"
    row = new_record(ctx, CoopOrganisation, nation)
    apply_organisation(row, checked)
    ctx.db.add(row)
    ctx.db.flush()
    ctx.record(
        "coop.organisation.added", row.id, nation=nation, name=row.name, kind=row.kind,
        shareable=row.shareable,
    )  # fmt: skip
    queue_record(ctx, settings, row, False)
    return row, "added"


def update_organisation(
    ctx: Ctx, settings: Settings, ref: str, draft: OrganisationDraft
) -> tuple[CoopOrganisation, str]:
    """Change a partner organisation of the caller's nation (its name stays: imports match on
    it); the row and ``updated`` or ``unchanged``."""
    require(ctx.who, Perm.COOP_WRITE)
    row = get_organisation(ctx, ref)
    _refuse_received(row)
    return save_organisation(ctx, settings, replace(draft, name=row.name), replace_existing=True)


def _refuse_received(row: CoopOrganisation) -> None:
    if row.received_at is not None:
        raise ReceivedRecordReadOnly(
            f"{row.name} is {row.nation}'s record, shared with this hub: only {row.nation}'s "
            "node changes it"
        )


def _snapshot(row: CoopOrganisation) -> tuple[object, ...]:
    return (row.name, row.kind, row.acronym, row.country, row.website, row.contact, row.note,
            row.shareable)  # fmt: skip


def set_shareable(ctx: Ctx, settings: Settings, ref: str, shareable: bool) -> CoopOrganisation:
    """Share an organisation with the hubs of the nation's groups, or withdraw it."""
    require(ctx.who, Perm.COOP_WRITE)
    row = get_organisation(ctx, ref)
    _refuse_received(row)
    if row.shareable != shareable:
        row.shareable = shareable
        row.updated_at, row.updated_by = ctx.now(), ctx.who.username
        ctx.db.flush()
        hubs = queue_record(ctx, settings, row, not shareable)
        action = "coop.organisation.shared" if shareable else "coop.organisation.unshared"
        ctx.record(action, row.id, name=row.name, hubs=hubs)
    return row


def list_organisations(ctx: Ctx, kind: str | None = None) -> list[CoopOrganisation]:
    """The partner organisations the caller may read, optionally of one kind, by name."""
    require(ctx.who, Perm.COOP_READ)
    stmt = select(CoopOrganisation).where(visible(ctx.who))
    if kind:
        stmt = stmt.where(CoopOrganisation.kind == parse_kind(kind))
    return list(ctx.db.scalars(stmt.order_by(CoopOrganisation.nation, CoopOrganisation.name)))
