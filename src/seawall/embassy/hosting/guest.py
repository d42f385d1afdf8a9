"""The guest's side of hosting: signing, with the repository's embassy key, what its partner
hosts may purge once retention allows, and watching the terms each host shows.

Prune and forget delete objects on every site; on a partner's node a delete only hides the
object (a delete marker), and its versions stay under retention. :func:`release` tells each
partner host that the versions superseded until now may go once their retention has passed,
and registers the repository's embassy key on the agreement the first time. An operation
that deleted anything on a partner host owes it a release: :func:`settle` sends it when the
operation ends, and keeps it owed (``embassy_partner_terms.release_due_since``) for the next
open when the host cannot be reached.

:func:`note_terms` compares the terms a host shows at connect with the ones this node last
saw: a change is audited (``embassy.hosting.terms.changed``), and a shortened retention or an
agreement that ends within :data:`EXPIRY_WARNING` raises an alert.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from seawall.core.alerts import raise_alert
from seawall.core.context import Ctx
from seawall.db.models.embassy_hosting import PartnerTerms
from seawall.embassy.hosting.signing import embassy_key, release_statement
from seawall.embassy.keys import MasterKey
from seawall.embassy.sites.base import Site
from seawall.embassy.sites.partner import PartnerSite
from seawall.errors import SeawallError

Units = Callable[[], AbstractContextManager[Ctx]]
EXPIRY_WARNING = timedelta(days=30)
TERMS = ("retention_days", "quota_bytes", "bandwidth_bytes", "expires_at")


@dataclass(frozen=True)
class Released:
    """What one partner host answered a release: the watermark it keeps, and what it purged."""

    site: str
    release_before: str
    purged: int


def partner_sites(sites: Sequence[Site | None]) -> list[PartnerSite]:
    """The partner hosts among ``sites`` that take writes (not a view of the past)."""
    return [s for s in sites if isinstance(s, PartnerSite) and s.as_of is None]


def release_one(site: PartnerSite, master: MasterKey, now: datetime) -> Released:
    """Sign a release up to ``now`` to one partner host."""
    key = embassy_key(master)
    statement = release_statement(site.agreement, now)
    answer = site.signed(
        "release",
        {
            "before": now.isoformat(),
            "public_key": key.public_text,
            "signature": key.sign(statement),
        },
    )
    return Released(site.url, str(answer.get("release_before")), int(answer.get("purged", 0)))


def release(sites: Sequence[Site | None], master: MasterKey, now: datetime) -> list[Released]:
    """Sign a release up to ``now`` to every partner host among ``sites``."""
    return [release_one(site, master, now) for site in partner_sites(sites)]


def _parse(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def note_terms(ctx: Ctx, site: PartnerSite) -> None:
    """Keep the terms ``site``'s host showed at connect; audit a change, alert on a shortened
    retention and on an agreement that ended or ends within :data:`EXPIRY_WARNING`."""
    shown = site.terms
    if not shown:
        return
    expires = _parse(shown.get("expires_at"))
    try:
        new = {
            "retention_days": int(shown["retention_days"]),
            "quota_bytes": int(shown["quota_bytes"]),
            "bandwidth_bytes": int(shown.get("bandwidth_bytes") or 0),
        }
    except (KeyError, TypeError, ValueError):
        return
    if expires is None:
        return
    url = site.url.partition("?")[0]
    row = ctx.db.get(PartnerTerms, url)
    now = ctx.now()
    if row is None:
        row = PartnerTerms(site=url, expires_at=expires, seen_at=now, **new)
        ctx.db.add(row)
    else:
        old = {field: getattr(row, field) for field in TERMS}
        changed = {
            field: {"from": old[field], "to": value}
            for field, value in {**new, "expires_at": expires}.items()
            if old[field] != value
        }
        if changed:
            for field in changed:
                if isinstance(changed[field]["from"], datetime):
                    changed[field] = {k: v.isoformat() for k, v in changed[field].items()}
            ctx.record("embassy.hosting.terms.changed", url, site=url, **changed)
            if new["retention_days"] < row.retention_days:
                raise_alert(
                    ctx,
                    "embassy.hosting.retention.shortened",
                    url,
                    f"partner host {site.partner} shortened the retention of agreement "
                    f"{site.agreement} from {row.retention_days} to {new['retention_days']} "
                    "days: versions an attacker overwrites are kept that much less",
                )
        for field, value in {**new, "expires_at": expires}.items():
            setattr(row, field, value)
        row.seen_at = now
    ctx.db.flush()
    if expires <= now:
        expired_alert(ctx, site, f"ended on {expires:%Y-%m-%d}")
    elif expires - now <= EXPIRY_WARNING:
        raise_alert(
            ctx,
            "embassy.agreement.expiring",
            url,
            f"agreement {site.agreement} with partner host {site.partner} ends on "
            f"{expires:%Y-%m-%d}: after that the host stores nothing new; extend it or move "
            "the site (seawall embassy replace-site)",
        )


def expired_alert(ctx: Ctx, site: PartnerSite, when: str) -> None:
    """The alert of an agreement that ended, on the guest."""
    raise_alert(
        ctx,
        "embassy.agreement.expired",
        site.url.partition("?")[0],
        f"agreement {site.agreement} with partner host {site.partner} {when}: the host keeps "
        "what it holds readable and stores nothing new; extend it or move the site",
    )


def settle(units: Units, sites: Sequence[Site | None], master: MasterKey, now: datetime) -> None:
    """After an operation: send each partner host the release it is owed (this open deleted
    something there, or an earlier release did not reach it), keep owing the ones that fail,
    and raise the alert of a write refused because the agreement ended."""
    hosts = partner_sites(sites)
    if not hosts:
        return
    with units() as ctx:
        owed = set(
            ctx.db.scalars(
                select(PartnerTerms.site).where(
                    PartnerTerms.site.in_([s.url for s in hosts]),
                    PartnerTerms.release_due_since.is_not(None),
                )
            )
        )
        for site in hosts:
            if site.expired is not None:
                expired_alert(ctx, site, f"refused a write: {site.expired}")
    for site in hosts:
        if not site.deleted and site.url not in owed:
            continue
        try:
            done = release_one(site, master, now)
        except SeawallError as exc:
            with units() as ctx:
                row = ctx.db.get(PartnerTerms, site.url)
                if row is not None and row.release_due_since is None:
                    row.release_due_since = now
                ctx.record(
                    "embassy.hosting.release.pending", site.url, site=site.url, error=exc.code
                )
            continue
        site.deleted = 0
        with units() as ctx:
            row = ctx.db.get(PartnerTerms, site.url)
            if row is not None:
                row.release_due_since = None
            ctx.record(
                "embassy.hosting.released",
                site.url,
                site=site.url,
                before=now.isoformat(),
                release_before=done.release_before,
                purged=done.purged,
            )
