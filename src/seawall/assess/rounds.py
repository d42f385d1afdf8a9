"""Assessment rounds: stakeholder groups rate, reach consensus, and the nation publishes.

A round is private to its nation. Each of the six stakeholder groups rates every factor on its
own; the consensus view shows where the groups stand and flags factors where they are far apart
(two or more stages between the lowest and the highest rating). The agreed stage is recorded
with any dissent. Publishing needs the publish permission, the nation's consent to show its
assessments to at least one region group, and every factor agreed, or the publisher's explicit
choice to publish it partial, which the round then carries wherever it is used; only then do
regional views use the round (and regional statements only complete ones).

Once the round's lead invites stakeholder groups, the round is bound to their named raters
(:mod:`seawall.assess.roster` says who may rate, see and agree; :mod:`seawall.assess.participants`
changes who takes part). Each group a round is published to is recorded on the round
(:mod:`seawall.assess.consents`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from statistics import fmean

from sqlalchemy import select
from sqlalchemy.orm import Session

from seawall.assess import consents, roster
from seawall.assess.content import framework_with_content
from seawall.assess.errors import (
    ConsentMissing,
    NothingAgreed,
    ReasonRequired,
    RoundExists,
    RoundIncomplete,
    RoundNotFound,
    RoundPublished,
    UnknownFactor,
    UnknownStakeholderGroup,
    WrongFrameworkKind,
)
from seawall.assess.frameworks import DEFAULT_FRAMEWORK, Framework, get_framework
from seawall.assess.scoring import Lift, check_stage, dimension_scores, factor_stage, lift
from seawall.catalogs import N_
from seawall.core.access import Perm, require, require_nation
from seawall.core.context import Ctx
from seawall.core.nations import normalise_nation, region_members
from seawall.core.refs import by_prefix
from seawall.db.models.assess import Consensus, PublicationConsent, Rating, Round
from seawall.errors import Forbidden, InvalidInput, parse_choice

DISAGREEMENT_SPREAD = 2
OPEN = "open"
PUBLISHED = "published"
MIN_YEAR, MAX_YEAR = 1990, 2100
MAX_TEXT = 10_000


class StakeholderGroup(StrEnum):
    """The groups that rate independently in a CMM-style review."""

    GOVERNMENT = "government"
    CRITICAL_INFRASTRUCTURE = "critical_infrastructure"
    LAW_ENFORCEMENT = "law_enforcement"
    ACADEMIA = "academia"
    PRIVATE_SECTOR = "private_sector"
    CIVIL_SOCIETY = "civil_society"


# The groups' names in the catalogs (pages and reports translate them).
GROUP_NAMES = {
    StakeholderGroup.GOVERNMENT.value: N_("Government"),
    StakeholderGroup.CRITICAL_INFRASTRUCTURE.value: N_("Critical infrastructure"),
    StakeholderGroup.LAW_ENFORCEMENT.value: N_("Law enforcement"),
    StakeholderGroup.ACADEMIA.value: N_("Academia"),
    StakeholderGroup.PRIVATE_SECTOR.value: N_("Private sector"),
    StakeholderGroup.CIVIL_SOCIETY.value: N_("Civil society"),
}


def parse_group(value: str) -> StakeholderGroup:
    """A stakeholder group by name (``private-sector`` and ``Private Sector`` also work)."""
    return parse_choice(StakeholderGroup, "stakeholder group", value, UnknownStakeholderGroup)


def create_round(ctx: Ctx, nation: str, framework_id: str, year: int) -> Round:
    """Open a round for a nation, a rateable framework and a year."""
    require(ctx.who, Perm.ASSESS_RATE)
    iso2 = normalise_nation(nation)
    require_nation(ctx.who, iso2, f"nation {iso2} to assess")
    framework = get_framework(ctx.db, framework_id)
    if not framework.rateable:
        raise WrongFrameworkKind(
            f"{framework.id} is an index, not rated in rounds: use a cmm or custom framework"
        )
    if isinstance(year, bool) or not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidInput(f"year {year!r} is not plausible: use {MIN_YEAR}-{MAX_YEAR}")
    clash = ctx.db.scalars(
        select(Round).where(
            Round.nation == iso2, Round.framework_id == framework.id, Round.year == year
        )
    ).first()
    if clash is not None:
        raise RoundExists(
            f"{iso2} already has a {framework.id} round for {year} ({clash.id}); rate in it"
        )
    row = Round(
        id=ctx.ids(),
        nation=iso2,
        framework_id=framework.id,
        year=year,
        status=OPEN,
        created_at=ctx.now(),
        created_by=ctx.who.username,
        lead=ctx.who.username,
    )
    ctx.db.add(row)
    ctx.db.flush()
    ctx.record("assess.round.created", row.id, nation=iso2, framework=framework.id, year=year)
    return row


def get_round(ctx: Ctx, round_id: str) -> Round:
    """A round the caller may see, by id or a unique prefix of it; another nation's round
    looks like no round at all."""
    require(ctx.who, Perm.ASSESS_READ)
    stmt = select(Round)
    if not ctx.who.node_operator:
        stmt = stmt.where(Round.nation == ctx.who.nation)
    row = by_prefix(ctx.db, stmt, Round.id, round_id, "round")
    if row is None:
        raise RoundNotFound(
            f"no assessment round {round_id!r} visible to {ctx.who.username}",
            cli="list them with `seawall assess round list`",
            web="the Maturity page (/assess) lists them",
        )
    require_nation(ctx.who, row.nation, f"assessment round {round_id!r}")
    return row


def list_rounds(ctx: Ctx) -> list[Round]:
    """The rounds the caller may see, newest year first."""
    require(ctx.who, Perm.ASSESS_READ)
    stmt = select(Round).order_by(Round.year.desc(), Round.nation, Round.framework_id)
    if not ctx.who.node_operator:
        stmt = stmt.where(Round.nation == ctx.who.nation)
    return list(ctx.db.scalars(stmt))


def round_key(row: Round) -> str:
    """The name :func:`find_round` takes back: ``JM/2026``, or ``JM/sim3-v2/2026`` for a round
    of another framework than the default."""
    if row.framework_id == DEFAULT_FRAMEWORK:
        return f"{row.nation}/{row.year}"
    return f"{row.nation}/{row.framework_id}/{row.year}"


def find_round(ctx: Ctx, ref: str) -> Round:
    """A round by id, or by ``NATION/YEAR`` or ``NATION/FRAMEWORK/YEAR`` (the default
    framework when none is named)."""
    parts = ref.strip().split("/")
    if len(parts) == 1:
        return get_round(ctx, parts[0])
    if len(parts) not in (2, 3) or not (parts[-1].isascii() and parts[-1].isdigit()):
        raise InvalidInput(
            f"round {ref!r}: give its id, NATION/YEAR or NATION/FRAMEWORK/YEAR (JM/cmm-2021/2026)"
        )
    require(ctx.who, Perm.ASSESS_READ)
    nation = normalise_nation(parts[0])
    framework_id = parts[1] if len(parts) == 3 else DEFAULT_FRAMEWORK
    year = int(parts[-1][-6:])
    found = ctx.db.scalar(
        select(Round).where(
            Round.nation == nation, Round.framework_id == framework_id, Round.year == year
        )
    )
    # Another nation's round looks like no round at all, by any name.
    if found is None or (nation != ctx.who.nation and not ctx.who.node_operator):
        raise RoundNotFound(
            f"no {framework_id} round {year} for {nation} visible to {ctx.who.username}"
        )
    return found


def _open_round(ctx: Ctx, round_id: str) -> tuple[Round, Framework]:
    row = get_round(ctx, round_id)
    if row.status != OPEN:
        raise RoundPublished(f"round {round_id} is published; open a new round to re-assess")
    return row, get_framework(ctx.db, row.framework_id)


def check_factor(framework: Framework, factor_id: str) -> str:
    """``factor_id`` if the framework has it, or UnknownFactor with an example id."""
    if factor_id not in framework.factors():
        raise UnknownFactor(
            f"{factor_id!r} is not a factor of {framework.id}: use an id such as "
            f"{next(iter(framework.factors()))}"
        )
    return factor_id


def _check_text(value: str, what: str) -> str:
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"{what} is {len(value)} characters; keep it under {MAX_TEXT}")
    return value


def rate(
    ctx: Ctx,
    round_id: str,
    group: str,
    factor_id: str,
    stage: int,
    rationale: str = "",
    evidence_refs: Sequence[str] = (),
    indicators_met: Sequence[str] = (),
) -> Rating:
    """Record (or replace) one stakeholder group's stage for a factor."""
    require(ctx.who, Perm.ASSESS_RATE)
    row, framework = _open_round(ctx, round_id)
    who_for = parse_group(group)
    roster.check_may_rate(ctx, row, who_for.value)
    check_factor(framework, factor_id)
    check_stage(stage, framework.stages.highest, f"stage for {factor_id}", framework.stages.lowest)
    _check_text(rationale, "rationale")
    refs = sorted({r.strip() for r in evidence_refs if r.strip()})
    if any(len(r) > 500 for r in refs):
        raise InvalidInput("an evidence reference is over 500 characters; cite it by id or URL")
    rating = ctx.db.scalars(
        select(Rating).where(
            Rating.round_id == row.id,
            Rating.stakeholder_group == who_for.value,
            Rating.factor_id == factor_id,
        )
    ).first()
    previous = rating.stage if rating else None
    if rating is None:
        rating = Rating(id=ctx.ids(), round_id=row.id, stakeholder_group=who_for.value)
        rating.factor_id = factor_id
        ctx.db.add(rating)
    rating.stage = stage
    rating.rationale = rationale
    rating.evidence_refs = refs
    rating.indicators_met = sorted(set(indicators_met))
    rating.rater = ctx.who.username
    rating.rated_at = ctx.now()
    ctx.db.flush()
    ctx.record(
        "assess.rating.recorded",
        row.id,
        group=who_for.value,
        factor=factor_id,
        stage=stage,
        previous=previous,
        evidence=len(refs),
        indicators_met=len(rating.indicators_met),
    )
    return rating


