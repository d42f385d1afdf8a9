"""Hosted objects, as a guest's node reaches them: put, get, list, stat, delete, versions and
the purges it signs. Every call is made as the guest partner's account on this node.

A put keeps the version it replaces and a delete adds a marker (the rules and why are in
:mod:`seawall.embassy.hosting.retention`); quota, bandwidth and expiry are checked before a
byte is kept. A refused write or purge is answered as :class:`Refused`, after its refusal is
recorded in the same transaction, for the edge to raise: a refusal is kept even though the
request failed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import func, select, update

from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.core.federation.identity import parse_public_key, same_key
from seawall.core.federation.packages import refuse_disabled
from seawall.db.models import Partner
from seawall.db.models.embassy_hosting import HostedObject, HostingAgreement, HostingRefusal
from seawall.embassy.errors import (
    AgreementExpired,
    AgreementMissing,
    BandwidthExceeded,
    ObjectMissing,
    PurgeSignatureInvalid,
    RetentionLocked,
    SiteFull,
)
from seawall.embassy.hosting.agreements import usage_of
from seawall.embassy.hosting.retention import (
    Version,
    exempt,
    purgeable,
    retained_until,
    visible_as_of,
)
from seawall.embassy.hosting.signing import purge_statement, release_statement, signed_by
from seawall.embassy.hosting.store import HostedBlobs
from seawall.embassy.sites.base import check_name
from seawall.errors import Forbidden, InvalidInput, SeawallError

T = TypeVar("T")
# The largest object a guest may put in one request (a share of a 16 MiB pack is about 6 MiB).
MAX_OBJECT_BYTES = 64 * 1024 * 1024
REFUSALS = (SiteFull, AgreementExpired, BandwidthExceeded, RetentionLocked, PurgeSignatureInvalid)


@dataclass(frozen=True)
class Refused:
    """A write or purge the host refused; the refusal is recorded, the edge raises ``error``."""

    error: SeawallError


def guest_agreement(ctx: Ctx, name: str) -> HostingAgreement:
    """The agreement ``name`` of the calling partner node's account; anyone else is refused."""
    require(ctx.who, Perm.EMBASSY_HOST_WRITE)
    partner = ctx.db.get(Partner, ctx.who.partner_id) if ctx.who.partner_id else None
    if partner is None:
        raise Forbidden(
            f"{ctx.who.username} is not a partner node's account: only a guest's node keeps "
            "shares here"
        )
    refuse_disabled(partner)
    row = ctx.db.scalar(select(HostingAgreement).where(HostingAgreement.name == name))
    # Another partner's agreement is answered as missing: its name says nothing to a stranger.
    if row is None or row.partner_id != partner.id:
        raise AgreementMissing(f"no hosting agreement {name!r} for {partner.name} on this node")
    return row


def attempt(
    ctx: Ctx, row: HostingAgreement, name: str, size: int, work: Callable[[], T]
) -> T | Refused:
    """Run ``work`` in a savepoint; a refusal is recorded (and audited) and answered.

    The agreement row is written first, so the unit holds the write lock (SQLite) or the
    row lock (PostgreSQL) from the start: the guest's writes under one agreement take their
    turn, and two cannot both pass the quota check with the room for one.
    """
    ctx.db.execute(
        update(HostingAgreement)
        .where(HostingAgreement.id == row.id)
        .values(quota_bytes=HostingAgreement.quota_bytes)
    )
    try:
        with ctx.db.begin_nested():
            return work()
    except REFUSALS as exc:
        ctx.db.add(
            HostingRefusal(
                agreement_id=row.id,
                at=ctx.now(),
                actor=ctx.who.username,
                code=exc.code,
                name=name,
                size=size,
                message=exc.message,
            )
        )
        ctx.record(
            "embassy.hosting.refused",
            row.id,
            agreement=row.name,
            error=exc.code,
            name=name,
            size=size,
        )
        return Refused(exc)


def _versions(
    ctx: Ctx, row: HostingAgreement, prefix: str = "", *, name: str | None = None
) -> list[HostedObject]:
    stmt = select(HostedObject).where(
        HostedObject.agreement_id == row.id, HostedObject.purged_at.is_(None)
    )
    if name is not None:
        stmt = stmt.where(HostedObject.name == name)
    elif prefix:
        stmt = stmt.where(HostedObject.name.startswith(prefix, autoescape=True))
    return list(ctx.db.scalars(stmt))


def _as_version(obj: HostedObject) -> Version:
    return Version(
        obj.id, obj.name, obj.stored_at, obj.marker, obj.superseded_at, obj.purged_at is not None
    )


