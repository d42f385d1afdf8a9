"""Failures of the data-embassy pillar."""

from __future__ import annotations

from seawall.errors import Conflict, InvalidInput, NotFound, SeawallError


class SiteUnavailable(SeawallError):
    """A site cannot be reached or refused the operation."""

    exit_code = 69
    http_status = 503
    code = "site_unavailable"


class SiteFull(SeawallError):
    """A site has no space left for a write."""

    exit_code = 74
    http_status = 507
    code = "site_full"


class ObjectMissing(NotFound):
    """A named object is not on the site."""

    code = "object_missing"


class BadSiteUrl(InvalidInput):
    """A site URL Seawall cannot use."""

    code = "bad_site_url"


class WrongPassphrase(SeawallError):
    """No key slot opens with the passphrase or recovery key given."""

    exit_code = 77
    http_status = 401
    code = "wrong_passphrase"


class IntegrityError(SeawallError):
    """A sealed object, pack or share failed authentication: it was altered or damaged."""

    exit_code = 4
    http_status = 500
    code = "integrity_error"


class ShareInvalid(IntegrityError):
    """A share's header or MAC does not verify; the share is treated as missing."""

    code = "share_invalid"


class PacksLost(IntegrityError):
    """Packs with fewer than k good shares on reachable sites: repair cannot rebuild them.

    ``packs`` names their shares (``data/<2 hex>/<pack id>``); ``detail`` is the report of
    the run that found them (what it healed, and the snapshots and files each loss affects).
    """

    code = "packs_lost"

    def __init__(
        self, message: str, packs: tuple[str, ...] = (), detail: dict[str, object] | None = None
    ) -> None:
        super().__init__(message)
        self.packs = packs
        self.detail = detail or {}


class IndexDamaged(IntegrityError):
    """An index file fails authentication on every site that holds it, so the packs it lists
    are unknown until ``repair --index`` indexes them again from their trailers."""

    code = "index_damaged"


class TooFewShares(SeawallError):
    """Fewer valid shares than the threshold: the pack cannot be rebuilt."""

    exit_code = 69
    http_status = 503
    code = "too_few_shares"


class TooFewSites(SeawallError):
    """Not enough sites are reachable for the operation."""

    exit_code = 69
    http_status = 503
    code = "too_few_sites"


class RepositoryLocked(Conflict):
    """Another process holds a lock that conflicts with this operation."""

    code = "repository_locked"


class LockLost(SeawallError):
    """The run's repository lock was removed, or went unrefreshed until others may take it as
    stale: the run stopped at a safe point and wrote nothing more (retry it)."""

    exit_code = 75  # EX_TEMPFAIL: nothing is wrong with the request; run it again
    http_status = 503
    code = "lock_lost"


class BadRepositoryConfig(InvalidInput):
    """A repository setting or stored config that Seawall cannot use."""

    code = "bad_repository_config"


class RepositoryExists(Conflict):
    """A site already holds a repository, so ``init`` refuses to overwrite it."""

    code = "repository_exists"


class RepositoryMissing(NotFound):
    """No embassy repository was found on the site."""

    code = "repository_missing"


class SnapshotMissing(NotFound):
    """No snapshot matches the id or prefix given."""

    code = "snapshot_missing"


class KeySlotMissing(NotFound):
    """No key slot has the id given."""

    code = "key_slot_missing"


class LastKeySlot(Conflict):
    """Removing this slot would leave no way to open the repository."""

    code = "last_key_slot"


class SourceMissing(NotFound):
    """A path named for backup does not exist."""

    code = "source_missing"


class RestoreWouldOverwrite(Conflict):
    """Restoring would replace files that already exist in the target."""

    code = "restore_would_overwrite"


class RestoreThroughLink(Conflict):
    """A restore would write through a symbolic link; it never follows one below its target.

    ``entry`` is the snapshot path (``/``-rooted) whose write was refused.
    """

    code = "restore_through_link"

    def __init__(self, message: str, entry: str) -> None:
        super().__init__(message)
        self.entry = entry


class BadCustodianShare(InvalidInput):
    """A custodian share is malformed, mistyped or from another split."""

    code = "bad_custodian_share"


class BadPlace(InvalidInput):
    """A site location or storm radius that is not a place on Earth."""

    code = "bad_place"


class HostKeyRejected(SiteUnavailable):
    """An SFTP server's host key is unknown or differs from the one in known_hosts."""

    code = "host_key_rejected"


# Failures of a site itself (as opposed to a missing object), and both together.
SITE_ERRORS = (SiteUnavailable, SiteFull)
IO_ERRORS = (SiteUnavailable, SiteFull, ObjectMissing)
