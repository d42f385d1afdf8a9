"""Sensor exports: the live indicators as files the engines on the wire read.

Each format is one module of pure functions from :class:`~.entries.Entry` values to text:
:mod:`.zeek` (a Zeek Intel framework file), :mod:`.suricata` (rules and hash lists) and
:mod:`.rpz` (a DNS Response Policy Zone). :mod:`.feeds` reads the store under the caller's
TLP and validity, picks what may leave to a sensor, and records each export.
:mod:`.selection` is the one choice of what is in force now, for these and for the STIX and
MISP exports.
"""