def _visible(
    ctx: Ctx,
    row: HostingAgreement,
    as_of: datetime | None,
    prefix: str = "",
    *,
    name: str | None = None,
) -> dict[str, HostedObject]:
    rows = {obj.id: obj for obj in _versions(ctx, row, prefix, name=name)}
    shown = visible_as_of((_as_version(obj) for obj in rows.values()), as_of)
    return {key: rows[version.id] for key, version in shown.items()}


def _current(ctx: Ctx, row: HostingAgreement, name: str) -> HostedObject | None:
    return ctx.db.scalar(
        select(HostedObject).where(
            HostedObject.agreement_id == row.id,
            HostedObject.name == name,
            HostedObject.current.is_(True),
        )
    )


def _written_today(ctx: Ctx, row: HostingAgreement) -> int:
    now = ctx.now()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    total = ctx.db.scalar(
        select(func.coalesce(func.sum(HostedObject.size), 0)).where(
            HostedObject.agreement_id == row.id, HostedObject.stored_at >= midnight
        )
    )
    return int(total or 0)


def _drop_lock(ctx: Ctx, blobs: HostedBlobs, row: HostingAgreement, old: HostedObject) -> None:
    """Locks keep no version: the one replaced or deleted goes at once."""
    ctx.db.delete(old)
    ctx.db.flush()
    blobs.remove(row.id, old.id)


def put(
    ctx: Ctx, blobs: HostedBlobs, agreement: str, name: str, data: bytes
) -> dict[str, object] | Refused:
    """Keep ``data`` as the new current version of ``name``; the old version stays retained."""
    check_name(name)
    row = guest_agreement(ctx, agreement)

    def work() -> dict[str, object]:
        now = ctx.now()
        if row.expires_at <= now:
            raise AgreementExpired(
                f"agreement {row.name} ended on {row.expires_at:%Y-%m-%d}; its shares stay "
                "readable, nothing new is stored"
            )
        old = _current(ctx, row, name)
        if old is not None and _same(blobs, row.id, old, data) and not exempt(name):
            # A guest sent again what it wrote before its link dropped (embassy.resuming):
            # the bytes are kept once, as the version that holds them.
            return {"name": name, "version": old.id, "size": len(data)}
        freed = old.size if old is not None and exempt(name) else 0
        usage = usage_of(ctx, row)
        if usage.stored_bytes - freed + len(data) > row.quota_bytes:
            raise SiteFull(
                f"agreement {row.name} on this host is full: {usage.stored_bytes} of "
                f"{row.quota_bytes} bytes kept ({100 * usage.stored_bytes // row.quota_bytes}%), "
                f"{len(data)} more asked; superseded versions count until their retention ends"
            )
        if row.bandwidth_bytes and _written_today(ctx, row) + len(data) > row.bandwidth_bytes:
            raise BandwidthExceeded(
                f"agreement {row.name} allows {row.bandwidth_bytes} bytes a day and today's "
                f"writes would pass it; nothing was stored"
            )
        version = HostedObject(
            id=ctx.ids(),
            agreement_id=row.id,
            name=name,
            size=len(data),
            marker=False,
            current=True,
            stored_at=now,
        )
        blobs.write(row.id, version.id, data)
        if old is not None:
            if exempt(name):
                _drop_lock(ctx, blobs, row, old)
            else:
                old.current, old.superseded_at = False, now
                ctx.db.flush()
        ctx.db.add(version)
        row.last_write_at = now
        ctx.db.flush()
        if not exempt(name):
            ctx.record(
                "embassy.hosting.object.stored",
                row.id,
                agreement=row.name,
                name=name,
                size=len(data),
                version=version.id,
                replaced=old.id if old is not None else None,
            )
        return {"name": name, "version": version.id, "size": len(data)}

    return attempt(ctx, row, name, len(data), work)


def _same(blobs: HostedBlobs, agreement_id: str, old: HostedObject | None, data: bytes) -> bool:
    """True when the current version ``old`` holds exactly ``data``."""
    if old is None or old.marker or old.size != len(data):
        return False
    try:
        return blobs.read(agreement_id, old.id) == data
    except ObjectMissing:
        return False


