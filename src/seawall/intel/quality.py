"""Indicator quality: MISP warninglists at ingest, and whether an indicator is still active.

Each indicator's observable values (IP addresses and ranges, domains, URLs, hashes) are
checked against a chosen set of the MISP warninglists shipped with
``pymispwarninglists``. A value in a *reserved* list (private and special-use ranges,
special-use domains, the hashes of empty files) is never a useful indicator to share,
so an indicator made only of such values is **suppressed**: it is not stored, and the
import report says why. A value in a *common* list (public DNS resolvers, the most
visited domains) may be real but usually is a false positive, so the indicator is
stored and **flagged** with the reason.

IP ranges are compared as ranges: ``10.1.2.3/8`` overlaps RFC 1918, and a /8 that
holds a public resolver is flagged as well.
"""

from __future__ import annotations

import bisect
import importlib.util
import ipaddress
import json
import re
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from seawall.intel.errors import InvalidStixObject
from seawall.intel.matching.observables import unquoted
from seawall.intel.validation import parse_timestamp, pattern_excess


class Action(StrEnum):
    """What a warninglist hit does to an indicator."""

    SUPPRESS = "suppress"
    FLAG = "flag"


class Status(StrEnum):
    """Whether an indicator should be acted on now."""

    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"
    PENDING = "not yet valid"


# (list directory, what it means, action). Lists are read from the package's data.
LISTS: tuple[tuple[str, str, Action], ...] = (
    ("rfc1918", "a private address range (RFC 1918)", Action.SUPPRESS),
    ("rfc5735", "a special-use IPv4 range (RFC 5735)", Action.SUPPRESS),
    ("rfc6598", "a shared carrier-grade NAT range (RFC 6598)", Action.SUPPRESS),
    ("rfc3849", "the IPv6 documentation range (RFC 3849)", Action.SUPPRESS),
    ("ipv6-linklocal", "an IPv6 link-local range", Action.SUPPRESS),
    ("multicast", "a multicast range (RFC 5771)", Action.SUPPRESS),
    ("rfc6761", "a special-use domain name (RFC 6761)", Action.SUPPRESS),
    ("empty-hashes", "the hash of an empty file", Action.SUPPRESS),
    ("public-dns-v4", "a public DNS resolver", Action.FLAG),
    ("public-dns-v6", "a public DNS resolver", Action.FLAG),
    ("public-dns-hostname", "a public DNS resolver's hostname", Action.FLAG),
    ("tranco10k", "one of the 10,000 most visited domains (Tranco)", Action.FLAG),
    ("cisco_top1000", "one of the 1,000 most queried domains (Cisco Umbrella)", Action.FLAG),
)

# The lists ship as data inside the package; finding them does not import it (and with it
# `requests`, 60 ms of every intel command's start-up).
_PACKAGE = importlib.util.find_spec("pymispwarninglists")
_LISTS_DIR = Path(_PACKAGE.origin if _PACKAGE and _PACKAGE.origin else ".").parent / (
    "data/misp-warninglists/lists"
)

# The observable paths whose values the warninglists can judge.
_IP_PATHS = frozenset({"ipv4-addr:value", "ipv6-addr:value"})
_DOMAIN_PATHS = frozenset({"domain-name:value", "email-addr:value", "url:value"})
_COMPARISON = re.compile(r"([a-z0-9-]+):([A-Za-z0-9_.'\-\[\]*]+)\s*=\s*'((?:[^'\\]|\\.)*)'")


@dataclass(frozen=True)
class Hit:
    """One observable value found in one warninglist."""

    value: str
    list_name: str
    meaning: str
    action: Action

    @property
    def reason(self) -> str:
        """One line for a person: what the value is and which list says so."""
        return f"{self.value} is {self.meaning} (MISP warninglist {self.list_name!r})"


