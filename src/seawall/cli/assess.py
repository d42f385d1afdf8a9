"""``seawall assess``: maturity assessments, indices, regional benchmarks and reports.

Every command acts as the node operator, or with ``seawall assess --as USER`` as one of this
node's users, so that the core's role and nation checks apply exactly as they do on the web.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import click

from seawall.assess import benchmark, content, frameworks, gaps, indices, rounds, suggestions
from seawall.assess.errors import RoundNotFound
from seawall.assess.frameworks import DEFAULT_FRAMEWORK
from seawall.assess.report import export
from seawall.catalogs import LANGUAGES
from seawall.cli.context import CliState, pass_state
from seawall.cli.output import (
    emit_json,
    emit_table,
    fmt_time,
    json_option,
    read_input,
    read_text_input,
    say,
    writable,
    write_file,
)
from seawall.core import users
from seawall.core.context import Ctx
from seawall.core.nations import nation_name, normalise_nation
from seawall.db.models.assess import RoadmapItem, Round
from seawall.errors import InvalidInput

AS_USER = "seawall.assess.as"


@click.group()
@click.option(
    "--as",
    "as_user",
    default=None,
    metavar="USER",
    help="Act as this node user (their role and nation apply); default: the node operator.",
)
@click.pass_context
def assess(ctx: click.Context, as_user: str | None) -> None:
    """National cybersecurity maturity: CMM and GCI assessments, regions, reports."""
    ctx.meta[AS_USER] = as_user


@contextmanager
def unit(state: CliState) -> Iterator[Ctx]:
    """A unit of work as the operator, or as the user named with ``--as``."""
    node = state.node()
    as_user = click.get_current_context().meta.get(AS_USER)
    with node.unit(node.operator()) as ctx:
        if as_user:
            ctx.who = users.act_as(ctx, as_user, source="cli")
        yield ctx


def _write(out: str, data: str | bytes) -> None:
    if out == "-":
        if isinstance(data, bytes):
            sys.stdout.buffer.write(data)
        else:
            sys.stdout.write(data)
        return
    path = Path(out)
    write_file(path, data if isinstance(data, bytes) else data.encode())
    say(f"Wrote {path} ({path.stat().st_size:,} bytes)")


# ---------------------------------------------------------------------------- frameworks


@assess.group("frameworks")
def frameworks_group() -> None:
    """Framework packs: the shipped CMM 2021, GCI 2024 and NIST CSF 2.0, and imported ones."""


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
    if as_json:
        emit_json(rows)
        return
    emit_table(
        "Framework packs",
        ["Id", "Name", "Kind", "Dimensions", "Factors", "Origin"],
        [
            (
                r["id"],
                r["name"],
                r["kind"],
                r["dimensions"],
                r["factors"],
                "shipped" if r["shipped"] else "imported",
            )
            for r in rows
        ],
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
    if as_json:
        emit_json({"id": imported.id, "name": imported.name, "factors": len(imported.factors())})
    else:
        say(f"Imported {imported.id} ({imported.name}): {len(imported.factors())} factors")


# ---------------------------------------------------------------------------- content


@assess.group("content")
def content_group() -> None:
    """Content packs: licensed indicator texts, checked by sha256, never shipped."""


@content_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--framework", "framework_id", default=DEFAULT_FRAMEWORK, show_default=True)
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
    if as_json:
        emit_json(result)
    else:
        say(f"Imported content pack {result['name']} for {framework_id} (sha256 {row.sha256})")


# ---------------------------------------------------------------------------- index


@assess.group("index")
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
    if as_json:
        emit_json(rows)
        return
    emit_table(
        "Index editions",
        ["Edition", "Framework", "Year", "Origin", "Comparability"],
        [
            (
                r["id"],
                r["framework"],
                r["year"],
                "shipped" if r["shipped"] else "imported",
                r["comparability"],
            )
            for r in rows
        ],
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
    if as_json:
        emit_json(export.index_records(rows))
    else:
        say(f"Imported {edition}: {len(rows)} rows")


# ---------------------------------------------------------------------------- rounds


@assess.group("round")
def round_group() -> None:
    """Assessment rounds: create, rate by stakeholder group, agree, consent, publish."""


def _round_record(row: Round) -> dict[str, Any]:
    return {
        "id": row.id,
        "nation": row.nation,
        "framework": row.framework_id,
        "year": row.year,
        "status": row.status,
        "created_at": row.created_at,
        "created_by": row.created_by,
        "published_at": row.published_at,
    }


@round_group.command("create")
@click.option("--nation", required=True, help="ISO code of the nation assessed.")
@click.option("--framework", "framework_id", default=DEFAULT_FRAMEWORK, show_default=True)
@click.option("--year", type=int, required=True)
@json_option
@pass_state
def round_create(state: CliState, nation: str, framework_id: str, year: int, as_json: bool) -> None:
    """Open a round for a nation, a framework and a year."""
    with unit(state) as ctx:
        row = rounds.create_round(ctx, nation, framework_id, year)
        record = _round_record(row)
    if as_json:
        emit_json(record)
    else:
        say(f"Opened round {row.id} ({row.nation} {row.framework_id} {row.year})")


@round_group.command("list")
@json_option
@pass_state
def round_list(state: CliState, as_json: bool) -> None:
    """List the rounds you may see, newest year first."""
    with unit(state) as ctx:
        records = []
        for row in rounds.list_rounds(ctx):
            record = _round_record(row)
            record["agreed"] = len(rounds.agreed_stages(ctx.db, row.id))
            records.append(record)
    if as_json:
        emit_json(records)
        return
    emit_table(
        "Assessment rounds",
        ["Id", "Nation", "Framework", "Year", "Status", "Agreed", "Published"],
        [
            (
                r["id"],
                r["nation"],
                r["framework"],
                r["year"],
                r["status"],
                r["agreed"],
                fmt_time(r["published_at"]),
            )
            for r in records
        ],
    )


def _consensus_record(f: rounds.FactorConsensus) -> dict[str, Any]:
    return {
        "factor": f.factor_id,
        "name": f.factor_name,
        "dimension": f.dimension_id,
        "ratings": f.ratings,
        "missing_groups": list(f.missing_groups),
        "lowest": f.lowest,
        "highest": f.highest,
        "spread": f.spread,
        "mean": f.mean,
        "disagreement": f.disagreement,
        "agreed_stage": f.agreed_stage,
        "dissent": f.dissent,
    }


@round_group.command("show")
@click.argument("ref", metavar="ROUND")
@json_option
@pass_state
def round_show(state: CliState, ref: str, as_json: bool) -> None:
    """Show a round: status, dimension scores and progress of each group."""
    with unit(state) as ctx:
        row = rounds.find_round(ctx, ref)
        record = _round_record(row)
        view = rounds.consensus_view(ctx, row.id)
        record["scores"] = rounds.round_dimension_scores(ctx.db, row)
        record["consenting_groups"] = rounds.consenting_groups(ctx.db, row.nation)
    rated = {g.value: sum(g.value in f.ratings for f in view) for g in rounds.StakeholderGroup}
    record["rated"] = rated
    record["factors"] = len(view)
    record["agreed"] = sum(f.agreed_stage is not None for f in view)
    record["disagreements"] = sum(f.disagreement for f in view)
    if as_json:
        emit_json(record)
        return
    say(
        f"{nation_name(row.nation)} · {row.framework_id} · {row.year} · {row.status}"
        f" · {record['agreed']}/{len(view)} factors agreed · {record['disagreements']} flagged"
    )
    emit_table(
        "Ratings by stakeholder group",
        ["Group", "Factors rated"],
        [(g, f"{n}/{len(view)}") for g, n in rated.items()],
    )
    emit_table(
        "Dimension scores (agreed stages)",
        ["Dimension", "Score"],
        [(d, f"{s:.2f}") for d, s in sorted(record["scores"].items())],
    )


@round_group.command("rate")
@click.argument("ref", metavar="ROUND")
@click.option("--group", required=True, help="Stakeholder group, e.g. government, academia.")
@click.option("--factor", required=True, help="Factor id, e.g. D1.2.")
@click.option("--stage", type=int, required=True, help="Stage on the framework's scale (1-5).")
@click.option("--rationale", default="", help="Why this stage.")
@click.option("--evidence", multiple=True, help="Evidence id or URL (repeatable).")
@json_option
@pass_state
def round_rate(
    state: CliState,
    ref: str,
    group: str,
    factor: str,
    stage: int,
    rationale: str,
    evidence: Sequence[str],
    as_json: bool,
) -> None:
    """Record one stakeholder group's stage for a factor (again to replace it)."""
    with unit(state) as ctx:
        row = rounds.find_round(ctx, ref)
        rating = rounds.rate(ctx, row.id, group, factor, stage, rationale, evidence)
        record = {
            "round_id": row.id,
            "group": rating.stakeholder_group,
            "factor": rating.factor_id,
            "stage": rating.stage,
            "evidence": list(rating.evidence_refs),
        }
    if as_json:
        emit_json(record)
    else:
        say(f"Rated {factor} at stage {stage} for {record['group']}")


