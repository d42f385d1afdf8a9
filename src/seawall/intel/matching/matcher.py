"""Looking observed values up among indicator observables: exact, in a range, under a domain.

A value matches an indicator's observable when it is the same value, when an IP address
lies in an indicator's range (CIDR), or when a host name is the indicator's domain or a
name under it (``a.b.evil.example`` is under ``evil.example``; ``notevil.example`` is not).
A URL matches with or without its query string. An endpoint (an address and a port)
matches the same port with the same address, or an address in the indicator's range. A
resolved address (a ``domain|ip`` pair's) matches only an address a log shows a name
resolved to; such an address matches address indicators too.
Names are compared in punycode (:func:`~seawall.intel.matching.observables.domain`): a
log that writes ``bücher.example`` matches ``xn--bcher-kva.example``, and a name IDNA
refuses matches nothing.
"""

from __future__ import annotations

import ipaddress
import socket
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from seawall.intel.matching.observables import Kind, Observable, Term, domain, endpoint, normalise

MEMO_SIZE = 200_000


@dataclass(frozen=True)
class Match:
    """One indicator observable an observed value satisfied."""

    key: int
    observable: Observable


@dataclass
class Matcher:
    """Observables of many indicators, each under an integer key (the caller's index)."""

    _exact: dict[Kind, dict[str, list[int]]] = field(
        default_factory=lambda: {kind: defaultdict(list) for kind in Kind}
    )
    # IP ranges by version, then prefix length, then network number.
    _ranges: dict[int, dict[int, dict[int, list[int]]]] = field(
        default_factory=lambda: {4: defaultdict(dict), 6: defaultdict(dict)}
    )
    # Logs repeat themselves (the same resolver, clients and popular names on every other
    # line), so each kind keeps the answers it gave, up to MEMO_SIZE values.
    _memo: dict[Kind, dict[str, list[Match]]] = field(
        default_factory=lambda: {kind: {} for kind in Kind}
    )
    # Endpoints whose address is a range: by port, the ranges (in a matcher of their own).
    _port_ranges: dict[int, Matcher] = field(default_factory=dict)
    # Every endpoint's port, as text: most connections' ports are no indicator's, and a
    # client's ephemeral port would only fill the memo.
    _ports: set[str] = field(default_factory=set)
    # Resolved addresses (a ``domain|ip`` pair's), held as addresses in a matcher of their
    # own: only a value a log shows as resolved looks them up.
    _resolved: Matcher | None = None

    @classmethod
    def of(cls, entries: Iterable[tuple[Observable, int]]) -> Matcher:
        """A matcher holding ``(observable, key)`` pairs."""
        matcher = cls()
        for observable, key in entries:
            matcher._hold(observable, key)  # a new matcher has no answers to forget
        return matcher

    def add(self, observable: Observable, key: int) -> None:
        """Hold one observable (already normalised) under ``key``."""
        for memo in self._memo.values():
            memo.clear()
        self._hold(observable, key)

    def _hold(self, observable: Observable, key: int) -> None:
        if observable.kind is Kind.RESOLVED:
            if self._resolved is None:
                self._resolved = Matcher()
            self._resolved._hold(Observable(Kind.IP, observable.value), key)
            return
        if observable.kind is Kind.ENDPOINT:
            self._ports.add(observable.value[observable.value.rfind(":") + 1 :])
        if observable.kind is Kind.ENDPOINT and "/" in observable.value:
            address, port = _split(observable.value)
            ranges = self._port_ranges.setdefault(port, Matcher())
            ranges._hold(Observable(Kind.IP, address), key)
            return
        if observable.kind is Kind.IP and "/" in observable.value:
            network = ipaddress.ip_network(observable.value)
            by_number = self._ranges[network.version][network.prefixlen]
            by_number.setdefault(int(network.network_address), []).append(key)
            return
        self._exact[observable.kind][observable.value].append(key)

    @property
    def ports(self) -> frozenset[str]:
        """The ports of the endpoints held (decimal text), for readers to build only those."""
        return frozenset(self._ports)

    def lookup(self, kind: Kind, value: str) -> list[Match]:
        """The indicator observables ``value`` (as observed in a log) satisfies."""
        if kind is Kind.ENDPOINT and value[value.rfind(":") + 1 :] not in self._ports:
            return []
        memo = self._memo[kind]
        found = memo.get(value)
        if found is None:
            if len(memo) >= MEMO_SIZE:
                memo.clear()
            found = memo[value] = self._lookup(kind, value)
        return found

    def _lookup(self, kind: Kind, value: str) -> list[Match]:
        # Most observed values match nothing, so a miss costs a dictionary lookup or two
        # (plus one per parent domain); values are normalised only where logs vary.
        if kind is Kind.IP:
            return self._ip(value)
        if kind is Kind.RESOLVED:  # an address, and one a name resolved to
            found = self._ip(value)
            if self._resolved is not None:
                found += [
                    Match(m.key, Observable(Kind.RESOLVED, m.observable.value))
                    for m in self._resolved._ip(value)
                ]
            return found
        exact = self._exact[kind]
        if kind is Kind.DOMAIN:
            host = domain(value)
            if not host:
                return []
            found = [Match(k, Observable(kind, host)) for k in exact.get(host, ())]
            return found + self._parents(host)
        if kind is Kind.ENDPOINT:
            return self._endpoint(value)
        if kind is Kind.URL or (kind is Kind.EMAIL and not value.isascii()):
            shown = normalise(kind, value)
        else:  # a file's name is compared as written, other values without case
            shown = value if kind is Kind.FILE_NAME else value.lower()
        if not shown:
            return []
        found = [Match(k, Observable(kind, shown)) for k in exact.get(shown, ())]
        if kind is Kind.URL and "?" in shown:
            bare = shown.partition("?")[0]
            found += [Match(k, Observable(kind, bare)) for k in exact.get(bare, ())]
        return found

    def _ip(self, value: str) -> list[Match]:
        exact = self._exact[Kind.IP]
        keys = exact.get(value)
        shown = value
        if keys is None and ":" in value:  # IPv6 has many spellings of one address
            shown = normalise(Kind.IP, value) or value
            keys = exact.get(shown)
        found = [Match(k, Observable(Kind.IP, shown)) for k in keys or ()]
        if self._ranges[4] or self._ranges[6]:
            found += self._in_ranges(shown)
        return found

    def _endpoint(self, value: str) -> list[Match]:
        shown = normalise(Kind.ENDPOINT, value)
        if shown is None:
            return []
        found = [
            Match(k, Observable(Kind.ENDPOINT, shown))
            for k in self._exact[Kind.ENDPOINT].get(shown, ())
        ]
        address, port = _split(shown)
        ranges = self._port_ranges.get(port)
        if ranges is not None:
            found += [
                Match(m.key, Observable(Kind.ENDPOINT, endpoint(m.observable.value, port)))
                for m in ranges._in_ranges(address)
            ]
        return found

    def _parents(self, host: str) -> list[Match]:
        exact = self._exact[Kind.DOMAIN]
        found: list[Match] = []
        dot = host.find(".")
        while dot != -1:
            parent = host[dot + 1 :]
            found += [Match(k, Observable(Kind.DOMAIN, parent)) for k in exact.get(parent, ())]
            dot = host.find(".", dot + 1)
        return found

    def _in_ranges(self, address: str) -> list[Match]:
        # inet_pton, not ipaddress: it is strict about the text and ten times faster.
        family, width, version = (
            (socket.AF_INET6, 128, 6) if ":" in address else (socket.AF_INET, 32, 4)
        )
        try:
            number = int.from_bytes(socket.inet_pton(family, address))
        except (OSError, ValueError):  # ValueError: a NUL or a lone surrogate in the text
            return []  # not an address (a range or a name in an address field)
        found: list[Match] = []
        for prefix, by_number in self._ranges[version].items():
            network = number >> (width - prefix) << (width - prefix)
            keys = by_number.get(network, ())
            if keys:
                kind = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
                shown = f"{kind(network)}/{prefix}"
                found += [Match(key, Observable(Kind.IP, shown)) for key in keys]
        return found


