"""Hosting agreements, as the host's admin sees them: made, listed, extended, and how full.

An agreement names the guest (a partner record of this node), a quota in bytes, the retention
in days, a daily bandwidth cap and an end date. The guest names the agreement in its site URL
(``seawall://HOST/AGREEMENT``). Retention can be lengthened at any time; only this node's
admin may shorten it, and only with a reason, which is audited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from seawall.core.access import Perm, Role, require
from seawall.core.context import Ctx
from seawall.core.partners import get_partner
from seawall.db.models import Partner
from seawall.db.models.embassy_hosting import HostedObject, HostingAgreement, HostingRefusal
from seawall.embassy.errors import AgreementMissing, RetentionLocked
from seawall.embassy.hosting.retention import may_shorten
from seawall.errors import Forbidden, InvalidInput

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$|^[a-z0-9]$")
MAX_RETENTION_DAYS = 36500
MAX_BYTES = (1 << 63) - 1  # the most a quota or cap column holds (8 EiB)
SIZE = re.compile(r"^\s*(\d+)\s*([KMGT]i?B?|B)?\s*$", re.IGNORECASE)
UNITS = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_size(text: str, what: str = "size") -> int:
    """Bytes from ``500GiB``, ``2T``, ``1048576`` (binary units: K, M, G and T are 1024-based)."""
    found = SIZE.match(text)
    if found is None:
        raise InvalidInput(f"{what} {text!r} is not a size such as 500GiB, 2TiB or 1048576")
    unit = (found.group(2) or "").upper().rstrip("B").rstrip("I") or ""
    return int(found.group(1)) * UNITS[unit]


@dataclass(frozen=True)
class Usage:
    """How full an agreement is: bytes kept (every version), of which superseded, and counts."""

    stored_bytes: int
    superseded_bytes: int
    objects: int
    versions: int

    def as_dict(self) -> dict[str, int]:
        """For ``--json`` and the API."""
        return {
            "stored_bytes": self.stored_bytes,
            "superseded_bytes": self.superseded_bytes,
            "objects": self.objects,
            "versions": self.versions,
        }


@dataclass(frozen=True)
class Hosted:
    """One agreement with its guest and usage, for the host's lists."""

    agreement: HostingAgreement
    partner: Partner
    usage: Usage
    refusals: int

    def as_dict(self) -> dict[str, object]:
        """For ``--json`` and the API."""
        a = self.agreement
        return {
            "name": a.name,
            "guest": self.partner.name,
            "nation": self.partner.nation,
            "quota_bytes": a.quota_bytes,
            "retention_days": a.retention_days,
            "bandwidth_bytes": a.bandwidth_bytes,
            "expires_at": a.expires_at.isoformat(),
            "created_at": a.created_at.isoformat(),
            "last_write_at": a.last_write_at.isoformat() if a.last_write_at else None,
            "last_check_at": a.last_check_at.isoformat() if a.last_check_at else None,
            "signing_key": a.signing_key,
            "release_before": a.release_before.isoformat() if a.release_before else None,
            "refusals": self.refusals,
            **self.usage.as_dict(),
        }


def _host_admin(ctx: Ctx) -> None:
    """Only this node's own people manage agreements: never a partner node's account."""
    require(ctx.who, Perm.PARTNERS_MANAGE)
    if ctx.who.partner_id is not None:
        raise Forbidden(f"{ctx.who.username} is a partner node's account: it manages no agreement")


def _check(name: str, quota: int, retention_days: int, bandwidth: int) -> None:
    if not NAME.match(name):
        raise InvalidInput(
            f"agreement name {name!r} is not valid: use 1-64 of a-z, 0-9 and '-' (not at an end)"
        )
    if not 0 < quota <= MAX_BYTES:
        raise InvalidInput(f"the quota must be a positive number of bytes, at most {MAX_BYTES}")
    if not 1 <= retention_days <= MAX_RETENTION_DAYS:
        raise InvalidInput(f"retention must be 1 to {MAX_RETENTION_DAYS} days")
    if not 0 <= bandwidth <= MAX_BYTES:
        raise InvalidInput(
            f"the bandwidth cap must be 0 (none) or a positive number of bytes, at most {MAX_BYTES}"
        )


def add_agreement(
    ctx: Ctx,
    name: str,
    partner: str,
    *,
    quota_bytes: int,
    retention_days: int,
    expires_at: datetime,
    bandwidth_bytes: int = 0,
    signing_key: str = "",
) -> HostingAgreement:
    """Promise a guest partner space here under ``name``."""
    _host_admin(ctx)
    _check(name, quota_bytes, retention_days, bandwidth_bytes)
    guest = get_partner(ctx, partner)
    if expires_at <= ctx.now():
        raise InvalidInput("the agreement must end in the future")
    if ctx.db.scalar(select(HostingAgreement).where(HostingAgreement.name == name)) is not None:
        raise InvalidInput(f"an agreement named {name!r} exists already; choose another name")
    if signing_key:
        from seawall.core.federation.identity import parse_public_key

        parse_public_key(signing_key)
    row = HostingAgreement(
        id=ctx.ids(),
        name=name,
        partner_id=guest.id,
        quota_bytes=quota_bytes,
        retention_days=retention_days,
        bandwidth_bytes=bandwidth_bytes,
        expires_at=expires_at,
        created_at=ctx.now(),
        created_by=ctx.who.username,
        signing_key=signing_key.strip(),
    )
    ctx.db.add(row)
    ctx.db.flush()
    ctx.record(
        "embassy.hosting.agreement.added",
        row.id,
        name=name,
        guest=guest.name,
        nation=guest.nation,
        quota_bytes=quota_bytes,
        retention_days=retention_days,
        bandwidth_bytes=bandwidth_bytes,
        expires_at=expires_at.isoformat(),
    )
    return row


