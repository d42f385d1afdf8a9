"""The observable values that decide an indicator, read from its STIX pattern.

A pattern is read as alternatives (:data:`Term`), any one of which proves it: a term is one
value, or several joined by ``AND`` inside one observation (``[file:name = 'x' AND
file:hashes.MD5 = 'y']``, a MISP object). A log record proves a term when every one of
its values is in the record (one Zeek ``files.log`` record carries a file's name and its
hashes). ``OR`` (inside one observation or across observations) gives several terms.

Two pairs that MISP writes are read as what a log record shows of them: a domain's
``resolves_to_refs`` addresses (``domain|ip``) are :attr:`Kind.RESOLVED` values, which
the record must hold beside the name as an address the name resolved to (a Zeek
``dns.log`` answer, or the server an ``http.log`` record reached for it; never the client
or the resolver asked), and an address with a port on the same side of a
connection (``ip-dst|port``: ``network-traffic:dst_ref.value`` and ``dst_port``) is one
:attr:`Kind.ENDPOINT` value, ``198.51.100.7:443`` (``[2001:db8::1]:443``), which a record
proves when one side of its connection is that address and port.

A test of a reference's type (``network-traffic:dst_ref.type = 'ipv4-addr'``, which
misp-stix, MISP's STIX exporter, writes beside every address) is no value of its own: it
holds when the same alternative gives that reference a value of that type (an IPv4 address
or range for ``ipv4-addr``, an IPv6 one for ``ipv6-addr``, an e-mail address for
``email-addr``), and is then implied. Any other type (``ipv6-addr`` beside ``1.2.3.4``,
``domain-name`` beside an address), or no value of that reference beside it, leaves the
alternative nothing a record can prove.

What a single record cannot prove is left to a detection engine and counted as not
matchable here, never matched on half of its terms: ``AND`` or ``FOLLOWEDBY`` between
observations, a ``WITHIN`` window, a negation, an order, a regular expression, or a
comparison of a property no log field holds (``file:size``, ``process:name``). An
alternative that holds such a comparison is dropped; the others still decide.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

import idna
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
    FILE_NAME = "file-name"
    ENDPOINT = "endpoint"  # an address (or range) and a port: "198.51.100.7:443"
    # An address (or range) a name resolved to: a DNS answer, or the server reached for a
    # name. In a log, it is also an address (it matches IP values too); an IP value never
    # matches it.
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Observable:
    """One value an indicator matches, normalised for lookup (see :func:`normalise`)."""

    kind: Kind
    value: str


# (object type, object path) -> kind; "hashes.*" stands for every hash algorithm.
OBJECT_PATHS: dict[tuple[str, str], Kind] = {
    ("ipv4-addr", "value"): Kind.IP,
    ("ipv6-addr", "value"): Kind.IP,
    ("network-traffic", "src_ref.value"): Kind.IP,
    ("network-traffic", "dst_ref.value"): Kind.IP,
    ("domain-name", "value"): Kind.DOMAIN,
    ("domain-name", "resolves_to_refs.*.value"): Kind.RESOLVED,
    ("url", "value"): Kind.URL,
    ("email-addr", "value"): Kind.EMAIL,
    ("email-message", "from_ref.value"): Kind.EMAIL,
    ("email-message", "sender_ref.value"): Kind.EMAIL,
    ("file", "hashes.*"): Kind.HASH,
    ("file", "name"): Kind.FILE_NAME,
    ("artifact", "hashes.*"): Kind.HASH,
    ("x509-certificate", "hashes.*"): Kind.HASH,
}

# The one shape nearly every shared indicator has: a single equality or subset test.
_SIMPLE = re.compile(
    r"^\[\s*([a-z0-9-]+):([a-z_]+(?:_ref\.value)?|hashes\.(?:'[^'\\]*'|[A-Za-z0-9_-]+))"
    r"\s*(=|ISSUBSET)\s*'((?:[^'\\]|\\.)*)'\s*\]$"
)
_SET_ITEM = re.compile(r"'((?:[^'\\]|\\.)*)'")
# A port joins the address of its own side of the connection (see ``_endpoints``).
_PORTS = {"dst_port": "dst_ref", "src_port": "src_ref"}
# misp-stix's ip-src, ip-dst and ip|port patterns (``_create_ip_pattern`` and
# ``_create_port_pattern`` in its misp2stix/misp_to_stix2.py; the ip-port object wraps the
# first two tests in parentheses), spelled as misp-stix spells them. Any other spelling is
# read by the parser, alike but slower.
_MISP_STIX = re.compile(
    r"^\[(\()?network-traffic:(src|dst)_ref\.type = '(ipv[46]-addr)' AND "
    r"network-traffic:\2_ref\.value = '([^'\\]*)'(?(1)\))"
    r"(?: AND network-traffic:\2_port = '([^'\\]*)')?\]$"
)


def quoted(value: str) -> str:
    """A STIX string literal holding ``value`` (its backslashes and quotes escaped)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def unquoted(body: str) -> str:
    """The text the body of a STIX string literal (between its quotes) stands for."""
    return body.replace("\\'", "'").replace("\\\\", "\\")