@round_group.command("consensus")
@click.argument("ref", metavar="ROUND")
@click.option("--flagged", is_flag=True, help="Only factors where groups disagree.")
@json_option
@pass_state
def round_consensus(state: CliState, ref: str, flagged: bool, as_json: bool) -> None:
    """Show each factor's ratings by group, spread, disagreement flag and agreed stage."""
    with unit(state) as ctx:
        row = rounds.find_round(ctx, ref)
        view = rounds.consensus_view(ctx, row.id)
    if flagged:
        view = [f for f in view if f.disagreement]
    if as_json:
        emit_json([_consensus_record(f) for f in view])
        return
    groups = [g.value for g in rounds.StakeholderGroup]
    emit_table(
        f"Consensus · {row.nation} {row.framework_id} {row.year}",
        ["Factor", *[g.replace("_", " ") for g in groups], "Spread", "Agreed", "Dissent"],
        [
            (
                f.factor_id,
                *[f.ratings.get(g) for g in groups],
                f"{f.spread} !" if f.disagreement else f.spread,
                f.agreed_stage,
                f.dissent,
            )
            for f in view
        ],
    )


@round_group.command("agree")
@click.argument("ref", metavar="ROUND")
@click.option("--factor", required=True, help="Factor id, e.g. D1.2.")
@click.option("--stage", type=int, required=True, help="The agreed stage.")
@click.option("--dissent", default="", help="Any dissent, in the groups' words.")
@json_option
@pass_state
def round_agree(
    state: CliState, ref: str, factor: str, stage: int, dissent: str, as_json: bool
) -> None:
    """Record the stage the groups agreed for a factor, with any dissent."""
    with unit(state) as ctx:
        row = rounds.find_round(ctx, ref)
        agreed = rounds.agree(ctx, row.id, factor, stage, dissent)
        record = {
            "round_id": row.id,
            "factor": agreed.factor_id,
            "agreed_stage": agreed.agreed_stage,
            "dissent": agreed.dissent,
        }
    if as_json:
        emit_json(record)
    else:
        say(f"Agreed {factor} at stage {stage}" + (" (dissent recorded)" if dissent else ""))


