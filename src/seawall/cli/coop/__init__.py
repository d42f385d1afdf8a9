"""``seawall coop``: programmes, partners, laws and CIRTs, and who covers which gap."""

from __future__ import annotations

import click

from seawall.cli.coop.cirts import cirt
from seawall.cli.coop.laws import law


@click.group()
def coop() -> None:
    """Cooperation: programmes, partners, laws, CIRTs and gap coverage."""


coop.add_command(law)
coop.add_command(cirt)