def object_path(steps: list[Any]) -> str:
    """An object path as :data:`OBJECT_PATHS` names it: every hash algorithm is ``hashes.*``."""
    if steps and steps[0] == "hashes":
        return "hashes.*"
    return ".".join("*" if s is INDEX_STAR else str(s) for s in steps)


def _canonical_ipv4(text: str) -> bool:
    # Most indicator addresses are plain IPv4 already; ipaddress is slow for 50,000 of them.
    try:
        return socket.inet_ntop(socket.AF_INET, socket.inet_pton(socket.AF_INET, text)) == text
    except (OSError, ValueError):  # ValueError: a NUL or a lone surrogate in the text
        return False


def normalise(kind: Kind, value: str) -> str | None:
    """A value as lookups compare it, or None when it cannot be one of ``kind``.

    IPs and ranges become their canonical network text, domains lose case and a
    trailing dot, hashes are lower-case hex, URLs keep their path but lose case in
    the scheme and host.
    """
    text = value.strip()
    if kind is Kind.IP or kind is Kind.RESOLVED:
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
        return domain(text)
    if kind is Kind.HASH:
        lowered = text.lower()
        return lowered if lowered and all(c in "0123456789abcdef" for c in lowered) else None
    if kind is Kind.EMAIL:
        lowered = text.lower()
        local, at, host = lowered.rpartition("@")
        if lowered.isascii() or not at:
            return lowered or None
        named = domain(host)  # an IDN after the "@", in punycode as for any name
        return f"{local}@{named}" if named else None
    if kind is Kind.FILE_NAME:
        return value or None  # a file's name is compared as it is written
    if kind is Kind.ENDPOINT:
        address, _, port = text.rpartition(":")
        bare = address[1:-1] if address.startswith("[") and address.endswith("]") else address
        number = port_number(port)
        shown = normalise(Kind.IP, bare) if number is not None else None
        return endpoint(shown, number) if shown and number is not None else None
    scheme, sep, rest = text.partition("://")
    if not sep or not rest:
        return None
    host, slash, path = rest.partition("/")
    if not host.isascii():  # an IDN host, as the request carried it (punycode)
        login, at, place = host.rpartition("@")
        name, colon, port = place.partition(":")
        named = domain(name)
        if named is None:
            return None
        host = f"{login}{at}{named}{colon}{port}"
    return f"{scheme.lower()}://{host.lower()}{slash}{path}"


def port_number(text: str) -> int | None:
    """A port written in decimal (leading zeros allowed), or None for anything else: a
    sign, a fraction, a hex or binary literal, a digit outside ASCII, or past 65535."""
    digits = text.lstrip("0") or text[:1]
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 5:
        return None  # checked before int(): a hostile number of 5,000 digits raises
    number = int(digits)
    return number if number < 65_536 else None


