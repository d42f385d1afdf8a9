"""``seawall intel``: collections, import and export, search."""

from __future__ import annotations

import click


@click.group()
def intel() -> None:
    """Collective defence: STIX 2.1 intelligence shared under TLP 2.0."""
