"""``seawall coop``: programmes, partners, laws and CIRTs, and who covers which gap."""

from __future__ import annotations

import click


@click.group()
def coop() -> None:
    """Cooperation: programmes, partners, laws, CIRTs and gap coverage."""