def delete(ctx: Ctx, blobs: HostedBlobs, agreement: str, name: str) -> dict[str, object]:
    """Hide ``name`` behind a delete marker; the version it hides stays retained."""
    check_name(name)
    row = guest_agreement(ctx, agreement)
    old = _current(ctx, row, name)
    if old is None or old.marker:
        return {"name": name, "deleted": False}
    now = ctx.now()
    if exempt(name):
        _drop_lock(ctx, blobs, row, old)
        return {"name": name, "deleted": True}
    old.current, old.superseded_at = False, now
    ctx.db.flush()
    marker = HostedObject(
        id=ctx.ids(),
        agreement_id=row.id,
        name=name,
        size=0,
        marker=True,
        current=True,
        stored_at=now,
    )
    ctx.db.add(marker)
    row.last_write_at = now
    ctx.db.flush()
    ctx.record(
        "embassy.hosting.object.deleted", row.id, agreement=row.name, name=name, version=old.id
    )
    return {"name": name, "deleted": True, "marker": marker.id}


def get(
    ctx: Ctx, blobs: HostedBlobs, agreement: str, name: str, as_of: datetime | None = None
) -> bytes:
    """The bytes ``name`` shows now, or at ``as_of``; ObjectMissing when it shows none."""
    check_name(name)
    row = guest_agreement(ctx, agreement)
    found = _visible(ctx, row, as_of, name=name).get(name)
    if found is None:
        raise ObjectMissing(f"{name} is missing under agreement {row.name}")
    return blobs.read(row.id, found.id)


def listing(
    ctx: Ctx, agreement: str, prefix: str = "", as_of: datetime | None = None
) -> list[tuple[str, int]]:
    """Names and sizes shown now (or at ``as_of``) under ``prefix``, sorted; a check reads
    this, so the agreement's last check is now."""
    row = guest_agreement(ctx, agreement)
    row.last_check_at = ctx.now()
    shown = _visible(ctx, row, as_of, prefix)
    return sorted((name, obj.size) for name, obj in shown.items())


def stat(ctx: Ctx, agreement: str, name: str, as_of: datetime | None = None) -> int | None:
    """Size of what ``name`` shows now (or at ``as_of``), or None."""
    check_name(name)
    row = guest_agreement(ctx, agreement)
    found = _visible(ctx, row, as_of, name=name).get(name)
    return None if found is None else found.size


def versions(ctx: Ctx, agreement: str, prefix: str = "") -> list[dict[str, object]]:
    """Every version kept under ``prefix``, with when its retention ends (None: current)."""
    row = guest_agreement(ctx, agreement)
    found = []
    for obj in sorted(_versions(ctx, row, prefix), key=lambda o: (o.name, o.stored_at, o.id)):
        until = retained_until(_as_version(obj), row.retention_days)
        found.append(
            {
                "name": obj.name,
                "version": obj.id,
                "size": obj.size,
                "marker": obj.marker,
                "current": obj.current,
                "stored_at": obj.stored_at.isoformat(),
                "superseded_at": obj.superseded_at.isoformat() if obj.superseded_at else None,
                "retained_until": until.isoformat() if until else None,
            }
        )
    return found


def status(ctx: Ctx, agreement: str) -> dict[str, object]:
    """What the guest may know of its agreement: terms and how full it is."""
    row = guest_agreement(ctx, agreement)
    usage = usage_of(ctx, row)
    return {
        "name": row.name,
        "quota_bytes": row.quota_bytes,
        "retention_days": row.retention_days,
        "bandwidth_bytes": row.bandwidth_bytes,
        "expires_at": row.expires_at.isoformat(),
        "signing_key": row.signing_key,
        "release_before": row.release_before.isoformat() if row.release_before else None,
        "full_percent": round(100 * usage.stored_bytes / row.quota_bytes, 1),
        **usage.as_dict(),
    }


def _check_signature(
    ctx: Ctx, row: HostingAgreement, public_key: str, signature: str, statement: bytes
) -> None:
    """The statement must be signed by the agreement's embassy key (registered on first use)."""
    parse_public_key(public_key)
    if row.signing_key and not same_key(row.signing_key, public_key):
        raise PurgeSignatureInvalid(
            f"the request is signed with another key than the embassy key registered on {row.name}"
        )
    if not signed_by(public_key, signature, statement):
        raise PurgeSignatureInvalid(f"the request's signature does not verify for {row.name}")
    if not row.signing_key:
        row.signing_key = public_key.strip()
        ctx.record(
            "embassy.hosting.key.registered", row.id, agreement=row.name, key=row.signing_key
        )


def release(
    ctx: Ctx,
    blobs: HostedBlobs,
    agreement: str,
    before: datetime,
    public_key: str,
    signature: str,
) -> dict[str, object] | Refused:
    """Let the host purge the versions superseded by ``before`` once their retention ends (a
    signed standing permission, never earlier than retention); purges what is due now."""
    row = guest_agreement(ctx, agreement)

    def work() -> dict[str, object]:
        _check_signature(ctx, row, public_key, signature, release_statement(row.name, before))
        moved = min(before, ctx.now())
        if row.release_before is None or moved > row.release_before:
            row.release_before = moved
            ctx.record(
                "embassy.hosting.released", row.id, agreement=row.name, before=moved.isoformat()
            )
        purged = sweep_agreement(ctx, blobs, row)
        return {"release_before": row.release_before.isoformat(), "purged": purged}

    return attempt(ctx, row, "", 0, work)


