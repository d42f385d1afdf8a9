"""Failures of the exchange with partner nodes, shared by every pillar; in sync each becomes
the partner's last error (docs/intel.md).

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
    """A partner node could not be synchronised."""

    exit_code = 69
    http_status = 502
    code = "partner_error"
    remedy = "Read the message; the pass is retried after a back-off."


class PartnerUnreachable(PartnerError):
    """Nothing answers at the partner's URL (refused, DNS, dropped)."""

    code = "partner_unreachable"
    remedy = "Check the URL and the link; the next pass retries."


class PartnerTimedOut(PartnerError):
    """The partner did not answer within ``--timeout`` seconds."""

    code = "partner_timed_out"
    remedy = "Retry, or raise ``--timeout`` on a slow link."


class PartnerAnsweredGarbage(PartnerError):
    """The answer is not the TAXII 2.1 resource expected."""

    code = "partner_answered_garbage"
    remedy = "Check that the URL is the partner's TAXII API root."


class PartnerAnsweredTooMuch(PartnerAnsweredGarbage):
    """One answer declares or sends more than 64 MiB; none of it is used."""

    code = "partner_answered_too_much"
    remedy = "Ask the partner's operator to check its server."


class PartnerRefused(PartnerError):
    """The partner answered with an HTTP error (a bad token, no such collection)."""

    code = "partner_refused"
    remedy = "Link the partner again, or check the collection mapping."

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class PartnerIdentityMismatch(PartnerError):
    """The partner presents another nation, another key, or a signature that does not verify."""

    exit_code = 77
    code = "partner_identity_mismatch"
    remedy = "Compare its public key with the partner's operator before registering it again."


class PartnerNotLinked(InvalidInput):
    """No readable API token is stored for the partner."""

    code = "partner_not_linked"
    remedy = "Run ``seawall intel partner link NAME --token ...``."


class InvalidPublicKey(InvalidInput):
    """A key is not an Ed25519 key in ``ed25519:<base64>`` form, or the node's signing key file is
    damaged."""

    code = "invalid_public_key"
    remedy = "Copy the key again; move a damaged key file aside and give partners the new key."


class PartnerDisabled(Forbidden):
    """The partner is disabled: its account exchanges nothing, online or by bundle."""

    code = "partner_disabled"
    remedy = "Ask this node's admin to enable it (``seawall partner enable NAME``)."


class PackageUnreadable(InvalidInput):
    """A file is not a signed package of the kind expected (core's format; intel bundles raise
    ``bundle_unreadable``). Nothing is stored."""

    code = "package_unreadable"
    remedy = "Ask the sender for the file again."


class PackageSignatureInvalid(Forbidden):
    """A signed package's signature does not verify: it was altered, or signed by another key
    (intel bundles raise ``bundle_signature_invalid``)."""

    code = "package_signature_invalid"
    remedy = "Do not use it; ask the sender for a new copy."


class PackageSenderUnknown(Forbidden):
    """No registered partner holds the key that signed a package (intel bundles raise
    ``bundle_sender_unknown``)."""

    code = "package_sender_unknown"
    remedy = "Register the sender as a partner with its public key."
