"""``seawall intel partner`` and ``seawall intel bundle``: exchange with other nations."""

from __future__ import annotations

import click


@click.group()
def partner() -> None:
    """Synchronise intelligence with partner nodes."""


@click.group()
def bundle() -> None:
    """Signed offline bundles for when links are down."""


COMMANDS = (partner, bundle)
