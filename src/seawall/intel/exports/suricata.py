"""Suricata rules and file-hash lists from sensor entries.

Each domain becomes three rules, on ``dns.query``, ``tls.sni`` and ``http.host``; each
matches the name and every name under it (``dotprefix`` with an ``endswith`` content on
``.name``), as Seawall's own matcher does, and never ``notname``. Each address or range
becomes two ``ip`` rules, to it and from it. Each endpoint (an address or range and a port,
MISP's ``ip-dst|port``) becomes a ``tcp`` and a ``udp`` rule with both in its header and
the ``<>`` direction (``alert tcp 198.51.100.7 443 <> any any``): Suricata loads it as a
rule and its mirror, so it fires when either side of a connection is that address with
that port, as Seawall's matcher reads an endpoint. An ``http://`` URL becomes a rule on
``http.host`` and ``http.uri.raw`` (two when it has no query: with and without one). File
hashes go to one list per algorithm (hex, one a line: the format of ``filemd5``,
``filesha1`` and ``filesha256`` and of Suricata's md5 and sha256 datasets), checked by one
rule per file-carrying protocol.

Every rule's ``sid`` is a hash of what it matches (the indicator's id, the value and the
keyword) into ``SID_BASE`` to ``SID_BASE + SID_SPAN``, so a rule keeps its sid from one
export to the next; a clash is resolved by taking the next free sid in the rules' sorted
order. ``rev`` is the indicator's ``modified`` time in epoch seconds, so a newer version
has a greater rev. The ``metadata`` names the STIX id and the value, which Suricata copies
into each EVE alert: :mod:`seawall.intel.matching.engine_logs` reads them back.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from seawall.intel.exports.entries import Entry, dns_name, endpoint_parts
from seawall.intel.matching.observables import Kind

SID_BASE = 1_000_000_000
SID_SPAN = 2**31
RULES_FILE = "seawall.rules"
# Hash length -> (Suricata keyword, list file).
HASH_LISTS: dict[int, tuple[str, str]] = {
    32: ("filemd5", "seawall-md5.list"),
    40: ("filesha1", "seawall-sha1.list"),
    64: ("filesha256", "seawall-sha256.list"),
}
FILE_PROTOCOLS = ("http", "smtp", "ftp-data", "smb", "nfs")
ENDPOINT_PROTOCOLS = ("tcp", "udp")
CLASSTYPE = "trojan-activity"
# Sticky buffer -> (rule protocol, whether nocase applies).
DOMAIN_BUFFERS: dict[str, tuple[str, bool]] = {
    "dns.query": ("dns", True),
    "tls.sni": ("tls", True),
    # Suricata lower-cases http.host itself and refuses nocase on it.
    "http.host": ("http", False),
}
# Controls, and the line separators of Python's splitlines (suricataparser, suricata-update).
_MSG_UNSAFE = re.compile(r'[\x00-\x1f\x7f-\x9f\u2028\u2029";\\|]')
# What a metadata value may not hold: its separators, an escape, a space or a byte that is
# not printable ASCII (a line break would end the rule).
_META_UNSAFE = re.compile(r'[^\x21-\x7e]|[,;"\\]')


@dataclass(frozen=True)
class _Rule:
    key: str  # what the sid is a hash of
    header: str
    body: tuple[str, ...]  # options between msg and classtype
    msg: str
    rev: int
    metadata: str


def _msg(text: str) -> str:
    return _MSG_UNSAFE.sub(" ", text)[:200].strip()


def _metadata(entry: Entry) -> str:
    # Metadata values may hold neither "," nor ";": ids, names, addresses and hex do not.
    return (
        f"seawall_id {entry.indicator}, seawall_kind {entry.kind.value}, "
        f"seawall_value {entry.value}, seawall_tlp {entry.tlp.key}"
    )


def _indicator_rules(entry: Entry) -> list[_Rule]:
    rev = max(1, int(entry.modified.timestamp()))
    metadata = _metadata(entry)
    if entry.kind is Kind.DOMAIN:
        name = dns_name(entry.value)
        if name is None:
            return []
        rules = []
        for keyword, (proto, nocase) in DOMAIN_BUFFERS.items():
            body = (f"{keyword};", "dotprefix;", f'content:".{name}";', "endswith;")
            rules.append(
                _Rule(
                    key=f"{entry.indicator}|{name}|{keyword}",
                    header=f"alert {proto} any any -> any any",
                    body=(*body, "nocase;") if nocase else body,
                    msg=_msg(f"SEAWALL INTEL {keyword} {name} - {entry.name}"),
                    rev=rev,
                    metadata=metadata,
                )
            )
        return rules
    if entry.kind is Kind.IP:
        return [
            _Rule(
                key=f"{entry.indicator}|{entry.value}|{way}",
                header=header,
                body=(),
                msg=_msg(f"SEAWALL INTEL ip {way} {entry.value} - {entry.name}"),
                rev=rev,
                metadata=metadata,
            )
            for way, header in (
                ("to", f"alert ip any any -> {entry.value} any"),
                ("from", f"alert ip {entry.value} any -> any any"),
            )
        ]
    if entry.kind is Kind.ENDPOINT:
        return _endpoint_rules(entry, rev, metadata)
    if entry.kind is Kind.URL:
        return _url_rules(entry, rev, metadata)
    return []


def _endpoint_rules(entry: Entry, rev: int, metadata: str) -> list[_Rule]:
    """One rule per protocol holding the address and the port on one side; ``<>`` makes
    Suricata load its mirror too, so either side of a connection matches. With no other
    option, each is an IP-only rule: checked once per direction of a flow."""
    address, port = endpoint_parts(entry.value)
    return [
        _Rule(
            key=f"{entry.indicator}|{entry.value}|{proto}",
            header=f"alert {proto} {address} {port} <> any any",
            body=(),
            msg=_msg(f"SEAWALL INTEL {proto} endpoint {entry.value} - {entry.name}"),
            rev=rev,
            metadata=metadata,
        )
        for proto in ENDPOINT_PROTOCOLS
    ]


def holds(entry: Entry) -> bool:
    """Whether the rules or the hash lists hold the entry: a domain that is a DNS name, an
    address, range or endpoint, a plain ``http://`` URL, or an MD5, SHA-1 or SHA-256 of a
    file (never an e-mail address, a file name or a certificate hash)."""
    if entry.kind is Kind.HASH:
        return not entry.certificate and len(entry.value) in HASH_LISTS
    return bool(_indicator_rules(entry))


# Bytes a content string may hold as they are; any other is written as |hex|.
_CONTENT_SAFE = frozenset(
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._~-%?=&+@:"
)


def _content(text: str) -> str:
    """A ``content`` string matching ``text``'s UTF-8 bytes exactly."""
    return "".join(chr(b) if b in _CONTENT_SAFE else f"|{b:02X}|" for b in text.encode())


