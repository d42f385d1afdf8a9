"""``seawall assess region``, ``report`` and ``export``: what a region and a nation publish."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from seawall.assess import benchmark, indices, rounds
from seawall.assess.errors import RoundNotFound
from seawall.assess.frameworks import get_framework
from seawall.assess.report import export
from seawall.catalogs import LANGUAGES, counted
from seawall.cli.assess import framework_option, unit
from seawall.cli.context import CliState, pass_state
from seawall.cli.output import (
    emit_json,
    emit_line,
    emit_table,
    json_option,
    say,
    writable,
    write_file,
)
from seawall.core.context import Ctx
from seawall.core.nations import normalise_nation
from seawall.errors import InvalidInput

out_option = click.option("--out", "-o", "out", required=True, help="Output file ('-' for stdout).")


def _check_writable(out: str) -> None:
    """Refuse an output file that cannot be written before any work ('-' is stdout)."""
    if out != "-":
        writable(Path(out))


def _write(out: str, data: str | bytes) -> None:
    if out == "-":
        if isinstance(data, bytes):
            sys.stdout.buffer.write(data)
        else:
            sys.stdout.write(data)
        return
    path = Path(out)
    write_file(path, data if isinstance(data, bytes) else data.encode())
    say(f"Wrote {path} ({counted(path.stat().st_size, 'byte', grouped=True)})")


@click.command("region")
@click.option("--group", default="CARICOM", show_default=True, help="CARICOM, OECS, ...")
@framework_option
@click.option(
    "--baseline",
    type=int,
    default=None,
    help="Year 'improved' compares against (default: each nation's two latest rounds).",
)
@json_option
@pass_state
def region(
    state: CliState, group: str, framework_id: str, baseline: int | None, as_json: bool
) -> None:
    """The region's consented panel, its statements with the rows behind them, and rankings."""
    with unit(state) as ctx:
        view = benchmark.region_view(ctx, group, framework_id, baseline)
    data = export.region_data(view)
    if as_json:
        emit_json(data)
        return
    latest = benchmark.latest_rows(view.panel)
    dims = sorted({d for r in latest.values() for d in r.dimensions})
    emit_table(
        f"{view.group} · latest consented rounds ({len(latest)} of "
        f"{counted(len(view.members), 'member')})",
        ["Nation", "Year", *dims],
        [
            (n, r.year, *[f"{r.dimensions[d]:.2f}" if d in r.dimensions else "" for d in dims])
            for n, r in sorted(latest.items())
        ],
    )
    for s in view.statements:
        named = s.nations and s.key not in ("leaders", "strongest", "weakest")
        emit_line(f"• {s.text}" + (f" ({', '.join(s.nations)})" if named else ""))
    emit_table(
        "Ranking by mean dimension score (latest complete round)",
        ["Rank", "Nation", "Year", "Score", "GCI 2024", "Tier"],
        [
            (n.rank, n.nation, n.year, f"{n.overall:.2f}", f"{n.gci:.2f}" if n.gci else "",
             f"{n.tier_id} {n.tier_name}" if n.tier_id else "")
            for n in view.ranking
        ],
    )  # fmt: skip
    emit_table(
        "Dimensions by mean score",
        ["Rank", "Dimension", "Name", "Mean"],
        [(d.rank, d.dimension, d.name, f"{d.mean:.2f}") for d in view.dimension_ranking],
    )
    for r in view.incomplete:
        emit_line(
            f"Left out: {r.nation} {r.year} agrees {counted(len(r.factors), 'factor')}, not every "
            f"one"
        )
    for w in view.withdrawn:
        emit_line(f"Withdrawn: {w.nation} {w.year} on {w.at[:10]} by {w.by}: {w.reason}")