def _indicators(ctx: Ctx, row: Round, factor_id: str) -> tuple[dict[int, list[str]], int]:
    framework = framework_with_content(ctx.db, row.framework_id)
    check_factor(framework, factor_id)
    by_stage = framework.indicators_by_stage(factor_id)
    if not by_stage:
        raise InvalidInput(
            f"{framework.id} has no indicators for {factor_id}: import a content pack "
            "with its indicator texts, or rate the stage directly"
        )
    return by_stage, framework.stages.highest


def rate_indicators(
    ctx: Ctx,
    round_id: str,
    group: str,
    factor_id: str,
    met: Sequence[str],
    rationale: str = "",
    evidence_refs: Sequence[str] = (),
) -> tuple[Rating, Lift | None]:
    """Rate a factor from the indicators a group finds met; the engine sets the stage."""
    require(ctx.who, Perm.ASSESS_RATE)
    row = get_round(ctx, round_id)
    by_stage, highest = _indicators(ctx, row, factor_id)
    known = {i for ids in by_stage.values() for i in ids}
    unknown = sorted(set(met) - known)
    if unknown:
        raise InvalidInput(
            f"{', '.join(unknown)} not an indicator of {factor_id}: use ids from its content pack"
        )
    stage = factor_stage(by_stage, met, highest)
    rating = rate(ctx, round_id, group, factor_id, stage, rationale, evidence_refs, met)
    return rating, lift(by_stage, met, highest)


