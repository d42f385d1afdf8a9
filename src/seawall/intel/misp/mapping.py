"""MISP attribute types and STIX patterns: which types map, and how, both ways.

Close to the mapping ``misp-stix`` uses, so that either tool reads what the other wrote:
an attribute whose type maps to a STIX observable becomes a pattern (``ip-dst`` becomes
``[ipv4-addr:value = '...']``), and a pattern made of such comparisons reads back as the
attribute.

misp-stix writes a connection's address with a test of its type beside it (``ip-dst`` as
``[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '...']``,
``ip-dst|port`` with ``AND network-traffic:dst_port = '443'``, an ``ip-port`` object with
the first two in parentheses). Such a pattern reads back as the attribute when log matching
(:func:`seawall.intel.matching.observables.terms`) reads the attribute's own pattern as it
reads the original: a type test the address bears out is implied, and one it contradicts,
a port that is none, or a value that is no address keeps the pattern whole
(``stix2-pattern``).
"""

from __future__ import annotations

import re
import uuid

from seawall.intel.matching.observables import port_number, quoted, terms, unquoted

# A fixed namespace, so a MISP item without a usable uuid gets the same STIX id each time.
NAMESPACE = uuid.UUID("5e2d1d0a-7c1b-4b7e-9d8e-3f6a2f0e6c51")

_IP_TYPES = ("ip-src", "ip-dst")
_PATHS: dict[str, tuple[str, ...]] = {
    "ip-src": ("ipv4-addr:value",),
    "ip-dst": ("ipv4-addr:value",),
    "domain": ("domain-name:value",),
    "hostname": ("domain-name:value",),
    "url": ("url:value",),
    "email": ("email-addr:value",),
    "email-src": ("email-addr:value",),
    "email-dst": ("email-addr:value",),
    "email-subject": ("email-message:subject",),
    "md5": ("file:hashes.MD5",),
    "sha1": ("file:hashes.'SHA-1'",),
    "sha256": ("file:hashes.'SHA-256'",),
    "sha512": ("file:hashes.'SHA-512'",),
    "filename": ("file:name",),
    "mutex": ("mutex:name",),
    "mac-address": ("mac-addr:value",),
    "AS": ("autonomous-system:number",),
    "regkey": ("windows-registry-key:key",),
    "user-agent": ("network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'",),
    "domain|ip": ("domain-name:value", "domain-name:resolves_to_refs[*].value"),
    "filename|md5": ("file:name", "file:hashes.MD5"),
    "filename|sha1": ("file:name", "file:hashes.'SHA-1'"),
    "filename|sha256": ("file:name", "file:hashes.'SHA-256'"),
    "ip-dst|port": ("network-traffic:dst_ref.value", "network-traffic:dst_port"),
    "ip-src|port": ("network-traffic:src_ref.value", "network-traffic:src_port"),
}
OBSERVABLE_TYPES: dict[str, int] = {t: len(paths) for t, paths in _PATHS.items()}
"""The MISP attribute types that become STIX patterns, with how many values each joins."""
# When a pattern came from elsewhere, the MISP type each observable path reads as.
_TYPE_OF_PATHS: dict[tuple[str, ...], str] = {}
for _type, _paths in _PATHS.items():
    _TYPE_OF_PATHS.setdefault(_paths, _type)
_TYPE_OF_PATHS[("ipv6-addr:value",)] = "ip-dst"
# A connection's address alone (misp-stix's ip-src and ip-dst, once its type test is implied).
_CONNECTION_PATHS: dict[tuple[str, ...], str] = {
    ("network-traffic:src_ref.value",): "ip-src",
    ("network-traffic:dst_ref.value",): "ip-dst",
}
_TYPE_OF_PATHS.update(_CONNECTION_PATHS)
_PORT_PATHS = frozenset({"network-traffic:dst_port", "network-traffic:src_port"})
_INTEGER_PATHS = _PORT_PATHS | {"autonomous-system:number"}
CATEGORIES = {
    "md5": "Payload delivery",
    "sha1": "Payload delivery",
    "sha256": "Payload delivery",
    "sha512": "Payload delivery",
    "filename": "Payload delivery",
    "filename|md5": "Payload delivery",
    "filename|sha1": "Payload delivery",
    "filename|sha256": "Payload delivery",
    "email": "Payload delivery",
    "email-src": "Payload delivery",
    "email-dst": "Payload delivery",
    "email-subject": "Payload delivery",
    "mutex": "Artifacts dropped",
    "regkey": "Persistence mechanism",
    "text": "Other",
    "comment": "Other",
    "other": "Other",
    "link": "External analysis",
}
_COMPARISON = re.compile(r"\s*([a-z0-9-]+:[A-Za-z0-9_.'\-\[\]*]+)\s*=\s*('(?:[^'\\]|\\.)*'|\d+)")
_OPEN = re.compile(r"\s*\(")
_CLOSE = re.compile(r"\s*\)")
_AND = re.compile(r"\s+AND\s+")
# A test of a reference's type (network-traffic:dst_ref.type, resolves_to_refs[*].type).
_TYPE_TEST = re.compile(r"_refs?(?:\[(?:\*|\d+)\])?\.type$")


