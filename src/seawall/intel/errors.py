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
    └── UnreadableIntel           a file that cannot be read in its format (import)
        └── NotAMispEvent         JSON that is not a MISP event (e.g. a STIX bundle)
    NotFound (66, 404)
    ├── CollectionNotFound
    ├── ObjectNotFound
    └── StatusNotFound
    Conflict (73, 409)
    └── CollectionExists
"""

from __future__ import annotations

from seawall.errors import Conflict, InvalidInput, NotFound


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


class NotAMispEvent(UnreadableIntel):
    """JSON that is not a MISP event (for example a STIX bundle given as MISP)."""

    code = "not_a_misp_event"
