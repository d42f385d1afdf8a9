"""How commands print: Rich tables for people, JSON for scripts, one line for errors."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from seawall.errors import FileMissing, InvalidInput

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


KEY_HEADERS = frozenset({"id", "name", "ref", "key", "round", "repository", "user", "username"})
"""Headers of columns people type back: printed whole, never wrapped, cut or dropped."""


def _cells(rows: Iterable[Sequence[Any]]) -> list[list[str]]:
    return [["" if v is None else str(v) for v in row] for row in rows]


_WORD = re.compile(r"[\w.:@+#%,-]{1,48}")
"""One word people type back: an id, a name, a number, a date, a size."""

FOLDED = 10
"""Text columns fold a word longer than this (a path, a URL) rather than widen the table."""


def _is_key(header: str, values: list[str]) -> bool:
    """An id, a name or a number: a column whose every value is one such word."""
    if header.strip().lower() in KEY_HEADERS:
        return True
    return any(values) and all(not v or v == "—" or _WORD.fullmatch(v) for v in values)


def _least_width(header: str, values: list[str], key: bool) -> int:
    """The narrowest a column can be: whole when it is a key, its longest word otherwise
    (folded past :data:`FOLDED`)."""
    texts = [header, *values]
    if key:
        return max(cell_len(v) for v in texts)
    longest = max(cell_len(word) for v in texts for word in [*v.split(), ""])
    return max(min(longest, FOLDED), *(cell_len(w) for w in header.split()))


def fit_columns(
    columns: Sequence[str],
    keys: Sequence[bool],
    least: Sequence[int],
    width: int,
    drop: Sequence[str] = (),
) -> list[int]:
    """The indexes of the columns shown at ``width`` (each column a key or not, and its
    least width): all of them when they fit, else without the columns named in ``drop``
    (the least important first), then the text columns, rightmost first, then the other
    one-word columns; never the first column nor an id, name or number column people type
    back."""
    shown = list(range(len(columns)))
    droppable = [columns.index(name) for name in drop if name in columns]
    droppable += [i for i in reversed(shown[1:]) if not keys[i]]
    droppable += [
        i for i in reversed(shown[1:]) if keys[i] and columns[i].strip().lower() not in KEY_HEADERS
    ]
    for index in droppable:
        # Each column has a space either side and a border after; the table one before.
        if sum(least[i] + 3 for i in shown) + 1 <= width:
            break
        if index in shown:
            shown.remove(index)
    return shown


def emit_table(
    title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], drop: Sequence[str] = ()
) -> None:
    """Print a table for people, or one line when there is nothing to show.

    Cells are plain text: ``[/x]`` in a name is shown, not read as Rich markup (which raised
    on it). Ids, names and numbers are never wrapped nor cut, so each can be typed back; at a
    narrow terminal text columns wrap, and the least important ones are left out (named
    under the table; ``--json`` has every field), those named in ``drop`` first.
    """
    cells = _cells(rows)
    if not cells:
        console.print(Text(f"{title}: nothing found"), highlight=False)
        return
    keys = [_is_key(c, [row[i] for row in cells]) for i, c in enumerate(columns)]
    least = [_least_width(c, [row[i] for row in cells], keys[i]) for i, c in enumerate(columns)]
    shown = fit_columns(columns, keys, least, console.width, drop)
    left_out = [c for i, c in enumerate(columns) if i not in shown]
    caption = f"not shown at this width: {', '.join(left_out)} (see --json)" if left_out else None
    table = Table(
        title=Text(title),
        title_justify="left",
        header_style="bold cyan",
        caption=Text(caption) if caption else None,
        caption_justify="left",
    )
    for index in shown:
        if keys[index]:
            table.add_column(columns[index], no_wrap=True, min_width=least[index], overflow="fold")
        else:
            table.add_column(columns[index], overflow="fold")
    for row in cells:
        table.add_row(*(Text(row[i]) for i in shown))
    console.print(table)


def emit_or_table(
    as_json: bool,
    data: Any,
    title: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    drop: Sequence[str] = (),
) -> None:
    """``data`` as JSON for scripts, or the table of ``rows`` for people (see ``emit_table``)."""
    if as_json:
        emit_json(data)
    else:
        emit_table(title, columns, rows, drop)


def emit_or_say(as_json: bool, data: Any, message: str) -> None:
    """``data`` as JSON for scripts, or one line for people (see ``say``)."""
    if as_json:
        emit_json(data)
    else:
        say(message)


def emit_line(message: str) -> None:
    """A line of the command's result for people (stdout, with its tables), never broken at
    the terminal's width; plain text."""
    console.print(Text(message), highlight=False, soft_wrap=True)


