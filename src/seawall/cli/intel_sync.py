"""``seawall intel partner`` and ``seawall intel bundle``: exchange with other nations."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn

from seawall.catalogs import counted
from seawall.cli.context import CliState, pass_state
from seawall.cli.output import (
    emit_json,
    emit_or_say,
    emit_or_table,
    err_console,
    fmt_time,
    json_option,
    read_text_input,
    say,
    writable,
    write_file,
)
from seawall.core.federation import links
from seawall.core.federation.identity import load_node_key
from seawall.errors import InvalidInput
from seawall.intel import bundles, sync
from seawall.intel.link import DEFAULT_TIMEOUT

TOKEN_ENV = "SEAWALL_PARTNER_TOKEN"  # noqa: S105 - a variable name


@click.group()
def partner() -> None:
    """Synchronise intelligence with partner nodes."""


@click.group()
def bundle() -> None:
    """Signed offline bundles for when links are down."""


@contextmanager
def _spinner(enabled: bool) -> Iterator[Callable[[str, str, int], None]]:
    """Rich progress per partner on stderr; silent for --json or pipes."""
    if not enabled or not err_console.is_terminal:
        yield lambda _partner, _stage, _count: None
        return
    columns = (
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        TextColumn("{task.fields[info]}"),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        tasks: dict[str, TaskID] = {}
        totals: dict[tuple[str, str], int] = {}

        def update(name: str, stage: str, count: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, info="", total=None)
            totals[(name, stage)] = totals.get((name, stage), 0) + count
            pulled, pushed = totals.get((name, "pull"), 0), totals.get((name, "push"), 0)
            info = f"pulled {pulled} · pushed {pushed}" + (" · done" if stage == "done" else "")
            bar.update(tasks[name], info=info)

        yield update


@partner.command("sync")
@click.argument("name", required=False)
@click.option(
    "--page-size",
    default=sync.DEFAULT_PAGE_SIZE,
    show_default=True,
    type=int,
    help="Objects per TAXII page when pulling.",
)
@click.option(
    "--timeout",
    default=DEFAULT_TIMEOUT,
    show_default=True,
    type=float,
    help="Seconds to wait for each answer from a partner.",
)
@click.option("--force", is_flag=True, help="Sync partners that are backing off after errors.")
@json_option
@pass_state
@click.pass_context
def partner_sync(
    click_ctx: click.Context,
    state: CliState,
    name: str | None,
    page_size: int,
    timeout: float,
    force: bool,
    as_json: bool,
) -> None:
    """Pull from and push to partners once (all that are due, or NAME); run it from a timer."""
    if not 1 <= page_size <= 10_000:
        raise InvalidInput("--page-size must be 1-10000")
    if not (math.isfinite(timeout) and 0 < timeout <= 3600):
        raise InvalidInput(f"--timeout {timeout} is not a number of seconds from 0 to 3600")
    node = state.node()
    with _spinner(not as_json) as progress:
        reports = sync.sync(
            node, name, page_size=page_size, timeout=timeout, force=force, progress=progress
        )
    emit_or_table(
        as_json,
        [r.as_dict() for r in reports],
        "Sync",
        [
            "Partner",
            "Nation",
            "Pulled",
            "Dupes",
            "Withheld",
            "Rejected",
            "Sent",
            "Waiting",
            "Result",
        ],
        (
            (
                r.partner,
                r.nation,
                r.pulled.added,
                r.pulled.duplicates,
                len(r.pulled.withheld),
                len(r.pulled.rejected) + len(r.refused),
                r.sent,
                r.pending,
                r.error or r.skipped or "ok",
            )
            for r in reports
        ),
    )
    if not reports and not as_json:
        say("No partners to sync: add one with `seawall partner add`.")
    if any(r.error for r in reports):
        click_ctx.exit(69)


@partner.command("status")
@json_option
@pass_state
def partner_status(state: CliState, as_json: bool) -> None:
    """Each partner's last pull and push, queue depth and last error."""
    with state.operator_unit() as ctx:
        statuses = sync.partner_statuses(ctx)
    emit_or_table(
        as_json,
        [s.as_dict() for s in statuses],
        "Partner sync",
        ["Partner", "Nation", "Token", "Last pull", "Last push", "Queue", "Next try", "Last error"],
        (
            (
                s.partner.name,
                s.partner.nation,
                "yes" if s.linked else "no",
                fmt_time(s.last_pull_at),
                fmt_time(s.last_push_at),
                s.queue_depth,
                fmt_time(s.next_attempt_at),
                s.last_error or "—",
            )
            for s in statuses
        ),
    )


