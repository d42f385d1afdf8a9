"""The command-line edge: ``seawall <pillar> <verb>``."""
