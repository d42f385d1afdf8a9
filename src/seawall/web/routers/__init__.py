"""HTTP routers: one per pillar plus core, health, TAXII and the UI."""
