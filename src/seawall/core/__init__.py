"""Core: nations, organisations, users, roles, tokens, TLP, audit log, evidence, clock, ids."""
