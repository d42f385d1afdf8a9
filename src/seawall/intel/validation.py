"""Fast ingest validation of STIX 2.1 objects.

Cheap checks run first (the common properties and their formats), and only an
object that passes them has its pattern parsed by ``stix2-patterns``. Each failure
is an :class:`~seawall.intel.errors.InvalidStixObject` naming the object id and
the property, so one bad object is rejected on its own and the rest are kept.

What reaches a parser is bounded first: a pattern's length, its comparison terms and
its nesting (:data:`MAX_PATTERN_CHARS`, :data:`MAX_PATTERN_TERMS`,
:data:`MAX_PATTERN_DEPTH`), and how deep an object nests (:data:`MAX_NESTING`).
The ANTLR parser recurses about one Python frame per term, so an unbounded pattern
would raise RecursionError instead of refusing one object.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from stix2patterns.validator import run_validator  # type: ignore[import-untyped]

from seawall.intel.errors import InvalidStixObject

SPEC_VERSION = "2.1"
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"

# STIX 2.1 §6: cyber-observable types have no created/modified and may omit spec_version.
SCO_TYPES = frozenset(
    {
        "artifact",
        "autonomous-system",
        "directory",
        "domain-name",
        "email-addr",
        "email-message",
        "file",
        "ipv4-addr",
        "ipv6-addr",
        "mac-addr",
        "mutex",
        "network-traffic",
        "process",
        "software",
        "url",
        "user-account",
        "windows-registry-key",
        "x509-certificate",
    }
)
_TYPE = re.compile(r"^(?!.*--)[a-z0-9][a-z0-9-]{1,248}[a-z0-9]$")
# Hex in either case, as stix2-validator accepts; an id is kept as sent (STIX compares ids
# as strings), so a reader finds it by the same spelling.
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}"
_ID = re.compile(rf"^([a-z0-9-]+)--({_UUID})$")
_TIMESTAMP = re.compile(r"^((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2}))(?:\.(\d+))?Z$")


def _shown(value: Any, limit: int = 60) -> str:
    """A value as a message may quote it: short, whatever was sent."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}..."


@dataclass(frozen=True)
class CheckedObject:
    """A STIX object that passed validation, with the fields the store indexes."""

    body: dict[str, Any]
    id: str
    type: str
    spec_version: str
    created: datetime | None
    modified: datetime | None
    created_by_ref: str | None
    marking_refs: tuple[str, ...]

    @property
    def version(self) -> datetime | None:
        """The object's version: ``modified``, else ``created``, else none of its own."""
        return self.modified or self.created


def parse_timestamp(value: Any, object_id: str = "", prop: str = "timestamp") -> datetime:
    """A STIX timestamp (``YYYY-MM-DDTHH:MM:SS[.s+]Z``) as aware UTC, to the microsecond."""
    match = _TIMESTAMP.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidStixObject(
            object_id,
            prop,
            f"is not a STIX timestamp like 2024-01-31T12:00:00.000Z: {_shown(value)}",
        )
    try:
        # The pattern fixed the layout; fromisoformat builds it in C (strptime costs more
        # than the rest of a check_object) and truncates fractions to the microsecond.
        return datetime.fromisoformat(value)
    except ValueError:
        raise InvalidStixObject(
            object_id, prop, f"is not a real date and time: {_shown(value)}"
        ) from None


def listed(obj: Mapping[str, Any], prop: str) -> list[Any]:
    """A list property of a stored object, or ``[]`` when absent or not a list: the store
    keeps the properties :func:`check_object` does not check (``external_references``,
    ``kill_chain_phases``, ``object_refs``, ``labels``, custom ones) as they were sent."""
    value = obj.get(prop)
    return value if isinstance(value, list) else []


