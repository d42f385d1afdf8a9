"""``seawall assess round``: open a round, rate it by group, agree, consent, publish."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from seawall.assess import consents, participants, publication, rounds, suggestions
from seawall.assess.frameworks import DEFAULT_FRAMEWORK, get_framework
from seawall.catalogs import counted
from seawall.cli.assess import unit
from seawall.cli.context import CliState, pass_state
from seawall.cli.output import emit_json, emit_table, fmt_time, json_option, say
from seawall.core.nations import nation_name, normalise_nation
from seawall.db.models.assess import Round


@click.group("round")
def round_group() -> None:
    """Assessment rounds: create, rate by stakeholder group, agree, consent, publish."""


def _round_record(row: Round) -> dict[str, Any]:
    return {
        "id": row.id,
        "key": rounds.round_key(row),
        "nation": row.nation,
        "framework": row.framework_id,
        "year": row.year,
        "status": row.status,
        "partial": row.partial,
        "created_at": row.created_at,
        "created_by": row.created_by,
        "published_at": row.published_at,
        "lead": participants.lead_of(row),
        "revealed_at": row.revealed_at,
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
        say(f"Opened round {record['key']} ({row.framework_id}): id {row.id}")


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
            record["shown_status"] = _status(row)
            records.append(record)
    if as_json:
        emit_json([{k: v for k, v in r.items() if k != "shown_status"} for r in records])
        return
    emit_table(
        "Assessment rounds",
        ["Key", "Id", "Framework", "Status", "Agreed", "Published"],
        [
            (
                r["key"],
                r["id"],
                r["framework"],
                r.pop("shown_status"),
                r["agreed"],
                fmt_time(r["published_at"]),
            )
            for r in records
        ],
        drop=("Published", "Framework"),
    )


def _status(row: Round) -> str:
    """The round's status, saying when it was published partial."""
    return f"{row.status} (partial)" if row.partial else row.status


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
        "reason": f.reason,
        "rationales": f.rationales,
        "evidence": {g: list(refs) for g, refs in f.evidence.items()},
        "hidden": list(f.hidden),
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
        scores = rounds.round_dimension_scores(ctx.db, row)
        # A dimension without an agreed factor is not assessed: null, never 0.
        dimensions = [d.id for d in get_framework(ctx.db, row.framework_id).dimensions]
        record["scores"] = {d: scores.get(d) for d in dimensions}
        record["consenting_groups"] = rounds.consenting_groups(ctx.db, row.nation)
        record["invited"] = participants.invited(ctx.db, row.id)
        record["published_to"] = [
            {
                "group": p.region_group,
                "published_at": p.published_at,
                "published_by": p.published_by,
                "withdrawn_at": p.withdrawn_at,
                "withdrawn_by": p.withdrawn_by,
                "withdraw_reason": p.withdraw_reason,
            }
            for p in consents.round_publications(ctx.db, row.id)
        ]
    # A group whose stages are hidden from the caller has still rated.
    rated = {
        g.value: sum(g.value in f.ratings or g.value in f.hidden for f in view)
        for g in rounds.StakeholderGroup
    }
    record["rated"] = rated
    record["factors"] = len(view)
    record["agreed"] = sum(f.agreed_stage is not None for f in view)
    record["disagreements"] = sum(f.disagreement for f in view)
    if as_json:
        emit_json(record)
        return
    say(
        f"{nation_name(row.nation)} · {row.framework_id} · {row.year} · {_status(row)}"
        f" · {record['agreed']}/{counted(len(view), 'factor')} agreed · {record['disagreements']} "
        f"flagged"
    )
    emit_table(
        "Ratings by stakeholder group",
        ["Group", "Factors rated"],
        [(g, f"{n}/{len(view)}") for g, n in rated.items()],
    )
    emit_table(
        "Dimension scores (agreed stages)",
        ["Dimension", "Score"],
        [(d, "not assessed" if s is None else f"{s:.2f}") for d, s in record["scores"].items()],
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
                *["hidden" if g in f.hidden else f.ratings.get(g) for g in groups],
                f"{f.spread} !" if f.disagreement else f.spread,
                f.agreed_stage,
                "; ".join(t for t in (f.dissent, f.reason and f"reason: {f.reason}") if t),
            )
            for f in view
        ],
    )
    if any(f.hidden for f in view):
        say("hidden: rated, shown once your group rates the factor or the lead reveals the round")