@round_group.command("consent")
@click.option("--nation", required=True, help="ISO code of the consenting nation.")
@click.option("--group", "region", required=True, help="Region group, e.g. CARICOM.")
@click.option("--revoke", is_flag=True, help="Withdraw consent instead of granting it.")
@json_option
@pass_state
def round_consent(state: CliState, nation: str, region: str, revoke: bool, as_json: bool) -> None:
    """Record (or revoke) a nation's consent to publish its assessments to a region group."""
    with unit(state) as ctx:
        if revoke:
            rounds.revoke_consent(ctx, nation, region)
        else:
            rounds.grant_consent(ctx, nation, region)
        iso2 = normalise_nation(nation)
        groups = rounds.consenting_groups(ctx.db, iso2)
    if as_json:
        emit_json({"nation": iso2, "consenting_groups": groups})
    else:
        verb = "Revoked" if revoke else "Recorded"
        say(f"{verb} consent of {iso2} for {region.upper()}; now consents to: {groups or 'none'}")


@round_group.command("publish")
@click.argument("ref", metavar="ROUND")
@json_option
@pass_state
def round_publish(state: CliState, ref: str, as_json: bool) -> None:
    """Publish a round to the region groups its nation consents to; it is then frozen."""
    with unit(state) as ctx:
        row = rounds.publish(ctx, rounds.find_round(ctx, ref).id)
        record = _round_record(row)
        record["groups"] = rounds.consenting_groups(ctx.db, row.nation)
    if as_json:
        emit_json(record)
    else:
        say(
            f"Published {row.nation} {row.framework_id} {row.year} to {', '.join(record['groups'])}"
        )


