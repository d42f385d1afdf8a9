"""A DNS Response Policy Zone (RPZ) from sensor entries, for BIND and Unbound.

Every trigger answers NXDOMAIN (``CNAME .``). A domain indicator holds the name and every
name under it, as Seawall's matcher reads it, so each domain is listed twice: ``name`` and
``*.name``. An address or range is a response-IP trigger (``rpz-ip``): a resolver refuses
any answer that holds it. Names that cannot be DNS names, and names too long to hold the
zone's origin after them, are left out and counted.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from seawall.intel.exports.entries import Entry, dns_name
from seawall.intel.matching.observables import Kind

DEFAULT_ORIGIN = "rpz.seawall"
TTL = 300
NXDOMAIN = "CNAME ."
# SOA timers: refresh, retry, expire, negative TTL (RFC 1035 §3.3.13).
SOA_TIMERS = "3600 600 86400 300"


@dataclass(frozen=True)
class Zone:
    """The zone's text, its trigger lines, and how many entries could not be listed."""

    text: str
    records: tuple[str, ...]
    left_out: int


def rpz_ip(value: str) -> str:
    """An address or range as an ``rpz-ip`` owner: prefix length, then the address
    reversed (IPv6 by 16-bit groups, ``zz`` for the run of zeros ``::`` stands for)."""
    network = ipaddress.ip_network(value, strict=False)
    address = network.network_address
    if network.version == 4:
        parts = str(address).split(".")
    else:
        left, sep, right = str(address).partition("::")
        groups = [g for g in left.split(":") if g]
        parts = [*groups, "zz", *[g for g in right.split(":") if g]] if sep else groups
    return ".".join([str(network.prefixlen), *reversed(parts), "rpz-ip"])


def _fits(owner: str, origin: str) -> bool:
    # An owner name and its origin, in wire form, must fit 255 octets (RFC 1035 §2.3.4).
    return len(owner) + 1 + len(origin) + 2 <= 255


def holds(entry: Entry, origin: str = DEFAULT_ORIGIN) -> bool:
    """Whether a zone under ``origin`` can list the entry: a DNS name that fits with its
    ``*.`` and the origin, or an address or range narrower than every address."""
    if entry.kind is Kind.DOMAIN:
        name = dns_name(entry.value)
        return name is not None and _fits(f"*.{name}", origin)
    # ``/0`` is every address: no resolver takes that trigger.
    return entry.kind is Kind.IP and not entry.value.endswith("/0")


def rpz_records(entries: Iterable[Entry], origin: str = DEFAULT_ORIGIN) -> tuple[list[str], int]:
    """The trigger lines, each once and sorted, and how many entries were left out."""
    owners: set[str] = set()
    left_out = 0
    for entry in entries:
        if entry.kind not in (Kind.DOMAIN, Kind.IP):
            continue
        if not holds(entry, origin):
            left_out += 1
        elif entry.kind is Kind.DOMAIN:
            name = str(dns_name(entry.value))
            owners.update((name, f"*.{name}"))
        else:
            owners.add(rpz_ip(entry.value))
    return [f"{owner} {NXDOMAIN}" for owner in sorted(owners)], left_out


def rpz_zone(entries: Iterable[Entry], serial: int, origin: str = DEFAULT_ORIGIN) -> Zone:
    """The zone file, with its own ``$ORIGIN``, an SOA and an NS, then the triggers."""
    records, left_out = rpz_records(entries, origin)
    head = [
        f"$ORIGIN {origin}.",
        f"$TTL {TTL}",
        f"@ SOA localhost. hostmaster.localhost. {serial % 2**32} {SOA_TIMERS}",
        "@ NS localhost.",
    ]
    return Zone("".join(f"{line}\n" for line in [*head, *records]), tuple(records), left_out)