def _split(value: str) -> tuple[str, int]:
    """An endpoint value's address (or range) and port."""
    address, _, port = value.rpartition(":")
    return address.strip("[]"), int(port)


@dataclass(frozen=True)
class Part:
    """One value of an indicator's alternative (:data:`Term`): a key in the matcher."""

    indicator: int
    term: int  # the alternative's number, over all indicators
    size: int  # how many values the alternative joins


@dataclass
class Index:
    """The values of many indicators' alternatives, and which indicator each proves.

    The matcher's keys are parts; an indicator matches a log record when every part of one
    of its alternatives does.
    """

    matcher: Matcher
    parts: Mapping[int, Part] | list[Part]  # by the matcher's keys

    @classmethod
    def of(cls, indicators: Iterable[tuple[int, Iterable[Term]]]) -> Index:
        """An index of ``(indicator key, its alternatives)`` pairs."""
        entries: list[tuple[Observable, int]] = []
        parts: list[Part] = []
        number = 0
        for key, alternatives in indicators:
            for term in alternatives:
                for observable in term:
                    entries.append((observable, len(parts)))
                    parts.append(Part(key, number, len(term)))
                number += 1
        return cls(Matcher.of(entries), parts)

    def proven(self, matches: Iterable[Match]) -> dict[int, set[str]]:
        """The indicators one record's matches prove, each with the indicator values seen."""
        proven: dict[int, set[str]] = {}
        joint: dict[int, dict[int, str]] = {}  # alternative -> part -> value, for AND
        for match in matches:
            part = self.parts[match.key]
            if part.size == 1:
                proven.setdefault(part.indicator, set()).add(match.observable.value)
            else:
                joint.setdefault(part.term, {})[match.key] = match.observable.value
        for seen in joint.values():
            part = self.parts[next(iter(seen))]
            if len(seen) == part.size:
                proven.setdefault(part.indicator, set()).update(seen.values())
        return proven