def lift_for(ctx: Ctx, round_id: str, group: str, factor_id: str) -> Lift | None:
    """What would lift a group's rating of a factor to the next stage, from its answers."""
    row = get_round(ctx, round_id)
    by_stage, highest = _indicators(ctx, row, factor_id)
    who_for = parse_group(group).value
    rating = ctx.db.scalars(
        select(Rating).where(
            Rating.round_id == row.id,
            Rating.stakeholder_group == who_for,
            Rating.factor_id == factor_id,
        )
    ).first()
    # The answers give the group's stage away: only to whom may see it.
    seen = rating is not None and roster.stage_sight(ctx, row)(who_for, factor_id)
    return lift(by_stage, rating.indicators_met if rating and seen else [], highest)


def group_ratings(ctx: Ctx, round_id: str, group: str) -> list[Rating]:
    """A group's ratings in the round that the caller may see (its rating sheet)."""
    row = get_round(ctx, round_id)
    who_for = parse_group(group).value
    sight = roster.stage_sight(ctx, row)
    stmt = select(Rating).where(Rating.round_id == row.id, Rating.stakeholder_group == who_for)
    return [r for r in ctx.db.scalars(stmt) if sight(who_for, r.factor_id)]


@dataclass(frozen=True)
class FactorConsensus:
    """Where the groups stand on one factor, and what was agreed."""

    factor_id: str
    factor_name: str
    dimension_id: str
    ratings: dict[str, int] = field(hash=False)
    missing_groups: tuple[str, ...]
    lowest: int | None
    highest: int | None
    spread: int
    mean: float | None
    disagreement: bool
    agreed_stage: int | None
    dissent: str
    # Each group's rationale and evidence references, for the groups that gave any.
    rationales: dict[str, str] = field(default_factory=dict, hash=False)
    evidence: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    # Groups that have rated the factor but whose stage the caller may not see yet; while
    # any is hidden, the lowest, highest, spread and mean are not shown either.
    hidden: tuple[str, ...] = ()
    # Why the stage was agreed when no group had rated the factor.
    reason: str = ""


