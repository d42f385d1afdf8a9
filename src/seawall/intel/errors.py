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
    │   ├── NotAMispEvent         JSON that is not a MISP event (e.g. a STIX bundle)
    │   └── NotAnAttackBundle     a STIX bundle that is not MITRE ATT&CK (attack import)
    ├── MarkingWouldWiden         a re-marking looser than the object's (TLP never widens)
    ├── UnreadableLog             a log file that cannot be opened (match)
    ├── UnknownAssignee           no user of the caller's nation who may work cases by that name
    └── AmbiguousMatch            a search names several objects and none was picked
    NotFound (66, 404)
    ├── CollectionNotFound
    ├── ObjectNotFound
    │   └── CaseNotFound          no case the caller may see has that id or prefix
    ├── CaseTaskNotFound          no task of the caller's nation on the case by that number or id
    └── StatusNotFound
    Forbidden (77, 403)
    ├── NotObjectHolder           only an object's holder revokes, re-marks or extends it
    ├── NotCaseOwner              only the nation that opened a case changes its status
    └── CollectionNotShared       a partner's objects would land in a collection not shared with it
    Conflict (73, 409)
    ├── ObjectRevoked             a revoked object takes no new version
    ├── CollectionExists
    └── AuditHeadConflict         a partner's audit head contradicts the one witnessed for it
    AuditChainBroken (3, 500)
    └── AuditWitnessContradicts   a partner witnessed a head the local audit chain does not match
    SeawallError (1, 500)
    └── AudienceDamaged           a collection's stored audience is not the shape Seawall writes

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
    SeawallError,
)


class UnknownMarking(InvalidInput):
    """A marking is neither a TLP marking nor a definition the collection holds or the envelope
    carries; a ``tlp:`` tag that is no TLP level."""

    code = "unknown_marking"
    remedy = "Send the marking definition with the object, or use a TLP 2.0 marking."


class InvalidStixObject(InvalidInput):
    """A STIX object breaks a rule of STIX 2.1, or is over an ingest limit (a pattern over 64 KiB,
    500 terms or 32 levels of brackets; an object nested over 64 levels). The message names the id
    and the property; the rest of the envelope or file is stored."""

    code = "invalid_stix_object"
    remedy = "Fix that property, or split an oversized pattern into several indicators."

    def __init__(self, object_id: str, prop: str, problem: str) -> None:
        shown = object_id if len(object_id) <= 120 else f"{object_id[:120]}..."
        super().__init__(f"{shown or '<no id>'}: property {prop!r} {problem}")
        self.object_id = object_id
        self.prop = prop


class NotAnEnvelope(InvalidInput):
    """A TAXII POST body is JSON but no envelope: a list, a STIX bundle, a bare object."""

    code = "not_an_envelope"
    remedy = 'Send ``{"objects": [...]}``.'


class BadFilter(InvalidInput):
    """A TAXII query parameter cannot be read (``added_after``, ``limit``, ``match[version]``)."""

    http_status = 400
    code = "bad_filter"
    remedy = "Use a STIX timestamp, a positive whole number, or ``first``, ``last``, ``all``."


class BadCursor(BadFilter):
    """A ``next`` value this node did not issue."""

    code = "bad_cursor"
    remedy = "Start the read again without ``next``."


class NotAcceptable(InvalidInput):
    """The ``Accept`` header does not allow ``application/taxii+json;version=2.1``."""

    http_status = 406
    code = "not_acceptable"
    remedy = "Send ``Accept: application/taxii+json;version=2.1``."


class UnsupportedMediaType(InvalidInput):
    """A TAXII body is not sent as ``application/taxii+json;version=2.1``."""

    http_status = 415
    code = "unsupported_media_type"
    remedy = "Send that ``Content-Type``."


class CollectionNotFound(NotFound):
    """No such collection, or the caller is outside its audience."""

    code = "collection_not_found"
    remedy = "Use a collection from ``seawall intel collections`` or the TAXII collections list."


class ObjectNotFound(NotFound):
    """No such STIX object in the collection, or none the caller may read."""

    code = "object_not_found"
    remedy = "Check the id; ids are compared as sent, case included."


class StatusNotFound(NotFound):
    """No TAXII status with that id made from the caller's nation."""

    code = "status_not_found"
    remedy = "Use the status id from the POST's answer."


class CollectionExists(Conflict):
    """A collection with that alias already exists."""

    code = "collection_exists"
    remedy = "Choose another alias."


class UnreadableIntel(InvalidInput):
    """An import file cannot be read in its format: not UTF-8, not JSON, nested too deeply, no STIX
    bundle or MISP event, a feed without ``manifest.json``. Nothing is imported."""

    code = "unreadable_intel"
    remedy = "Check the file and ``--format``."


class UnreadableLog(InvalidInput):
    """``seawall intel match`` cannot read a log: missing, a folder, binary, a broken gzip stream,
    a line over 1 MiB. Nothing is recorded."""

    code = "unreadable_log"
    remedy = "Give a text log; turn a JSON array into lines with ``jq -c '.[]'``."


