"""Options and output shared by the CLI's paged lists: ``--limit``, ``--cursor``, the object
filters, and the total and next cursor printed after a page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from seawall.cli.output import emit_json, say
from seawall.core.paging import DEFAULT_LIMIT, MAX_LIMIT, Page

F = TypeVar("F", bound=Callable[..., Any])


def paging_options(command: F) -> F:
    """``--limit`` and ``--cursor``."""
    command = click.option(
        "--cursor",
        default=None,
        help="Start after this place: the next cursor a previous page printed.",
    )(command)
    return click.option(
        "--limit",
        type=click.IntRange(1, MAX_LIMIT),
        default=DEFAULT_LIMIT,
        show_default=True,
        help="Rows per page.",
    )(command)


def object_filter_options(command: F) -> F:
    """The filters of an object list (see ``seawall.intel.store.listing.ObjectQuery``)."""
    options = [
        click.option(
            "--type", "type_", default="", help="Only these STIX types (comma-separated)."
        ),
        click.option("--tlp", default="", help="Only these markings (e.g. green,amber)."),
        click.option(
            "--state",
            "state_",
            default="",
            help="Only objects in this state: active, revoked, expired or pending.",
        ),
        click.option("--from", "added_from", default="", help="Added on or after this UTC date."),
        click.option("--to", "added_to", default="", help="Added on or before this UTC date."),
        click.option(
            "--creator", default="", help="Only objects by this identity id or submitter."
        ),
        click.option(
            "--sort",
            default="newest",
            show_default=True,
            help="newest, oldest (by date added), modified, or type.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return paging_options(command)


def page_json(page: Page[Any], rows: list[Any]) -> dict[str, Any]:
    """A page for scripts: the rows, the total, and the cursors either side."""
    return {"total": page.total, "next": page.next, "prev": page.prev, "items": rows}


def emit_page_footer(page: Page[Any], shown: int) -> None:
    """After a table: how many rows of the total were shown, and the next page's cursor."""
    line = f"{shown:,} of {page.total:,} shown"
    if page.next:
        line += f"; next page: --cursor {page.next}"
    say(line)


def emit_page(as_json: bool, page: Page[Any], rows: list[Any], table: Callable[[], None]) -> None:
    """The page as JSON (rows, total, cursors), or its table and a footer line."""
    if as_json:
        emit_json(page_json(page, rows))
        return
    table()
    emit_page_footer(page, len(rows))


__all__ = [
    "emit_page",
    "emit_page_footer",
    "object_filter_options",
    "page_json",
    "paging_options",
]
