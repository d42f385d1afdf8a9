"""The ``seawall`` command: a Click group and the one error translator for argv."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from seawall import __version__
from seawall.cli import admin, audit, node
from seawall.cli.context import CliState
from seawall.cli.output import err_console
from seawall.errors import SeawallError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
    ctx.obj = CliState(home=home.resolve() if home else None)


for command in (*node.COMMANDS, *admin.COMMANDS, audit.group):
    cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; failures become one line on stderr and a stable exit code."""
    try:
        cli.main(args=argv, prog_name="seawall", standalone_mode=False)
    except SeawallError as exc:
        err_console.print(f"[bold red]error:[/] {exc.message}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        err_console.print("aborted")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(0)