@dataclass(frozen=True)
class Verdict:
    """The warninglist verdict on one indicator: suppressed, flagged or clean."""

    values: tuple[str, ...]
    hits: tuple[Hit, ...]

    @property
    def suppressed(self) -> bool:
        """Every checked value is in a reserved list: the indicator is not worth sharing."""
        bad = {h.value for h in self.hits if h.action is Action.SUPPRESS}
        return bool(self.values) and all(v in bad for v in self.values)

    @property
    def flagged(self) -> bool:
        """Some value is in a warninglist, but not so that the indicator is suppressed."""
        return bool(self.hits) and not self.suppressed

    @property
    def reason(self) -> str:
        """The hits as one line."""
        return "; ".join(dict.fromkeys(h.reason for h in self.hits))


@dataclass(frozen=True)
class _Ranges:
    """Merged address intervals of one IP version, searchable by bisection."""

    starts: tuple[int, ...]
    ends: tuple[int, ...]

    @classmethod
    def of(cls, spans: Iterable[tuple[int, int]]) -> _Ranges:
        merged: list[list[int]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        return cls(tuple(s for s, _ in merged), tuple(e for _, e in merged))

    def overlaps(self, start: int, end: int) -> bool:
        # The last interval starting at or before `end` is the only candidate.
        i = bisect.bisect_right(self.starts, end) - 1
        return i >= 0 and self.ends[i] >= start


@dataclass(frozen=True)
class _List:
    name: str
    meaning: str
    action: Action
    kind: str
    entries: frozenset[str]
    v4: _Ranges
    v6: _Ranges


def _span(entry: str) -> tuple[int, int, int] | None:
    """(IP version, first, last) of an address or network; plain addresses skip ipaddress."""
    try:
        if "/" not in entry:
            if ":" in entry:
                value = int.from_bytes(socket.inet_pton(socket.AF_INET6, entry), "big")
                return 6, value, value
            value = int.from_bytes(socket.inet_pton(socket.AF_INET, entry), "big")
            return 4, value, value
        net = ipaddress.ip_network(entry, strict=False)
    except (OSError, ValueError):
        return None
    return net.version, int(net.network_address), int(net.broadcast_address)


@lru_cache(maxsize=8)
def warninglist_entries(directory: str) -> frozenset[str]:
    """The lower-case entries of one of the package's warninglists (``second-level-tlds``),
    for a check that is not an import verdict."""
    raw = json.loads((_LISTS_DIR / directory / "list.json").read_text(encoding="utf-8"))
    return frozenset(str(e).strip().lower().strip(".") for e in raw["list"])


@lru_cache(maxsize=1)
def warninglists() -> tuple[_List, ...]:
    """The chosen warninglists, loaded once per process."""
    loaded: list[_List] = []
    for directory, meaning, action in LISTS:
        raw = json.loads((_LISTS_DIR / directory / "list.json").read_text(encoding="utf-8"))
        entries = [str(e).strip().lower() for e in raw["list"]]
        v4: list[tuple[int, int]] = []
        v6: list[tuple[int, int]] = []
        if raw["type"] == "cidr":
            for entry in entries:
                found = _span(entry)
                if found is not None:
                    (v4 if found[0] == 4 else v6).append(found[1:])
        loaded.append(
            _List(
                name=directory,
                meaning=meaning,
                action=action,
                kind=str(raw["type"]),
                entries=frozenset(e.lstrip(".") for e in entries),
                v4=_Ranges.of(v4),
                v6=_Ranges.of(v6),
            )
        )
    return tuple(loaded)


def _as_network(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None


def _host_of(value: str) -> str:
    text = value.strip().lower()
    if "://" in text:
        try:
            return (urlsplit(text).hostname or "").rstrip(".")
        except ValueError:  # an unbalanced "[" (urlsplit's "Invalid IPv6 URL"): still check it
            authority = text.partition("://")[2].partition("/")[0]
            return authority.rpartition("@")[2].strip("[]").rstrip(".")
    if "@" in text:
        return text.rpartition("@")[2].rstrip(".")
    return text.rstrip(".")


def _domain_in(host: str, entries: frozenset[str]) -> bool:
    if host in entries:
        return True
    labels = host.split(".")
    # Any parent domain short of the TLD itself (www.google.com under google.com).
    return any(".".join(labels[i:]) in entries for i in range(1, len(labels) - 1))


def check_value(value: str, kind: str) -> list[Hit]:
    """The warninglist hits of one observable value; ``kind`` is ``ip``, ``domain`` or ``hash``."""
    if kind == "domain" and _as_network(_host_of(value).strip("[]")) is not None:
        return [
            Hit(value, h.list_name, h.meaning, h.action)
            for h in check_value(_host_of(value).strip("[]"), "ip")
        ]
    hits: list[Hit] = []
    for wl in warninglists():
        if kind == "ip" and wl.kind == "cidr":
            net = _as_network(value)
            if net is None:
                continue
            ranges = wl.v4 if net.version == 4 else wl.v6
            found = ranges.overlaps(int(net.network_address), int(net.broadcast_address))
        elif kind == "domain" and wl.kind in ("hostname", "string", "substring"):
            host = _host_of(value)
            found = bool(host) and _domain_in(host, wl.entries)
        elif kind == "hash" and wl.kind == "string":
            found = value.strip().lower() in wl.entries
        else:
            continue
        if found:
            hits.append(Hit(value, wl.name, wl.meaning, wl.action))
    return hits


def observables(pattern: str) -> list[tuple[str, str]]:
    """The (kind, value) pairs of a STIX pattern's equality tests that warninglists judge."""
    found: list[tuple[str, str]] = []
    for sco, path, raw in _COMPARISON.findall(pattern):
        value = unquoted(raw)
        where = f"{sco}:{path}"
        if where in _IP_PATHS:
            found.append(("ip", value))
        elif where in _DOMAIN_PATHS:
            found.append(("domain", value))
        elif sco == "file" and path.startswith("hashes."):
            found.append(("hash", value))
    return found


def assess_values(pairs: Sequence[tuple[str, str]]) -> Verdict:
    """The verdict on a set of (kind, value) observables."""
    hits = [hit for kind, value in pairs for hit in check_value(value, kind)]
    return Verdict(values=tuple(dict.fromkeys(v for _, v in pairs)), hits=tuple(hits))


def assess(obj: Mapping[str, Any]) -> Verdict:
    """The warninglist verdict on a STIX object; only indicators with STIX patterns are judged.

    A pattern over ingest's size limits is not judged: ingest refuses it for its size.
    """
    if obj.get("type") != "indicator" or obj.get("pattern_type") != "stix":
        return Verdict((), ())
    pattern = obj.get("pattern")
    if not isinstance(pattern, str) or pattern_excess(pattern) is not None:
        return Verdict((), ())
    return assess_values(observables(pattern))


def status_of(obj: Mapping[str, Any], now: datetime) -> Status:
    """Whether an object is active at ``now``, revoked, expired or not yet valid."""
    if obj.get("revoked") is True:
        return Status.REVOKED
    object_id = str(obj.get("id", ""))
    try:
        until = obj.get("valid_until")
        if isinstance(until, str) and parse_timestamp(until, object_id, "valid_until") <= now:
            return Status.EXPIRED
        start = obj.get("valid_from")
        if (
            obj.get("type") == "indicator"
            and isinstance(start, str)
            and parse_timestamp(start, object_id, "valid_from") > now
        ):
            return Status.PENDING
    except InvalidStixObject:
        return Status.EXPIRED  # an unreadable validity window is never served as active
    return Status.ACTIVE


def is_active(obj: Mapping[str, Any], now: datetime) -> bool:
    """Whether an object may be served as an active indicator at ``now``."""
    return status_of(obj, now) is Status.ACTIVE
