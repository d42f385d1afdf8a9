"""What every ``seawall embassy`` command shares: reaching a repository, its options, progress."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import click
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from seawall.catalogs import counted
from seawall.cli.context import CliState
from seawall.cli.output import ask_secret, err_console, read_text_input
from seawall.embassy import service
from seawall.embassy.custody import CustodianShare, combine_shares
from seawall.embassy.progress import Progress as EngineProgress
from seawall.embassy.pruning import DEFAULT_MAX_UNUSED
from seawall.errors import InvalidInput

PASSPHRASE_ENV = "SEAWALL_EMBASSY_PASSPHRASE"  # noqa: S105 - a variable name
NEW_PASSPHRASE_ENV = "SEAWALL_EMBASSY_NEW_PASSPHRASE"  # noqa: S105 - a variable name


def ask_passphrase(
    confirm: bool = False, env: str = PASSPHRASE_ENV, label: str = "Repository passphrase"
) -> str:
    """A repository's passphrase, from the variable ``env`` or asked for."""
    return os.environ.get(env) or ask_secret(label, env, confirm)


def parse_shares(value: str) -> tuple[int, int]:
    """``K-of-N`` as the pair (k, n)."""
    try:
        k_text, n_text = value.lower().split("-of-")
        return int(k_text), int(n_text)
    except ValueError:
        raise InvalidInput(f"--shares {value!r} is not K-of-N, e.g. 3-of-5") from None


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[EngineProgress], None]]:
    """Rich progress (bytes, files, rate, ETA) on stderr; silent for --json or pipes."""
    if not enabled or not err_console.is_terminal:
        yield lambda _p: None
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TextColumn("{task.fields[files]}"),  # "1 file", "2 files"
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def update(p: EngineProgress) -> None:
            if p.phase not in tasks:
                tasks[p.phase] = bar.add_task(
                    p.phase, total=p.total_bytes, files=counted(0, "file")
                )
            files = counted(p.files, "file")
            bar.update(tasks[p.phase], completed=p.bytes, total=p.total_bytes, files=files)

        yield update


def warn(warning: str) -> None:
    """A warning that did not stop the command, on stderr."""
    err_console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)


def share_options(command: Callable[..., None]) -> Callable[..., None]:
    """``--share TEXT`` and ``--share-file F`` (each repeatable): custodians' shares, passed
    on as ``share_texts`` and ``share_files`` (read them with :func:`share_texts_of`)."""
    command = click.option(
        "--share-file",
        "share_files",
        multiple=True,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="A file holding one custodian share; repeat.",
    )(command)
    return click.option("--share", "share_texts", multiple=True, help="A custodian share; repeat.")(
        command
    )


def share_texts_of(texts: tuple[str, ...], files: tuple[Path, ...]) -> tuple[str, ...]:
    """The shares given as text and in files, as text."""
    return (*texts, *(read_text_input(p, "a custodian's share as text").strip() for p in files))


def access_to(
    state: CliState, ref: str, recovery_shares: list[CustodianShare] | None = None
) -> service.Access:
    """The node's operator reaching ``ref`` (a registered name, or a site URL to adopt),
    with the custodian shares given to the command or to ``seawall embassy``, if any."""
    if recovery_shares is None and state.custodian_shares:
        recovery_shares = [CustodianShare.from_text(t) for t in state.custodian_shares]
    return service.Access(
        state.operator_unit,
        ref,
        state.node().clock,
        passphrase=ask_passphrase,
        recovery_key=combine_shares(recovery_shares) if recovery_shares else None,
        adopt=True,
        warn=warn,
    )


def opened(
    state: CliState, ref: str, recovery_shares: list[CustodianShare] | None = None
) -> AbstractContextManager[service.Opened]:
    """The repository opened for a command that is not a recorded run."""
    return service.opened(access_to(state, ref, recovery_shares))


repo_option = click.option(
    "--repo", "repo_ref", required=True, help="Registered name, or any one site URL."
)
dry_run_option = click.option(
    "--dry-run", is_flag=True, help="Say what would be removed; change nothing."
)
max_unused_option = click.option(
    "--max-unused",
    default=f"{DEFAULT_MAX_UNUSED:.0%}",
    show_default=True,
    help="Repack partly used packs until at most this share of the used data lies unused.",
)


def fraction(text: str, option: str, *, zero: bool = False) -> float:
    """A percentage (``10%``) or fraction (``0.1``) given to ``option``, as a fraction."""
    plain = text.strip()
    try:
        value = float(plain.rstrip("%")) / (100 if plain.endswith("%") else 1)
    except ValueError:
        raise InvalidInput(f"{option} {text!r} is not a percentage like 10%") from None
    if not (0 <= value <= 1 if zero else 0 < value <= 1):
        low = "from 0%" if zero else "above 0%"
        raise InvalidInput(f"{option} must be {low} up to 100%; {text!r} is not")
    return value
