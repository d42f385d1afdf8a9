"""Log matching: DNS, proxy, firewall, Zeek and Suricata logs against shared indicators.

- :mod:`.observables` reads the values that decide an indicator from its STIX pattern.
- :mod:`.matcher` looks values up among them (exact, CIDR ranges, parent domains).
- :mod:`.logs` reads the log formats into observed values.
- :mod:`.sightings` runs a match under TLP and records STIX sightings.
"""
