"""``seawall intel export --format zeek-intel|suricata|rpz``: files for the sensors."""

from __future__ import annotations

from pathlib import Path

import click

from seawall.catalogs import counted
from seawall.cli.context import CliState
from seawall.cli.output import say, writable, write_file, write_files
from seawall.errors import InvalidInput
from seawall.intel import search
from seawall.intel.exports import feeds
from seawall.intel.exports.entries import dns_name


def _directory(output: Path | None) -> Path:
    if output is None:
        raise InvalidInput(
            "--format suricata writes a rules file and the hash lists it reads: give -o DIRECTORY"
        )
    if output.exists() and not output.is_dir():
        raise InvalidInput(f"{output} is a file: --format suricata writes into a directory")
    if not output.absolute().parent.is_dir():
        raise InvalidInput(f"{output.parent} does not exist: create it, or write elsewhere")
    return output


def export_for_sensors(
    state: CliState,
    fmt: str,
    collection_ref: str | None,
    output: Path | None,
    max_tlp: str | None,
    zone: str,
) -> None:
    """Write one sensor format: a file (or stdout), or for Suricata a directory."""
    origin = dns_name(zone)
    if origin is None:
        raise InvalidInput(f"--zone {zone!r} is not a DNS name")
    if fmt == "suricata":
        _directory(output)
    elif output is not None:
        writable(output)
    ceiling = feeds.parse_max_tlp(max_tlp)
    with state.operator_unit() as ctx:
        chosen = search.readable_collections(ctx, collection_ref)
        destination = str(output) if output else "stdout"
        made = feeds.export_sensor(ctx, fmt, chosen, destination, ceiling, origin)
    if output is not None and fmt == "suricata":
        write_files(output, {name: text.encode() for name, text in made.files.items()})
        say(f"Wrote {', '.join(sorted(made.files))} to {output}")
    elif output is not None:
        write_file(output, "".join(made.files.values()).encode())
        say(f"Wrote {output}")
    else:
        click.echo("".join(made.files.values()), nl=False)
    say(
        f"{counted(made.indicators, 'indicator')} in force at or under {made.max_tlp.label}; "
        f"{made.left_out} left out (above that level, not fit for a sensor, or with no value "
        f"{fmt} can hold)"
    )