def _url_rules(entry: Entry, rev: int, metadata: str) -> list[_Rule]:
    """An ``http://`` URL without a port, on ``http.host`` and the raw request URI: the
    same URL, or (when it has no query) the same URL with any query, as Seawall's matcher
    reads URLs. Other URLs (``https://``, a port) are for Zeek."""
    scheme, _, rest = entry.value.partition("://")
    host, slash, path = rest.partition("/")
    name = dns_name(host) if scheme == "http" else None
    if name is None:
        return []
    uri = f"{slash}{path}" or "/"
    exact = (f'content:"{_content(uri)}";', "startswith;", "endswith;")
    shapes: list[tuple[str, tuple[str, ...]]] = [("url", exact)]
    if "?" not in uri:
        shapes.append(("url-query", (f'content:"{_content(uri + "?")}";', "startswith;")))
    if _META_UNSAFE.search(entry.value):
        # A metadata value ends at "," or ";", and a line break would end the rule; the
        # alert's own http record still names the URL.
        metadata = f"seawall_id {entry.indicator}, seawall_tlp {entry.tlp.key}"
    return [
        _Rule(
            key=f"{entry.indicator}|{entry.value}|{shape}",
            header="alert http any any -> any any",
            body=(
                "http.host;",
                f'content:"{name}";',
                "startswith;",
                "endswith;",
                "http.uri.raw;",
                *uri_options,
            ),
            msg=_msg(f"SEAWALL INTEL http url {entry.value} - {entry.name}"),
            rev=rev,
            metadata=metadata,
        )
        for shape, uri_options in shapes
    ]


def hash_lists(entries: Iterable[Entry]) -> dict[str, str]:
    """The file-hash lists, by file name: each hash once, sorted; empty lists left out."""
    held: dict[str, set[str]] = {}
    for entry in entries:
        if entry.kind is Kind.HASH and not entry.certificate and len(entry.value) in HASH_LISTS:
            held.setdefault(HASH_LISTS[len(entry.value)][1], set()).add(entry.value)
    return {name: "".join(f"{h}\n" for h in sorted(values)) for name, values in held.items()}


def _list_rules(lists: dict[str, str]) -> list[_Rule]:
    rules = []
    for keyword, filename in HASH_LISTS.values():
        if filename not in lists:
            continue
        for proto in FILE_PROTOCOLS:
            rules.append(
                _Rule(
                    key=f"list|{keyword}|{proto}",
                    header=f"alert {proto} any any -> any any",
                    body=(f"{keyword}:{filename};",),
                    msg=_msg(f"SEAWALL INTEL {proto} file on the Seawall {keyword[4:]} list"),
                    rev=1,
                    metadata=f"seawall_list {keyword[4:]}",
                )
            )
    return rules


def sid_of(key: str) -> int:
    """The sid a rule over ``key`` takes when no other rule holds it."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return SID_BASE + int.from_bytes(digest) % SID_SPAN


def _assign(rules: list[_Rule]) -> list[tuple[int, _Rule]]:
    taken: set[int] = set()
    placed = []
    for rule in sorted(rules, key=lambda r: r.key):
        sid = sid_of(rule.key)
        while sid in taken:
            sid = SID_BASE + (sid - SID_BASE + 1) % SID_SPAN
        taken.add(sid)
        placed.append((sid, rule))
    return sorted(placed, key=lambda pair: pair[0])


def suricata_rules(entries: Iterable[Entry]) -> str:
    """The rules file: one rule per domain keyword, address direction, endpoint protocol
    and URL shape, and the hash list rules (which read the files :func:`hash_lists` makes)."""
    held = list(entries)
    by_key: dict[str, _Rule] = {}
    for entry in sorted(held):
        for rule in _indicator_rules(entry):
            by_key.setdefault(rule.key, rule)
    rules = [*by_key.values(), *_list_rules(hash_lists(held))]
    lines = [
        f'{rule.header} (msg:"{rule.msg}"; {" ".join(rule.body)}{" " if rule.body else ""}'
        f"classtype:{CLASSTYPE}; sid:{sid}; rev:{rule.rev}; metadata:{rule.metadata};)"
        for sid, rule in _assign(rules)
    ]
    return "".join(f"{line}\n" for line in lines)


def suricata_files(entries: Iterable[Entry]) -> dict[str, str]:
    """The rules and the hash lists they read, by file name."""
    held = list(entries)
    return {RULES_FILE: suricata_rules(held), **hash_lists(held)}
