"""Reading logs into observed values: Zeek, Suricata EVE, Squid, BIND, dnsmasq, netfilter, text.

Each reader turns one line into an :data:`Observation`: the line's raw time text, the
host that acted (the internal client, where the log names one) and the values seen.
Times are parsed only for lines that match something (:func:`parse_time`), because
most lines match nothing and parsing every timestamp would cost more than the lookups.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from datetime import UTC, datetime
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Any

from seawall.intel.matching.hosts import (
    CertificateHosts,
    internal_host,
    json_record,
    set_separator,
)
from seawall.intel.matching.observables import Kind, endpoint, port_number

Values = list[tuple[Kind, str]]
# (raw time text, acting host, values seen); None for a line that holds nothing to match.
Observation = tuple[str | None, str | None, Values]


class LogFormat(StrEnum):
    """The log formats ``seawall intel match`` reads."""

    ZEEK = "zeek"
    ZEEK_JSON = "zeek-json"
    SURICATA = "suricata"
    SQUID = "squid"
    BIND = "bind"
    DNSMASQ = "dnsmasq"
    NETFILTER = "netfilter"
    RPZ = "rpz"
    TEXT = "text"


_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")


def host_kind(value: str) -> Kind:
    """Whether a host field holds an address or a name."""
    if ":" in value:
        return Kind.IP
    # A name's last label is never all digits, so most names skip the expression.
    return Kind.IP if value[-1:].isdigit() and _IPV4.match(value) else Kind.DOMAIN


def value_kind(kind: Kind | None, value: str) -> Kind:
    """How one value of a field of ``kind`` is looked up: None says the value is an address
    or a name, :attr:`Kind.RESOLVED` that it is a name or an address a name resolved to."""
    if kind is None:
        return host_kind(value)
    if kind is Kind.RESOLVED:
        return Kind.RESOLVED if host_kind(value) is Kind.IP else Kind.DOMAIN
    return kind


def _hosts(values: Iterable[str], kind: Kind | None = None) -> Values:
    return [(value_kind(kind, v), v) for v in values if v and v != "-"]


Ports = Collection[str] | None
"""The ports endpoint indicators name (decimal text), or None for every port: a reader
builds endpoint values only for these, since most connections' ports are no indicator's."""


def _wanted(number: str, ports: Ports) -> bool:
    return ports is None or (number.lstrip("0") or "0") in ports


def _endpoint(address: object, port: object, ports: Ports) -> Values:
    """One side of a connection as an endpoint value, when the record names both parts."""
    text, number = str(address or ""), str(port if port is not None else "")
    if not text or text == "-" or not _wanted(number, ports):
        return []
    found = port_number(number)
    return [] if found is None else [(Kind.ENDPOINT, endpoint(text, found))]


# The (address, port) columns of each side of a connection, in every Zeek log that has them.
ZEEK_ENDPOINTS = (("id.orig_h", "id.orig_p"), ("id.resp_h", "id.resp_p"))
ZEEK_PORTS = tuple(port for _, port in ZEEK_ENDPOINTS)  # each side's port column


# -- Zeek (TSV with a #fields header, or JSON lines) ---------------------------------------------

# Field name -> how its values are read: any Zeek log (conn, dns, http, ssl, files, x509,
# smtp, notice) is read by the fields it has.
ZEEK_FIELDS: dict[str, Kind | None] = {
    "id.orig_h": Kind.IP,
    "id.resp_h": Kind.IP,
    "tx_hosts": Kind.IP,
    "rx_hosts": Kind.IP,
    "src": Kind.IP,
    "dst": Kind.IP,
    "query": Kind.DOMAIN,
    "server_name": Kind.DOMAIN,
    "san.dns": Kind.DOMAIN,
    "answers": Kind.RESOLVED,  # names, and the addresses the query's name resolved to
    "host": None,
    "filename": Kind.FILE_NAME,
    "md5": Kind.HASH,
    "sha1": Kind.HASH,
    "sha256": Kind.HASH,
    "fingerprint": Kind.HASH,
    "mailfrom": Kind.EMAIL,
    "rcptto": Kind.EMAIL,
}


# A log whose records name the server they reached for a name (http.log's ``host``,
# ssl.log's ``server_name``): its responder is an address that name resolved to.
_NAMED_SERVER = ("host", "server_name")


def zeek_fields(names: Collection[str]) -> dict[str, Kind | None]:
    """The fields of a Zeek log (its column names) that hold values, and how each is read:
    the responder of a log whose records name the server is an address a name resolved
    to (:attr:`Kind.RESOLVED`); the client, or a resolver asked, is an address only."""
    fields = {name: kind for name, kind in ZEEK_FIELDS.items() if name in names}
    if "id.resp_h" in fields and any(name in names for name in _NAMED_SERVER):
        fields["id.resp_h"] = Kind.RESOLVED
    return fields


def _zeek_values(fields: dict[str, Any], ports: Ports = None) -> Values:
    values: Values = []
    for name, kind in zeek_fields(fields).items():
        raw = fields[name]
        if raw is None:
            continue
        items = raw if isinstance(raw, list) else [raw]
        for item in items:
            text = str(item).strip("<>")
            if not text or text in ("-", "(empty)"):
                continue
            values.append((value_kind(kind, text), text))
    for address, port in ZEEK_ENDPOINTS:
        values += _endpoint(fields.get(address), fields.get(port), ports)
    host, uri = fields.get("host"), fields.get("uri")
    if isinstance(host, str) and isinstance(uri, str) and host not in ("-", "") and uri != "-":
        values.append((Kind.URL, f"http://{host}{uri}"))
    return values


class ZeekReader:
    """Zeek's TSV logs: the ``#fields`` header names the columns of the lines after it.

    The host a record names is ``id.orig_h`` (conn, dns, http, ssl and most logs), the
    internal one of ``rx_hosts`` then ``tx_hosts`` (files), or, for an ``x509`` log read
    from ``path``, the internal host its ``ssl`` or ``files`` log ties the certificate to.
    """

    def __init__(self, path: Path | None = None, ports: Ports = None) -> None:
        self.ports = ports
        # (column, kind or None for "each value says", whether it is a set or vector)
        self.columns: list[tuple[int, Kind | None, bool]] = []
        self.separator = ","
        self.time_at = self.source_at = self.host_at = self.uri_at = -1
        self.rx_at = self.tx_at = -1
        self.cert_at: list[int] = []
        self.endpoints_at: list[tuple[int, int]] = []  # (address, port) columns
        self.certificates = CertificateHosts(path)

    def __call__(self, line: str) -> Observation | None:
        """One line: a header updates the columns, a record gives its values."""
        if line.startswith("#"):
            self._header(line)
            return None
        # Zeek escapes a carriage return in a value (\x0d): one at the end is a CRLF ending.
        cells = line.rstrip("\r\n").split("\t")
        width = len(cells)
        if width <= self.time_at:
            return None
        values: Values = []
        add = values.append
        separator = self.separator
        resolved = Kind.RESOLVED
        for at, kind, container in self.columns:
            if at >= width:
                continue
            cell = cells[at]
            if cell == "-" or cell == "(empty)" or not cell:
                continue
            for item in cell.split(separator) if container and separator in cell else (cell,):
                text = item.strip("<>")  # SMTP addresses come in angle brackets
                add((value_kind(kind, text) if kind is None or kind is resolved else kind, text))
        ports = self.ports
        if ports is None or ports:  # no endpoint indicator: no port is looked at
            for address_at, port_at in self.endpoints_at:
                if port_at < width and address_at < width and _wanted(cells[port_at], ports):
                    values += _endpoint(cells[address_at], cells[port_at], None)
        if self.uri_at >= 0 and self.uri_at < len(cells) and cells[self.uri_at] != "-":
            host = cells[self.host_at] if self.host_at < len(cells) else "-"
            if host not in ("-", ""):
                values.append((Kind.URL, f"http://{host}{cells[self.uri_at]}"))
        if not values:
            return None
        when = cells[self.time_at] if self.time_at >= 0 else None
        return when, self._source(cells), values

    def _source(self, cells: list[str]) -> str | None:
        if 0 <= self.source_at < len(cells):
            return cells[self.source_at]
        if self.rx_at >= 0 or self.tx_at >= 0:
            return internal_host(self._cell(cells, self.rx_at), self._cell(cells, self.tx_at))
        if self.cert_at:
            return self.certificates.host(k for at in self.cert_at for k in self._cell(cells, at))
        return None

    def _cell(self, cells: list[str], at: int) -> list[str]:
        cell = cells[at] if 0 <= at < len(cells) else "-"
        return [] if cell in ("-", "(empty)", "") else cell.split(self.separator)

    def _header(self, line: str) -> None:
        name, _, rest = line.rstrip("\r\n").partition("\t")
        if name == "#set_separator":
            self.separator = set_separator(rest)
        elif name == "#fields":
            names = rest.split("\t")
            fields = zeek_fields(names)
            # Until #types says which columns are sets or vectors, any may be one.
            self.columns = [(at, fields[n], True) for at, n in enumerate(names) if n in fields]

            def where(field: str) -> int:
                return names.index(field) if field in names else -1

            self.time_at, self.source_at = where("ts"), where("id.orig_h")
            self.host_at, self.uri_at = where("host"), where("uri")
            self.rx_at, self.tx_at = where("rx_hosts"), where("tx_hosts")
            x509 = "certificate.serial" in names or "certificate.subject" in names
            self.cert_at = [where(f) for f in ("id", "fingerprint") if x509 and f in names]
            self.endpoints_at = [
                (where(a), where(p)) for a, p in ZEEK_ENDPOINTS if a in names and p in names
            ]
        elif name == "#types":
            types = rest.split("\t")
            self.columns = [
                (at, kind, at >= len(types) or types[at].startswith(("set[", "vector[", "table[")))
                for at, kind, _ in self.columns
            ]


class ZeekJsonReader:
    """Zeek logs written as JSON (``LogAscii::use_json``), naming hosts as :class:`ZeekReader`."""

    def __init__(self, path: Path | None = None, ports: Ports = None) -> None:
        self.certificates = CertificateHosts(path)
        self.ports = ports

    def __call__(self, line: str) -> Observation | None:
        """One line: one record."""
        record = json_record(line)
        if record is None:
            return None
        values = _zeek_values(record, self.ports)
        if not values:
            return None
        return str(record.get("ts", "")) or None, self._source(record), values

    def _source(self, record: dict[str, Any]) -> str | None:
        source = record.get("id.orig_h")
        if source:
            return str(source)
        if "rx_hosts" in record or "tx_hosts" in record:
            return internal_host(_strings(record.get("rx_hosts")), _strings(record.get("tx_hosts")))
        if "certificate.serial" in record or "certificate.subject" in record:
            return self.certificates.host(
                k for f in ("id", "fingerprint") for k in _strings(record.get(f))
            )
        return None


def _strings(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [] if value is None else [value]
    return [str(item) for item in items]


# -- Suricata EVE JSON --------------------------------------------------------------------------


def _eve_dns(dns: dict[str, Any]) -> Values:
    """The names of an EVE ``dns`` record, and the addresses they resolved to (``rdata``)."""
    # EVE v2 puts one rrname (and rdata) on each record; v3 (Suricata 7) lists queries
    # and answers; grouped answers map a record type to its values.
    names: list[str] = []
    data: list[str] = []
    entries = [dns, *(dns.get("queries") or []), *(dns.get("answers") or [])]
    for entry in entries:
        if isinstance(entry, dict):
            names += [entry["rrname"]] if isinstance(entry.get("rrname"), str) else []
            data += [entry["rdata"]] if isinstance(entry.get("rdata"), str) else []
    grouped = dns.get("grouped")
    if isinstance(grouped, dict):
        for items in grouped.values():
            data += [i for i in items if isinstance(i, str)] if isinstance(items, list) else []
    return _hosts(names) + _hosts(data, Kind.RESOLVED)


# The fields that name the host an EVE record's server was reached for.
_EVE_NAMES = (("http", "hostname"), ("tls", "sni"), ("quic", "sni"))


def read_suricata(line: str, ports: Ports = None) -> Observation | None:
    """One Suricata EVE record: addresses, DNS names, HTTP hosts and URLs, TLS SNI, file hashes."""
    record = json_record(line)
    if record is None:
        return None
    # The server of a record that names the host it reached is an address that name
    # resolved to; the client, or a resolver asked, is an address only.
    named = any(isinstance(record.get(p), dict) and record[p].get(k) for p, k in _EVE_NAMES)
    values: Values = _hosts([str(record.get("src_ip", ""))])
    values += _hosts([str(record.get("dest_ip", ""))], Kind.RESOLVED if named else None)
    values += _endpoint(record.get("src_ip"), record.get("src_port"), ports)
    values += _endpoint(record.get("dest_ip"), record.get("dest_port"), ports)
    dns = record.get("dns")
    if isinstance(dns, dict):
        values += _eve_dns(dns)
    http = record.get("http")
    if isinstance(http, dict) and isinstance(http.get("hostname"), str):
        values += _hosts([http["hostname"]])
        if isinstance(http.get("url"), str):
            values.append((Kind.URL, f"http://{http['hostname']}{http['url']}"))
    for proto in ("tls", "quic"):
        sni = record.get(proto, {}).get("sni") if isinstance(record.get(proto), dict) else None
        if isinstance(sni, str):
            values.append((Kind.DOMAIN, sni))
    info = record.get("fileinfo")
    if isinstance(info, dict):
        hashes = [info.get(h) for h in ("md5", "sha1", "sha256")]
        values += [(Kind.HASH, h) for h in hashes if isinstance(h, str) and h]
        if isinstance(info.get("filename"), str) and info["filename"]:
            values.append((Kind.FILE_NAME, info["filename"]))
    if not values:
        return None
    source = record.get("src_ip")
    return str(record.get("timestamp", "")) or None, str(source) if source else None, values


# -- Squid, BIND, dnsmasq, netfilter and plain text ---------------------------------------------


def read_squid(line: str) -> Observation | None:
    """One line of Squid's native access.log: the client, the URL and the server it reached."""
    cells = line.split()
    if len(cells) < 7:
        return None
    method, url = cells[5], cells[6]
    values: Values = []
    if method == "CONNECT" or "://" not in url:
        values += _hosts([url.rpartition(":")[0] if url.count(":") == 1 else url])
    else:
        values.append((Kind.URL, url))
        host = url.partition("://")[2].split("/", 1)[0].rpartition("@")[2]
        host = host[1:].partition("]")[0] if host.startswith("[") else host.partition(":")[0]
        values += _hosts([host])
    if len(cells) > 8 and "/" in cells[8]:
        # The server reached (DIRECT) is an address the URL's host resolved to; a parent
        # proxy is not.
        code, _, server = cells[8].partition("/")
        direct = code.endswith(("DIRECT", "ORIGINAL_DST"))
        values += _hosts([server], Kind.RESOLVED if direct else None)
    return cells[0], cells[2], values


