"""Cooperation: programmes, partners, legal instruments, CIRTs, and the coverage of gaps.

A pillar of its own. It meets ``assess`` only through ``seawall.core``: factor references are
strings, and a nation's gaps reach the coverage computation from the edge that asked for it.
"""