class NotAMispEvent(UnreadableIntel):
    """JSON given as MISP is not a MISP event (a STIX bundle, say)."""

    code = "not_a_misp_event"
    remedy = "Import it with ``--format stix``, or export the event from MISP again."


class NotAnAttackBundle(UnreadableIntel):
    """``seawall intel attack import`` was given a file that is not a MITRE ATT&CK STIX bundle
    (no matrix, tactic or MITRE-made object in it)."""

    code = "not_an_attack_bundle"
    remedy = (
        "Give enterprise-attack.json or ics-attack.json from "
        "github.com/mitre-attack/attack-stix-data, or import other STIX with "
        "``seawall intel import``."
    )


class BundleUnreadable(PackageUnreadable):
    """A file is not a Seawall intel bundle (no header, not zstd, a bad checksum, trailing bytes).
    Nothing is stored."""

    code = "bundle_unreadable"
    remedy = "Ask the sender for the bundle again."


class BundleSignatureInvalid(PackageSignatureInvalid):
    """The bundle's signature does not verify: it was altered, or signed by another key."""

    code = "bundle_signature_invalid"
    remedy = "Do not use it; ask the sender for a new bundle."


class BundleSenderUnknown(PackageSenderUnknown):
    """No registered partner holds the key that signed the bundle."""

    code = "bundle_sender_unknown"
    remedy = "Register the sender as a partner with its public key."


class CollectionNotShared(Forbidden):
    """A partner's collection (pulled, or in a bundle) would land in a local collection of the same
    alias whose audience does not name the partner, its nation or its region. Nothing of it is
    stored."""

    code = "collection_not_shared"
    remedy = "Add ``partner:NAME`` to that collection's audience, or rename the local collection."


class BundleNotForThisNation(Forbidden):
    """An intel bundle was made for another nation. Nothing is stored."""

    code = "bundle_not_for_this_nation"
    remedy = "Ask the sender to export it ``--to`` this nation."


class CaseNotFound(ObjectNotFound):
    """No case the caller may see has that id or id prefix."""

    code = "case_not_found"
    remedy = "List cases with ``seawall intel case list``."


class UnknownAssignee(InvalidInput):
    """Assigning a case or a task to someone who is not an enabled user of the caller's nation
    allowed to work cases (``intel.write``)."""

    code = "unknown_assignee"
    remedy = "Give the username of an analyst or admin of your nation (`seawall user list`)."


class AmbiguousMatch(InvalidInput):
    """A search for objects to link to a case found several, and none was picked."""

    code = "ambiguous_match"
    remedy = "Pick the numbered ones with ``--pick N``, or search for a longer value."


class CaseTaskNotFound(NotFound):
    """No task of the caller's nation on that case has that number or id."""

    code = "case_task_not_found"
    remedy = "Show the case's tasks with ``seawall intel case show CASE``."


class MarkingWouldWiden(InvalidInput):
    """Re-marking an object with a TLP looser than its marking. Sharing never widens TLP:
    what went out under the stricter marking would be read as looser."""

    code = "marking_would_widen"
    remedy = "Choose the same marking or a stricter one; publish a new object to share more widely."


class NotObjectHolder(Forbidden):
    """Revoking, re-marking or extending an object another nation or a partner holds. Only the
    holder versions an object (STIX 2.1 §3.6)."""

    code = "not_object_holder"
    remedy = "Ask the holder's nation to change it, or add a note to a case."


class ObjectRevoked(Conflict):
    """Revoking, re-marking or extending an object already revoked: a revoked object is final
    (STIX 2.1 §3.6) and takes no new version."""

    code = "object_revoked"
    remedy = "Publish a new object instead."


class NotCaseOwner(Forbidden):
    """Changing the status of a case another nation opened."""

    code = "not_case_owner"
    remedy = "Add a note instead; the opening nation sets the status."


class AuditHeadInvalid(Forbidden):
    """An audit head sent to this node's witness is malformed, names another nation, or is not
    signed by the partner's registered key. Nothing is kept."""

    code = "audit_head_invalid"
    remedy = "Check the partner's registration and its signing key."


class AuditHeadConflict(Conflict):
    """A partner's signed audit head contradicts the one this node witnessed for it (its count went
    down, or it does not extend the held head). Both heads are kept as evidence."""

    code = "audit_head_conflict"
    remedy = "Ask the partner's operator to verify their audit log."


class AuditWitnessContradicts(AuditChainBroken):
    """``seawall audit verify --witnesses``: a partner holds a signed head of this node's log that
    the local chain does not match."""

    code = "audit_witness_contradicts"
    remedy = "Treat it as an incident: entries were removed from the end, or the log was rewritten."


class AudienceDamaged(SeawallError):
    """A collection's stored audience is not an object of nation, organisation, group and
    partner lists (edited in the database, or damaged). Every reader refuses the collection
    rather than guess who may read it."""

    code = "audience_damaged"
    remedy = "Restore the collection from a database backup."