_BIND_QUERY = re.compile(r"client (?:@\S+ )?([0-9A-Fa-f:.]+)#\d+.*?query: (\S+) IN ")
_DNSMASQ = re.compile(r"(query\[\w+\]|reply|cached|forwarded) (\S+) (?:from|is|to) (\S+)")
_NETFILTER = re.compile(r"\bSRC=(\S+) DST=(\S+)")
_NETFILTER_PORTS = re.compile(r"\bSPT=(\d+) DPT=(\d+)")
SYSLOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\S+|[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d)")


def read_bind(line: str) -> Observation | None:
    """One BIND 9 query-log line: the client and the name it asked for."""
    found = _BIND_QUERY.search(line)
    if not found:
        return None
    return line[:24], found.group(1), [(Kind.DOMAIN, found.group(2))]


def read_dnsmasq(line: str) -> Observation | None:
    """One dnsmasq log line: a query and its client, or a reply's name and address."""
    found = _DNSMASQ.search(line)
    if not found:
        return None
    what, name, other = found.groups()
    values: Values = [(Kind.DOMAIN, name)]
    source = None
    if what.startswith("query"):
        source = other
    elif what in ("reply", "cached") and host_kind(other) is Kind.IP:
        values.append((Kind.RESOLVED, other))  # an address the name resolved to
    when = SYSLOG_TIME.match(line)
    return (when.group(1) if when else None), source, values