@partner.command("key")
@json_option
@pass_state
def partner_key(state: CliState, as_json: bool) -> None:
    """Print this node's public signing key, for partners to register."""
    settings = state.node().settings
    key = load_node_key(settings)
    if as_json:
        emit_json({"nation": settings.nation, "public_key": key.public_text, "key_id": key.key_id})
        return
    click.echo(key.public_text)
    say(f"key id {key.key_id}; partners run: seawall intel partner link NAME --public-key KEY")


@partner.command("link")
@click.argument("name")
@click.option(
    "--token",
    envvar=TOKEN_ENV,
    default=None,
    help=f"The API token the partner issued this node (or {TOKEN_ENV}).",
)
@click.option(
    "--token-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Read the token from this file.",
)
@click.option("--public-key", default=None, help="The partner's key from its `partner key`.")
@click.option("--clear", is_flag=True, help="Forget the stored token (sync stops until relinked).")
@pass_state
def partner_link(
    state: CliState,
    name: str,
    token: str | None,
    token_file: Path | None,
    public_key: str | None,
    clear: bool,
) -> None:
    """Store the token a partner issued us, and register its public signing key."""
    if token_file is not None:
        token = read_text_input(token_file, "a text file holding a token").strip()
    if token is not None and not token.strip():
        # An empty file (a failed `> token.txt`) must not quietly unlink the partner.
        raise InvalidInput("the token is empty: give the token the partner issued, or --clear")
    if clear:
        if token is not None:
            raise InvalidInput("give a token or --clear, not both")
        token = ""
    if token is None and public_key is None:
        raise InvalidInput("give --token, --token-file, --public-key or --clear")
    node = state.node()
    with state.operator_unit() as ctx:
        row = links.link_partner(ctx, node.settings, name, token=token, public_key=public_key)
    parts = [p for p, v in (("token stored", token), ("key registered", public_key)) if v]
    say(f"Partner {row.name}: {', '.join(parts) or 'token cleared'}")


@bundle.command("export")
@click.option("--to", "to", required=True, help="The recipient: a partner name or a nation code.")
@click.option("--collection", default=None, help="Only this collection (default: all).")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The bundle file to write.",
)
@json_option
@pass_state
def bundle_export(
    state: CliState, to: str, collection: str | None, out: Path, as_json: bool
) -> None:
    """Write a signed, compressed bundle of what the recipient may read."""
    writable(out)
    node = state.node()
    with state.operator_unit() as ctx:
        made = bundles.export_bundle(ctx, node.settings, to, collection)
    write_file(out, made.data, 0o600)
    summary = {
        "file": str(out),
        "bytes": len(made.data),
        "recipient_nation": made.recipient_nation,
        "recipient_partner": made.recipient_partner,
        "objects": made.objects,
        "withheld": made.withheld,
    }
    emit_or_say(
        as_json,
        summary,
        f"Wrote {out} for {made.recipient_partner or made.recipient_nation}: "
        f"{counted(made.objects, 'object')}, {made.withheld} withheld by TLP",
    )


@bundle.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--collection", default=None, help="Put everything in this collection.")
@json_option
@pass_state
def bundle_import(state: CliState, file: Path, collection: str | None, as_json: bool) -> None:
    """Verify a partner's signed bundle and store what it carries."""
    node = state.node()
    with state.operator_unit() as ctx:
        done = bundles.import_bundle(ctx, node.settings, file.read_bytes(), collection)
    got = done.received
    emit_or_say(
        as_json,
        done.as_dict(),
        f"Imported from {done.partner} ({done.sender_nation}): {got.added} added, "
        f"{got.duplicates} already here, {len(got.rejected)} rejected, "
        f"{len(got.withheld)} withheld by TLP",
    )


COMMANDS = (partner, bundle)
