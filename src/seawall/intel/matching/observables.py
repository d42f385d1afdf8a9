"""The observable values that decide an indicator, read from its STIX pattern.

A log line can only prove a pattern that one value satisfies on its own: one comparison,
or several joined by ``OR`` (inside one observation or across observations). A pattern
that needs two values at once (``AND``, ``FOLLOWEDBY``, a ``WITHIN`` window, a negation,
an order or a regular expression) is left to a detection engine and is counted as not
matchable here, never matched on half of its terms.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

from stix2patterns.exceptions import ParseException  # type: ignore[import-untyped]
from stix2patterns.v21.inspector import (  # type: ignore[import-untyped]
    INDEX_STAR,
    InspectionListener,
)
from stix2patterns.v21.pattern import Pattern  # type: ignore[import-untyped]

from seawall.intel.validation import pattern_excess


class Kind(StrEnum):
    """What sort of value an observable is; each sort is looked up its own way."""

    IP = "ip"
    DOMAIN = "domain"
    URL = "url"
    HASH = "hash"
    EMAIL = "email"


@dataclass(frozen=True)
class Observable:
    """One value an indicator matches, normalised for lookup (see :func:`normalise`)."""

    kind: Kind
    value: str


# (object type, object path) -> kind; "hashes.*" stands for every hash algorithm.
_PATHS: dict[tuple[str, str], Kind] = {
    ("ipv4-addr", "value"): Kind.IP,
    ("ipv6-addr", "value"): Kind.IP,
    ("network-traffic", "src_ref.value"): Kind.IP,
    ("network-traffic", "dst_ref.value"): Kind.IP,
    ("domain-name", "value"): Kind.DOMAIN,
    ("url", "value"): Kind.URL,
    ("email-addr", "value"): Kind.EMAIL,
    ("email-message", "from_ref.value"): Kind.EMAIL,
    ("email-message", "sender_ref.value"): Kind.EMAIL,
    ("file", "hashes.*"): Kind.HASH,
    ("artifact", "hashes.*"): Kind.HASH,
    ("x509-certificate", "hashes.*"): Kind.HASH,
}

# The one shape nearly every shared indicator has: a single equality or subset test.
_SIMPLE = re.compile(
    r"^\[\s*([a-z0-9-]+):([a-z_]+(?:_ref\.value)?|hashes\.(?:'[^'\\]*'|[A-Za-z0-9_-]+))"
    r"\s*(=|ISSUBSET)\s*'((?:[^'\\]|\\.)*)'\s*\]$"
)
_SET_ITEM = re.compile(r"'((?:[^'\\]|\\.)*)'")


def _unquote(literal: str) -> str:
    return literal.replace("\\'", "'").replace("\\\\", "\\")


def _path(steps: list[Any]) -> str:
    """An object path as ``_PATHS`` names it: every hash algorithm is ``hashes.*``."""
    if steps and steps[0] == "hashes":
        return "hashes.*"
    return ".".join("*" if s is INDEX_STAR else str(s) for s in steps)


def _canonical_ipv4(text: str) -> bool:
    # Most indicator addresses are plain IPv4 already; ipaddress is slow for 50,000 of them.
    try:
        return socket.inet_ntop(socket.AF_INET, socket.inet_pton(socket.AF_INET, text)) == text
    except OSError:
        return False


def normalise(kind: Kind, value: str) -> str | None:
    """A value as lookups compare it, or None when it cannot be one of ``kind``.

    IPs and ranges become their canonical network text, domains lose case and a
    trailing dot, hashes are lower-case hex, URLs keep their path but lose case in
    the scheme and host.
    """
    text = value.strip()
    if kind is Kind.IP:
        if _canonical_ipv4(text):
            return text
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            return None
        if network.num_addresses == 1:
            return str(network.network_address)
        return str(network)
    if kind is Kind.DOMAIN:
        host = text.lower().rstrip(".")
        return host or None
    if kind is Kind.HASH:
        lowered = text.lower()
        return lowered if lowered and all(c in "0123456789abcdef" for c in lowered) else None
    if kind is Kind.EMAIL:
        return text.lower() or None
    scheme, sep, rest = text.partition("://")
    if not sep or not rest:
        return None
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}://{host.lower()}{slash}{path}"


class _Listener(InspectionListener):  # type: ignore[misc]
    """The inspector's comparisons, plus whether any test needs two values at once."""

    def __init__(self) -> None:
        super().__init__()
        self.joint = False

    def enterComparisonExpressionAnd(self, ctx: Any) -> None:  # ANTLR's listener name
        if ctx.AND():
            self.joint = True


@lru_cache(maxsize=65_536)
def decisive(pattern: str) -> tuple[Observable, ...] | None:
    """The values any one of which proves ``pattern``; None when no single value can.

    In a pattern of alternatives (``OR``), those that no log value proves (a process
    name, a ``LIKE`` test) are left out and the rest still decide it. Patterns are
    parsed once per process; the common single-test shape skips ANTLR. A pattern over
    ingest's size limits, or one the parser cannot finish, decides nothing.
    """
    simple = _SIMPLE.match(pattern)
    if simple:
        kind, path, _op, literal = simple.groups()
        found = _observable(kind, "hashes.*" if path.startswith("hashes.") else path, literal)
        return (found,) if found else None
    # A stored pattern may predate ingest's limits; past them the parser would recurse
    # until it fails, so such a pattern is not matched.
    if pattern_excess(pattern) is not None:
        return None
    listener = _Listener()
    try:
        Pattern(pattern).walk(listener)
    except (ParseException, RecursionError):
        return None
    data = listener.pattern_data()
    if listener.joint or data.qualifiers or data.observation_ops - {"OR"}:
        return None
    found_all: list[Observable] = []
    for kind, tests in data.comparisons.items():
        for steps, op, literal in tests:
            path = _path(steps)
            if op in ("=", "ISSUBSET"):
                literals = [literal[1:-1]] if literal.startswith("'") else []
            elif op == "IN":
                literals = _SET_ITEM.findall(literal)
            else:
                continue  # an alternative no log value proves; the others still do
            found_all += [o for o in (_observable(kind, path, x) for x in literals) if o]
    return tuple(dict.fromkeys(found_all)) or None


def _observable(kind: str, path: str, literal: str) -> Observable | None:
    sort = _PATHS.get((kind, path))
    if sort is None:
        return None
    value = normalise(sort, _unquote(literal))
    return Observable(sort, value) if value else None
