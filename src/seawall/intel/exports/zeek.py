"""A Zeek Intel framework file (``Intel::read_files``) from sensor entries.

The file is the input framework's tab-separated form: one ``#fields`` header naming the
``Intel::Item`` fields, then one item a line. Types are the framework's ``Intel::Type``
values (``base/frameworks/intel/main.zeek`` and ``files.zeek``). Zeek compares string
indicators lower-cased and matches a domain exactly (no subdomains), and its URLs carry
no scheme (``Intel::URL`` is "a complete URL without the prefix http://").

The framework has no type for a port: an endpoint (an address and a port) has no item,
and is never written as its bare address, which would match every port of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from seawall.intel.exports.entries import Entry, dns_name
from seawall.intel.matching.observables import Kind

FIELDS = ("indicator", "indicator_type", "meta.source", "meta.desc", "meta.url")
HEADER = "#fields\t" + "\t".join(FIELDS)
# The Intel::Type values the framework documents; the file uses those Seawall can match.
TYPES = frozenset(
    {
        "Intel::ADDR",
        "Intel::SUBNET",
        "Intel::URL",
        "Intel::SOFTWARE",
        "Intel::EMAIL",
        "Intel::DOMAIN",
        "Intel::USER_NAME",
        "Intel::CERT_HASH",
        "Intel::PUBKEY_HASH",
        "Intel::FILE_HASH",
        "Intel::FILE_NAME",
    }
)
# Kind values -> the Intel::Type of a string indicator.
_STRING_TYPES = {
    "domain": "Intel::DOMAIN",
    "url": "Intel::URL",
    "email": "Intel::EMAIL",
    "file-name": "Intel::FILE_NAME",
}
SOURCE_PREFIX = "seawall:"
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")


def zeek_type(entry: Entry) -> str | None:
    """The ``Intel::Type`` of an entry, or None when Zeek has no place for it."""
    if entry.kind is Kind.IP:
        return "Intel::SUBNET" if "/" in entry.value else "Intel::ADDR"
    if entry.kind is Kind.HASH:
        if entry.certificate:
            # Zeek's x509 "seen" script looks certificates up by their SHA-1 only.
            return "Intel::CERT_HASH" if len(entry.value) == 40 else None
        return "Intel::FILE_HASH"
    return _STRING_TYPES.get(entry.kind.value)


def zeek_indicator(entry: Entry) -> str | None:
    """The indicator text as Zeek sees it: URLs lose their scheme, and a domain is the DNS
    name a query carries (an IDN as punycode); None when it cannot be one."""
    if entry.kind is Kind.URL:
        return entry.value.partition("://")[2]
    if entry.kind is Kind.DOMAIN:
        return dns_name(entry.value)
    return entry.value


def zeek_item(entry: Entry) -> tuple[str, str] | None:
    """The entry's indicator text and ``Intel::Type``, or None when the file cannot hold it."""
    kind = zeek_type(entry)
    indicator = zeek_indicator(entry) if kind is not None else None
    if kind is None or not indicator or _UNSAFE.search(indicator):
        return None
    return indicator, kind


def holds(entry: Entry) -> bool:
    """Whether the Intel file holds the entry (see :func:`zeek_item`)."""
    return zeek_item(entry) is not None


def _cell(text: str) -> str:
    # A tab or newline would split the record; "-" alone means "unset" to the reader.
    cleaned = _UNSAFE.sub(" ", text).strip()
    return cleaned if cleaned and cleaned != "-" else "(empty)"


def zeek_rows(entries: Iterable[Entry]) -> list[tuple[str, str, str, str, str]]:
    """One row per (indicator text, type, source), in a stable order."""
    rows: dict[tuple[str, str, str], tuple[str, str, str, str, str]] = {}
    for entry in sorted(entries):
        item = zeek_item(entry)
        if item is None:
            continue
        indicator, kind = item
        source = SOURCE_PREFIX + entry.collection
        key = (indicator, kind, source)
        if key not in rows:
            desc = _cell(f"{entry.name} [{entry.indicator}]")
            rows[key] = (indicator, kind, source, desc, "-")
    return [rows[key] for key in sorted(rows)]


def zeek_intel(entries: Iterable[Entry]) -> str:
    """The Intel framework file: the header, then one item a line."""
    lines = [HEADER, *("\t".join(row) for row in zeek_rows(entries))]
    return "\n".join(lines) + "\n"