def read_netfilter(line: str, ports: Ports = None) -> Observation | None:
    """One netfilter line (iptables/nftables LOG, ufw, firewalld): source and destination."""
    found = _NETFILTER.search(line)
    if not found:
        return None
    when = SYSLOG_TIME.match(line)
    values: Values = [(Kind.IP, found.group(1)), (Kind.IP, found.group(2))]
    sides = _NETFILTER_PORTS.search(line, found.end())
    # An ICMP error quotes the failed packet in brackets, sent the other way: ports past a
    # "[" are that packet's, never the outer SRC's and DST's.
    if sides and line.find("[", found.end(), sides.start()) == -1:
        values += _endpoint(found.group(1), sides.group(1), ports)
        values += _endpoint(found.group(2), sides.group(2), ports)
    return (when.group(1) if when else None), found.group(1), values


_TEXT_VALUES = re.compile(
    r"(?P<url>\bhttps?://[^\s\"'<>]+)"
    r"|(?P<hash>\b[0-9a-fA-F]{64}\b|\b[0-9a-fA-F]{40}\b|\b[0-9a-fA-F]{32}\b)"
    r"|(?P<ip>\b\d{1,3}(?:\.\d{1,3}){3}\b)"
    r"|(?P<domain>\b(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\b)"
)
_TEXT_KINDS = {"url": Kind.URL, "hash": Kind.HASH, "ip": Kind.IP, "domain": Kind.DOMAIN}


