"""How commands print: Rich tables for people, JSON for scripts, one line for errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table

console = Console()
err_console = Console(stderr=True)

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def emit_json(data: Any) -> None:
    """Print JSON to stdout."""
    sys.stdout.write(json.dumps(data, default=_default, indent=2) + "\n")


def emit_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print a table for people."""
    table = Table(title=title, title_justify="left", header_style="bold cyan")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)


def say(message: str) -> None:
    """A line of progress or confirmation for people (stderr, so stdout stays clean).

    Never broken at the terminal's width, so a path in it can be copied whole.
    """
    err_console.print(message, highlight=False, soft_wrap=True)


def fmt_time(value: datetime | None) -> str:
    """A compact UTC timestamp."""
    return value.strftime("%Y-%m-%d %H:%M") if value else "—"
