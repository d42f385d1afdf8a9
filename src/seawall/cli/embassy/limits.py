"""``--limit-upload`` and ``--limit-download``: bandwidth limits per site, in KiB/s."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import click

from seawall.cli.context import CliState
from seawall.embassy.sites.throttle import Limits, link_limits

F = TypeVar("F", bound=Callable[..., object])


def limit_options(command: F) -> F:
    """Add ``--limit-upload`` and ``--limit-download`` (KiB/s per site) to a command."""
    command = click.option(
        "--limit-download",
        type=click.IntRange(min=1),
        default=None,
        help="Read at most this many KiB/s from each site (default: the setting, else none).",
    )(command)
    return click.option(
        "--limit-upload",
        type=click.IntRange(min=1),
        default=None,
        help="Write at most this many KiB/s to each site (default: the setting, else none).",
    )(command)


@contextmanager
def limited(state: CliState, upload: int | None, download: int | None) -> Iterator[None]:
    """Hold the sites opened in the block to the options, or else to the settings."""
    settings = state.settings()
    limits = Limits(
        upload if upload is not None else settings.embassy_limit_upload_kib,
        download if download is not None else settings.embassy_limit_download_kib,
    )
    with link_limits(limits):
        yield
