"""The values of live indicators a sensor can act on, one :class:`Entry` per value.

An indicator reaches a sensor only when one observed value proves it on its own (see
:func:`sensor_values`): a pattern that needs two values at once (``AND``, ``FOLLOWEDBY``)
has no single-value form an engine's list can hold. An address and a port on one side of
a connection (MISP's ``ip-dst|port``) is one value, an :attr:`~Kind.ENDPOINT`: a Suricata
rule's header holds it, and the formats that have no port (Zeek's Intel framework, an
RPZ) leave it out rather than list its bare address. An indicator that hit a warninglist,
or that MISP marked not for detection (``misp:to_ids="False"``), is left out: an RPZ or a
rule over a popular name would break the network it protects.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from seawall.intel.matching.observables import Kind, Observable, domain, terms
from seawall.intel.quality import assess, assess_values, warninglist_entries
from seawall.intel.tlp import Tlp
from seawall.intel.validation import parse_timestamp

# x509-certificate hash comparisons: their values are certificate hashes, not file hashes.
_CERT_HASH = re.compile(r"x509-certificate:hashes\.[^=\]]*=\s*'([0-9A-Fa-f]+)'")
NOT_FOR_DETECTION = 'misp:to_ids="False"'


@dataclass(frozen=True, order=True)
class Entry:
    """One value of one indicator, normalised as the matcher compares it."""

    kind: Kind
    value: str
    indicator: str
    name: str
    collection: str
    tlp: Tlp
    modified: datetime
    certificate: bool = False


@lru_cache(maxsize=262_144)
def _warninglisted(pattern: str) -> str | None:
    """Why a pattern's values are warninglisted, or None. Remembered per pattern: the lists
    are the package's data, fixed for the process, and a feed polled every minute asks
    again about the same patterns."""
    verdict = assess({"type": "indicator", "pattern_type": "stix", "pattern": pattern})
    if verdict.hits:
        return verdict.reason
    # The pattern's check reads ipv4-addr and ipv6-addr objects; a sensor also acts on the
    # addresses of network-traffic (an endpoint's, or a bare dst_ref), checked here.
    found = sensor_values(pattern) or ()
    addresses = [("ip", _address(o)) for o in found if o.kind in (Kind.IP, Kind.ENDPOINT)]
    verdict = assess_values(addresses)
    return verdict.reason if verdict.hits else None


def skip_reason(body: Mapping[str, Any]) -> str | None:
    """Why an active indicator stays out of sensor exports, or None when it may go."""
    if body.get("type") != "indicator" or body.get("pattern_type") != "stix":
        return "not a STIX-pattern indicator"
    if NOT_FOR_DETECTION in (body.get("labels") or []):
        return "marked not for detection"
    pattern = str(body.get("pattern", ""))
    found = sensor_values(pattern)
    for value in (_address(o) for o in found or () if o.kind in (Kind.IP, Kind.ENDPOINT)):
        if too_wide(value):
            return (
                f"{value} is wider than /{WIDEST[4]} (IPv4) or /{WIDEST[6]} (IPv6): a sensor "
                "would act on a large share of the address space"
            )
    warning = _warninglisted(pattern)
    if warning is not None:
        return f"warninglisted: {warning}"
    if found is None:
        return "no single value proves its pattern"
    for value in (o.value for o in found if o.kind is Kind.DOMAIN):
        if _is_suffix(value):
            return (
                f"{value!r} is a top-level domain or public suffix: a sensor would act on "
                "every name under it"
            )
    return None


def sensor_values(pattern: str) -> tuple[Observable, ...] | None:
    """The values any one of which proves ``pattern`` on its own; None when an alternative
    needs more than one value, or is a resolved address (an address a name resolved to,
    which no sensor's address list can tell from a client).

    Unlike :func:`~seawall.intel.matching.observables.decisive` (the values an address or
    name list can hold), endpoints are kept: a Suricata rule's header holds an address and
    a port together."""
    found = terms(pattern)
    if found is None or any(len(t) != 1 or t[0].kind is Kind.RESOLVED for t in found):
        return None
    return tuple(dict.fromkeys(t[0] for t in found))


def endpoint_parts(value: str) -> tuple[str, str]:
    """An endpoint's address (or range) and port: ``[2001:db8::1]:443`` is
    (``2001:db8::1``, ``443``)."""
    address, _, port = value.rpartition(":")
    return address.removeprefix("[").removesuffix("]"), port


def _address(observable: Observable) -> str:
    """An IP value, or an endpoint's address."""
    if observable.kind is not Kind.ENDPOINT:
        return observable.value
    return endpoint_parts(observable.value)[0]


# The widest range, by IP version, a sensor file may hold. A wider one (16.0.0.0/4 is a
# sixteenth of IPv4) would block or alert on traffic to a large share of the Internet.
WIDEST = {4: 8, 6: 32}


def too_wide(value: str) -> bool:
    """Whether an address range is wider than :data:`WIDEST` allows for its IP version."""
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return network.prefixlen < WIDEST[network.version]


def _is_suffix(value: str) -> bool:
    """Whether a domain is a top-level domain or a public suffix (MISP's ``second-level-tlds``
    list): an RPZ ``*.com`` refuses all of ``.com``, a rule on it alerts on every query."""
    name = value.strip(".")
    return "." not in name or name in warninglist_entries("second-level-tlds")


def entries_of(body: Mapping[str, Any], collection: str, tlp: Tlp) -> list[Entry]:
    """The values of one indicator a sensor can act on (none when :func:`skip_reason`)."""
    if skip_reason(body) is not None:
        return []
    pattern = str(body["pattern"])
    found = sensor_values(pattern) or ()
    certificates = {h.lower() for h in _CERT_HASH.findall(pattern)}
    object_id = str(body.get("id", ""))
    stamp = str(body.get("modified") or body.get("created") or "")
    modified = parse_timestamp(stamp, object_id, "modified")
    name = str(body.get("name") or object_id)
    return [
        Entry(
            kind=o.kind,
            value=o.value,
            indicator=object_id,
            name=name,
            collection=collection,
            tlp=tlp,
            modified=modified,
            certificate=o.kind is Kind.HASH and o.value in certificates,
        )
        for o in found
    ]


_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")


def dns_name(value: str) -> str | None:
    """A domain value as the DNS name a query carries, in the one form Seawall's matcher
    compares (:func:`~seawall.intel.matching.observables.domain`: lower case, no trailing
    dot, IDN labels in punycode by IDNA 2008 with UTS #46 mapping); None when the matcher
    refuses it, or when it is no DNS name of letters, digits, ``-`` and ``_`` (a space, a
    ``*``, an empty label, a label over 63 octets, a name over 253).

    The matcher refuses a label IDNA 2008 refuses (a symbol) and one its mapping would
    turn into another name (fullwidth letters, a zero-width character): such a value is
    not the name it maps to, which the warninglists never saw and a zone would block."""
    name = domain(value)
    if name is None or len(name) > 253:
        return None
    return name if all(_LABEL.match(label) for label in name.split(".")) else None
