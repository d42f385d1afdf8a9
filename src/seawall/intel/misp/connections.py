"""The STIX pattern of a MISP connection object: ``ip-port``, ``network-connection``, ``netflow``.

Each address goes on its side of the connection with the port of that side, as misp-stix
writes these objects (``network-traffic:dst_ref.value`` beside ``network-traffic:dst_port``)
and as the ``ip-dst|port`` attribute maps, so that log matching reads an address with its
port as one endpoint a record proves only on that port, never the address on any port:

- ``ip-port`` {ip 1.2.3.4, dst-port 443} is ``[network-traffic:dst_ref.value = '1.2.3.4'
  AND network-traffic:dst_port = 443]``.
- An object listing several addresses or ports on one side is one alternative per address
  and port, joined by OR; a source and a destination are one alternative holding both
  (``network-connection`` {ip-src, ip-dst, dst-port}).
- A port with no address on its side stays beside the other side's address
  (``network-connection`` {ip-src, dst-port}): a log record cannot prove it, so the
  alternative is left to a detection engine rather than matched on the address alone.
  An object with no address and no name is read as any other object is.
- A host name (``ip-port``'s ``domain`` and ``hostname``, ``network-connection``'s
  ``hostname-src`` and ``hostname-dst``) is an alternative of its own,
  ``[domain-name:value = '...']``, as the ``domain`` attribute maps: a log shows a name in
  a DNS query, an HTTP ``Host`` or a TLS server name, never beside the connection's port.
  misp-stix writes it as the address's own reference (``dst_ref.type = 'domain-name'``
  joined by AND to ``dst_ref.type = 'ipv4-addr'``), which no observable can satisfy. A
  port beside a name and no address on its side is the name's, and no part of the pattern.
- A port is kept whatever its ``to_ids``: MISP marks a port not for detection on its own,
  and beside its address it is part of what the address claims. misp-stix leaves
  attributes marked so out of its patterns, which drops the port of a usual ip-port object.
- A protocol, an AS, a MAC address, counters, flags, a community id and the object's
  ``first-seen``/``last-seen`` are no part of the pattern (no log record here proves them
  beside the endpoint, and a comparison none proves would leave the whole alternative
  unmatched); they stay in the object's attributes, and export gives them back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import product
from math import prod
from typing import Any

from seawall.intel.errors import UnreadableIntel
from seawall.intel.matching.observables import MAX_TERMS, port_number, quoted
from seawall.intel.misp.mapping import pattern_for

# The object relations of each side, from MISP's object templates (MISP/misp-objects,
# objects/<name>/definition.json): ip-port v10 (uuid 9f8cea74-16fe-4968-a2b4-026676949ac6;
# its "ip", "domain" and "hostname" name the destination), network-connection v7
# (af16764b-f8e5-4603-9de1-de34d272f80b) and netflow v2 (bf148c58-3e7e-414e-8de8-5d96379ca77e).
_ADDRESSES = {"ip": "dst", "ip-dst": "dst", "ip-src": "src"}
_PORTS = {"dst-port": "dst", "src-port": "src"}
_NAMES: dict[str, dict[str, str]] = {
    "ip-port": {"domain": "dst", "hostname": "dst"},
    "network-connection": {"hostname-src": "src", "hostname-dst": "dst"},
    "netflow": {},
}
CONNECTION_OBJECTS = frozenset(_NAMES)
"""The MISP objects whose pattern :func:`connection_pattern` writes."""


def _values(
    attrs: Sequence[Mapping[str, Any]], relations: Mapping[str, str], side: str
) -> list[str]:
    """The distinct values of the attributes whose relation is on ``side``, in order."""
    found: list[str] = []
    for attr in attrs:
        value = str(attr.get("value") if attr.get("value") is not None else "").strip()
        if relations.get(str(attr.get("object_relation") or "")) == side and value:
            found.append(value)
    return list(dict.fromkeys(found))


def _port(name: str, side: str, text: str) -> str:
    number = port_number(text)
    if number is None:
        raise UnreadableIntel(f"the {name} object's {side}-port {text[:40]!r} is no port number")
    return f"network-traffic:{side}_port = {number}"


def _side(attrs: Sequence[Mapping[str, Any]], name: str, side: str) -> list[Sequence[str | None]]:
    """One side's choices, as factors whose product they are: each address with each port
    of the side (None for no port). A port with no address stays beside the other side's
    address, except beside a name of its own side (the name's port, which no record
    proves with it)."""
    addresses = _values(attrs, _ADDRESSES, side)
    # Distinct numbers: "443" and "0443" are one port.
    ports = list(dict.fromkeys(_port(name, side, p) for p in _values(attrs, _PORTS, side)))
    if not addresses:
        named = _values(attrs, _NAMES[name], side)
        return [ports] if ports and not named else []
    refs = [f"network-traffic:{side}_ref.value = {quoted(a)}" for a in addresses]
    return [refs, ports or [None]]


def connection_pattern(name: str, attrs: Sequence[Mapping[str, Any]]) -> str | None:
    """The pattern of a connection object's addresses, ports and names; None when it lists
    no address and no name (or the object is none of :data:`CONNECTION_OBJECTS`)."""
    if name not in _NAMES:
        return None
    factors = [*_side(attrs, name, "src"), *_side(attrs, name, "dst")]
    addressed = any(_values(attrs, _ADDRESSES, side) for side in ("src", "dst"))
    names = list(
        dict.fromkeys(v for side in ("src", "dst") for v in _values(attrs, _NAMES[name], side))
    )
    # Counted before any is built: the pairs multiply (100 addresses and ports a side
    # are 10^8), and every pair is distinct, as is every name.
    count = (prod(len(f) for f in factors) if addressed else 0) + len(names)
    if count > MAX_TERMS:
        raise UnreadableIntel(
            f"the {name} object lists {count} addresses, ports and names "
            f"together, over the {MAX_TERMS} one pattern may hold; split it into several objects"
        )
    pairs = product(*factors) if addressed else ()
    alternatives = ["[" + " AND ".join(c for c in pair if c) + "]" for pair in pairs]
    alternatives += [p for p in (pattern_for("domain", n) for n in names) if p]
    return " OR ".join(alternatives) or None