def consensus_view(ctx: Ctx, round_id: str) -> list[FactorConsensus]:
    """Every factor of the round's framework with its group ratings (each with its rationale
    and evidence), spread and agreement, as far as the caller may see them
    (:func:`seawall.assess.roster.stage_sight`)."""
    row = get_round(ctx, round_id)
    framework = get_framework(ctx.db, row.framework_id)
    sight = roster.stage_sight(ctx, row)
    ratings: dict[str, dict[str, int]] = {}
    hidden: dict[str, set[str]] = {}
    why: dict[str, dict[str, str]] = {}
    refs: dict[str, dict[str, tuple[str, ...]]] = {}
    for rating in ctx.db.scalars(select(Rating).where(Rating.round_id == row.id)):
        group = rating.stakeholder_group
        if not sight(group, rating.factor_id):
            hidden.setdefault(rating.factor_id, set()).add(group)
            continue
        ratings.setdefault(rating.factor_id, {})[group] = rating.stage
        if rating.rationale:
            why.setdefault(rating.factor_id, {})[group] = rating.rationale
        if rating.evidence_refs:
            refs.setdefault(rating.factor_id, {})[group] = tuple(rating.evidence_refs)
    agreed = {
        c.factor_id: c
        for c in ctx.db.scalars(select(Consensus).where(Consensus.round_id == row.id))
    }
    dimension_of = framework.dimension_of()
    view: list[FactorConsensus] = []
    for factor in framework.factors().values():
        given = dict(sorted(ratings.get(factor.id, {}).items()))
        unseen = tuple(sorted(hidden.get(factor.id, ())))
        # Figures over part of the groups would mislead: none while a stage is hidden.
        stages = [] if unseen else list(given.values())
        spread = max(stages) - min(stages) if stages else 0
        consensus = agreed.get(factor.id)
        view.append(
            FactorConsensus(
                factor_id=factor.id,
                factor_name=factor.name,
                dimension_id=dimension_of[factor.id],
                ratings=given,
                missing_groups=tuple(
                    g.value
                    for g in StakeholderGroup
                    if g.value not in given and g.value not in unseen
                ),
                lowest=min(stages) if stages else None,
                highest=max(stages) if stages else None,
                spread=spread,
                mean=fmean(stages) if stages else None,
                disagreement=spread >= DISAGREEMENT_SPREAD,
                agreed_stage=consensus.agreed_stage if consensus else None,
                dissent=consensus.dissent if consensus else "",
                rationales=dict(sorted(why.get(factor.id, {}).items())),
                evidence=dict(sorted(refs.get(factor.id, {}).items())),
                hidden=unseen,
                reason=consensus.reason if consensus else "",
            )
        )
    return view


