"""The STIX 2.1 store: every version of every object, read through the sharing policy.

- :mod:`~seawall.intel.store.visibility`: who may see a row, as SQL compiled from the
  sharing policy and as a verdict on one row.
- :mod:`~seawall.intel.store.reading`: the TAXII filters, pages and cursors, and the reads.
- :mod:`~seawall.intel.store.writing`: adding objects (through
  :mod:`seawall.intel.admission`) and deleting them.
"""