@round_group.command("evidence")
@click.argument("ref", metavar="ROUND")
@json_option
@pass_state
def round_evidence(state: CliState, ref: str, as_json: bool) -> None:
    """Evidence from the other pillars suggested on the factors it supports."""
    with unit(state) as ctx:
        found = suggestions.suggested_evidence(ctx, rounds.find_round(ctx, ref).id)
    records: list[dict[str, Any]] = [
        {
            "factor": factor,
            "evidence_id": s.evidence_id,
            "pillar": s.pillar,
            "kind": s.kind,
            "summary": s.summary,
            "outcome": s.outcome,
            "occurred_at": s.occurred_at,
        }
        for factor, items in sorted(found.items())
        for s in items
    ]
    if as_json:
        emit_json(records)
        return
    emit_table(
        "Suggested evidence",
        ["Factor", "Evidence id", "Pillar", "Outcome", "When", "Summary"],
        [
            (
                r["factor"],
                r["evidence_id"],
                r["pillar"],
                r["outcome"],
                fmt_time(r["occurred_at"]),
                r["summary"],
            )
            for r in records
        ],
    )


# ---------------------------------------------------------------------------- gaps, roadmap


@assess.group("gaps")
def gaps_group() -> None:
    """Gaps: factors whose agreed stage is below the nation's target."""


@gaps_group.command("show")
@click.argument("ref", metavar="ROUND")
@click.option("--default-target", type=int, default=None, help="Target for factors without one.")
@json_option
@pass_state
def gaps_show(state: CliState, ref: str, default_target: int | None, as_json: bool) -> None:
    """List the factors of a round below their target, and by how much."""
    with unit(state) as ctx:
        found = gaps.round_gaps(ctx, rounds.find_round(ctx, ref).id, default_target)
    records = [
        {
            "factor": g.factor_id,
            "name": g.factor_name,
            "dimension": g.dimension_id,
            "current": g.current,
            "target": g.target,
            "gap": g.gap,
        }
        for g in found
    ]
    if as_json:
        emit_json(records)
        return
    emit_table(
        "Gaps",
        ["Factor", "Name", "Current", "Target", "Gap"],
        [(r["factor"], r["name"], r["current"], r["target"], r["gap"]) for r in records],
    )


@gaps_group.command("target")
@click.option("--nation", required=True)
@click.option("--framework", "framework_id", default=DEFAULT_FRAMEWORK, show_default=True)
@click.option("--factor", required=True)
@click.option("--stage", type=int, required=True, help="The stage the nation aims for.")
@pass_state
def gaps_target(state: CliState, nation: str, framework_id: str, factor: str, stage: int) -> None:
    """Set the stage a nation aims for on a factor."""
    with unit(state) as ctx:
        row = gaps.set_target(ctx, nation, framework_id, factor, stage)
    say(f"Target for {row.nation} {row.factor_id} set to stage {row.stage}")