@round_group.command("agree")
@click.argument("ref", metavar="ROUND")
@click.option("--factor", required=True, help="Factor id, e.g. D1.2.")
@click.option("--stage", type=int, required=True, help="The agreed stage.")
@click.option("--dissent", default="", help="Any dissent, in the groups' words.")
@click.option(
    "--reason", default="", help="Why, when no invited group has rated the factor (needed then)."
)
@json_option
@pass_state
def round_agree(
    state: CliState, ref: str, factor: str, stage: int, dissent: str, reason: str, as_json: bool
) -> None:
    """Record the stage the groups agreed for a factor, with any dissent."""
    with unit(state) as ctx:
        row = rounds.find_round(ctx, ref)
        agreed = rounds.agree(ctx, row.id, factor, stage, dissent, reason)
        record = {
            "round_id": row.id,
            "factor": agreed.factor_id,
            "agreed_stage": agreed.agreed_stage,
            "dissent": agreed.dissent,
            "reason": agreed.reason,
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
            # Every published round of the nation is withdrawn from that group's hub too.
            publication.revoke_consent(ctx, state.node().settings, nation, region)
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
@click.option(
    "--partial",
    is_flag=True,
    help="Publish though not every factor is agreed; the round says so wherever it is used.",
)
@click.option(
    "--group",
    "groups",
    multiple=True,
    help="Publish to this region group (repeat; default: every group the nation consents to).",
)
@json_option
@pass_state
def round_publish(
    state: CliState, ref: str, partial: bool, groups: tuple[str, ...], as_json: bool
) -> None:
    """Publish a round to region groups (by default those its nation consents to); it is
    then frozen. A published round given --group is published to that group too.

    Every factor must be agreed, unless --partial."""
    with unit(state) as ctx:
        row, sent = publication.publish_round(ctx, state.node().settings, ref, partial, groups)
        record = _round_record(row)
        record["groups"] = sorted(consents.published_groups(ctx.db, row.id))
        record["queued_for"] = {hub: list(groups) for hub, groups in sent.hubs.items()}
    if as_json:
        emit_json(record)
        return
    kind = " (partial)" if row.partial else ""
    say(
        f"Published {row.nation} {row.framework_id} {row.year}{kind} to "
        f"{', '.join(record['groups'])}"
    )
    for hub, groups in sent.hubs.items():
        say(f"  queued for hub {hub} ({', '.join(groups)}): run `seawall partner deliver`")


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


def _participant_record(p: Any) -> dict[str, Any]:
    return {
        "group": p.stakeholder_group,
        "username": p.username,
        "role": p.role,
        "invited_at": p.invited_at,
        "invited_by": p.invited_by,
    }


@round_group.command("invite")
@click.argument("ref", metavar="ROUND")
@click.option("--group", required=True, help="Stakeholder group, e.g. government, academia.")
@click.option("--rater", "raters", multiple=True, help="A user who rates for it (repeatable).")
@click.option(
    "--facilitator",
    "facilitators",
    multiple=True,
    help="A user who facilitates the round: sees every stage, records agreement (repeatable).",
)
@json_option
@pass_state
def round_invite(
    state: CliState,
    ref: str,
    group: str,
    raters: tuple[str, ...],
    facilitators: tuple[str, ...],
    as_json: bool,
) -> None:
    """Invite a stakeholder group to a round with its named raters (the round's lead)."""
    with unit(state) as ctx:
        row = rounds.find_round(ctx, ref)
        found = participants.invite(ctx, row.id, group, raters, facilitators)
        records = [_participant_record(p) for p in found]
    if as_json:
        emit_json(records)
        return
    names = ", ".join(f"{r['username']} ({r['role']})" for r in records)
    say(f"Invited {records[0]['group']} to round {row.id}: {names}")


@round_group.command("uninvite")
@click.argument("ref", metavar="ROUND")
@click.option("--group", required=True, help="Stakeholder group.")
@click.option("--user", "username", required=True, help="The rater or facilitator to remove.")
@pass_state
def round_uninvite(state: CliState, ref: str, group: str, username: str) -> None:
    """Remove a rater or facilitator from a round's group (the round's lead)."""
    with unit(state) as ctx:
        row = rounds.find_round(ctx, ref)
        participants.remove_participant(ctx, row.id, group, username)
    say(f"Removed {username} from {group} in round {row.id}")


@round_group.command("participants")
@click.argument("ref", metavar="ROUND")
@json_option
@pass_state
def round_participants(state: CliState, ref: str, as_json: bool) -> None:
    """The round's lead, its invited groups with their raters and facilitators, and whether
    its stages are revealed."""
    with unit(state) as ctx:
        row = rounds.find_round(ctx, ref)
        listed = [_participant_record(p) for p in participants.list_participants(ctx, row.id)]
        record = {
            "round_id": row.id,
            "lead": participants.lead_of(row),
            "invited": participants.invited(ctx.db, row.id),
            "revealed_at": row.revealed_at,
            "revealed_by": row.revealed_by,
            "participants": listed,
        }
    if as_json:
        emit_json(record)
        return
    say(f"Round {row.id} ({row.nation} {row.framework_id} {row.year}) is led by {record['lead']}")
    if not record["invited"]:
        say(f"No group invited: open to every assessor of {row.nation}")
        return
    if row.revealed_at is not None:
        say(f"Stages revealed {fmt_time(row.revealed_at)} by {row.revealed_by}")
    emit_table(
        "Participants",
        ["Group", "User", "Role", "Invited", "By"],
        [
            (p["group"], p["username"], p["role"], fmt_time(p["invited_at"]), p["invited_by"])
            for p in listed
        ],
    )


@round_group.command("reveal")
@click.argument("ref", metavar="ROUND")
@pass_state
def round_reveal(state: CliState, ref: str) -> None:
    """Show every group's stages to everyone who may see the round (the round's lead)."""
    with unit(state) as ctx:
        row = participants.reveal(ctx, rounds.find_round(ctx, ref).id)
    say(f"Revealed every group's stages in round {row.id}")


@round_group.command("lead")
@click.argument("ref", metavar="ROUND")
@click.argument("username", metavar="USER")
@pass_state
def round_lead(state: CliState, ref: str, username: str) -> None:
    """Hand the round's lead to another assessor of its nation (the lead or a nation admin)."""
    with unit(state) as ctx:
        row = participants.set_lead(ctx, rounds.find_round(ctx, ref).id, username)
    say(f"{row.lead} now leads round {row.id}")


COMMANDS = (round_group,)
