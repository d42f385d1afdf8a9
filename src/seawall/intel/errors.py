"""Failures of the collective-defence pillar.

::

    InvalidInput (65, 422)
    ├── UnknownMarking            a marking reference that is neither TLP nor a known definition
    ├── InvalidStixObject         a STIX object that breaks a rule of STIX 2.1
    ├── NotAnEnvelope             a TAXII body that parses but is not an envelope (422)
    ├── BadFilter          (400)  a TAXII query parameter that cannot be read
    ├── BadCursor          (400)  a ``next`` value this node did not issue
    ├── NotAcceptable      (406)  an Accept header without the TAXII 2.1 media type
    ├── UnsupportedMediaType (415) a Content-Type that is not the TAXII 2.1 media type
    ├── UnreadableIntel           a file that cannot be read in its format (import)
    │   └── NotAMispEvent         JSON that is not a MISP event (e.g. a STIX bundle)
    └── UnreadableLog             a log file that cannot be opened (match)
    NotFound (66, 404)
    ├── CollectionNotFound
    ├── ObjectNotFound
    │   └── CaseNotFound          no case the caller may see has that id or prefix
    └── StatusNotFound
    Forbidden (77, 403)
    ├── NotCaseOwner              only the nation that opened a case changes its status
    └── CollectionNotShared       a partner's objects would land in a collection not shared with it
    Conflict (73, 409)
    ├── CollectionExists
    └── AuditHeadConflict         a partner's audit head contradicts the one witnessed for it
    AuditChainBroken (3, 500)
    └── AuditWitnessContradicts   a partner witnessed a head the local audit chain does not match

Signed offline bundles (core's signed packages, :mod:`seawall.core.federation.packages`)::

    SeawallError
    ├── InvalidInput             (65, 422)
    │   └── PackageUnreadable
    │       └── BundleUnreadable           a file that is not a Seawall bundle
    └── Forbidden                (77, 403)
        ├── PackageSignatureInvalid
        │   └── BundleSignatureInvalid     the bundle was altered or signed by another key
        ├── PackageSenderUnknown
        │   └── BundleSenderUnknown        no registered partner holds the signing key
        ├── BundleNotForThisNation         the bundle was made for another nation
        └── AuditHeadInvalid               an audit head not signed by the partner's registered key

The partner errors that sync and bundles raise (PartnerError and its family,
PartnerNotLinked, PartnerDisabled, InvalidPublicKey) are every pillar's: import them from
:mod:`seawall.core.federation.errors`. Messages name the partner and the URL, never a token
or a key's secret half.
"""

from __future__ import annotations

from seawall.core.federation.errors import (
    PackageSenderUnknown,
    PackageSignatureInvalid,
    PackageUnreadable,
)
from seawall.errors import (
    AuditChainBroken,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
)


class UnknownMarking(InvalidInput):
    """A marking that Seawall cannot place on the TLP scale."""

    code = "unknown_marking"


class InvalidStixObject(InvalidInput):
    """A STIX object that breaks a rule of STIX 2.1; the message names the id and property."""

    code = "invalid_stix_object"

    def __init__(self, object_id: str, prop: str, problem: str) -> None:
        shown = object_id if len(object_id) <= 120 else f"{object_id[:120]}..."
        super().__init__(f"{shown or '<no id>'}: property {prop!r} {problem}")
        self.object_id = object_id
        self.prop = prop


class NotAnEnvelope(InvalidInput):
    """A TAXII request body that is JSON but not a TAXII envelope."""

    code = "not_an_envelope"


class BadFilter(InvalidInput):
    """A TAXII query parameter that cannot be read."""

    http_status = 400
    code = "bad_filter"


class BadCursor(BadFilter):
    """A ``next`` cursor this node did not issue."""

    code = "bad_cursor"


class NotAcceptable(InvalidInput):
    """The client accepts no media type this endpoint can answer in."""

    http_status = 406
    code = "not_acceptable"


class UnsupportedMediaType(InvalidInput):
    """The request body is not in the TAXII 2.1 media type."""

    http_status = 415
    code = "unsupported_media_type"


class CollectionNotFound(NotFound):
    """No such collection, or none the caller may see."""

    code = "collection_not_found"


class ObjectNotFound(NotFound):
    """No such STIX object in the collection, or none the caller may see."""

    code = "object_not_found"


class StatusNotFound(NotFound):
    """No such status resource, or none the caller may see."""

    code = "status_not_found"


class CollectionExists(Conflict):
    """A collection with that alias already exists."""

    code = "collection_exists"


class UnreadableIntel(InvalidInput):
    """An intelligence file that cannot be read in the format it was given as (MISP, CSV, STIX)."""

    code = "unreadable_intel"


class UnreadableLog(InvalidInput):
    """A log file ``seawall intel match`` cannot open, or a folder given as one."""

    code = "unreadable_log"


class NotAMispEvent(UnreadableIntel):
    """JSON that is not a MISP event (for example a STIX bundle given as MISP)."""

    code = "not_a_misp_event"


class BundleUnreadable(PackageUnreadable):
    """A file that is not a Seawall intel bundle (not zstd, not JSON, wrong shape)."""

    code = "bundle_unreadable"


class BundleSignatureInvalid(PackageSignatureInvalid):
    """The bundle's signature does not verify: it was altered, or signed by another key."""

    code = "bundle_signature_invalid"


class BundleSenderUnknown(PackageSenderUnknown):
    """The bundle's sender is not a registered partner with that public key."""

    code = "bundle_sender_unknown"


class CollectionNotShared(Forbidden):
    """A partner's objects would land in a local collection whose audience does not name it."""

    code = "collection_not_shared"


class BundleNotForThisNation(Forbidden):
    """The bundle was filtered for another nation and must not be ingested here."""

    code = "bundle_not_for_this_nation"


class CaseNotFound(ObjectNotFound):
    """No case the caller may see has that id (or id prefix)."""

    code = "case_not_found"


class NotCaseOwner(Forbidden):
    """Only the nation that opened a case may change its status."""

    code = "not_case_owner"


class AuditHeadInvalid(Forbidden):
    """An audit head that is malformed, names another nation, or is not signed by the key
    registered for the partner under the audit-head prefix."""

    code = "audit_head_invalid"


class AuditHeadConflict(Conflict):
    """A partner's signed audit head contradicts the one this node witnessed for it: its
    count went down, or it is no extension of the held head. Both are kept as evidence."""

    code = "audit_head_conflict"


class AuditWitnessContradicts(AuditChainBroken):
    """A partner holds a signed head of this node's audit log that the local chain does not
    match: entries were removed from the end, or the log was rewritten."""

    code = "audit_witness_contradicts"
