"""The values of live indicators a sensor can act on, one :class:`Entry` per value.

An indicator reaches a sensor only when one observed value proves it on its own (see
:func:`seawall.intel.matching.observables.decisive`): a pattern that needs two values at
once (``AND``, ``FOLLOWEDBY``) has no single-value form an engine's list can hold. An
indicator that hit a warninglist, or that MISP marked not for detection
(``misp:to_ids="False"``), is left out: an RPZ or a rule over a popular name would break
the network it protects.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from seawall.intel.matching.observables import Kind, decisive
from seawall.intel.quality import assess, warninglist_entries
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
    return verdict.reason if verdict.hits else None


def skip_reason(body: Mapping[str, Any]) -> str | None:
    """Why an active indicator stays out of sensor exports, or None when it may go."""
    if body.get("type") != "indicator" or body.get("pattern_type") != "stix":
        return "not a STIX-pattern indicator"
    if NOT_FOR_DETECTION in (body.get("labels") or []):
        return "marked not for detection"
    pattern = str(body.get("pattern", ""))
    found = decisive(pattern)
    for value in (o.value for o in found or () if o.kind is Kind.IP):
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
    found = decisive(pattern) or ()
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
    """A domain value as a DNS name of letters, digits, ``-`` and ``_`` (IDNs as punycode),
    or None when it cannot be one (a label over 63 octets, a name over 253, a space), or
    when IDNA would make it another name."""
    text = value.lower().rstrip(".")
    try:
        name = text.encode("idna").decode("ascii") if not text.isascii() else text
        # IDNA 2003's nameprep maps look-alikes onto other names (fullwidth letters to
        # ASCII, zero-width characters to nothing, "ß" to "ss"): such a value is not the
        # name it maps to, which the warninglists never saw and a zone would block.
        if name != text and name.encode("ascii").decode("idna") != text:
            return None
    except UnicodeError:
        return None
    if not name or len(name) > 253:
        return None
    return name if all(_LABEL.match(label) for label in name.split(".")) else None