def format_timestamp(value: datetime) -> str:
    """A timestamp as TAXII writes it: UTC, microseconds, ``Z``."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


# Most shared indicators are one or a few equality tests on an observable, and the
# ANTLR parser costs about a millisecond each. Patterns of exactly that shape are
# recognised here instead; anything else (hashes, which the parser also checks for
# length, qualifiers, other operators, keywords as names) goes to the parser.
_KEYWORDS = frozenset(
    [
        "AND",
        "OR",
        "NOT",
        "FOLLOWEDBY",
        "LIKE",
        "MATCHES",
        "ISSUPERSET",
        "ISSUBSET",
        "EXISTS",
        "LAST",
        "IN",
        "START",
        "STOP",
        "SECONDS",
        "WITHIN",
        "REPEATS",
        "TIMES",
        "true",
        "false",
        "hashes",
    ]
)
_PART = r"[A-Za-z_][A-Za-z0-9_]*"
_LITERAL = r"(?:'(?:[^'\\]|\\['\\])*'|0|[1-9][0-9]*)"
_SCO = "|".join(sorted(SCO_TYPES, key=len, reverse=True))
_COMPARE = rf"(?:{_SCO}):({_PART}(?:\.{_PART})*) *!?= *{_LITERAL}"
_SIMPLE_PATTERN = re.compile(rf"^\[ *{_COMPARE}(?: +(?:AND|OR) +{_COMPARE})* *\]$")
_COMPARISON = re.compile(_COMPARE)
# A single file-hash equality, the other everyday indicator: the parser's only extra
# check on it is the value's length for the algorithm (stix2patterns' object_validator).
_HASH_LENGTHS = {
    "MD5": 32,
    "'MD5'": 32,
    "'SHA-1'": 40,
    "'SHA-256'": 64,
    "'SHA-512'": 128,
    "'SHA3-256'": 64,
    "'SHA3-512'": 128,
}
_HASH_PATTERN = re.compile(
    r"^\[ *file:hashes\.(MD5|'MD5'|'SHA-1'|'SHA-256'|'SHA-512'|'SHA3-256'|'SHA3-512')"
    r" *= *'([0-9a-fA-F]+)' *\]$"
)


def is_simple_pattern(pattern: str) -> bool:
    """Whether a pattern is plain equality tests that the STIX grammar surely accepts."""
    hashed = _HASH_PATTERN.match(pattern)
    if hashed is not None:
        return len(hashed.group(2)) == _HASH_LENGTHS[hashed.group(1)]
    if not _SIMPLE_PATTERN.match(pattern):
        return False
    return all(
        part not in _KEYWORDS
        for found in _COMPARISON.finditer(pattern)
        for part in found.group(1).split(".")
    )


# Limits a pattern must keep before any parser sees it. The parser needs about one Python
# frame per comparison term and three or four per bracket, so at the default recursion limit
# of 1,000 frames it fails past roughly 800 terms or 200 brackets (less inside a server's
# call stack). These limits leave it room, and no real indicator comes near them: MISP's
# largest object templates join a few dozen attributes, the OASIS examples a handful, and
# brackets nest two or three deep. A pattern over 64 KiB is a list of values, not a pattern.
MAX_PATTERN_CHARS = 65_536
MAX_PATTERN_TERMS = 500
MAX_PATTERN_DEPTH = 32
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'")
_JOINS = re.compile(r"\b(?:AND|OR|FOLLOWEDBY)\b")
_BRACKETS = re.compile(r"[\[\]()]")


def pattern_excess(pattern: str) -> str | None:
    """Why a pattern is too large to parse (length, terms or nesting), or None."""
    if len(pattern) > MAX_PATTERN_CHARS:
        return f"is {len(pattern):,} characters, over the limit of {MAX_PATTERN_CHARS:,}"
    # Counting characters first keeps everyday patterns off the slower scans: too deep needs
    # that many opening brackets, and too many terms needs two characters per AND or OR.
    deep = pattern.count("[") + pattern.count("(") > MAX_PATTERN_DEPTH
    wide = len(pattern) > 2 * MAX_PATTERN_TERMS
    if not (deep or wide):
        return None
    # Brackets and keywords inside string literals are values, not structure.
    bare = _STRING.sub("''", pattern)
    depth = deepest = 0
    for bracket in _BRACKETS.findall(bare) if deep else ():
        depth = depth + 1 if bracket in "[(" else depth - 1
        deepest = max(deepest, depth)
    if deepest > MAX_PATTERN_DEPTH:
        return f"nests {deepest:,} deep, over the limit of {MAX_PATTERN_DEPTH}"
    terms = len(_JOINS.findall(bare)) + 1 if wide else 1
    if terms > MAX_PATTERN_TERMS:
        return f"has {terms:,} comparison terms, over the limit of {MAX_PATTERN_TERMS}"
    return None


@lru_cache(maxsize=4096)
def pattern_errors(pattern: str) -> tuple[str, ...]:
    """The parse errors of a STIX 2.1 pattern; empty when it parses.

    Call it on a pattern within :func:`pattern_excess`'s limits. A pattern that still
    exhausts the parser's recursion is reported as an error, never raised.
    """
    if not pattern.strip():
        return ("the pattern is empty",)  # stix2patterns fails on "" with UnboundLocalError
    if is_simple_pattern(pattern):
        return ()
    try:
        return tuple(run_validator(pattern, "2.1"))
    except RecursionError:
        return ("it nests too deeply for the pattern parser; split it into several indicators",)


# How deep lists and objects may nest in an object, the object itself being level 1. STIX's
# deepest structures (an extension holding a list of objects) stay under 10 levels; orjson
# writes at most 255 and Python's json fails near 1,000, so a deeper body could not be stored.
MAX_NESTING = 64


def _nests_deeper(value: list[Any] | dict[str, Any], limit: int) -> bool:
    """Whether lists and objects nest more than ``limit`` levels in ``value`` (itself one)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        for child in item.values() if isinstance(item, dict) else item:
            if isinstance(child, dict | list):
                if depth == limit:
                    return True
                stack.append((child, depth + 1))
    return False


