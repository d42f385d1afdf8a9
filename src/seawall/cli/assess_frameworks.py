"""``seawall assess frameworks``, ``content`` and ``index``: packs and outside indices."""

from __future__ import annotations

from pathlib import Path

import click

from seawall.assess import content, frameworks, indices
from seawall.assess.report import export
from seawall.catalogs import counted
from seawall.cli.assess import framework_option, unit
from seawall.cli.context import CliState, pass_state
from seawall.cli.output import (
    emit_json,
    emit_or_say,
    emit_or_table,
    emit_table,
    json_option,
    read_input,
    read_text_input,
    say,
)


@click.group("frameworks")
def frameworks_group() -> None:
    """Framework packs: shipped (CMM 2021, GCI 2024, NIST CSF 2.0, SIM3 v2) and imported."""


@frameworks_group.command("list")
@json_option
@pass_state
def frameworks_list(state: CliState, as_json: bool) -> None:
    """List the framework packs this node knows."""
    with unit(state) as ctx:
        packs = frameworks.available_frameworks(ctx.db)
        shipped = frameworks.shipped_frameworks()
    rows = [
        {
            "id": p.id,
            "name": p.name,
            "version": p.version,
            "kind": p.kind,
            "dimensions": len(p.dimensions),
            "factors": len(p.factors()),
            "shipped": p.id in shipped,
            "source": p.source,
        }
        for p in packs.values()
    ]
    emit_or_table(
        as_json,
        rows,
        "Framework packs",
        ["Id", "Name", "Kind", "Dimensions", "Factors", "Origin"],
        (
            (
                r["id"],
                r["name"],
                r["kind"],
                r["dimensions"],
                r["factors"],
                "shipped" if r["shipped"] else "imported",
            )
            for r in rows
        ),
    )


@frameworks_group.command("import")
@click.argument("pack", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@pass_state
def frameworks_import(state: CliState, pack: Path, as_json: bool) -> None:
    """Validate and import a custom framework pack (YAML, format seawall.framework/1)."""
    text = read_text_input(pack)
    with unit(state) as ctx:
        imported = frameworks.import_framework(ctx, text, pack.name)
    emit_or_say(
        as_json,
        {"id": imported.id, "name": imported.name, "factors": len(imported.factors())},
        f"Imported {imported.id} ({imported.name}): {counted(len(imported.factors()), 'factor')}",
    )


# ---------------------------------------------------------------------------- content


@click.group("content")
def content_group() -> None:
    """Content packs: licensed indicator texts, checked by sha256, never shipped."""


@content_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@framework_option
@click.option("--sha256", "expected", default=None, help="The digest published with the copy.")
@json_option
@pass_state
def content_import(
    state: CliState, file: Path, framework_id: str, expected: str | None, as_json: bool
) -> None:
    """Import a content pack of indicator texts after checking its sha256."""
    data = read_input(file)
    with unit(state) as ctx:
        row = content.import_content(ctx, data, file.name, framework_id, expected)
        result = {"id": row.id, "framework": row.framework_id, "name": row.name}
        result["sha256"] = row.sha256
    emit_or_say(
        as_json,
        result,
        f"Imported content pack {result['name']} for {framework_id} (sha256 {row.sha256})",
    )


# ---------------------------------------------------------------------------- index


@click.group("index")
def index_group() -> None:
    """Outside indices: the ITU GCI 2024 figures, tiers, and editions imported from CSV."""


@index_group.command("list")
@json_option
@pass_state
def index_list(state: CliState, as_json: bool) -> None:
    """List index editions, shipped and imported, with comparability notes."""
    with unit(state) as ctx:
        editions = indices.list_editions(ctx.db)
    rows = [
        {
            "id": e.id,
            "framework": e.framework_id,
            "year": e.year,
            "shipped": e.shipped,
            "comparability": e.comparability,
            "source": e.source,
        }
        for e in editions
    ]
    emit_or_table(
        as_json,
        rows,
        "Index editions",
        ["Edition", "Framework", "Year", "Origin", "Comparability"],
        (
            (
                r["id"],
                r["framework"],
                r["year"],
                "shipped" if r["shipped"] else "imported",
                r["comparability"],
            )
            for r in rows
        ),
    )


def _short(pillar: str) -> str:
    return pillar.split("_")[0][:5].capitalize()


@index_group.command("show")
@click.argument("edition", default=indices.GCI_2024)
@click.option("--group", default=None, help="Only members of a region group (e.g. caribbean).")
@json_option
@pass_state
def index_show(state: CliState, edition: str, group: str | None, as_json: bool) -> None:
    """Show an edition's scores with tiers and sources, best first."""
    with unit(state) as ctx:
        rows = indices.edition_rows(ctx.db, edition, group)
    records = export.index_records(rows)
    if as_json:
        emit_json(records)
        return
    pillars = list(dict.fromkeys(k for r in records for k in r if k.startswith("pillar_")))
    sources = list(dict.fromkeys(r.source for r in rows))
    emit_table(
        f"{edition}" + (f" · {group.upper()}" if group else ""),
        ["ISO3", "Overall", *[_short(p.removeprefix("pillar_")) for p in pillars], "Tier", "Src"],
        [
            (
                r["iso3"] + ("" if r["primary"] else " (alt.)"),
                f"{r['overall']:.2f}",
                *[f"{r[p]:.2f}" if p in r else "" for p in pillars],
                f"{r['tier'] or ''} {r['tier_name'] or ''}".strip(),
                f"[{sources.index(r['source']) + 1}]",
            )
            for r in records
        ],
    )
    for n, source in enumerate(sources, 1):
        say(f"[{n}] {source}")


@index_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--edition", required=True, help="Id of the new edition, e.g. gci-2026.")
@click.option("--framework", "framework_id", default=indices.GCI_2024, show_default=True)
@click.option("--year", type=int, required=True, help="Publication year of the edition.")
@click.option("--source", default=None, help="Source for rows whose CSV has no source column.")
@json_option
@pass_state
def index_import(
    state: CliState,
    file: Path,
    edition: str,
    framework_id: str,
    year: int,
    source: str | None,
    as_json: bool,
) -> None:
    """Import an index edition from CSV; a single bad row refuses the whole file."""
    text = read_text_input(file)
    with unit(state) as ctx:
        rows = indices.import_edition(ctx, text, file.name, framework_id, edition, year, source)
    emit_or_say(
        as_json, export.index_records(rows), f"Imported {edition}: {counted(len(rows), 'row')}"
    )


COMMANDS = (frameworks_group, content_group, index_group)