def read_text(line: str) -> Observation | None:
    """Any other text: every URL, hash, IPv4 address and domain-like name on the line."""
    values: Values = []
    for found in _TEXT_VALUES.finditer(line):
        kind = found.lastgroup or ""
        values.append((_TEXT_KINDS[kind], found.group(kind)))
        if kind == "url":
            host = found.group(kind).partition("://")[2].split("/", 1)[0].partition(":")[0]
            values += _hosts([host])
    if not values:
        return None
    when = SYSLOG_TIME.match(line)
    return (when.group(1) if when else None), None, values


Reader = Callable[[str], Observation | None]


def reader_for(fmt: LogFormat, path: Path | None = None, ports: Ports = None) -> Reader:
    """A fresh reader for one file in ``fmt``; ``path`` (the file read, when it is one) lets
    a Zeek ``x509`` log name hosts from the ``ssl`` and ``files`` logs beside it. ``ports``
    are the ports of the endpoints matched (:attr:`Matcher.ports
    <seawall.intel.matching.matcher.Matcher.ports>`), None for any."""
    from seawall.intel.matching import engine_logs  # sensors' logs; it builds on this module

    if fmt is LogFormat.ZEEK:
        return engine_logs.IntelLogReader(ZeekReader(path, ports))
    if fmt is LogFormat.ZEEK_JSON:
        return engine_logs.IntelLogReader(ZeekJsonReader(path, ports))
    readers: dict[LogFormat, Reader] = {
        LogFormat.SURICATA: partial(engine_logs.read_eve, ports=ports),
        LogFormat.RPZ: engine_logs.read_rpz,
        LogFormat.SQUID: read_squid,
        LogFormat.BIND: read_bind,
        LogFormat.DNSMASQ: read_dnsmasq,
        LogFormat.NETFILTER: partial(read_netfilter, ports=ports),
        LogFormat.TEXT: read_text,
    }
    return readers[fmt]