def _require(obj: Mapping[str, Any], object_id: str, prop: str) -> Any:
    if prop not in obj:
        raise InvalidStixObject(object_id, prop, "is required")
    return obj[prop]


def _check_ref(value: Any, object_id: str, prop: str, prefix: str | None = None) -> str:
    match = _ID.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidStixObject(object_id, prop, f"is not a STIX identifier: {_shown(value)}")
    if prefix is not None and match.group(1) != prefix:
        raise InvalidStixObject(object_id, prop, f"must refer to a {prefix}, not {_shown(value)}")
    return str(value)


def _markings(obj: Mapping[str, Any], object_id: str) -> tuple[str, ...]:
    refs: list[str] = []
    object_refs = obj.get("object_marking_refs", [])
    if not isinstance(object_refs, list):
        raise InvalidStixObject(object_id, "object_marking_refs", "must be a list")
    refs.extend(
        _check_ref(ref, object_id, "object_marking_refs", "marking-definition")
        for ref in object_refs
    )
    granular = obj.get("granular_markings", [])
    if not isinstance(granular, list):
        raise InvalidStixObject(object_id, "granular_markings", "must be a list")
    for item in granular:
        if not isinstance(item, Mapping) or not isinstance(item.get("selectors"), list):
            raise InvalidStixObject(
                object_id, "granular_markings", "entries need 'selectors' and 'marking_ref'"
            )
        if "marking_ref" in item:
            refs.append(_check_ref(item["marking_ref"], object_id, "granular_markings"))
        elif "lang" not in item:
            raise InvalidStixObject(object_id, "granular_markings", "entry has no marking_ref")
    return tuple(dict.fromkeys(refs))


# An address compared in a pattern must be one: `[ipv4-addr:value = '1.2.3.400']` parses as
# a pattern, and would match nothing while counting as an indicator.
_ADDRESS = re.compile(r"(ipv4-addr|ipv6-addr):value *!?= *'((?:[^'\\]|\\.)*)'")


def _check_addresses(pattern: str, object_id: str) -> None:
    for sco, raw in _ADDRESS.findall(pattern):
        try:
            network = ipaddress.ip_network(raw, strict=False)
        except ValueError:
            network = None
        version = 4 if sco == "ipv4-addr" else 6
        if network is None or network.version != version:
            raise InvalidStixObject(
                object_id,
                "pattern",
                f"{sco}:value {_shown(raw)} is not an IPv{version} address or CIDR range",
            )