@click.command("report")
@click.option("--nation", default=None, help="The nation whose report to write.")
@click.option("--group", default=None, help="A region group: its regional report instead.")
@click.option("--format", "fmt", type=click.Choice(["pdf", "html"]), default="pdf")
@out_option
@framework_option
@click.option("--region", "region_group", default="CARICOM", show_default=True)
@click.option("--index-group", default="CARIBBEAN", show_default=True)
@click.option("--default-target", type=int, default=None, help="Target for factors without one.")
@click.option(
    "--language",
    type=click.Choice(list(LANGUAGES)),
    default=None,
    help="The report's language (default: the node's language setting).",
)
@click.option(
    "--baseline", type=int, default=None, help="Regional report: year 'improved' compares against."
)
@click.option(
    "--tlp",
    default=None,
    help="The report's TLP marking: clear, green, amber, amber+strict or red "
    "(default: amber for a nation, clear for a group).",
)
@pass_state
def report(
    state: CliState,
    nation: str | None,
    group: str | None,
    fmt: str,
    out: str,
    framework_id: str,
    region_group: str,
    index_group: str,
    default_target: int | None,
    language: str | None,
    baseline: int | None,
    tlp: str | None,
) -> None:
    """Write a nation's report (radar, trends, region, GCI bars, gaps, roadmap) or a group's
    regional report (statements and their figures, rankings, panel, sources) as PDF or HTML."""
    if (nation is None) == (group is None):
        raise InvalidInput("give exactly one of --nation and --group")
    _check_writable(out)
    # imported here: matplotlib and WeasyPrint are slow to load and only reports need them
    from seawall.assess.report import document, regional

    language = language or state.node().settings.language
    if group is not None:
        with unit(state) as ctx:
            regional_report = regional.build_regional_report(
                ctx, group, framework_id, baseline, tlp
            )
        html = regional.render_regional_html(regional_report, language)
    else:
        assert nation is not None
        with unit(state) as ctx:
            built = document.build_report(
                ctx, nation, framework_id, region_group or None, index_group, default_target, tlp
            )
        html = document.render_html(built, language)
    _write(out, document.render_pdf(html) if fmt == "pdf" else html)


@click.command("export")
@click.option("--nation", default=None, help="The nation whose rounds to export.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv")
@out_option
@click.option(
    "--data",
    "what",
    type=click.Choice(["rounds", "index", "region", "panel"]),
    default="rounds",
    show_default=True,
    help="Rounds of a nation, an index edition, a region view, or a region's whole panel.",
)
@framework_option
@click.option("--year", type=int, default=None, help="Only the round of this year.")
@click.option("--edition", default=indices.GCI_2024, show_default=True)
@click.option("--group", default=None, help="Region group for index, region and panel data.")
@click.option(
    "--baseline", type=int, default=None, help="Region data: year 'improved' compares against."
)
@pass_state
def export_command(
    state: CliState,
    nation: str | None,
    fmt: str,
    out: str,
    what: str,
    framework_id: str,
    year: int | None,
    edition: str,
    group: str | None,
    baseline: int | None,
) -> None:
    """Export rounds (one record per factor), index scores, a region view or its panel."""
    _check_writable(out)
    with unit(state) as ctx:
        data: Any
        if what == "index":
            data = export.index_records(indices.edition_rows(ctx.db, edition, group))
        elif what in ("region", "panel"):
            view = benchmark.region_view(ctx, group or "CARICOM", framework_id, baseline)
            if what == "panel":
                data = export.region_panel_records(view, get_framework(ctx.db, view.framework_id))
            else:
                data = (
                    export.region_statement_records(view)
                    if fmt == "csv"
                    else export.region_data(view)
                )
        else:
            data = _rounds_export(ctx, nation, framework_id, year)
    text = export.to_csv(data) if fmt == "csv" else export.to_json(data)
    _write(out, text)


def _rounds_export(
    ctx: Ctx, nation: str | None, framework_id: str, year: int | None
) -> list[dict[str, Any]]:
    """The records of a nation's rounds of a framework (or of one year), oldest first."""
    if nation is None:
        raise InvalidInput("--nation is needed to export rounds")
    iso2 = normalise_nation(nation)
    chosen = [
        r
        for r in rounds.list_rounds(ctx)
        if r.nation == iso2 and r.framework_id == framework_id
        if year is None or r.year == year
    ]
    if not chosen:
        raise RoundNotFound(
            f"no {framework_id} round for {iso2}"
            + (f" in {year}" if year else "")
            + f" visible to {ctx.who.username}"
        )
    return [
        rec for r in sorted(chosen, key=lambda r: r.year) for rec in export.round_records(ctx, r.id)
    ]


COMMANDS = (region, report, export_command)
