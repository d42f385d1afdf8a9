"""Failures of the data-embassy pillar."""

from __future__ import annotations

from seawall.errors import Conflict, Forbidden, InvalidInput, NotFound, SeawallError


class SiteUnavailable(SeawallError):
    """An embassy site cannot be reached or refused the operation."""

    exit_code = 69
    http_status = 503
    code = "site_unavailable"
    remedy = (
        "Check the site and its credentials; degraded mode or repair covers a site that is down."
    )


class SiteFull(SeawallError):
    """A site has no space left for a write."""

    exit_code = 74
    http_status = 507
    code = "site_full"
    remedy = "Free space, or replace the site."


class ObjectMissing(NotFound):
    """A named object is not on an embassy site."""

    code = "object_missing"
    remedy = "Run ``seawall embassy check``, then ``repair``."


class BadSiteUrl(InvalidInput):
    """An embassy site URL, or an object name on a site, Seawall cannot use."""

    code = "bad_site_url"
    remedy = (
        "Use a ``file://``, ``sftp://``, ``s3://`` or ``seawall://`` URL as in docs/embassy.md, "
        "without credentials."
    )


class SameRepository(InvalidInput):
    """``embassy copy`` was given one repository as both ``--from`` and ``--to``."""

    code = "same_repository"
    remedy = (
        "Give the repository to copy into as ``--to`` (register it first with ``embassy init``)."
    )


class WrongPassphrase(SeawallError):
    """No key slot opens with the passphrase or recovery key given."""

    exit_code = 77
    http_status = 401
    code = "wrong_passphrase"
    remedy = "Try again, or recover with the custodians' shares (``seawall embassy key recover``)."


class IntegrityError(SeawallError):
    """A sealed object, pack or share failed authentication: altered or damaged."""

    exit_code = 4
    http_status = 500
    code = "integrity_error"
    remedy = "Run ``seawall embassy check``, then ``repair``."


class ShareInvalid(IntegrityError):
    """A share's header or MAC does not verify; it counts as missing."""

    code = "share_invalid"
    remedy = "Run ``seawall embassy repair``."


class PacksLost(IntegrityError):
    """``seawall embassy repair`` found packs with fewer than k good shares: it healed everything
    else, and names each pack it could not rebuild.

    ``packs`` names their shares (``data/<2 hex>/<pack id>``); ``detail`` is the report of
    the run that found them (what it healed, and the snapshots and files each loss affects).
    """

    code = "packs_lost"
    remedy = (
        "``seawall embassy check --read-data --json`` lists the snapshots and files each one "
        "held; bring back a site that holds good shares, or restore those files from another "
        "copy."
    )

    def __init__(
        self, message: str, packs: tuple[str, ...] = (), detail: dict[str, object] | None = None
    ) -> None:
        super().__init__(message)
        self.packs = packs
        self.detail = detail or {}


class IndexDamaged(IntegrityError):
    """An index file fails authentication on every site: ``prune`` and ``forget --prune`` refuse
    (the packs it lists would look unused), and ``repair`` stops after healing the rest."""

    code = "index_damaged"
    remedy = "Run ``seawall embassy repair --index``: it indexes every pack again from its trailer."


class TooFewShares(SeawallError):
    """Fewer valid shares than the threshold: the pack cannot be rebuilt now."""

    exit_code = 69
    http_status = 503
    code = "too_few_shares"
    remedy = (
        "Bring back the sites the message names (a pack needs shares from k of n). With every "
        "site up, run ``seawall embassy repair``: it heals the rest and counts what is lost."
    )


class TooFewSites(SeawallError):
    """Not enough sites are reachable for the operation; nothing was written."""

    exit_code = 69
    http_status = 503
    code = "too_few_sites"
    remedy = "Bring sites back online, or replace one (``seawall embassy site replace``)."


class RepositoryLocked(Conflict):
    """Another process holds a conflicting lock on the embassy repository."""

    code = "repository_locked"
    remedy = (
        "Wait for that run to end. If it is gone, ``seawall embassy unlock --repo R`` removes "
        "its lock once stale (30 minutes unrefreshed), ``--remove-all`` at once."
    )


class LockLost(SeawallError):
    """The run's repository lock was removed or went stale; the run stopped at a safe point."""

    exit_code = 75  # EX_TEMPFAIL: nothing is wrong with the request; run it again
    http_status = 503
    code = "lock_lost"
    remedy = "Run the command again."


class BadRepositoryConfig(InvalidInput):
    """A repository setting or stored config Seawall cannot use (impossible k-of-n, a short
    passphrase)."""

    code = "bad_repository_config"
    remedy = "Choose a value in the range the message gives."