def endpoint(address: str, port: int) -> str:
    """An address (or range) and a port as one :attr:`Kind.ENDPOINT` value."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def domain(text: str) -> str | None:
    """A domain name as logs carry it: lower case, no trailing dot, IDN labels in punycode
    (IDNA 2008 with UTS #46 mapping, as browsers and registries write them).

    ``bücher.example``, ``BÜCHER.example.`` and ``xn--bcher-kva.example`` are one name.
    None for a label IDNA refuses, or one its mapping would turn into another name than the
    one written (a fullwidth ``e`` (U+FF45) into ``e``, a zero-width character into nothing): such a
    value is a look-alike, not the name it maps to. ASCII labels are kept as written, less
    case (``_dmarc`` and other labels IDNA refuses are real DNS names).
    """
    host = text.rstrip(".")
    if host.isascii():
        return host.lower() or None
    labels = [label.lower() if label.isascii() else _idn_label(label) for label in host.split(".")]
    if None in labels:
        return None
    return ".".join(label for label in labels if label is not None) or None


@lru_cache(maxsize=65_536)
def _idn_label(label: str) -> str | None:
    """One non-ASCII label in punycode; None when it is not a name IDNA writes as itself."""
    try:
        encoded = idna.encode(label, uts46=True).decode("ascii")
        back = idna.decode(encoded)
    except (idna.IDNAError, UnicodeError, ValueError):
        return None
    # Each letter in small case on its own: str.lower() writes a final sigma where UTS #46
    # maps every capital sigma to a small one, and would refuse a Greek name in capitals.
    written = unicodedata.normalize("NFC", "".join(c.lower() for c in label))
    return encoded if back == written else None


Term = tuple[Observable, ...]
"""Values one log record must all hold to prove a pattern (one value for most patterns)."""
MAX_TERMS = 64  # alternatives one pattern may expand to (``(a OR b) AND (c OR d)`` is 4)
MAX_PARTS = 16  # values one alternative may join with AND


@dataclass(frozen=True)
class _Typed:
    """A reference's type test (``dst_ref.type = 'ipv4-addr'``), kept where the reference's
    value is: it holds only beside a value of that type (see :func:`_term`)."""

    sco_type: str


_Part = tuple[str, Observable | _Typed]  # where in the pattern, and what it asks there

# A comparison no log value proves, inside an alternative: the alternative is dropped.
_UNPROVEN: list[list[_Part]] = []


class _Listener(InspectionListener):  # type: ignore[misc]
    """The inspector's comparisons, in the order of the pattern's property tests."""

    def __init__(self) -> None:
        super().__init__()
        self.root: Any = None
        self.tests: list[tuple[str, list[Any], str, str]] = []

    def enterPattern(self, ctx: Any) -> None:  # ANTLR's listener name
        self.root = ctx

    def _InspectionListener__add_prop_tuple(  # every property test, as the inspector sees it
        self, obj_type: str, obj_path: list[Any], op: str, value: str
    ) -> None:
        self.tests.append((obj_type, list(obj_path), op, value))
        super()._InspectionListener__add_prop_tuple(obj_type, obj_path, op, value)


def _test_terms(test: tuple[str, list[Any], str, str]) -> list[list[_Part]]:
    """The alternatives one property test stands for: one per value of an ``IN`` set."""
    kind, steps, op, literal = test
    path = object_path(steps)
    referred = [*steps[:-1], "value"]
    if (
        # A reference's type, where a log shows the reference's value (dst_ref.value).
        len(steps) > 1
        and steps[-1] == "type"
        and op == "="
        and literal.startswith("'")
        and (kind, object_path(referred)) in OBJECT_PATHS
    ):
        where = f"{kind}:{'.'.join(str(s) for s in referred)}"
        return [[(where, _Typed(unquoted(literal[1:-1])))]]
    if kind == "network-traffic" and path in _PORTS and op in ("=", "IN"):
        items = [literal] if op == "=" else literal.strip("()").split(",")
        found = (port_number(item.strip().removeprefix("'").removesuffix("'")) for item in items)
        ports = [port for port in found if port is not None]
        where = f"{kind}:{path}"
        return [[(where, Observable(Kind.ENDPOINT, str(port)))] for port in ports]
    if op in ("=", "ISSUBSET"):
        literals = [literal[1:-1]] if literal.startswith("'") else []
    elif op == "IN":
        literals = _SET_ITEM.findall(literal)
    else:
        return _UNPROVEN
    where = f"{kind}:{'.'.join(str(s) for s in steps)}"
    # An item of a set that is no value of its kind is an alternative that never holds.
    return [[(where, o)] for o in (_observable(kind, path, x) for x in literals) if o]


def _alternatives(node: Any, tests: Iterator[tuple[str, list[Any], str, str]]) -> list[Any]:
    """``node``'s alternatives (OR of ANDs); property tests are taken from ``tests`` in order."""
    name = type(node).__name__
    if name.startswith("PropTest") and name != "PropTestParenContext":
        return _test_terms(next(tests))
    children = [c for c in node.getChildren() if hasattr(c, "getChildren")]
    parts = [_alternatives(child, tests) for child in children]
    if name == "ComparisonExpressionAndContext" and node.AND():
        product: list[Any] = [[]]
        for alternatives in parts:
            product = [a + b for a in product for b in alternatives]
            if len(product) > MAX_TERMS:
                raise _TooMany
        return product
    return [term for alternatives in parts for term in alternatives]


class _TooMany(Exception):
    """A pattern expands to more alternatives than are kept."""


def _term(parts: list[_Part]) -> Term | None:
    """One alternative's values; None when no single object could hold them all (the same
    property asked to equal two values, a reference asked to be of a type its value is
    not) or they are too many."""
    held: dict[str, Observable] = {}
    for where, observable in parts:
        if isinstance(observable, _Typed):
            continue
        other = held.setdefault(where, observable)
        if other != observable and "/" not in other.value + observable.value:
            return None
    for where, typed in parts:
        if isinstance(typed, _Typed):
            value = held.get(where)
            if value is None or _sco_type(value) != typed.sco_type:
                return None
    if not _endpoints(held):
        return None
    _drop_unlogged_hashes(held)
    values = tuple(sorted(set(held.values()), key=lambda o: (o.kind, o.value)))
    return values if len(values) <= MAX_PARTS else None


def _sco_type(observable: Observable) -> str | None:
    """The STIX object type a reference holding ``observable`` is of."""
    if observable.kind is Kind.IP or observable.kind is Kind.RESOLVED:
        return "ipv6-addr" if ":" in observable.value else "ipv4-addr"  # normalised text
    return "email-addr" if observable.kind is Kind.EMAIL else None


def _typed_address(sco_type: str, literal: str, port: str | None) -> tuple[Term, ...] | None:
    """The terms of one of misp-stix's address patterns (:data:`_MISP_STIX`), as the
    parser reads them: an address of the type named, with the port of its side if any."""
    address = normalise(Kind.IP, literal)
    if address is None or _sco_type(Observable(Kind.IP, address)) != sco_type:
        return None
    if port is None:
        return ((Observable(Kind.IP, address),),)
    number = port_number(port)
    if number is None:
        return None
    return ((Observable(Kind.ENDPOINT, endpoint(address, number)),),)


# The hashes logs carry of a file (Zeek's files.log, Suricata's fileinfo), by the name of
# the algorithm as a pattern writes it, less case, quotes and "-".
_LOGGED_HASHES = frozenset({"md5", "sha1", "sha256"})


def _drop_unlogged_hashes(held: dict[str, Observable]) -> None:
    """Drop a hash no log carries (SHA-512, SSDEEP, TLSH) from an alternative holding one a
    log does carry of the same object: both name the same content, and a MISP file object
    listing its SHA-512 beside its MD5 would otherwise never match."""
    algorithms = {
        where: where.partition(":hashes.")[2].strip("'").replace("-", "").lower()
        for where, observable in held.items()
        if observable.kind is Kind.HASH
    }
    for sco in {where.partition(":")[0] for where in algorithms}:
        mine = {w: a for w, a in algorithms.items() if w.startswith(f"{sco}:")}
        if any(a in _LOGGED_HASHES for a in mine.values()):
            for where, algorithm in mine.items():
                if algorithm not in _LOGGED_HASHES:
                    del held[where]


def _endpoints(held: dict[str, Observable]) -> bool:
    """Join each port to the address of its side of the connection, as one endpoint value;
    False when a port has no address beside it (a port alone is no value a log proves)."""
    for port_path, address_path in _PORTS.items():
        port = held.pop(f"network-traffic:{port_path}", None)
        if port is None:
            continue
        address = held.pop(f"network-traffic:{address_path}.value", None)
        if address is None:
            return False
        held[f"network-traffic:{port_path}"] = Observable(
            Kind.ENDPOINT, endpoint(address.value, int(port.value))
        )
    return True


_JOINT = (Kind.ENDPOINT, Kind.RESOLVED)


@lru_cache(maxsize=65_536)
def terms(pattern: str) -> tuple[Term, ...] | None:
    """The alternatives any one of which proves ``pattern``; None when a log record cannot.

    Patterns are parsed once per process; the common single-test shape, and misp-stix's
    address and endpoint patterns, skip ANTLR. A
    pattern over ingest's size limits, or one the parser cannot finish, decides nothing.
    """
    simple = _SIMPLE.match(pattern)
    if simple:
        kind, path, _op, literal = simple.groups()
        found = _observable(kind, "hashes.*" if path.startswith("hashes.") else path, literal)
        return ((found,),) if found else None
    typed = _MISP_STIX.match(pattern)
    if typed:
        return _typed_address(*typed.group(3, 4, 5))
    # A stored pattern may predate ingest's limits; past them the parser would recurse
    # until it fails, so such a pattern is not matched.
    if pattern_excess(pattern) is not None:
        return None
    listener = _Listener()
    try:
        Pattern(pattern).walk(listener)
        data = listener.pattern_data()
        if data.qualifiers or data.observation_ops - {"OR"}:
            return None
        expanded = _alternatives(listener.root, iter(listener.tests))
    except (ParseException, RecursionError, _TooMany, StopIteration):
        return None
    alternatives = [t for t in (_term(parts) for parts in expanded) if t]
    return tuple(dict.fromkeys(alternatives)) or None


def decisive(pattern: str) -> tuple[Observable, ...] | None:
    """The values any one of which proves ``pattern`` on its own; None when no single value
    can (see :func:`terms` for patterns whose values must be seen together; an endpoint
    is an address and a port seen together, and a resolved address is an address seen as
    a name's, which a sensor's address list cannot tell)."""
    found = terms(pattern)
    if found is None or any(len(t) != 1 or t[0].kind in _JOINT for t in found):
        return None
    return tuple(dict.fromkeys(term[0] for term in found))


def _observable(kind: str, path: str, literal: str) -> Observable | None:
    sort = OBJECT_PATHS.get((kind, path))
    if sort is None:
        return None
    value = normalise(sort, unquoted(literal))
    return Observable(sort, value) if value else None
