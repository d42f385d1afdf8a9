"""Reading back what the sensors fed by Seawall's exports saw: the loop from rule to sighting.

- Zeek's ``intel.log`` (TSV or JSON): the ``seen.indicator`` is the value, typed by
  ``seen.indicator_type``; the host is ``id.orig_h``.
- Suricata EVE alerts of Seawall's rules: the rule's ``metadata`` (copied into the alert)
  names the value that matched (``seawall_kind``, ``seawall_value``); the host is the side
  of the flow that is not the indicator. Other EVE records are read as before.
- RPZ hits in BIND's ``rpz`` log category and in Unbound's log (``rpz-log: yes``): the
  query name and, for an ``rpz-ip`` trigger, the answer's address as one that name resolved
  to; and the client.

Each gives the value the engine matched, so the matcher finds the same indicators and a
sighting counts one per log record.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from typing import Any

from seawall.intel.matching.hosts import json_record
from seawall.intel.matching.logs import (
    SYSLOG_TIME,
    Observation,
    Ports,
    Reader,
    Values,
    read_suricata,
)
from seawall.intel.matching.observables import Kind

# Intel::Type -> how Seawall reads the value (SUBNET items are seen as addresses).
ZEEK_INTEL_TYPES: dict[str, str] = {
    "Intel::ADDR": "ip",
    "Intel::SUBNET": "ip",
    "Intel::DOMAIN": "domain",
    "Intel::URL": "url",
    "Intel::EMAIL": "email",
    "Intel::FILE_HASH": "hash",
    "Intel::CERT_HASH": "hash",
    "Intel::FILE_NAME": "file-name",
}


def _intel_value(kind_name: object, indicator: object) -> Values:
    # Zeek writes both as text: a record holding anything else (JSON) names no value.
    if not isinstance(kind_name, str) or not isinstance(indicator, str):
        return []
    if not indicator or indicator in ("-", "(empty)"):
        return []
    name = ZEEK_INTEL_TYPES.get(kind_name)
    if name is None or name not in Kind._value2member_map_:
        return []
    kind = Kind(name)
    # Intel::URL carries no scheme; Zeek sees URLs in plain HTTP.
    return [(kind, f"http://{indicator}" if kind is Kind.URL else indicator)]


_INTEL_FIELDS = ("ts", "id.orig_h", "id.resp_h", "seen.indicator", "seen.indicator_type")


class IntelLogReader:
    """Zeek's ``intel.log`` (TSV or JSON) by its seen indicator; any other Zeek log is read
    by ``inner``, the reader of its format."""

    def __init__(self, inner: Reader) -> None:
        self.inner = inner
        self.intel: list[tuple[str, int]] | None = None  # intel.log's columns, by name

    def __call__(self, line: str) -> Observation | None:
        """One line: a header, an intel.log hit, or a record of any other log."""
        if line.startswith("#"):
            self._header(line)
            return self.inner(line)
        if self.intel is not None:
            cells = line.rstrip("\r\n").split("\t")
            return _hit(
                {
                    name: cells[at]
                    for name, at in self.intel
                    if at < len(cells) and cells[at] not in ("-", "(empty)")
                }
            )
        if '"seen.indicator"' in line:
            record = _json_line(line)
            if record is not None:
                return _hit(record)
        return self.inner(line)

    def _header(self, line: str) -> None:
        name, _, rest = line.rstrip("\r\n").partition("\t")
        if name != "#fields":
            return
        names = rest.split("\t")
        if "seen.indicator" not in names or "seen.indicator_type" not in names:
            self.intel = None
            return
        self.intel = [(field, names.index(field)) for field in _INTEL_FIELDS if field in names]


def _json_line(line: str) -> dict[str, Any] | None:
    return json_record(line) if line.lstrip().startswith("{") else None


def _hit(record: dict[str, Any]) -> Observation | None:
    """One intel.log record: its seen indicator, and the host that is not the indicator."""
    values = _intel_value(record.get("seen.indicator_type"), record.get("seen.indicator"))
    if not values:
        return None
    orig, resp = record.get("id.orig_h"), record.get("id.resp_h")
    # An address seen as the originator (inbound from it): the internal host is the responder.
    host = resp if orig is not None and str(orig) == values[0][1] else orig
    when = record.get("ts")
    return (str(when) if when not in (None, "") else None), (str(host) if host else None), values


def _first(metadata: dict[str, Any], key: str) -> str | None:
    items = metadata.get(key)
    if isinstance(items, list) and items and isinstance(items[0], str):
        return items[0]
    return None


def _holds(value: str, address: object) -> bool:
    try:
        network = ipaddress.ip_network(value, strict=False)
        return ipaddress.ip_address(str(address)) in network
    except ValueError:
        return False


def read_eve(line: str, ports: Ports = None) -> Observation | None:
    """One EVE record: a Seawall rule's alert by the value it names, else as any record."""
    record = _json_line(line)
    alert = record.get("alert") if record else None
    metadata = alert.get("metadata") if isinstance(alert, dict) else None
    if record is None or not isinstance(metadata, dict):
        return read_suricata(line, ports)
    kind_name, value = _first(metadata, "seawall_kind"), _first(metadata, "seawall_value")
    if kind_name not in Kind._value2member_map_ or not value:
        return read_suricata(line, ports)
    kind = Kind(str(kind_name))
    src, dest = record.get("src_ip"), record.get("dest_ip")
    # The acting host is the side of the flow that is not the indicator.
    host = dest if kind is Kind.IP and _holds(value, src) else src
    if kind is Kind.IP and "/" in value:
        matched = dest if _holds(value, dest) else src
        value = str(matched) if matched and _holds(value, matched) else value
    when = record.get("timestamp")
    return (str(when) if when else None), (str(host) if host else None), [(kind, value)]