class RepositoryExists(Conflict):
    """``seawall embassy init`` on a site that already holds a repository."""

    code = "repository_exists"
    remedy = "Pick another site or path."


class RepositoryMissing(NotFound):
    """No embassy repository is on the sites given."""

    code = "repository_missing"
    remedy = "Check the site URLs, or run ``seawall embassy init``."


class SnapshotMissing(NotFound):
    """No snapshot matches the id or prefix, or there are none yet."""

    code = "snapshot_missing"
    remedy = "List snapshots; run a backup first."


class KeySlotMissing(NotFound):
    """No key slot has that id."""

    code = "key_slot_missing"
    remedy = "List the key slots first."


class LastKeySlot(Conflict):
    """Removing the last passphrase slot would leave no way to open the repository."""

    code = "last_key_slot"
    remedy = "Add another passphrase first."


class SourceMissing(NotFound):
    """A path named for backup does not exist, or nothing was named. Nothing is backed up."""

    code = "source_missing"
    remedy = "Give existing paths or a stream."


class RestoreWouldOverwrite(Conflict):
    """A restore would replace existing files, or its target is a file."""

    code = "restore_would_overwrite"
    remedy = "Restore into an empty directory, or pass ``--overwrite``."


class RestoreThroughLink(Conflict):
    """A restore would write through a symbolic link below its target.

    ``entry`` is the snapshot path (``/``-rooted) whose write was refused.
    """

    code = "restore_through_link"
    remedy = "Remove the link, or restore into another directory."

    def __init__(self, message: str, entry: str) -> None:
        super().__init__(message)
        self.entry = entry


class BadCustodianShare(InvalidInput):
    """A custodian share is malformed, mistyped or from another split."""

    code = "bad_custodian_share"
    remedy = "Copy the share again from the custodian's sheet."


class BadPlace(InvalidInput):
    """A site location or storm radius is not a place on Earth."""

    code = "bad_place"
    remedy = "Give latitude -90 to 90, longitude -180 to 180 and a positive radius."


class MountUnavailable(SeawallError):
    """``seawall embassy mount`` cannot mount here: the FUSE binding (the ``mount`` extra) is
    not installed, or the kernel refused the mount (no /dev/fuse, or no permission)."""

    exit_code = 69
    http_status = 503
    code = "mount_unavailable"
    remedy = (
        "Install libfuse3 (Debian: `apt-get install libfuse3-dev fuse3 pkg-config`), then "
        "`pip install 'seawall[mount]'`; or restore the snapshot instead."
    )


class HostKeyRejected(SiteUnavailable):
    """An SFTP server's host key is unknown or differs from the one in ``known_hosts``."""

    code = "host_key_rejected"
    remedy = "If the server was rebuilt, remove its old line; otherwise suspect interception."


class SiteReadOnly(SiteUnavailable):
    """A write to a partner site opened ``as-of`` a past time: that view of the hosted
    repository is read-only (locks excepted)."""

    code = "site_read_only"
    remedy = "Open the site without ``as-of`` to write; read the past with it to restore."


class RetentionLocked(Conflict):
    """A hosted share is under its agreement's retention: it cannot be purged yet, whoever
    signs, and retention can be lengthened but not shortened (only the host's admin may, with
    a reason)."""

    code = "retention_locked"
    remedy = (
        "Wait until the retention the message names has passed; the host purges what the "
        "guest released then."
    )


class AgreementMissing(NotFound):
    """No hosting agreement has that name, or it is not one the caller's partner holds."""

    code = "agreement_missing"
    remedy = (
        "List the agreements (``seawall embassy host agreement list``) or ask the host's admin."
    )


class AgreementExpired(Conflict):
    """A write under a hosting agreement that has expired: its shares stay readable, nothing new
    is stored."""

    code = "agreement_expired"
    remedy = (
        "Ask the host's admin to extend the agreement (``seawall embassy host agreement extend``)."
    )


class BandwidthExceeded(SeawallError):
    """A write would take the guest over its agreement's daily bandwidth cap; nothing was stored."""

    exit_code = 75
    http_status = 429
    code = "bandwidth_exceeded"
    remedy = "Try again after midnight UTC, or ask the host's admin for a higher cap."


class PurgeSignatureInvalid(Forbidden):
    """A purge request for hosted shares is not signed with the embassy key registered on the
    agreement; nothing was purged."""

    code = "purge_signature_invalid"
    remedy = "Sign it with the repository's key (``seawall embassy host release --repo R``)."


# Failures of a site itself (as opposed to a missing object), and both together.
SITE_ERRORS = (SiteUnavailable, SiteFull)
IO_ERRORS = (SiteUnavailable, SiteFull, ObjectMissing)