@assess.group("roadmap")
def roadmap_group() -> None:
    """Roadmap items: actions that close gaps, with owners, due dates and progress."""


def _item_record(item: RoadmapItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "nation": item.nation,
        "framework": item.framework_id,
        "factor": item.factor_id,
        "action": item.action,
        "owner": item.owner,
        "due": item.due.isoformat(),
        "status": item.status,
        "progress": item.progress,
    }


def _parse_due(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"due date {value!r} is not a date: use YYYY-MM-DD") from None


@roadmap_group.command("add")
@click.option("--nation", required=True)
@click.option("--framework", "framework_id", default=DEFAULT_FRAMEWORK, show_default=True)
@click.option("--factor", required=True)
@click.option("--action", required=True, help="What will be done.")
@click.option("--owner", required=True, help="Who is responsible.")
@click.option("--due", required=True, help="Due date, YYYY-MM-DD.")
@click.option("--status", default="planned", show_default=True)
@json_option
@pass_state
def roadmap_add(
    state: CliState,
    nation: str,
    framework_id: str,
    factor: str,
    action: str,
    owner: str,
    due: str,
    status: str,
    as_json: bool,
) -> None:
    """Add a roadmap action for a factor."""
    when = _parse_due(due)
    with unit(state) as ctx:
        item = gaps.add_item(ctx, nation, framework_id, factor, action, owner, when, status)
        record = _item_record(item)
    if as_json:
        emit_json(record)
    else:
        say(f"Added roadmap item {item.id} for {item.factor_id}, due {record['due']}")


@roadmap_group.command("list")
@click.option("--nation", required=True)
@click.option("--framework", "framework_id", default=None)
@json_option
@pass_state
def roadmap_list(state: CliState, nation: str, framework_id: str | None, as_json: bool) -> None:
    """List a nation's roadmap, soonest due first, with each item's history."""
    with unit(state) as ctx:
        records = []
        for item in gaps.list_items(ctx, nation, framework_id):
            record = _item_record(item)
            record["history"] = [
                {"at": h.at, "status": h.status, "progress": h.progress, "note": h.note}
                for h in gaps.history(ctx, item.id)
            ]
            records.append(record)
    if as_json:
        emit_json(records)
        return
    emit_table(
        "Roadmap",
        ["Id", "Factor", "Action", "Owner", "Due", "Status", "Done"],
        [
            (
                r["id"],
                r["factor"],
                r["action"],
                r["owner"],
                r["due"],
                r["status"],
                f"{r['progress']}%",
            )
            for r in records
        ],
    )


@roadmap_group.command("update")
@click.argument("item_id", metavar="ITEM")
@click.option("--status", default=None, help="planned, in_progress, done or dropped.")
@click.option("--progress", type=int, default=None, help="Percent done, 0-100.")
@click.option("--note", default="", help="What changed.")
@json_option
@pass_state
def roadmap_update(
    state: CliState,
    item_id: str,
    status: str | None,
    progress: int | None,
    note: str,
    as_json: bool,
) -> None:
    """Record progress on a roadmap item; every update is kept."""
    with unit(state) as ctx:
        item = gaps.update_item(ctx, item_id, status, progress, note)
        record = _item_record(item)
    if as_json:
        emit_json(record)
    else:
        say(f"Roadmap item {item.id}: {item.status}, {item.progress}% done")


# ---------------------------------------------------------------------------- region, reports


