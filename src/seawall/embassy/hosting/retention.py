"""The retention rules of hosted shares, pure: which version a name shows at a time, and which
versions may be purged.

Hosting keeps versions as S3 Object Lock with versioning does. A put over a name keeps the
version it replaces; a delete adds a delete marker. A version stops being current when a
later put or marker supersedes it, and its retention counts from then: it is kept for the
agreement's retention days after it was superseded, and a current version is kept as long as
it is current. An attacker holding the guest's token and its passphrase can therefore hide
every share from the current view, but cannot destroy one until the retention has passed
since the attack. A purge needs, besides that time, a release the guest signed that covers
the version's supersession (:attr:`Version.superseded_at` at or before ``release_before``).

Objects under :data:`LOCKS_PREFIX` are exempt: a lock is written again every few minutes and
deleted at the end of a run, and it keeps no version.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

# Repository locks (embassy-format §10) are rewritten in normal use and keep no versions.
LOCKS_PREFIX = "locks/"


def exempt(name: str) -> bool:
    """Whether ``name`` keeps no versions (a lock)."""
    return name.startswith(LOCKS_PREFIX)


@dataclass(frozen=True)
class Version:
    """What the rules need to know about one stored version (or delete marker)."""

    id: str
    name: str
    stored_at: datetime
    marker: bool = False
    superseded_at: datetime | None = None
    purged: bool = False


def retained_until(version: Version, retention_days: int) -> datetime | None:
    """When the version's retention ends; None while it is current (kept without end)."""
    if version.superseded_at is None:
        return None
    return version.superseded_at + timedelta(days=retention_days)


def purgeable(
    version: Version, now: datetime, retention_days: int, release_before: datetime | None
) -> bool:
    """Whether the host may purge the version now: superseded, past retention, and released."""
    if version.purged:
        return False
    until = retained_until(version, retention_days)
    if until is None or until > now:
        return False
    if exempt(version.name):
        return True
    return (
        release_before is not None
        and version.superseded_at is not None
        and (version.superseded_at <= release_before)
    )


def visible_as_of(versions: Iterable[Version], as_of: datetime | None) -> dict[str, Version]:
    """The version each name shows at ``as_of`` (None: now), delete markers and purged left out.

    A version is visible from when it was stored until it was superseded (the interval
    ``[stored_at, superseded_at)``), so one version at most shows for a name at any time, even
    when several were stored within the same instant. Locks keep no versions: they show as
    they are now whatever ``as_of`` says.
    """
    shown: dict[str, Version] = {}
    for version in versions:
        if as_of is None or exempt(version.name):
            visible = version.superseded_at is None
        else:
            visible = version.stored_at <= as_of and (
                version.superseded_at is None or version.superseded_at > as_of
            )
        if visible:
            shown[version.name] = version
    return {
        name: version
        for name, version in shown.items()
        if not version.marker and not version.purged
    }


def may_shorten(old_days: int, new_days: int, *, by_host_admin: bool, reason: str) -> bool:
    """Whether retention may go from ``old_days`` to ``new_days``: lengthening always, shortening
    only by the host's own admin and with a reason."""
    if new_days >= old_days:
        return True
    return by_host_admin and bool(reason.strip())
