"""The words a case is made of: its Incident Core properties, read leniently from partners."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar

from seawall.errors import parse_choice

INCIDENT_CORE = "extension-definition--ef765651-680c-498d-9894-99799f2fa126"
# STIX 2.1 §5.2: a relationship joins SDOs and SCOs only, never an SRO (a relationship, a
# sighting) or a meta object; a case links to these with a note naming both.
NOT_RELATABLE = frozenset(
    {"relationship", "sighting", "marking-definition", "language-content", "extension-definition"}
)
LINKED = "Linked to the case."  # a link note's content when the user gave no reason
SUPPORTS = ["cmm:D1.2"]  # CMM 2021: Incident Response and Crisis Management
MIN_REF = 6  # characters of a case id's UUID that name it on the command line


class Status(StrEnum):
    """Where the investigation stands (Incident Core ``investigation_status``)."""

    NEW = "new"
    OPEN = "open"
    CLOSED = "closed"


class Determination(StrEnum):
    """What the incident turned out to be (Incident Core ``determination``)."""

    SUSPECTED = "suspected"
    CONFIRMED = "confirmed"
    FALSE_POSITIVE = "false-positive"


class Severity(StrEnum):
    """How bad the incident is, in TheHive's four words; kept as Incident Core
    ``criticality`` (0-100) so that any STIX tool reads it."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """1 (low) to 4 (critical), for sorting."""
        return list(Severity).index(self) + 1

    @property
    def criticality(self) -> int:
        """The Incident Core ``criticality`` written for it: 25, 50, 75 or 100."""
        return self.rank * 25


Choice = TypeVar("Choice", Status, Determination, Severity)


def parse_status(value: str) -> Status:
    """A status as a user typed it, or InvalidInput naming the ones there are."""
    return parse_choice(Status, "status", value)


def parse_determination(value: str) -> Determination:
    """A determination as a user typed it, or InvalidInput naming the ones there are."""
    return parse_choice(Determination, "determination", value)


def parse_severity(value: str) -> Severity:
    """A severity as a user typed it, or InvalidInput naming the ones there are."""
    return parse_choice(Severity, "severity", value)


def core_of(body: dict[str, Any]) -> dict[str, Any]:
    """An incident's Incident Core extension (empty when it has none)."""
    extensions = body.get("extensions")
    core = extensions.get(INCIDENT_CORE) if isinstance(extensions, dict) else None
    return core if isinstance(core, dict) else {}


def _known(kind: type[Choice], value: Any, otherwise: Choice) -> Choice:
    # A partner's node may send a value this one does not know (a newer vocabulary).
    return kind(value) if isinstance(value, str) and value in set(kind) else otherwise


def status_of(core: dict[str, Any]) -> Status:
    """The status; an unknown one is still being worked: open."""
    return _known(Status, core.get("investigation_status", Status.NEW.value), Status.OPEN)


def determination_of(core: dict[str, Any]) -> Determination:
    """The determination; an unknown one is still suspected."""
    value = core.get("determination", Determination.SUSPECTED.value)
    return _known(Determination, value, Determination.SUSPECTED)


def severity_of(core: dict[str, Any]) -> Severity:
    """The severity from ``criticality``, by the nearest band (0-37 low, 38-62 medium, 63-87
    high, 88 and over critical); a case without one, or with garbage, is medium."""
    value = core.get("criticality")
    if isinstance(value, bool) or not isinstance(value, int):
        return Severity.MEDIUM
    for severity in reversed(Severity):
        if value >= severity.criticality - 12:
            return severity
    return Severity.LOW
