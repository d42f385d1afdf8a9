"""MISP events, feeds and CSV to STIX 2.1, and STIX 2.1 back to MISP event JSON.

- :mod:`~seawall.intel.misp.reading`: MISP events, feeds and CSV exports as STIX objects.
- :mod:`~seawall.intel.misp.writing`: STIX objects as MISP events MISP can import.
- :mod:`~seawall.intel.misp.markings`: TLP tags and distribution levels, both ways.
- :mod:`~seawall.intel.misp.mapping`: MISP attribute types and STIX patterns, both ways.
- :mod:`~seawall.intel.misp.links`: sightings and object references, both ways.
- :mod:`~seawall.intel.misp.ids`: MISP timestamps and uuids as STIX ones.
"""