def agree(
    ctx: Ctx, round_id: str, factor_id: str, stage: int, dissent: str = "", reason: str = ""
) -> Consensus:
    """Record the stage the groups agreed for a factor, with any dissent in their words.

    In a round with invited groups only its lead or a facilitator agrees, and a factor no
    group has rated needs the ``reason`` it is agreed without ratings."""
    require(ctx.who, Perm.ASSESS_RATE)
    row, framework = _open_round(ctx, round_id)
    roster.check_may_agree(ctx, row)
    check_factor(framework, factor_id)
    check_stage(
        stage, framework.stages.highest, f"agreed stage for {factor_id}", framework.stages.lowest
    )
    _check_text(dissent, "dissent")
    why = " ".join(_check_text(reason, "reason").split())
    if not why and roster.invited(ctx.db, row.id) and not _rated(ctx, row, factor_id):
        raise ReasonRequired(
            f"no group has rated {factor_id} in this round: give the reason for agreeing a "
            "stage without ratings (--reason)"
        )
    consensus = ctx.db.get(Consensus, (row.id, factor_id))
    previous = consensus.agreed_stage if consensus else None
    if consensus is None:
        consensus = Consensus(round_id=row.id, factor_id=factor_id)
        ctx.db.add(consensus)
    consensus.agreed_stage = stage
    consensus.dissent = dissent.strip()
    consensus.reason = why
    consensus.agreed_by = ctx.who.username
    consensus.agreed_at = ctx.now()
    ctx.db.flush()
    ctx.record(
        "assess.consensus.agreed",
        row.id,
        factor=factor_id,
        stage=stage,
        previous=previous,
        dissent=bool(consensus.dissent),
        reason=why,
    )
    return consensus


def _rated(ctx: Ctx, row: Round, factor_id: str) -> bool:
    stmt = select(Rating.id).where(Rating.round_id == row.id, Rating.factor_id == factor_id)
    return ctx.db.scalars(stmt).first() is not None


def _consenting_nation(ctx: Ctx, nation: str) -> str:
    """The nation whose consent the caller records: only its own. A nation's consent is
    recorded by someone of that nation (its node's operator, or a user of it), never by a hub
    or another nation's node on its behalf."""
    require(ctx.who, Perm.ASSESS_PUBLISH)
    iso2 = normalise_nation(nation)
    if iso2 != ctx.who.nation:
        raise Forbidden(
            f"consent for {iso2} is recorded by a user of {iso2}, not by {ctx.who.username} of "
            f"{ctx.who.nation}: no node consents on another nation's behalf"
        )
    return iso2


def grant_consent(ctx: Ctx, nation: str, group: str) -> PublicationConsent:
    """Let a region group see the nation's published rounds."""
    iso2 = _consenting_nation(ctx, nation)
    code = group.strip().upper()
    if iso2 not in region_members(ctx.db, code):
        raise InvalidInput(f"{iso2} is not a member of {code}: consent to one of its own groups")
    consent = ctx.db.get(PublicationConsent, (iso2, code))
    if consent is None:
        consent = PublicationConsent(nation=iso2, region_group=code)
        ctx.db.add(consent)
    consent.granted_at = ctx.now()
    consent.granted_by = ctx.who.username
    consent.revoked_at = None
    ctx.db.flush()
    ctx.record("assess.consent.granted", iso2, group=code)
    return consent


def revoke_consent(ctx: Ctx, nation: str, group: str) -> list[str]:
    """Withdraw consent: every round of the nation published to the group is withdrawn from
    it (recorded on each round), and the region's views stop using them. Returns their ids."""
    iso2 = _consenting_nation(ctx, nation)
    code = group.strip().upper()
    consent = ctx.db.get(PublicationConsent, (iso2, code))
    if consent is None or consent.revoked_at is not None:
        raise InvalidInput(f"{iso2} has no active consent for {code}; nothing to revoke")
    consent.revoked_at = ctx.now()
    withdrawn = consents.withdraw_group(ctx, iso2, code, "consent revoked")
    ctx.db.flush()
    ctx.record("assess.consent.revoked", iso2, group=code, withdrawn=withdrawn)
    return withdrawn


