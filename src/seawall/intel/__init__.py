"""Collective defence: STIX 2.1 store, TLP policy, TAXII 2.1, sync, MISP."""