def _check_indicator(obj: Mapping[str, Any], object_id: str) -> None:
    pattern = _require(obj, object_id, "pattern")
    pattern_type = _require(obj, object_id, "pattern_type")
    if not isinstance(pattern, str) or not pattern.strip():
        raise InvalidStixObject(object_id, "pattern", "must be a non-empty string")
    valid_from = parse_timestamp(_require(obj, object_id, "valid_from"), object_id, "valid_from")
    if "valid_until" in obj:
        valid_until = parse_timestamp(obj["valid_until"], object_id, "valid_until")
        if valid_until <= valid_from:
            raise InvalidStixObject(object_id, "valid_until", "must be later than valid_from")
    if pattern_type == "stix":
        excess = pattern_excess(pattern)
        if excess is not None:
            raise InvalidStixObject(
                object_id, "pattern", f"{excess}: split it into several indicators"
            )
        errors = pattern_errors(pattern)
        if errors:
            reason = errors[0].removeprefix("FAIL: ")
            raise InvalidStixObject(object_id, "pattern", f"does not parse: {reason}")
        if "-addr:value" in pattern:
            _check_addresses(pattern, object_id)


def _check_relationship(obj: Mapping[str, Any], object_id: str) -> None:
    if not isinstance(_require(obj, object_id, "relationship_type"), str):
        raise InvalidStixObject(object_id, "relationship_type", "must be a string")
    _check_ref(_require(obj, object_id, "source_ref"), object_id, "source_ref")
    _check_ref(_require(obj, object_id, "target_ref"), object_id, "target_ref")


def check_object(obj: Any) -> CheckedObject:
    """Validate one STIX 2.1 object, or raise InvalidStixObject naming id and property."""
    if not isinstance(obj, dict):
        raise InvalidStixObject("", "object", "must be a JSON object")
    raw_id = obj.get("id")
    object_id = raw_id if isinstance(raw_id, str) else ""
    stix_type = _require(obj, object_id, "type")
    if not isinstance(stix_type, str) or not _TYPE.match(stix_type):
        raise InvalidStixObject(
            object_id, "type", "must be 3-250 characters of a-z, 0-9 and single hyphens"
        )
    if stix_type == "bundle":
        raise InvalidStixObject(
            object_id, "type", "is 'bundle': send the bundle's objects in a TAXII envelope"
        )
    match = _ID.match(raw_id) if isinstance(raw_id, str) else None
    if match is None:
        raise InvalidStixObject(
            object_id, "id", f"must be '{stix_type}--<uuid>', got {_shown(raw_id)}"
        )
    if match.group(1) != stix_type:
        raise InvalidStixObject(object_id, "id", f"must start with its type {stix_type!r}")
    for prop, value in obj.items():
        if isinstance(value, dict | list) and _nests_deeper(value, MAX_NESTING - 1):
            raise InvalidStixObject(
                object_id, prop, f"nests deeper than the limit of {MAX_NESTING} levels"
            )
    is_sco = stix_type in SCO_TYPES
    spec_version = obj.get("spec_version")
    if spec_version is None and not is_sco:
        raise InvalidStixObject(object_id, "spec_version", "is required")
    if spec_version is not None and spec_version != SPEC_VERSION:
        raise InvalidStixObject(
            object_id, "spec_version", f"is {_shown(spec_version)}: this node stores STIX 2.1 only"
        )
    created = modified = None
    if not is_sco:
        created = parse_timestamp(_require(obj, object_id, "created"), object_id, "created")
        if stix_type != "marking-definition":
            modified = parse_timestamp(_require(obj, object_id, "modified"), object_id, "modified")
            if modified < created:
                raise InvalidStixObject(object_id, "modified", "is earlier than created")
    created_by = obj.get("created_by_ref")
    if created_by is not None:
        _check_ref(created_by, object_id, "created_by_ref", "identity")
    if "revoked" in obj and not isinstance(obj["revoked"], bool):
        raise InvalidStixObject(object_id, "revoked", "must be true or false")
    markings = _markings(obj, object_id)
    if stix_type == "indicator":
        _check_indicator(obj, object_id)
    elif stix_type == "relationship":
        _check_relationship(obj, object_id)
    return CheckedObject(
        body=obj,
        id=object_id,
        type=stix_type,
        spec_version=SPEC_VERSION,
        created=created,
        modified=modified,
        created_by_ref=created_by,
        marking_refs=markings,
    )


def check_objects(objects: Iterable[Any]) -> tuple[list[CheckedObject], list[InvalidStixObject]]:
    """Split objects into the valid ones and the rejections, keeping the input order."""
    good: list[CheckedObject] = []
    bad: list[InvalidStixObject] = []
    for obj in objects:
        try:
            good.append(check_object(obj))
        except InvalidStixObject as exc:
            bad.append(exc)
    return good, bad