def _paths_for(misp_type: str, value: str) -> tuple[str, ...] | None:
    paths = _PATHS.get(misp_type)
    if paths is None:
        return None
    if misp_type in _IP_TYPES and ":" in value:
        return ("ipv6-addr:value",)
    return paths


def comparisons_for(misp_type: str, value: str) -> list[str] | None:
    """The STIX comparisons a MISP attribute stands for, or None when its type has none."""
    paths = _paths_for(misp_type, value)
    if paths is None:
        return None
    parts = value.split("|", len(paths) - 1) if len(paths) > 1 else [value]
    if len(parts) != len(paths) or not all(p.strip() for p in parts):
        return None
    out: list[str] = []
    for path, part in zip(paths, parts, strict=True):
        part = part.strip()
        if path in _INTEGER_PATHS:
            digits = part.upper().removeprefix("AS")
            # What int() reads (isdigit() also passes "²", which int() refuses), and no
            # longer than an AS number (32 bits, RFC 6793): int() refuses 4,300 digits.
            if not digits.isdecimal() or len(digits) > 10:
                return None
            out.append(f"{path} = {int(digits)}")
        else:
            out.append(f"{path} = {quoted(part)}")
    return out


def pattern_for(misp_type: str, value: str) -> str | None:
    """The STIX pattern for a MISP attribute, or None when its type has no observable."""
    found = comparisons_for(misp_type, value)
    return None if found is None else "[" + " AND ".join(found) + "]"


def object_pattern(comparisons: list[str]) -> str:
    """The STIX pattern of a MISP object's comparisons.

    STIX requires the comparisons joined by AND in one observation to hold on one
    observable, so they are grouped by object type: a ``file`` object's name and hashes
    make ``[file:name = 'x' AND file:hashes.MD5 = 'y']``. A ``domain-ip`` object's
    addresses are the domain's (``domain-name:resolves_to_refs[*].value``), as for the
    ``domain|ip`` attribute. Groups of different types are alternatives joined by OR.
    """
    has_domain = any(c.startswith("domain-name:value ") for c in comparisons)
    groups: dict[str, list[str]] = {}
    for comparison in comparisons:
        if has_domain and comparison.startswith(("ipv4-addr:value ", "ipv6-addr:value ")):
            comparison = "domain-name:resolves_to_refs[*]." + comparison.split(":", 1)[1]
        group = groups.setdefault(comparison.split(":", 1)[0], [])
        if comparison not in group:
            group.append(comparison)
    return " OR ".join("[" + " AND ".join(group) + "]" for group in groups.values())


def _conjunction(pattern: str) -> tuple[list[tuple[str, str]], bool] | None:
    """The (path, literal) equality tests of a one-observation pattern that joins them all
    by AND, and whether parentheses group them (a grouping that changes nothing when every
    join is AND); None for any other pattern."""
    text = pattern.strip()
    if not (text.startswith("[") and text.endswith("]")):
        return None
    body = text[1:-1].rstrip()
    found: list[tuple[str, str]] = []
    pos = depth = 0
    grouped = False
    while True:
        while opened := _OPEN.match(body, pos):
            depth, grouped, pos = depth + 1, True, opened.end()
        comparison = _COMPARISON.match(body, pos)
        if comparison is None:
            return None
        found.append((comparison.group(1), comparison.group(2)))
        pos = comparison.end()
        while depth and (closed := _CLOSE.match(body, pos)):
            depth, pos = depth - 1, closed.end()
        if pos == len(body):
            return (found, grouped) if depth == 0 else None
        joined = _AND.match(body, pos)
        if joined is None:
            return None
        pos = joined.end()


def _literal(raw: str) -> str:
    return unquoted(raw[1:-1]) if raw.startswith("'") else raw


def _type_of(paths: tuple[str, ...], hint: str | None) -> str | None:
    fits = hint is not None and (
        _PATHS.get(hint) == paths or (hint in _IP_TYPES and paths == ("ipv6-addr:value",))
    )
    return hint if fits else _TYPE_OF_PATHS.get(paths)


def attribute_of_pattern(pattern: str, hint: str | None = None) -> tuple[str, str]:
    """The MISP (type, value) a STIX pattern stands for; ``stix2-pattern`` when none fits.

    ``hint`` is the type the pattern's ``misp:type`` label names, taken when the pattern's
    paths fit it (``ip-src`` and ``ip-dst`` share ``ipv4-addr:value``).
    """
    found = _conjunction(pattern)
    if found is None:
        return "stix2-pattern", pattern
    comparisons, grouped = found
    kept = [(path, _literal(raw)) for path, raw in comparisons if not _TYPE_TEST.search(path)]
    paths = tuple(path for path, _ in kept)
    misp_type = _type_of(paths, hint)
    if misp_type is None:
        return "stix2-pattern", pattern
    if len(kept) == len(comparisons) and not grouped and paths not in _CONNECTION_PATHS:
        return misp_type, "|".join(value for _, value in kept)
    # misp-stix's shapes: the attribute stands for the pattern only where log matching
    # reads the two alike (a type test the address bears out, a port that is one).
    values = [
        str(number) if path in _PORT_PATHS and (number := port_number(value)) is not None else value
        for path, value in kept
    ]
    own = pattern_for(misp_type, "|".join(values))
    read = terms(pattern)
    if own is None or read is None or terms(own) != read:
        return "stix2-pattern", pattern
    return misp_type, "|".join(values)