def say(message: str, *, markup: bool = False) -> None:
    """A line of progress or confirmation for people (stderr, so stdout stays clean).

    Never broken at the terminal's width, so a path in it can be copied whole. Plain text
    unless ``markup``: a line built with markup escapes what it quotes (``rich.markup.escape``).
    """
    err_console.print(message, highlight=False, soft_wrap=True, markup=markup)


def say_error(message: str) -> None:
    """The one line a failed command prints: ``error:`` in red, then the message as typed."""
    err_console.print(
        Text.assemble(("error:", "bold red"), " ", message), highlight=False, soft_wrap=True
    )


def fmt_time(value: datetime | None) -> str:
    """A compact UTC timestamp."""
    return value.strftime("%Y-%m-%d %H:%M") if value else "—"


def read_input(path: Path) -> bytes:
    """A file named on the command line, or one line saying why it cannot be read."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise FileMissing(f"{path} does not exist: check the path") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None


def read_text_input(path: Path, what: str = "UTF-8 text") -> str:
    """The same file as text; ``what`` says what it should hold, for when it is not text."""
    try:
        return read_input(path).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not {what}; save it as UTF-8 text") from None


def writable(path: Path) -> Path:
    """``path``, once a file can be written there; checked before the work, so a refused
    output costs nothing and records nothing."""
    if path.is_dir():
        raise InvalidInput(f"{path} is a directory: give the name of a file to write")
    if not path.absolute().parent.is_dir():
        raise InvalidInput(f"{path.parent} does not exist: create it, or write elsewhere")
    return path


def write_file(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` whole or not at all: a temporary file renamed into place."""
    write_files(path.parent, {path.name: data}, mode, make=False)


def write_files(
    directory: Path, files: Mapping[str, bytes], mode: int = 0o644, make: bool = True
) -> None:
    """Write each file into ``directory`` (made when missing, if ``make``), every one or
    none: all are written to temporary files first and renamed into place only then, so a
    reader never finds some of a set (rules without the lists they read) or half a file."""
    blocked = next((directory / n for n in files if (directory / n).is_dir()), None)
    if blocked is not None:
        raise InvalidInput(f"{blocked} is a directory: give the name of a file to write")
    made = make and not directory.exists()
    written: list[tuple[Path, Path]] = []
    target = directory  # what the error names: the file asked for, never its .partial
    try:
        if make:
            directory.mkdir(exist_ok=True)
        for name, data in files.items():
            target = directory / name
            written.append((directory / f".{name}.partial", target))
            fd = os.open(written[-1][0], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        for partial, target in written:
            partial.replace(target)
    except OSError as exc:
        for partial, _ in written:
            with suppress(OSError):
                partial.unlink()
        if made:
            with suppress(OSError):
                directory.rmdir()
        raise InvalidInput(f"cannot write {target}: {exc.strerror}; write elsewhere") from None


def ask_secret(label: str, env: str, confirm: bool = True) -> str:
    """A password or passphrase typed at the terminal (twice, to confirm); with no terminal,
    one line naming the variable that gives it, before anything else is done."""
    if not sys.stdin.isatty():
        raise InvalidInput(f"no {label.lower()}: set {env} or run in a terminal")
    secret: str = click.prompt(label, hide_input=True, confirmation_prompt=confirm)
    return secret
