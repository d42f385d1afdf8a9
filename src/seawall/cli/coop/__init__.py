"""``seawall coop``: programmes, partners, laws and CIRTs, and who covers which gap."""

from __future__ import annotations

import click

from seawall.cli.coop.cirts import cirt
from seawall.cli.coop.coverage import coverage
from seawall.cli.coop.laws import law
from seawall.cli.coop.organisations import org
from seawall.cli.coop.programmes import programme


@click.group()
def coop() -> None:
    """Cooperation: programmes, partners, laws, CIRTs and gap coverage."""


coop.add_command(law)
coop.add_command(cirt)
coop.add_command(programme)
coop.add_command(org)
coop.add_command(coverage)
