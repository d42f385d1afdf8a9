"""The ``seawall`` command: a Click group and the one error translator for argv."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

import click

from seawall import __version__
from seawall.cli import admin, audit, node
from seawall.cli.context import CliState
from seawall.cli.output import err_console, say_error
from seawall.errors import SeawallError


class LazyGroup(click.Group):
    """A group whose pillar subgroups are imported only when invoked.

    Pillars pull in heavy libraries (stix2, WeasyPrint, matplotlib, boto3); a command that does
    not need them should not pay for them at start-up.
    """

    def __init__(
        self,
        *args: object,
        lazy: dict[str, Callable[[], click.Command]],
        summaries: dict[str, str],
        **kwargs: object,
    ):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = lazy
        self.summaries = summaries  # each lazy group's first line, for the group's own help

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Eager and lazy command names."""
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import a pillar's group on first use."""
        command = self.lazy[cmd_name]() if cmd_name in self.lazy else None
        _settle()
        return command or super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands and their summaries, a lazy group's from ``summaries``: ``seawall
        --help`` lists every pillar without importing one."""
        listed: list[tuple[str, click.Command]] = []
        for name in self.list_commands(ctx):
            if name in self.lazy:
                listed.append((name, click.Command(name, help=self.summaries[name])))
            elif (command := super().get_command(ctx, name)) is not None and not command.hidden:
                listed.append((name, command))
        if listed:
            limit = formatter.width - 6 - max(len(name) for name, _ in listed)
            with formatter.section("Commands"):
                formatter.write_dl([(n, c.get_short_help_str(limit)) for n, c in listed])

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """A mistyped name is refused with the closest names (``asses``: did you mean
        ``assess``?), lazy ones included, as Click does for every other group."""
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as exc:
            raise click.exceptions.NoSuchCommand(
                exc.command_name, possibilities=self.list_commands(ctx), ctx=ctx
            ) from None


def _assess() -> click.Command:
    from seawall.cli import (
        assess_frameworks,
        assess_gaps,
        assess_hub,
        assess_reports,
        assess_rounds,
    )
    from seawall.cli.assess import assess

    # assess_hub adds export, withdraw and import to assess_rounds' round group.
    for module in (assess_frameworks, assess_rounds, assess_hub, assess_gaps, assess_reports):
        for sub in module.COMMANDS:
            assess.add_command(sub)
    return assess


def _intel() -> click.Command:
    from seawall.cli.intel import intel
    from seawall.cli.intel_cases import case
    from seawall.cli.intel_objects import COMMANDS as OBJECT_COMMANDS
    from seawall.cli.intel_sync import COMMANDS

    for sub in (*COMMANDS, *OBJECT_COMMANDS, case):
        intel.add_command(sub)
    return intel


def _alerts() -> click.Command:
    from seawall.cli.alerts import group

    return group


def _coop() -> click.Command:
    from seawall.cli.coop import coop

    return coop


def _embassy() -> click.Command:
    from seawall.cli.embassy import embassy

    return embassy


@click.group(
    cls=LazyGroup,
    lazy={
        "assess": _assess,
        "intel": _intel,
        "embassy": _embassy,
        "alerts": _alerts,
        "coop": _coop,
    },
    summaries={
        "assess": "National cybersecurity maturity: CMM and GCI assessments, regions, reports.",
        "intel": "Collective defence: STIX 2.1 intelligence shared under TLP 2.0.",
        "embassy": "Encrypted, deduplicated, erasure-coded snapshots across sites.",
        "alerts": "Alerts: failed or missed scheduled runs, copies older than their RPO.",
        "coop": "Cooperation: programmes, partners, laws, CIRTs and gap coverage.",
    },
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="SEAWALL_HOME",
    help="Node home directory (default ./.seawall).",
)
@click.version_option(__version__, prog_name="seawall")
@click.pass_context
def cli(ctx: click.Context, home: Path | None) -> None:
    """Seawall: a nation's cyber-resilience node."""
    ctx.obj = state = CliState(home=home.resolve() if home else None)
    ctx.call_on_close(state.close)


for command in (*node.COMMANDS, *admin.COMMANDS, audit.group):
    cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; failures become one line on stderr and a stable exit code.

    Run as a program (no ``argv``), the process ends as soon as the command's work is done
    and its output flushed: the node is closed by then, and the interpreter's own teardown
    of several hundred modules added 0.15 s to every command, a fifth of a small one.
    """
    if argv is None:
        gc.disable()  # until the command's modules are imported: see _settle
    code = _run(argv)
    if argv is not None:
        sys.exit(code)
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = code or 1  # the reader went away (`| head`): exit 1 quietly, as Click does
    with suppress(OSError):
        sys.stderr.flush()
    os._exit(code)


def _settle() -> None:
    """Once a command's modules are imported, collect cycles again, leaving out every object
    those imports made (``gc.freeze``).

    Run as a program, ``main`` turns the cycle collector off first: importing a pillar makes
    some 130,000 objects and none of them garbage, yet the collector walked them 300 times
    (0.2 s of a command's start); afterwards, each collection would walk them again.
    """
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def _run(argv: list[str] | None) -> int:
    try:
        # Without standalone mode Click returns (not raises) the code of a ctx.exit / Exit.
        code = cli.main(args=argv, prog_name="seawall", standalone_mode=False)
    except SeawallError as exc:
        say_error(exc.message)
        return exc.exit_code
    except click.UsageError as exc:  # one line, as every other refusal, with where to look
        where = exc.ctx.command_path if exc.ctx else "seawall"
        say_error(f"{exc.format_message()} (see `{where} --help`)")
        return exc.exit_code
    except click.ClickException as exc:
        say_error(exc.format_message())
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.Abort:
        err_console.print("aborted")
        return 1
    except KeyboardInterrupt:
        return 130
    return code if isinstance(code, int) else 0
