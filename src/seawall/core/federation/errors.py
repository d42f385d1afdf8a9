"""Failures of the exchange with partner nodes, shared by every pillar.

::

    SeawallError
    ├── PartnerError             (69, 502) a partner node could not be reached or used
    │   ├── PartnerUnreachable             nothing answers at the partner's URL
    │   ├── PartnerTimedOut                the partner did not answer in time
    │   ├── PartnerAnsweredGarbage         the answer is not the resource it should be
    │   │   └── PartnerAnsweredTooMuch     the answer is over the size cap
    │   ├── PartnerRefused                 the partner said no (401, 403, 404, 4xx, 5xx)
    │   └── PartnerIdentityMismatch (77)   the partner is not the nation or key registered
    ├── InvalidInput             (65, 422)
    │   ├── PartnerNotLinked               no API token is stored for the partner
    │   ├── InvalidPublicKey               a public key that is not an Ed25519 key
    │   └── PackageUnreadable              a file that is not a signed package of its kind
    └── Forbidden                (77, 403)
        ├── PartnerDisabled                the partner is disabled: nothing is exchanged
        ├── PackageSignatureInvalid        the package was altered or signed by another key
        └── PackageSenderUnknown           no registered partner holds the signing key

A pillar's package kind raises its own subclasses of the package errors (intel's
``Bundle*`` errors), so that each keeps its code.

Messages name the partner and the URL, never a token or a key's secret half.
"""

from __future__ import annotations

from seawall.errors import Forbidden, InvalidInput, SeawallError


class PartnerError(SeawallError):
    """A partner node could not be synchronised; recorded as the partner's last error."""

    exit_code = 69
    http_status = 502
    code = "partner_error"


class PartnerUnreachable(PartnerError):
    """Nothing answers at the partner's URL."""

    code = "partner_unreachable"


class PartnerTimedOut(PartnerError):
    """The partner did not answer within the timeout."""

    code = "partner_timed_out"


class PartnerAnsweredGarbage(PartnerError):
    """The partner answered with something that is not the resource expected."""

    code = "partner_answered_garbage"


class PartnerAnsweredTooMuch(PartnerAnsweredGarbage):
    """The partner's answer is larger than any answer this node will read."""

    code = "partner_answered_too_much"


class PartnerRefused(PartnerError):
    """The partner answered with an HTTP error."""

    code = "partner_refused"

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class PartnerIdentityMismatch(PartnerError):
    """The partner presents another nation, or a key other than the one registered."""

    exit_code = 77
    code = "partner_identity_mismatch"


class PartnerNotLinked(InvalidInput):
    """No API token is stored for the partner, so this node cannot call it."""

    code = "partner_not_linked"


class InvalidPublicKey(InvalidInput):
    """A public key that is not an Ed25519 key in Seawall's ``ed25519:<base64>`` form."""

    code = "invalid_public_key"


class PartnerDisabled(Forbidden):
    """The partner is disabled: nothing is exchanged with it, online or by bundle."""

    code = "partner_disabled"


class PackageUnreadable(InvalidInput):
    """A file that is not a signed package of the kind expected (no magic, not zstd, bad shape)."""

    code = "package_unreadable"


class PackageSignatureInvalid(Forbidden):
    """A package's signature does not verify: it was altered, or signed by another key."""

    code = "package_signature_invalid"


class PackageSenderUnknown(Forbidden):
    """A package's sender is not a registered partner with that public key."""

    code = "package_sender_unknown"