def purge_version(
    ctx: Ctx,
    blobs: HostedBlobs,
    agreement: str,
    version: str,
    public_key: str,
    signature: str,
) -> dict[str, object] | Refused:
    """Purge one version now: signed, and only once its retention has ended."""
    row = guest_agreement(ctx, agreement)
    obj = ctx.db.get(HostedObject, version)
    if obj is None or obj.agreement_id != row.id or obj.purged_at is not None:
        raise ObjectMissing(f"no version {version} kept under agreement {row.name}")

    def work() -> dict[str, object]:
        _check_signature(ctx, row, public_key, signature, purge_statement(row.name, version))
        until = retained_until(_as_version(obj), row.retention_days)
        if until is None or until > ctx.now():
            when = "while it is current" if until is None else f"before {until:%Y-%m-%d %H:%M} UTC"
            raise RetentionLocked(
                f"{obj.name} version {version} is under retention and cannot be purged {when}"
            )
        _purge(ctx, blobs, row, [obj])
        return {"purged": 1}

    return attempt(ctx, row, obj.name, obj.size, work)


def _purge(ctx: Ctx, blobs: HostedBlobs, row: HostingAgreement, due: list[HostedObject]) -> None:
    now = ctx.now()
    ids = [obj.id for obj in due]
    ctx.db.execute(update(HostedObject).where(HostedObject.id.in_(ids)).values(purged_at=now))
    ctx.db.flush()
    for obj in due:
        blobs.remove(row.id, obj.id)
    ctx.record(
        "embassy.hosting.purged",
        row.id,
        agreement=row.name,
        versions=len(due),
        bytes=sum(obj.size for obj in due),
        names=sorted({obj.name for obj in due})[:20],
    )


def sweep_agreement(ctx: Ctx, blobs: HostedBlobs, row: HostingAgreement) -> int:
    """Purge the versions of an agreement that are released and past retention; how many."""
    now = ctx.now()
    due = [
        obj
        for obj in _versions(ctx, row)
        if not obj.current
        and purgeable(_as_version(obj), now, row.retention_days, row.release_before)
    ]
    if due:
        _purge(ctx, blobs, row, due)
    return len(due)


def sweep(ctx: Ctx, blobs: HostedBlobs) -> dict[str, int]:
    """Purge, under every agreement, what its guest released and retention lets go (the host's
    admin runs it; a guest's release purges its own at once)."""
    require(ctx.who, Perm.PARTNERS_MANAGE)
    if ctx.who.partner_id is not None:
        raise Forbidden(f"{ctx.who.username} is a partner node's account: it sweeps nothing")
    rows = ctx.db.scalars(select(HostingAgreement).order_by(HostingAgreement.name)).all()
    return {row.name: sweep_agreement(ctx, blobs, row) for row in rows}


MAX_CHALLENGES = 1000


def audit(
    ctx: Ctx, blobs: HostedBlobs, agreement: str, challenges: list[tuple[str, str]]
) -> dict[str, str | None]:
    """Answer a guest's audit: for each ``(name, nonce hex)``, the keyed hash of the bytes the
    name shows now, read from this host's disk (None: it shows nothing, or the file is gone).
    A check, so the agreement's last check is now."""
    from seawall.embassy.auditing import answer

    row = guest_agreement(ctx, agreement)
    if len(challenges) > MAX_CHALLENGES:
        raise InvalidInput(f"an audit asks at most {MAX_CHALLENGES} challenges")
    parsed = []
    for name, text in challenges:
        check_name(name)
        try:
            key = bytes.fromhex(text)
        except ValueError:
            key = b""
        if len(key) != 32:
            raise InvalidInput(f"the challenge for {name} is not 32 bytes of hex")
        parsed.append((name, key))
    shown = _visible(ctx, row, None)
    answers: dict[str, str | None] = {}
    for name, key in parsed:
        found = shown.get(name)
        try:
            data = blobs.read(row.id, found.id) if found is not None else None
        except ObjectMissing:
            data = None
        answers[name] = None if data is None else answer(key, data).hex()
    row.last_check_at = ctx.now()
    ctx.record(
        "embassy.hosting.audited",
        row.id,
        agreement=row.name,
        challenges=len(parsed),
        unanswered=sum(1 for a in answers.values() if a is None),
    )
    return answers