_SQUID_LINE = re.compile(r"^\d{9,}\.\d{3}\s+\d+\s+\S+\s+[A-Z_]+/\d{3}\s")


def detect_format(head: list[str]) -> LogFormat:
    """The format of a log from its first lines; plain text when nothing more specific fits."""
    from seawall.intel.matching.engine_logs import is_rpz_line

    lines = [line for line in head if line.strip()]
    if any(line.startswith(("#separator", "#fields")) for line in lines):
        return LogFormat.ZEEK
    records = [r for r in (json_record(line) for line in lines[:5]) if r is not None]
    if records:
        if any("event_type" in r for r in records):
            return LogFormat.SURICATA
        if any("ts" in r for r in records):
            return LogFormat.ZEEK_JSON
    for fmt, test in (
        (LogFormat.SQUID, lambda line: bool(_SQUID_LINE.match(line))),
        (LogFormat.RPZ, is_rpz_line),
        (LogFormat.BIND, lambda line: bool(_BIND_QUERY.search(line))),
        (LogFormat.DNSMASQ, lambda line: "dnsmasq" in line and bool(_DNSMASQ.search(line))),
        (LogFormat.NETFILTER, lambda line: bool(_NETFILTER.search(line))),
    ):
        if lines and sum(map(test, lines)) * 2 > len(lines):
            return fmt
    return LogFormat.TEXT


_BIND_TIME = "%d-%b-%Y %H:%M:%S.%f"
_SYSLOG_FORMAT = "%Y %b %d %H:%M:%S"


def parse_time(raw: str | None, default: datetime) -> datetime:
    """A log's time text as aware UTC: epoch seconds, ISO 8601, BIND's or syslog's form.

    Syslog's form has no year: it is taken as the latest one that does not put the
    line after ``default`` (the file's modification time). Text that is none of these
    gives ``default``.
    """
    if not raw:
        return default
    text = raw.strip()
    try:
        if text[:1].isdigit() and text.replace(".", "", 1).isdigit():
            return datetime.fromtimestamp(float(text), UTC)
        if len(text) >= 19 and text[4] == "-" and text[10] == "T":
            parsed = datetime.fromisoformat(text)
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        if len(text) >= 20 and text[2] == "-" and text[6] == "-":
            return datetime.strptime(text[:24], _BIND_TIME).replace(tzinfo=UTC)
        if len(text) == 15 and text[3] == " ":
            for year in (default.year, default.year - 1):
                moment = datetime.strptime(f"{year} {text}", _SYSLOG_FORMAT).replace(tzinfo=UTC)
                if moment <= default:
                    return moment
    except (ValueError, OverflowError, OSError):
        return default
    return default