def find_agreement(ctx: Ctx, name: str) -> HostingAgreement:
    """An agreement by name, for this node's own readers."""
    require(ctx.who, Perm.EMBASSY_READ)
    if ctx.who.partner_id is not None:
        raise Forbidden(f"{ctx.who.username} is a partner node's account: it reads no agreement")
    row = ctx.db.scalar(select(HostingAgreement).where(HostingAgreement.name == name))
    if row is None:
        raise AgreementMissing(f"no hosting agreement {name!r} on this node")
    return row


def usage_of(ctx: Ctx, agreement: HostingAgreement) -> Usage:
    """Bytes and versions an agreement keeps now (purged versions no longer count)."""
    kept = select(HostedObject).where(
        HostedObject.agreement_id == agreement.id, HostedObject.purged_at.is_(None)
    )
    sub = kept.subquery()
    stored, versions = ctx.db.execute(
        select(func.coalesce(func.sum(sub.c.size), 0), func.count())
    ).one()
    superseded = ctx.db.scalar(
        select(func.coalesce(func.sum(sub.c.size), 0)).where(sub.c.current.is_(False))
    )
    objects = ctx.db.scalar(
        select(func.count()).where(sub.c.current.is_(True), sub.c.marker.is_(False))
    )
    return Usage(int(stored), int(superseded or 0), int(objects or 0), int(versions))


def hosted(ctx: Ctx) -> list[Hosted]:
    """Every agreement with its guest, usage and refusal count, by name."""
    require(ctx.who, Perm.EMBASSY_READ)
    if ctx.who.partner_id is not None:
        raise Forbidden(f"{ctx.who.username} is a partner node's account: it reads no agreement")
    rows = ctx.db.scalars(select(HostingAgreement).order_by(HostingAgreement.name)).all()
    return [describe(ctx, row) for row in rows]


def describe(ctx: Ctx, row: HostingAgreement) -> Hosted:
    """One agreement with its guest, usage and refusal count."""
    partner = ctx.db.get(Partner, row.partner_id)
    assert partner is not None  # a foreign key without cascade
    refusals = ctx.db.scalar(select(func.count()).where(HostingRefusal.agreement_id == row.id))
    return Hosted(row, partner, usage_of(ctx, row), int(refusals or 0))


def refusals(ctx: Ctx, name: str | None = None, *, limit: int = 100) -> list[HostingRefusal]:
    """What this node refused its guests (of one agreement, or all), newest first."""
    require(ctx.who, Perm.EMBASSY_READ)
    if ctx.who.partner_id is not None:
        raise Forbidden(f"{ctx.who.username} is a partner node's account: it reads no refusal")
    stmt = select(HostingRefusal).order_by(HostingRefusal.seq.desc()).limit(limit)
    if name is not None:
        stmt = stmt.where(HostingRefusal.agreement_id == find_agreement(ctx, name).id)
    return list(ctx.db.scalars(stmt))


def refusal_dict(row: HostingRefusal, agreement: str = "") -> dict[str, object]:
    """A refusal for ``--json`` and the API."""
    return {
        "at": row.at.isoformat(),
        "agreement": agreement,
        "actor": row.actor,
        "code": row.code,
        "name": row.name,
        "size": row.size,
        "message": row.message,
    }


def change_agreement(
    ctx: Ctx,
    name: str,
    *,
    quota_bytes: int | None = None,
    retention_days: int | None = None,
    bandwidth_bytes: int | None = None,
    expires_at: datetime | None = None,
    reason: str = "",
) -> HostingAgreement:
    """Extend an agreement (more space, longer retention, a later end, another cap).

    Shortening retention is refused with ``retention_locked`` unless this node's admin asks
    with a reason: the guest counts on it to outlive an attack on its own node.
    """
    _host_admin(ctx)
    row = find_agreement(ctx, name)
    quota = row.quota_bytes if quota_bytes is None else quota_bytes
    days = row.retention_days if retention_days is None else retention_days
    bandwidth = row.bandwidth_bytes if bandwidth_bytes is None else bandwidth_bytes
    _check(name, quota, days, bandwidth)
    by_admin = ctx.who.role is Role.ADMIN
    if not may_shorten(row.retention_days, days, by_host_admin=by_admin, reason=reason):
        raise RetentionLocked(
            f"retention of {name} is {row.retention_days} days and may not be shortened to "
            f"{days} without a reason (--reason), given by this node's admin"
        )
    shortened = days < row.retention_days
    changed: dict[str, object] = {}
    for field, old, new in (
        ("quota_bytes", row.quota_bytes, quota),
        ("retention_days", row.retention_days, days),
        ("bandwidth_bytes", row.bandwidth_bytes, bandwidth),
    ):
        if old != new:
            changed[field] = {"from": old, "to": new}
            setattr(row, field, new)
    if expires_at is not None and expires_at != row.expires_at:
        changed["expires_at"] = {"from": row.expires_at.isoformat(), "to": expires_at.isoformat()}
        row.expires_at = expires_at
    if changed:
        ctx.record(
            "embassy.hosting.retention.shortened"
            if shortened
            else "embassy.hosting.agreement.changed",
            row.id,
            name=name,
            reason=reason,
            **changed,
        )
    return row
