"""``seawall intel``: collections, import and export, search."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.text import Text

from seawall.catalogs import counted
from seawall.cli.context import CliState, pass_state
from seawall.cli.intel_attack import attack
from seawall.cli.intel_exports import export_for_sensors
from seawall.cli.listing import emit_page, object_filter_options, paging_options
from seawall.cli.output import (
    emit_json,
    emit_or_say,
    emit_or_table,
    emit_table,
    err_console,
    fmt_time,
    json_option,
    say,
    writable,
    write_file,
)
from seawall.core.paging import PageRequest
from seawall.errors import InvalidInput
from seawall.intel import ingest, search
from seawall.intel.audiences import audience_of, describe_audience, parse_audience
from seawall.intel.collections import create_collection, list_collections
from seawall.intel.exports.feeds import SENSOR_FORMATS
from seawall.intel.exports.rpz import DEFAULT_ORIGIN
from seawall.intel.ingest import Format, ImportReport
from seawall.intel.matching.logs import LogFormat
from seawall.intel.sighted import SightedOrder, sighted_page
from seawall.intel.store.listing import ObjectQuery

if TYPE_CHECKING:
    from seawall.intel.matching.sightings import MatchReport


@click.group()
def intel() -> None:
    """Collective defence: STIX 2.1 intelligence shared under TLP 2.0."""


intel.add_command(attack)


@intel.group()
def collection() -> None:
    """Collections: where objects are shared, with whom, under which default marking."""


@collection.command("create")
@click.argument("name")
@click.option(
    "--audience",
    "audience",
    multiple=True,
    help="Who may read: JM, CARICOM, org:<id>, partner:<name>; repeat or comma-separate. "
    "None means everyone on this node.",
)
@click.option("--tlp", default="green", show_default=True, help="Default marking.")
@click.option("--title", default="", help="Human title (default: the name).")
@click.option("--description", default="", help="What the collection is for.")
@json_option
@pass_state
def collection_create(
    state: CliState,
    name: str,
    audience: tuple[str, ...],
    tlp: str,
    title: str,
    description: str,
    as_json: bool,
) -> None:
    """Create a collection."""
    chosen = parse_audience(audience)
    with state.operator_unit() as ctx:
        row = create_collection(ctx, name, title, chosen, tlp, description)
        shown = {
            "id": row.id,
            "alias": row.alias,
            "title": row.title,
            "default_tlp": row.default_tlp,
            "audience": audience_of(row).to_json(),
        }
    emit_or_say(
        as_json,
        shown,
        f"Created collection {shown['alias']} (TLP:{str(shown['default_tlp']).upper()})",
    )


@collection.command("list")
@json_option
@pass_state
def collection_list(state: CliState, as_json: bool) -> None:
    """List the collections."""
    with state.operator_unit() as ctx:
        rows = [
            {
                "id": r.id,
                "alias": r.alias,
                "title": r.title,
                "default_tlp": r.default_tlp,
                "audience": audience_of(r).to_json(),
                "owner_nation": r.owner_nation,
                "created_at": r.created_at,
                "audience_text": describe_audience(audience_of(r)),
            }
            for r in list_collections(ctx)
        ]
    emit_or_table(
        as_json,
        [{k: v for k, v in r.items() if k != "audience_text"} for r in rows],
        "Collections",
        ["Name", "Title", "Default TLP", "Audience", "Created"],
        (
            (
                r["alias"],
                r["title"],
                f"TLP:{str(r['default_tlp']).upper()}",
                r["audience_text"],
                fmt_time(r["created_at"]),  # type: ignore[arg-type]
            )
            for r in rows
        ),
    )


@contextmanager
def _bar(
    enabled: bool, label: str = "Importing", in_bytes: bool = False
) -> Iterator[Callable[[int, int], None]]:
    """A Rich progress bar on stderr; silent for --json or when stderr is not a terminal."""
    if not enabled or not err_console.is_terminal:
        yield lambda _done, _total: None
        return
    columns = (
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        *((DownloadColumn(), TransferSpeedColumn()) if in_bytes else (MofNCompleteColumn(),)),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _line(message: str, label: str = "", colour: str = "") -> None:
    """One line on stderr, never wrapped, so each refusal stays on its own line: an optional
    coloured label, then the message as plain text (ids and values are what was sent)."""
    text = Text.assemble((label, colour), " ", message) if label else Text(message)
    err_console.print(text, highlight=False, soft_wrap=True)


def _print_report(report: ImportReport) -> None:
    _line(
        f"{report.collection}: {len(report.added)} added, {len(report.duplicates)} already "
        f"there, {len(report.flagged)} flagged, {len(report.suppressed)} suppressed, "
        f"{len(report.rejected)} rejected ({report.format}, {counted(report.total, 'item')})"
    )
    for ref in report.rejected:
        where = "" if ref.message.startswith(ref.id) else f"{ref.id}: "
        _line(f"{where}{ref.message}", "rejected", "red")
    for ref in report.suppressed:
        _line(f"{ref.id}: {ref.message}", "suppressed", "yellow")
    for ref in report.flagged:
        _line(f"{ref.id}: {ref.message}", "flagged", "yellow")


@intel.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice([f.value for f in Format]),
    default=None,
    help="File format (default: guessed from the name and content).",
)
@click.option("--collection", "collection_ref", required=True, help="Collection name or id.")
@click.option(
    "--keep-suppressed",
    is_flag=True,
    help="Store indicators the warninglists would suppress (they stay flagged).",
)
@json_option
@pass_state
def import_file(
    state: CliState,
    file: Path,
    fmt: str | None,
    collection_ref: str,
    keep_suppressed: bool,
    as_json: bool,
) -> None:
    """Import a STIX bundle, MISP event JSON, a MISP feed folder or MISP CSV.

    Exits 65 when any item was rejected; the valid rest is still stored.
    """
    parsed = ingest.parse_path(file, Format(fmt) if fmt else None)
    node = state.node()
    with _bar(not as_json) as progress, node.unit(node.operator()) as ctx:
        target = search.readable_collections(ctx, collection_ref)[0]
        report = ingest.import_objects(
            ctx, target, parsed, progress=progress, keep_suppressed=keep_suppressed
        )
    if as_json:
        emit_json(report.as_json())
    else:
        _print_report(report)
    if report.rejected:
        raise click.exceptions.Exit(InvalidInput.exit_code)


@intel.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["stix", "misp", *SENSOR_FORMATS]),
    default="stix",
    show_default=True,
    help="A STIX 2.1 bundle, MISP event JSON, or a sensor's file (zeek-intel, suricata, rpz).",
)
@click.option("--collection", "collection_ref", default=None, help="One collection (default all).")
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    help="Write to a file (for suricata, a directory).",
)
@click.option(
    "--include-inactive", is_flag=True, help="Also export revoked, expired and decayed indicators."
)
@click.option(
    "--max-tlp",
    default=None,
    help="Sensor formats: the highest TLP to include (default amber+strict; red only if named).",
)
@click.option("--zone", default=DEFAULT_ORIGIN, show_default=True, help="The RPZ's origin.")
@pass_state
def export(
    state: CliState,
    fmt: str,
    collection_ref: str | None,
    output: Path | None,
    include_inactive: bool,
    max_tlp: str | None,
    zone: str,
) -> None:
    """Export what this node's operator may read, under TLP: STIX or MISP JSON, or the live
    indicators as a Zeek intel file, Suricata rules and hash lists, or a DNS RPZ."""
    if fmt in SENSOR_FORMATS:
        if include_inactive:
            raise InvalidInput("--include-inactive is for stix and misp: sensors get live ones")
        export_for_sensors(state, fmt, collection_ref, output, max_tlp, zone)
        return
    if max_tlp is not None:
        raise InvalidInput("--max-tlp is for the sensor formats (zeek-intel, suricata, rpz)")
    if output is not None:
        writable(output)
    node = state.node()
    with state.operator_unit() as ctx:
        chosen = search.readable_collections(ctx, collection_ref)
        made = search.export(
            ctx,
            fmt,
            chosen,
            node.settings.node_name,
            str(output) if output else "stdout",
            include_inactive=include_inactive,
        )
    text = json.dumps(made.document, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        write_file(output, text.encode())
        say(f"Wrote {made.count} {'events' if fmt == 'misp' else 'objects'} to {output}")


@intel.command("search")
@click.argument("value", required=False, default="")
@object_filter_options
@json_option
@pass_state
def search_value(
    state: CliState,
    value: str,
    type_: str,
    tlp: str,
    state_: str,
    added_from: str,
    added_to: str,
    creator: str,
    sort: str,
    limit: int,
    cursor: str | None,
    as_json: bool,
) -> None:
    """Find objects holding a value (an IP, a domain, a hash, an id), or, without one, list
    every object you may read; one page at a time, with the total."""
    query = ObjectQuery.parse(
        value, type_, tlp, state_, added_from, added_to, creator, sort, limit, cursor
    )
    with state.operator_unit() as ctx:
        page = search.search_page(ctx, query)
    found = page.items
    emit_page(
        as_json,
        page,
        [
            {
                "collection": f.collection,
                "id": f.id,
                "type": f.type,
                "summary": f.summary,
                "tlp": f.tlp.label,
                "version": f.version,
                "date_added": f.date_added,
                "status": f.status.value,
                "score": f.score,
                "warning": f.warning,
            }
            for f in found
        ],
        lambda: emit_table(
            f"Objects holding {value!r}" if value else "Objects",
            ["Collection", "Type", "Summary", "TLP", "Status", "Added", "Id"],
            [
                (
                    f.collection,
                    f.type,
                    f.summary,
                    f.tlp.label,
                    f.status.value
                    + ("" if f.score is None else f" {f.score:.0f}")
                    + (" ⚑" if f.warning else ""),
                    fmt_time(f.date_added),
                    f.id,
                )
                for f in found
            ],
        ),
    )


def _print_match(report: MatchReport, shown: int) -> None:
    formats = ", ".join(sorted(set(report.files.values())))
    _line(
        f"Read {report.lines:,} {'line' if report.lines == 1 else 'lines'} ({formats}) against "
        f"{report.indicators:,} {'indicator' if report.indicators == 1 else 'indicators'}: "
        f"{len(report.hits):,} matched"
        + (f", {report.not_matchable:,} not matchable from logs" if report.not_matchable else "")
        + (
            f", {counted(report.outside_validity, 'match', 'matches', grouped=True)} outside an "
            f"indicator's validity ignored"
            if report.outside_validity
            else ""
        )
    )
    ranked = report.ranked()
    if ranked:
        emit_table(
            "Matched indicators",
            ["Matched", "Count", "Last seen", "TLP", "Hosts", "Indicator"],
            [
                (
                    ", ".join(h.values),
                    f"{h.count:,}",
                    fmt_time(h.last_seen),
                    h.indicator.tlp.label,
                    ", ".join(h.sources) or "-",
                    h.indicator.name,
                )
                for h in ranked[:shown]
            ],
        )
        if len(ranked) > shown:
            _line(f"... and {len(ranked) - shown:,} more (--show to see them, --json for all)")
    if report.collection:
        _line(
            f"{report.collection}: {counted(len(report.recorded), 'sighting')} recorded, "
            f"{len(report.already_recorded)} recorded before"
        )


@intel.command("match")
@click.argument("logs", nargs=-1, required=True, type=click.Path(path_type=Path, allow_dash=True))
@click.option(
    "--format",
    "fmt",
    type=click.Choice([f.value for f in LogFormat]),
    default=None,
    help="Log format (default: detected per file from its first lines).",
)
@click.option(
    "--collection",
    "collection_ref",
    default=None,
    help="Record a STIX sighting per matched indicator in this collection.",
)
@click.option(
    "--case",
    "case_ref",
    default=None,
    help="Link the recorded sightings to this case (needs --collection).",
)
@click.option(
    "--show",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Matched indicators to list.",
)
@click.option(
    "--ignore-validity",
    is_flag=True,
    help="Retro-hunt: match indicators whatever their valid_from and valid_until "
    "(revoked ones never match).",
)
@click.option(
    "--since",
    default=None,
    help="Retro-hunt: every indicator counts for records from this time on, even before its "
    "valid_from: a date, a date and time (UTC unless given), or a span back (24h, 7d).",
)
@click.option(
    "--follow",
    is_flag=True,
    help="Keep matching the one LOG (- for standard input) as it grows, across rotation, "
    "recording in batches until Ctrl-C or SIGTERM.",
)
@click.option(
    "--state",
    "state_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="With --follow: keep the place read in this file, and go on from it next time.",
)
@click.option(
    "--batch",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="With --follow: match and record every this many lines...",
)
@click.option(
    "--every",
    type=click.FloatRange(min=0),
    default=5.0,
    show_default=True,
    help="...or this many seconds after the first line not yet matched.",
)
@json_option
@pass_state
def match_logs(
    state: CliState,
    logs: tuple[Path, ...],
    fmt: str | None,
    collection_ref: str | None,
    case_ref: str | None,
    show: int,
    ignore_validity: bool,
    since: str | None,
    follow: bool,
    state_file: Path | None,
    batch: int,
    every: float,
    as_json: bool,
) -> None:
    """Match DNS, proxy, firewall, Zeek or Suricata logs against the shared indicators.

    Gzip-compressed logs are read as they are; - reads standard input. Without --collection
    nothing is stored.
    """
    # Matching's columnar engine brings polars and numpy (~0.5 s): only this command pays.
    from seawall.cli.intel_follow import follow_logs
    from seawall.intel.matching import sightings
    from seawall.intel.matching.following import Batching
    from seawall.intel.matching.live import Following
    from seawall.intel.matching.validity import Validity, parse_since

    if case_ref is not None and collection_ref is None:
        raise InvalidInput("--case links recorded sightings: give --collection to record them")
    node = state.node()
    validity = Validity(ignore_validity, parse_since(since, node.clock.now()) if since else None)
    cache = sightings.cache_folder(node.settings.home)
    if follow:
        if len(logs) != 1 or case_ref is not None:
            raise InvalidInput("--follow follows one log (or -), and links no case")
        how = Following(collection_ref, state_file, Batching(batch, every), cache)
        follow_logs(node, logs[0], LogFormat(fmt) if fmt else None, how, validity, as_json)
        return
    if state_file is not None:
        raise InvalidInput("--state keeps the place of a --follow; give --follow")
    with (
        _bar(not as_json, "Matching", in_bytes=True) as progress,
        node.unit(node.operator()) as ctx,
    ):
        sources = [
            sightings.Stream("stdin", sys.stdin.buffer) if str(p) == "-" else p for p in logs
        ]
        report = sightings.match_logs(
            ctx,
            sources,
            LogFormat(fmt) if fmt else None,
            progress=progress,
            cache=cache,
            validity=validity,
        )
        if collection_ref is not None:
            target = search.readable_collections(ctx, collection_ref)[0]
            sightings.record(ctx, report, target)
        if case_ref is not None:
            sightings.link_to_case(ctx, report, case_ref)
    if as_json:
        emit_json(report.as_json())
    else:
        _print_match(report, show)


@intel.command("sightings")
@click.option(
    "--min-nations", default=1, show_default=True, help="Only indicators this many nations saw."
)
@click.option(
    "--sort",
    type=click.Choice([o.value for o in SightedOrder]),
    default="widest",
    show_default=True,
    help="The most nations first, or the most lately seen first.",
)
@paging_options
@json_option
@pass_state
def regional_sightings(
    state: CliState, min_nations: int, sort: str, limit: int, cursor: str | None, as_json: bool
) -> None:
    """Indicators sighted across the region, the most widely sighted first."""
    with state.operator_unit() as ctx:
        page = sighted_page(ctx, min_nations, SightedOrder(sort), PageRequest(limit, cursor))
    rows = page.items
    emit_page(
        as_json,
        page,
        [r.as_json() for r in rows],
        lambda: emit_table(
            "Sighted indicators",
            ["Indicator", "Nations", "Sightings", "Last seen", "TLP"],
            [
                (
                    r.name,
                    ", ".join(f"{n} ({c:,})" for n, c in sorted(r.nations.items())),
                    str(r.sightings),
                    fmt_time(r.last_seen),
                    r.tlp.label if r.tlp is not None else "-",
                )
                for r in rows
            ],
        ),
    )