@assess.command("region")
@click.option("--group", default="CARICOM", show_default=True, help="CARICOM, OECS, ...")
@click.option("--framework", "framework_id", default=DEFAULT_FRAMEWORK, show_default=True)
@json_option
@pass_state
def region(state: CliState, group: str, framework_id: str, as_json: bool) -> None:
    """The region's consented panel and its statements, each with the rows behind it."""
    with unit(state) as ctx:
        view = benchmark.region_view(ctx, group, framework_id)
    data = export.region_data(view)
    if as_json:
        emit_json(data)
        return
    latest = benchmark.latest_rows(view.panel)
    dims = sorted({d for r in latest.values() for d in r.dimensions})
    emit_table(
        f"{view.group} · latest consented rounds ({len(latest)} of {len(view.members)} members)",
        ["Nation", "Year", *dims],
        [
            (n, r.year, *[f"{r.dimensions[d]:.2f}" if d in r.dimensions else "" for d in dims])
            for n, r in sorted(latest.items())
        ],
    )
    for s in view.statements:
        say(f"• {s.text}" + (f" ({', '.join(s.nations)})" if s.nations else ""))


@assess.command("report")
@click.option("--nation", required=True)
@click.option("--format", "fmt", type=click.Choice(["pdf", "html"]), default="pdf")
@click.option("--out", required=True, help="Output file ('-' for stdout).")
@click.option("--framework", "framework_id", default=DEFAULT_FRAMEWORK, show_default=True)
@click.option("--region", "region_group", default="CARICOM", show_default=True)
@click.option("--index-group", default="CARIBBEAN", show_default=True)
@click.option("--default-target", type=int, default=None, help="Target for factors without one.")
@click.option(
    "--language",
    type=click.Choice(list(LANGUAGES)),
    default=None,
    help="The report's language (default: the node's language setting).",
)
@pass_state
def report(
    state: CliState,
    nation: str,
    fmt: str,
    out: str,
    framework_id: str,
    region_group: str,
    index_group: str,
    default_target: int | None,
    language: str | None,
) -> None:
    """Write a nation's report (radar, trends, region, GCI bars, gaps, roadmap) as PDF or HTML."""
    if out != "-":
        writable(Path(out))
    # imported here: matplotlib and WeasyPrint are slow to load and only reports need them
    from seawall.assess.report import document

    with unit(state) as ctx:
        built = document.build_report(
            ctx, nation, framework_id, region_group or None, index_group, default_target
        )
    html = document.render_html(built, language or state.node().settings.language)
    _write(out, document.render_pdf(html) if fmt == "pdf" else html)


@assess.command("export")
@click.option("--nation", default=None, help="The nation whose rounds to export.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv")
@click.option("--out", required=True, help="Output file ('-' for stdout).")
@click.option(
    "--data",
    "what",
    type=click.Choice(["rounds", "index", "region"]),
    default="rounds",
    show_default=True,
    help="Rounds of a nation, an index edition, or a region view.",
)
@click.option("--framework", "framework_id", default=DEFAULT_FRAMEWORK, show_default=True)
@click.option("--year", type=int, default=None, help="Only the round of this year.")
@click.option("--edition", default=indices.GCI_2024, show_default=True)
@click.option("--group", default=None, help="Region group for index and region data.")
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
) -> None:
    """Export rounds (one record per factor), index scores or a region view as CSV or JSON."""
    if out != "-":
        writable(Path(out))
    with unit(state) as ctx:
        data: Any
        if what == "index":
            data = export.index_records(indices.edition_rows(ctx.db, edition, group))
        elif what == "region":
            view = benchmark.region_view(ctx, group or "CARICOM", framework_id)
            data = export.region_data(view)
            if fmt == "csv":
                data = [
                    {"statement": s["key"], "text": s["text"], **ref}
                    for s in data["statements"]
                    for ref in s["rows"]
                ]
        else:
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
            data = [
                rec
                for r in sorted(chosen, key=lambda r: r.year)
                for rec in export.round_records(ctx, r.id)
            ]
    text = export.to_csv(data) if fmt == "csv" else export.to_json(data)
    _write(out, text)