def active_consents(db: Session, nation: str) -> dict[str, str]:
    """The region groups a nation currently consents to publish to, each with the user who
    recorded the consent."""
    stmt = select(PublicationConsent).where(
        PublicationConsent.nation == nation, PublicationConsent.revoked_at.is_(None)
    )
    return {c.region_group: c.granted_by for c in db.scalars(stmt)}


def consenting_groups(db: Session, nation: str) -> list[str]:
    """The region groups a nation currently consents to publish to."""
    return sorted(active_consents(db, nation))


def publish(ctx: Ctx, round_id: str, partial: bool = False, groups: Sequence[str] = ()) -> Round:
    """Publish a round to ``groups`` (default: the region groups its nation consents to);
    the round is then frozen, and each group it goes to is recorded on it, with who (a user
    of the round's nation) and when. A published round given ``groups`` is published to
    those too (or again, after a withdrawal).

    Every factor of its framework must be agreed, unless ``partial``: the round then records
    that it was published partial (only when a factor is in fact missing), and says so
    wherever it is used."""
    require(ctx.who, Perm.ASSESS_PUBLISH)
    row = get_round(ctx, round_id)
    # Consent for a round is the nation's own: no node publishes on another's behalf.
    _consenting_nation(ctx, row.nation)
    named = [_member_group(ctx, row.nation, g) for g in groups]
    if row.status == PUBLISHED and named:
        added = consents.record_publication(ctx, row, named)
        ctx.record("assess.round.published", row.id, nation=row.nation, groups=added, added=True)
        return row
    row, framework = _open_round(ctx, round_id)
    groups = named or consenting_groups(ctx.db, row.nation)
    if not groups:
        raise ConsentMissing(
            f"{row.nation} has not consented to publish its assessments to any region group: "
            "record the nation's consent first"
        )
    agreed = agreed_stages(ctx.db, row.id)
    if not agreed:
        raise NothingAgreed(f"round {row.id} has no agreed stage yet: record consensus first")
    factors = list(framework.factors())
    missing = [f for f in factors if f not in agreed]
    if missing and not partial:
        raise RoundIncomplete(
            f"round {row.id} agrees {len(factors) - len(missing)} of {len(factors)} factors of "
            f"{framework.id}; not agreed: {_first_few(missing)}: agree them, or publish it as "
            "partial"
        )
    row.status = PUBLISHED
    row.partial = bool(missing)
    row.published_at = ctx.now()
    row.published_by = ctx.who.username
    consents.record_publication(ctx, row, groups)
    ctx.db.flush()
    ctx.record(
        "assess.round.published",
        row.id,
        nation=row.nation,
        groups=groups,
        partial=row.partial,
        agreed=len(factors) - len(missing),
        factors=len(factors),
    )
    return row


def _member_group(ctx: Ctx, nation: str, group: str) -> str:
    code = group.strip().upper()
    if nation not in region_members(ctx.db, code):
        raise InvalidInput(f"{nation} is not a member of {code}: publish to one of its own groups")
    return code


def _first_few(ids: Sequence[str], shown: int = 3) -> str:
    head = ", ".join(ids[:shown])
    return f"{head} and {len(ids) - shown} more" if len(ids) > shown else head


def agreed_stages(db: Session, round_id: str) -> dict[str, int]:
    """The agreed stage of every factor that has one, by factor id."""
    stmt = select(Consensus).where(Consensus.round_id == round_id)
    return {c.factor_id: c.agreed_stage for c in db.scalars(stmt)}


def round_dimension_scores(db: Session, row: Round) -> dict[str, float]:
    """Dimension scores of a round from its agreed stages."""
    framework = get_framework(db, row.framework_id)
    stages = agreed_stages(db, row.id)
    scale = framework.stages
    return dimension_scores(stages, framework.dimension_of(), scale.highest, scale.lowest)