# BIND 9 (category rpz): "client @0x.. 10.0.0.5#53421 (a.evil.example): rpz QNAME NXDOMAIN
# rewrite a.evil.example/A/IN via a.evil.example.rpz.seawall"; "disabled" for a log-only zone.
_BIND_RPZ = re.compile(
    r"client (?:@\S+ )?([0-9A-Fa-f:.]+)#\d+ \(([^)\s]*)\): (?:disabled )?rpz "
    r"(QNAME|IP|NSDNAME|NSIP|CLIENT-IP) \S+ rewrite \S+ via (\S+)"
)
# Unbound (rpz-log: yes): "rpz: applied [seawall] *.evil.example. rpz-nxdomain
# 10.0.0.5@53421 a.evil.example. A IN"; a response-IP hit names the address or range
# ("45.77.1.9/32"), and a client-IP, NSIP or NSDNAME hit says so first ("nsip 203.0.113.53/32").
_UNBOUND_RPZ = re.compile(
    r"rpz: applied (?:\[[^\]]*\] )?(?:(clientip|nsdname|nsip) )?(\S+) \S+ "
    r"([0-9A-Fa-f:.]+)@\d+ (\S+) \S+ \S+"
)
_UNBOUND_TIME = re.compile(r"^\[(\d+)\]")
_RPZ_IP = re.compile(r"^(\d+)\.((?:[0-9a-z]+\.)+)rpz-ip\.")


def _rpz_ip_owner(name: str) -> str | None:
    """The address an ``rpz-ip`` owner name stands for (the network's first address)."""
    found = _RPZ_IP.match(name)
    if not found:
        return None
    parts = list(reversed(found.group(2).rstrip(".").split(".")))
    if "zz" in parts:
        at = parts.index("zz")
        text = f"{':'.join(parts[:at])}::{':'.join(parts[at + 1 :])}"
    else:
        text = (":" if len(parts) == 8 else ".").join(parts)
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def read_rpz(line: str) -> Observation | None:
    """One RPZ hit from BIND's or Unbound's log: the name asked for and, for a response-IP
    (``rpz-ip``) trigger, the address in the answer that fired it, as an address that name
    resolved to (:attr:`Kind.RESOLVED`: it proves a ``domain|ip`` pair, and matches an
    address as any address does). A client-IP, NSIP or NSDNAME trigger names the client or
    a name server, not the answer: only the name asked for is read of it."""
    bind = _BIND_RPZ.search(line)
    if bind:
        client, qname, trigger, via = bind.groups()
        address = _rpz_ip_owner(via) if trigger == "IP" else None
        return line[:24], client, _asked(qname, address)
    unbound = _UNBOUND_RPZ.search(line)
    if not unbound:
        return None
    other, trigger, client, qname = unbound.groups()
    address = None
    if other is None:  # a QNAME trigger names a name, a response-IP trigger an address
        with contextlib.suppress(ValueError):
            address = str(ipaddress.ip_network(trigger, strict=False).network_address)
    stamp = _UNBOUND_TIME.match(line) or SYSLOG_TIME.match(line)
    return (stamp.group(1) if stamp else None), client, _asked(qname, address)


def _asked(qname: str, address: str | None) -> Values:
    """The name asked for, and the answer's address that fired a response-IP trigger."""
    # RPZ's Response IP Address trigger fires on an address in the answer (BIND: "an address
    # which would be present in a truthful response"), so it is one the name resolved to. A
    # range trigger's log names the range, not the address: it is read as its first address.
    name: Values = [(Kind.DOMAIN, qname.rstrip("."))] if qname.rstrip(".") else []
    return [*name, (Kind.RESOLVED, address)] if address else name


def is_rpz_line(line: str) -> bool:
    """Whether a log line is an RPZ hit of BIND or Unbound."""
    return bool(_BIND_RPZ.search(line) or _UNBOUND_RPZ.search(line))
